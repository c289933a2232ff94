"""Our grid mean-field solver side by side with mfglib's fictitious play (SPEC §6: the same
discretized game, the same equilibrium, ≥ 10× faster).

mfglib (Guo, Hu, Zhang et al., *MFGLib: a library for mean-field games*, 2023) solves
finite-state, finite-action, finite-horizon mean-field games given as tensors. The grid game
of ``spatial_congestion_v0`` (:class:`~populace.envs.plane.spatial_equilibrium.GridGame`) is
encoded for it with horizon T = 1:

* **states**: the S quadrature starts, then the G grid nodes (where agents arrive);
  ``mu0`` puts the start weights w_s on the starts;
* **actions**: the G nodes (the aim y);
* **transition** at t = 0: start s with action y moves to node y (a node stays put);
* **rewards**: at t = 0 the movement cost −½η|y − x_s|²; at t = 1, at node y (any action),
  R(y) = E[P(y + σε)] under the density of the population's arrivals — the state marginal of
  mfglib's mean field at t = 1, turned into a density by the same FFT smoothing our solver
  uses (:meth:`GridGame.value_of_aims`), so both solve the very same finite game.

Both run fictitious play with step 1/(k + 1) from the same first policy (the best response
to an empty plane) until their exploitability is below the same tolerance — the same
iterates, up to how ties between best responses are broken; mfglib in float64, evaluating its
exploitability every iteration as its ``solve`` does (so does ours here, ``check_every=1``).
Agreement is measured both ways (each side's exploitability of the other's policy) and by the
L1 distance of the two equilibria's aims ν and densities m.

mfglib needs torch and is no dependency of Populace: install it in a venv of its own
(``make test-mfglib``; torch 2.13.0 first). This module imports it only when called.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.envs.plane.spatial_equilibrium import GridGame, solve


def _torch() -> Any:
    return importlib.import_module("torch")


def mfglib_environment(game: GridGame) -> Any:
    """The grid game as an ``mfglib.env.Environment`` (module doc), in float64."""
    torch = _torch()
    environment = importlib.import_module("mfglib.env").Environment
    starts, nodes = game.size
    states = starts + nodes
    moves = torch.zeros((states, states, nodes), dtype=torch.float64)  # (dst, src, action)
    aims = torch.arange(nodes)
    for s in range(starts):
        moves[starts + aims, s, aims] = 1.0
    for g in range(nodes):
        moves[starts + g, starts + g, :] = 1.0
    first = torch.zeros((states, nodes), dtype=torch.float64)
    first[:starts] = -torch.as_tensor(game.costs)
    mu0 = torch.zeros(states, dtype=torch.float64)
    mu0[:starts] = torch.as_tensor(game.weights)
    r_max = float(game.bumps.max() * len(game.centres) + game.costs.max())

    def reward(env: Any, t: int, mean_field: Any) -> Any:
        if t == 0:
            return first
        arrivals = mean_field[starts:].sum(dim=-1).detach().cpu().numpy()
        density = game.spread(arrivals.reshape(game.grid.cells, -1))
        values = torch.as_tensor(game.value_of_aims(density), dtype=torch.float64)
        out = torch.zeros((states, nodes), dtype=torch.float64)
        out[starts:] = values[:, None]
        return out

    def transition(env: Any, t: int, mean_field: Any) -> Any:
        return moves

    return environment(T=1, S=(states,), A=(nodes,), mu0=mu0, r_max=r_max,
                       reward_fn=reward, transition_fn=transition)


def to_mfglib(game: GridGame, policy: np.ndarray) -> Any:
    """Our ``(S, G)`` grid policy as mfglib's ``(T + 1, states, actions)`` tensor (uniform
    wherever the grid game has no choice)."""
    torch = _torch()
    starts, nodes = game.size
    pi = torch.full((2, starts + nodes, nodes), 1.0 / nodes, dtype=torch.float64)
    pi[0, :starts] = torch.as_tensor(policy)
    return pi


def from_mfglib(game: GridGame, pi: Any) -> np.ndarray:
    """mfglib's policy tensor as our ``(S, G)`` grid policy (its choices at the starts)."""
    starts = game.size[0]
    policy = pi[0, :starts].detach().cpu().numpy().astype(np.float64)
    return cast(np.ndarray, policy / policy.sum(axis=1, keepdims=True))


def first_response(game: GridGame) -> np.ndarray:
    """The best response to an empty plane: where our fictitious play starts, and (given as
    ``pi_0``) mfglib's too, so that both run the same iterates (mfglib's damped update with
    step 1/(i + 2) from π₀ is our running average of best responses)."""
    empty = np.zeros((game.grid.cells,) * 2)
    return game.best_response(game.value_of_aims(empty)[None, :] - game.costs)


@dataclass
class SideBySide:
    """One game solved by both; times in seconds."""

    label: str
    starts: int
    nodes: int
    tolerance: float
    ours_s: float
    ours_iterations: int
    ours_exploitability: float
    mfglib_s: float
    mfglib_iterations: int
    mfglib_exploitability: float  # mfglib's own score of its policy
    ours_on_mfglib: float  # our exploitability of mfglib's policy
    mfglib_on_ours: float  # mfglib's exploitability of our policy
    aims_l1: float  # Σ|ν − ν'|
    density_l1: float  # ∫|m − m'|
    speedup: float = 0.0

    def __post_init__(self) -> None:
        self.speedup = self.mfglib_s / self.ours_s


def small_game(**kwargs: Any) -> GridGame:
    """The default spatial congestion game on a coarse grid mfglib can hold (its transition
    tensor is (S + G)²·G numbers): ``grid_cells`` 13 over [−2, 2]², bandwidth 0.3."""
    start_points = kwargs.pop("start_points", 1)
    settings = {"grid_cells": 13, "grid_half_width": 2.0, "bandwidth": 0.3, **kwargs}
    return GridGame.of(SpatialCongestionCore(n_agents=1, **settings), start_points=start_points)


def side_by_side(game: GridGame, *, label: str, tolerance: float = 1e-3,
                 max_iterations: int = 5000) -> SideBySide:
    """Solve ``game`` with both to ``tolerance`` and compare (module doc)."""
    torch = _torch()
    mfglib_alg = importlib.import_module("mfglib.alg")
    scoring = importlib.import_module("mfglib.scoring")
    environment = mfglib_environment(game)
    start = time.perf_counter()
    ours = solve(game, iterations=max_iterations, tolerance=tolerance, check_every=1)
    ours_s = time.perf_counter() - start
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        start = time.perf_counter()
        pis, expls, _ = mfglib_alg.FictitiousPlay().solve(
            environment, pi_0=to_mfglib(game, first_response(game)), max_iter=max_iterations,
            atol=tolerance, rtol=0.0)
        mfglib_s = time.perf_counter() - start
        theirs = from_mfglib(game, pis[-1])
        theirs_on_ours = float(scoring.exploitability_score(environment,
                                                            to_mfglib(game, ours.policy)))
    finally:
        torch.set_default_dtype(default)
    area = game.grid.spacing**2
    return SideBySide(
        label=label, starts=game.size[0], nodes=game.size[1], tolerance=tolerance,
        ours_s=ours_s, ours_iterations=ours.iterations - 1,  # steps after π₀, as mfglib counts
        ours_exploitability=ours.exploitability, mfglib_s=mfglib_s,
        mfglib_iterations=len(expls) - 1, mfglib_exploitability=float(expls[-1]),
        ours_on_mfglib=game.exploitability(theirs), mfglib_on_ours=theirs_on_ours,
        aims_l1=float(np.abs(game.aims(theirs) - ours.aims).sum()),
        density_l1=float(np.abs(game.density(theirs) - ours.density).sum() * area),
    )


CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("α=1, η=0.5, 1 start", {}),
    ("α=3, η=0.5, 1 start", {"alpha": 3.0}),
    ("α=2, η=0, 1 start", {"alpha": 2.0, "eta": 0.0}),
    ("bimodal, η=0, 1 start", {"reward": "bimodal", "eta": 0.0}),
    ("α=1, η=0.5, 4 starts", {"start_points": 2}),
)


def table(rows: list[SideBySide]) -> str:
    """The rows as a markdown table."""
    header = ["game (13×13 grid)", "S×G", "tolerance", "ours ms (FP steps)",
              "mfglib ms (FP steps)", "speed-up", "ours expl.", "mfglib expl.",
              "ours on mfglib's", "mfglib on ours", "Σ|ν−ν'|", "∫|m−m'|"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.starts}×{r.nodes} | {r.tolerance:g} | "
            f"{r.ours_s * 1e3:.1f} ({r.ours_iterations}) | "
            f"{r.mfglib_s * 1e3:.0f} ({r.mfglib_iterations}) | {r.speedup:.0f}× | "
            f"{r.ours_exploitability:.2e} | {r.mfglib_exploitability:.2e} | "
            f"{r.ours_on_mfglib:.2e} | {r.mfglib_on_ours:.2e} | {r.aims_l1:.3f} | "
            f"{r.density_l1:.3f} |")
    return "\n".join(lines)


def main() -> None:
    rows = []
    for label, kwargs in CASES:
        rows.append(side_by_side(small_game(**kwargs), label=label))
        print(f"  ... {label}", flush=True)
    print(table(rows))
