"""The metric columns of ``spatial_congestion_v0``: how exploitable the population's play is
on the grid game, and how far its landing density is from the grid equilibrium's."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.core import Step
from populace.envs.metrics import ScoredPolicy, WindowMetrics, action_rule
from populace.envs.plane.density import bin_points
from populace.envs.plane.spatial_equilibrium import GridEquilibrium, add_aims, nearest_start

if TYPE_CHECKING:
    from populace.envs.plane.spatial_congestion import SpatialCongestionCore

NAN = float("nan")


def call_policy(policy: Callable[..., ArrayLike], observations: np.ndarray) -> ArrayLike:
    """``policy(observations, rng)`` (a generator seeded 0), or ``policy(observations)`` for a
    callable that takes one argument (such as SB3 SAC's deterministic ``mean_action``)."""
    try:
        parameters = inspect.signature(policy).parameters.values()
    except (TypeError, ValueError):  # no signature to read: assume the population-policy form
        return policy(observations, np.random.default_rng(0))
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) == 1 and not any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return policy(observations)
    return policy(observations, np.random.default_rng(0))


class SpatialMetrics(WindowMetrics):
    """Columns, for one window of rounds:

    * ``exploitability``: of the learners' policy on the grid game
      (:class:`~populace.envs.plane.spatial_equilibrium.GridGame`) — what one agent gains by
      best-responding to a population playing it. The policy scored is ``policies["agent"]``
      when it is a grid policy (an ``(S, G)`` array) or a plain callable ``policy(observations,
      rng)`` or ``policy(observations)`` (SB3 SAC's deterministic policy), evaluated once at
      each quadrature start (the generator seeded 0), its aim linearly binned; otherwise
      (a learner object, nothing) the window's *empirical* policy: every agent's aim x₀ + u
      counted for the quadrature start nearest to its x₀, split over nodes by linear binning;
    * ``density_distance``: ∫|m − m*| (L1, on the grid) between the window's landing density
      (all landing points, kernel h) and the grid equilibrium's m*; it is 2 at most, and
      sampling alone leaves it of order √(G/N) for N landing points;
    * ``mean_reward`` per agent and round; ``spread``: E|x_T − E x_T|² of the landing points
      (SPEC: it grows with α); ``mean_x``, ``mean_y``: their mean.
    """

    higher_is_better = ("mean_reward",)
    columns = ("exploitability", "density_distance", "mean_reward", "spread", "mean_x",
               "mean_y")
    play: np.ndarray | None  # (S, G) aims counted per quadrature start
    landed: np.ndarray | None  # landing masses on the grid
    rounds: int
    count: int
    reward: float
    first: np.ndarray
    second: float

    def __init__(self, core: SpatialCongestionCore) -> None:
        self.core = core
        self.clear()

    @property
    def equilibrium(self) -> GridEquilibrium:
        return self.core.reference_equilibrium()

    def record(self, actions: Mapping[str, np.ndarray], step: Step) -> None:
        game = self.equilibrium.game
        starts, moves, landings = (step.info[k] for k in ("starts", "moves", "landings"))
        if self.play is None or self.landed is None:
            self.play = np.zeros(game.size)
            self.landed = np.zeros((game.grid.cells,) * 2)
        add_aims(game.grid, self.play, nearest_start(game.starts, starts), starts + moves)
        self.landed += bin_points(game.grid, landings)
        self.rounds += 1
        self.count += len(landings)
        self.reward += float(step.rewards[self.core.agent_group].sum())
        self.first += landings.sum(axis=0)
        self.second += float(np.einsum("ij,ij->", landings, landings))

    def scored_policy(self, policy: ScoredPolicy) -> np.ndarray | None:
        """The grid policy to score for ``policy`` (see the class doc), None if none."""
        game = self.equilibrium.game
        if isinstance(policy, np.ndarray) and policy.shape == game.size:
            return policy
        rule = action_rule(policy)
        if rule is not None:
            moves = np.asarray(call_policy(rule, game.starts.copy()),
                               dtype=np.float64).reshape(len(game.starts), 2)
            bound = self.core.action_bound
            return game.policy_of_aims(game.starts + np.clip(moves, -bound, bound))
        if self.play is None or not self.play.sum():
            return None
        totals = self.play.sum(axis=1, keepdims=True)
        empty = totals[:, 0] == 0
        played = self.play.copy()
        if empty.any():  # starts nobody was nearest to play the population's overall aims
            played[empty] = self.play.sum(axis=0) / float(totals.sum())
            totals[empty] = 1.0
        return cast("np.ndarray | None", played / totals)

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        equilibrium = self.equilibrium
        game = equilibrium.game
        policy = self.scored_policy(policies.get(self.core.agent_group))
        scores: dict[str, float | int] = {
            "exploitability": NAN if policy is None else game.exploitability(policy)}
        if self.rounds == 0 or self.landed is None:
            return {**dict.fromkeys(self.columns, NAN), **scores}
        density = self.core.density.smoother(self.landed) / self.count
        area = game.grid.spacing**2
        mean = self.first / self.count
        return {
            **scores,
            "density_distance": float(np.abs(density - equilibrium.density).sum() * area),
            "mean_reward": self.reward / self.count,
            "spread": self.second / self.count - float(mean @ mean),
            "mean_x": float(mean[0]), "mean_y": float(mean[1]),
        }

    def clear(self) -> None:
        self.play = None
        self.landed = None
        self.rounds = 0
        self.count = 0
        self.reward = 0.0
        self.first = np.zeros(2)
        self.second = 0.0

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"rounds": self.rounds, "count": self.count,
                                 "reward": self.reward, "first": self.first.copy(),
                                 "second": self.second}
        if self.play is not None and self.landed is not None:
            state.update(play=self.play.copy(), landed=self.landed.copy())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.clear()
        self.rounds = int(state["rounds"])
        self.count = int(state["count"])
        self.reward = float(state["reward"])
        self.first = np.asarray(state["first"], dtype=np.float64).reshape(2).copy()
        self.second = float(state["second"])
        if "play" in state:
            game = self.equilibrium.game
            play = np.asarray(state["play"], dtype=np.float64)
            landed = np.asarray(state["landed"], dtype=np.float64)
            if play.shape != game.size or landed.shape != (game.grid.cells,) * 2:
                raise ValueError(f"checkpoint play has shape {play.shape}, expected "
                                 f"{game.size}; landed {landed.shape}")
            self.play, self.landed = play.copy(), landed.copy()
