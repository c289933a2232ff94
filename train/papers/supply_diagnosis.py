"""What keeps ``ac_fp`` far from mguni-supply's equilibrium, measured one component at a time.

:mod:`~populace.train.papers.mguni_supply` finds the learned mean policy's exploitability near
1.0 (η = 2) and 0.4 (η = 0) on the grid game, against < 0.001 at the grid equilibrium and
0.536 / 0.149 for tracing the path. ``python -m populace.train.papers.supply_diagnosis
[--seed S] [--out DIR]`` trains the reproduction's learner at its full size (N = 200, 1200
episodes, MJM's first start) for both η and writes ``mguni-supply-diagnosis.md``, one row per
measurement:

* **The grid's resolution.** The game reads a continuous policy on its 31 × 31 grid (spacing
  0.133) by rounding each move to the nearest lattice offset, so a move below 0.067 reads as
  standing still. The learned policy, tracing and standing still are read again on 61 and 121
  nodes a side (:func:`grid_exploitability`; the best response then lives on the finer
  lattice too).
* **The policy class.** A fresh learner's actor (the same MLP) is fitted by weighted least
  squares to the grid equilibrium's mean move at every node and step, weighted by where the
  equilibrium's agents are (:func:`fit_to_equilibrium`): how close this network can play.
* **The last iterate.** Fictitious play's object is the average of the responses, so the mean
  policies at the window ends of the run's second half are mixed (each agent draws one; their
  flows and costs average, :class:`SecondHalfMixture`) and scored beside the last one.
* **The learning signal.** The fitted actor is then trained as in the reproduction, after
  ``warm`` episodes in which only the critic learns (the actor's step size 10⁻¹²): does the
  update keep it near the equilibrium?
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.envs.plane.supply_equilibrium import SupplyGridGame
from populace.envs.policies import ActionFn
from populace.train.callbacks import Callback
from populace.train.papers.mguni_supply import (
    DEMAND_SCALE,
    ETAS,
    FULL,
    LEARNER_KWARGS,
    FiniteHorizonSupply,
    tracing,
)
from populace.train.results import MetricsRow

if TYPE_CHECKING:
    from populace.agents.actor_critic.fictitious_play import ActorCriticFictitiousPlay

CELLS = (31, 61, 121)  # nodes a side; 31 is the game's own grid
FROZEN_RATE = 1e-12  # the actor's step size while only the critic learns


def grid_exploitability(core: FiniteHorizonSupply, policy: ActionFn, cells: int) -> float:
    """Exploitability per agent and episode of ``policy`` read on a ``cells``² grid game."""
    game = SupplyGridGame.of(core, cells=cells)
    return game.policy_exploitability(game.choice_of(policy))


def fit_to_equilibrium(learner: ActorCriticFictitiousPlay, core: FiniteHorizonSupply, *,
                       steps: int = 4000, rate: float = 3e-3) -> float:
    """Fit ``learner``'s actor mean to the grid equilibrium's mean move (the average over the
    best responses fictitious play mixed) at every node and step, weighted by the
    equilibrium's mass there plus a floor; return the final weighted squared error."""
    import torch as th

    equilibrium = core.reference_equilibrium()
    game = equilibrium.game
    moves = game.offsets[equilibrium.choices.astype(np.int64)] * game.grid.spacing
    target = th.as_tensor(moves.mean(axis=0).reshape(-1, 2))
    mass = equilibrium.flow.reshape(-1) + 1e-4 / game.grid.cells**2
    weight = th.as_tensor(mass / mass.sum())
    nodes = game.grid.nodes
    observations = np.concatenate([np.column_stack([nodes, np.full(len(nodes), t / game.horizon)])
                                   for t in range(game.horizon)])
    optimizer = th.optim.Adam(learner.actor.network.parameters(), lr=rate)
    for _ in range(steps):
        optimizer.zero_grad()
        error = (weight * ((learner.mean_tensor(observations) - target) ** 2).sum(dim=1)).sum()
        error.backward()
        optimizer.step()
    return float(error.detach())


class SecondHalfMixture(Callback):
    """At every window end in the second half of ``episodes``, the flow and movement cost of
    ``learner.mean_action`` on the game's grid; :meth:`exploitability` scores their mixture."""

    def __init__(self, core: FiniteHorizonSupply, learner: ActorCriticFictitiousPlay,
                 episodes: int) -> None:
        self.game = core.reference_equilibrium().game
        self.learner, self.start = learner, episodes // 2
        self.flows: list[np.ndarray] = []
        self.costs: list[float] = []

    def on_window(self, row: MetricsRow) -> bool | None:
        if int(row["episodes"]) > self.start:
            flow, cost = self.game.flow(self.game.choice_of(self.learner.mean_action))
            self.flows.append(flow)
            self.costs.append(cost)
        return None

    def exploitability(self) -> float:
        return self.game.exploitability(np.mean(self.flows, axis=0), float(np.mean(self.costs)))


def diagnose(eta: float, seed: int, *, agents: int = FULL.agents,
             episodes: int = FULL.episodes, window: int = FULL.window, warm: int = 300,
             cells: tuple[int, ...] = CELLS) -> dict[str, Any]:
    """Every measurement of the module doc for one η and seed (the reproduction's seeding)."""
    from populace.agents import make_learner
    from populace.train import train

    core = FiniteHorizonSupply(n_agents=agents, demand_scale=DEMAND_SCALE, eta=eta)
    env_seed, learner_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    kwargs: dict[str, Any] = dict(LEARNER_KWARGS)
    learner: Any = make_learner("ac_fp", core, seed=learner_seed, **kwargs)
    mixture = SecondHalfMixture(core, learner, episodes)
    train(core, learner, episodes=episodes, seed=env_seed, window=window, callbacks=mixture,
          progress=False)
    policies: dict[str, ActionFn] = {
        "learned": learner.mean_action, "tracing": tracing(core),
        "standing still": lambda observations: np.zeros((len(observations), 2))}
    fitted: Any = make_learner("ac_fp", core, seed=learner_seed,
                          **{**kwargs, "actor_rate": FROZEN_RATE})
    fit_error = fit_to_equilibrium(fitted, core)
    policies["fitted to the equilibrium"] = fitted.mean_action
    rows = {name: [grid_exploitability(core, policy, n) for n in cells]
            for name, policy in policies.items()}
    train(core, fitted, episodes=warm, seed=env_seed, window=window, progress=False)
    warmed = core.exploitability(fitted.mean_action)
    fitted.settings = dataclasses.replace(fitted.settings,
                                          actor_rate=kwargs["actor_rate"])
    result = train(core, fitted, episodes=episodes, seed=env_seed + 1, window=window,
                   progress=False)
    return {"eta": eta, "seed": seed, "cells": cells, "rows": rows, "fit_error": fit_error,
            "mixture": mixture.exploitability(), "windows": len(mixture.flows),
            "warmed": warmed, "from_fitted": result.history.column("exploitability"),
            "from_fitted_end": core.exploitability(fitted.mean_action)}


def report(results: list[dict[str, Any]]) -> str:
    """The measurements as a Markdown table per η."""
    lines = ["# mguni-supply: what limits the learner (populace.train.papers.supply_diagnosis)",
             ""]
    for r in results:
        cells = r["cells"]
        lines += [f"## η = {r['eta']:g}, seed {r['seed']}", "",
                  "| policy | " + " | ".join(f"{n}² grid" for n in cells) + " |",
                  "|---|" + "---|" * len(cells)]
        lines += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |"
                  for name, values in r["rows"].items()]
        curve = ", ".join(f"{v:.2f}" for v in r["from_fitted"])
        lines += ["", f"- Mixture of the mean policies at the {r['windows']} window ends of "
                  f"the second half: {r['mixture']:.3f} (last: {r['rows']['learned'][0]:.3f}).",
                  f"- Fitted actor's weighted squared error: {r['fit_error']:.2e}; after the "
                  f"critic's warm-up (actor frozen): {r['warmed']:.3f}; then learning, per "
                  f"window: {curve}; at the end: {r['from_fitted_end']:.3f}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs"))
    parser.add_argument("--eta", type=float, nargs="*", default=list(ETAS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    results = [diagnose(eta, args.seed) for eta in args.eta]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "mguni-supply-diagnosis.md"
    path.write_text(report(results))
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
