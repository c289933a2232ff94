"""Warehouse on a line: continuous positions (ALT App. G.2; constants from the authors' code).

| Import             | `from populace.envs import warehouse_continuous_v0`                   |
|--------------------|-----------------------------------------------------------------------|
| Actions            | dispatcher: `Discrete(5)` (target bin); robot: `Discrete(3)`          |
| Parallel API       | Yes                                                                   |
| Manual Control     | No                                                                    |
| Agents             | `['dispatcher_0', 'robot_0', ..., 'robot_{n_agents-1}']`              |
| Number of agents   | `n_agents + 1`                                                        |
| Observation shape  | dispatcher: (6,); robot: (2,)                                         |
| Observation values | dispatcher: (s_g, histogram of k sampled robots); robot: (s_l, s_g)   |
| Gymnasium ids      | `populace/WarehouseContinuous-v0` (`make`: dispatcher; `make_vec`: robots) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast, overload

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, Step
from populace.envs.faces import faces
from populace.envs.params import keywords_from
from populace.envs.warehouse.fleet import (
    DiscountedReturns,
    FleetCore,
    FleetPicture,
    check_fleet_params,
)

LIMIT = 2.0  # every position lies in [-2, 2]
BINS = 5
EDGES = np.linspace(-LIMIT, LIMIT, BINS + 1)
TARGETS = 0.5 * (EDGES[:-1] + EDGES[1:])  # (-1.6, -0.8, 0, 0.8, 1.6): the dispatcher's actions
MOVES = np.array([0.0, 0.05, -0.05])  # stay, right, left
STEER, GLOBAL_NOISE, LOCAL_NOISE = 0.6, 0.08, 0.04
GLOBAL_SCALE, GLOBAL_WIDTH = 5.0, 0.30
LOCAL_SCALE, LOCAL_WIDTH, MOVE_COST = 10.0, 0.20, 5.0
MAJORITY, CLUSTER_WIDTH = 0.55, 0.18


@dataclass(frozen=True)
class ContinuousModel:
    """The continuous warehouse's dynamics for many episodes at once (leading axis: episodes),
    what ``WarehouseContinuousCore.model()`` gives planners: the same draws in law as the core,
    not the same numbers."""

    n_robots: int
    k: int
    gamma: float

    def reset(self, episodes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(s_g (E,), robots (E, n))`` drawn from the starting distribution."""
        reference = rng.uniform(-1.0, 1.0, episodes)
        keys = rng.random((episodes, BINS)).argsort(axis=1)[:, :2]  # two distinct bins
        majority = np.arange(self.n_robots) < int(MAJORITY * self.n_robots)
        centres = np.where(majority, TARGETS[keys[:, :1]], TARGETS[keys[:, 1:]])
        robots = rng.normal(centres, CLUSTER_WIDTH)
        return reference, np.clip(robots, -LIMIT, LIMIT)

    def histograms(self, robots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Shares per bin of k robots sampled without replacement in each episode, (E, 5)."""
        chosen = rng.random(robots.shape).argpartition(self.k - 1, axis=1)[:, :self.k]
        sample = np.take_along_axis(robots, chosen, axis=1)
        return bin_shares(sample)

    def step(self, reference: np.ndarray, robots: np.ndarray, targets: np.ndarray,
             moves: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(next s_g, next robots, dispatcher reward r_g, robot rewards r_l)``."""
        robot_rewards = local_reward(robots, reference[:, None], MOVES[moves])
        dispatcher_reward = global_reward(reference, targets)
        moved = reference + STEER * (TARGETS[targets] - reference)
        reference = np.clip(moved + rng.normal(0.0, GLOBAL_NOISE, len(moved)), -LIMIT, LIMIT)
        stepped = robots + MOVES[moves] + rng.normal(0.0, LOCAL_NOISE, robots.shape)
        return reference, np.clip(stepped, -LIMIT, LIMIT), dispatcher_reward, robot_rewards


def bin_counts(positions: np.ndarray) -> np.ndarray:
    """``np.histogram(positions, bins=EDGES)[0]`` for positions inside [−2, 2] (as the robots
    always are): bin b holds EDGES[b] ≤ x < EDGES[b + 1], the last bin also x = 2; the same
    comparisons with the same edges, by one ``searchsorted`` and one ``bincount``."""
    bins = np.searchsorted(EDGES, positions, side="right")
    bins -= 1
    np.minimum(bins, BINS - 1, out=bins)
    return np.bincount(bins, minlength=BINS)


def bin_shares(positions: np.ndarray) -> np.ndarray:
    """Shares of each row's positions in the five bins of [−2, 2], (rows, 5)."""
    bins = np.clip(np.searchsorted(EDGES, positions, side="right") - 1, 0, BINS - 1)
    counts = np.stack([(bins == b).sum(axis=1) for b in range(BINS)], axis=1)
    return cast(np.ndarray, counts / positions.shape[1])


@dataclass(frozen=True, kw_only=True)
class WarehouseContinuousParams:
    """The game's keywords and defaults, checked (see :class:`WarehouseContinuousCore`'s
    Arguments table; :func:`~populace.envs.warehouse.fleet.check_fleet_params` resolves
    ``k=None``)."""

    n_agents: int = 500
    k: int | None = None
    gamma: float = 0.95
    max_cycles: int = 100
    render_mode: str | None = None

    def __post_init__(self) -> None:
        check_fleet_params(self)


class WarehouseContinuousCore(FleetCore):
    """## Description

    The continuous version of the warehouse (ALT App. G.2): the dispatcher's reference point
    s_g and the `n_agents` robots live on the line [−2, 2]. The dispatcher points at one of
    five bin centres τ = (−1.6, −0.8, 0, 0.8, 1.6) and is steered toward it; each robot stays
    or moves by ±0.05. Robots earn most near s_g; the dispatcher earns for reaching where it
    points. The fleet starts in two clusters with a 55/45 split, so the dispatcher must find
    the majority from the k robots it samples each step.

    Within a step: rewards for the current positions and actions, then
    s_g' = clip(s_g + 0.6 (τ_{a_g} − s_g) + N(0, 0.08²)) and
    s_l' = clip(s_l + δ_{a_l} + N(0, 0.04²)), both clipped to [−2, 2].

    ## Action Space

    Dispatcher: `Discrete(5)`, the target bin. Robot: `Discrete(3)`: 0 stays, 1 moves +0.05,
    2 moves −0.05.

    ## Observation Space

    Dispatcher: `Box([-2, 0, 0, 0, 0, 0], [2, 1, 1, 1, 1, 1], (6,), float32)`: s_g, then the
    histogram of k robots sampled without replacement over five equal bins of [−2, 2]
    (shares summing to 1; a fresh sample every step). The authors' dispatcher network sees the
    histogram only. Robot: `Box(-2, 2, (2,), float32)`: (s_l, s_g).

    ## Rewards

    Robot: r_l = 10 exp(−(s_l − s_g)² / (2·0.2²)) − 5|δ_{a_l}|. Dispatcher: the system reward
    r_g + (1/n) Σ r_l with r_g = 5 exp(−(s_g − τ_{a_g})² / (2·0.3²)).

    ## Starting State

    s_g ~ U(−1, 1); two distinct bin centres are drawn, 55 % of the robots start around the
    first and 45 % around the second, N(c, 0.18²), clipped to [−2, 2].

    ## Episode End

    1. Truncation: after `max_cycles` steps (ALT evaluates over 100). It never terminates.

    ## Metrics

    `discounted_return` (Σ_t γ^t system reward per episode, over the episodes that ended in the
    window) and `mode_accuracy` (share of steps on which the dispatcher pointed at the fleet's
    modal bin). How far a joint policy is from a Nash equilibrium is estimated apart, by
    `populace.envs.warehouse.continuous_nash` (seconds of simulation, too slow for a window).

    ## Arguments

    | Parameter     | Type      | Default | Description                                   |
    |---------------|-----------|---------|-----------------------------------------------|
    | `n_agents`    | int       | 500     | number of robots n (≥ 1)                      |
    | `k`           | int, None | None    | robots sampled per step, 1 ≤ k ≤ n (None: min(10, n)) |
    | `gamma`       | float     | 0.95    | discount of the metrics, in [0, 1)            |
    | `max_cycles`  | int       | 100     | steps per episode                             |
    | `render_mode` | str, None | None    | `"ansi"`, `"rgb_array"` or `"human"`          |

    >>> from populace.envs import warehouse_continuous_v0
    >>> core = warehouse_continuous_v0.WarehouseContinuousCore(n_agents=4, k=2)
    >>> observations = core.reset(seed=0)
    >>> observations["dispatcher"].shape, float(observations["dispatcher"][0, 1:].sum())
    ((1, 6), 1.0)

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "warehouse_continuous_v0", "render_modes": ["rgb_array", "ansi", "human"],
        "render_fps": 4,
    }
    @keywords_from(WarehouseContinuousParams)
    def __init__(self, params: WarehouseContinuousParams) -> None:
        super().__init__(params)
        self.settings = params
        low = np.array([-LIMIT] + [0.0] * BINS, np.float32)
        high = np.array([LIMIT] + [1.0] * BINS, np.float32)
        self.groups = (
            Group("dispatcher", 1, spaces.Discrete(BINS), spaces.Box(low, high, dtype=np.float32)),
            Group("robot", self.n_agents, spaces.Discrete(len(MOVES)),
                  spaces.Box(-LIMIT, LIMIT, (2,), np.float32)),
        )
        self.state_space = spaces.Box(-LIMIT, LIMIT, (self.n_agents + 1,), np.float32)
        self.reference = 0.0
        self.robots = np.zeros(self.n_agents)

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        self.reference = float(rng.uniform(-1.0, 1.0))
        first, second = rng.choice(BINS, size=2, replace=False)
        majority = int(MAJORITY * self.n_agents)
        centres = np.where(np.arange(self.n_agents) < majority, TARGETS[first], TARGETS[second])
        positions = rng.normal(centres, CLUSTER_WIDTH)
        self.robots = np.clip(rng.permutation(positions), -LIMIT, LIMIT)
        return self._observe()

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        rng = self.np_random
        target = int(actions["dispatcher"][0])
        moves = MOVES[actions["robot"]]
        robot_rewards = local_reward(self.robots, self.reference, moves)
        dispatcher_reward = global_reward(self.reference, target)
        system = float(dispatcher_reward + robot_rewards.mean())
        modal = int(self.fleet_histogram().argmax())
        moved = self.reference + STEER * (TARGETS[target] - self.reference)
        self.reference = float(np.clip(moved + rng.normal(0.0, GLOBAL_NOISE), -LIMIT, LIMIT))
        stepped = self.robots + moves + rng.normal(0.0, LOCAL_NOISE, self.n_agents)
        self.robots = np.clip(stepped, -LIMIT, LIMIT)
        return Step(observations=self._observe(),
                    rewards={"dispatcher": np.array([system]), "robot": robot_rewards},
                    terminated=False, truncated=False,
                    info={"system_reward": system, "round": self.cycle,
                          "mode_hit": target == modal})

    def _observe(self) -> dict[str, np.ndarray]:
        """The dispatcher's k robots are drawn here, without replacement."""
        sample = self.robots[self.np_random.choice(self.n_agents, self.k, replace=False)]
        shares = bin_counts(sample) / self.k
        dispatcher = np.concatenate([[self.reference], shares])[None].astype(np.float32)
        return {"dispatcher": dispatcher,
                "robot": self.robot_observations(self.robots, self.reference)}

    def fleet_histogram(self) -> np.ndarray:
        """Robots per bin now."""
        return bin_counts(self.robots)

    # ----------------------------------------------------------------- declared hooks
    def model(self) -> ContinuousModel:
        """The batched dynamics (:class:`ContinuousModel`), for planners."""
        return ContinuousModel(self.n_agents, self.k, self.gamma)

    def window_metrics(self) -> ContinuousMetrics:
        return ContinuousMetrics(self.gamma)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """s_g, then every robot's position."""
        return np.concatenate([[self.reference], self.robots]).astype(np.float32)

    def picture(self) -> FleetPicture:
        """Robots per bin; the bin of s_g marked."""
        nearest = np.eye(BINS)[int(np.abs(TARGETS - self.reference).argmin())]
        return FleetPicture(self.fleet_histogram(), [f"{c:+.1f}" for c in TARGETS], nearest,
                            f"s_g={self.reference:+.2f}  k={self.k}")

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"reference": np.array(self.reference), "robots": self.robots.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        robots = self.load_robots(state, np.float64)
        self.reference = float(state["reference"])
        self.robots = robots


def local_reward(robots: np.ndarray, reference: float | np.ndarray, moves: np.ndarray
                 ) -> np.ndarray:
    """r_l = 10 exp(−(s_l − s_g)² / (2·0.2²)) − 5|δ| (broadcasts over episodes and robots)."""
    gap = robots - reference
    reward: np.ndarray = LOCAL_SCALE * np.exp(-(gap**2) / (2 * LOCAL_WIDTH**2))
    return cast(np.ndarray, reward - MOVE_COST * np.abs(moves))


@overload
def global_reward(reference: float, target: int) -> float: ...
@overload
def global_reward(reference: np.ndarray, target: np.ndarray) -> np.ndarray: ...
def global_reward(reference: float | np.ndarray, target: int | np.ndarray
                  ) -> float | np.ndarray:
    """r_g = 5 exp(−(s_g − τ_{a_g})² / (2·0.3²)): of one step (a float) or of a batch of
    episodes (arrays)."""
    gap = reference - TARGETS[target]
    return cast("float | np.ndarray", GLOBAL_SCALE * np.exp(-(gap**2) / (2 * GLOBAL_WIDTH**2)))


class ContinuousMetrics(DiscountedReturns):
    """``discounted_return`` (as the tabular warehouse's) and ``mode_accuracy``: the share of
    the window's steps on which the dispatcher pointed at the fleet's modal bin."""

    columns = ("discounted_return", "mode_accuracy")
    headline = "discounted_return"
    higher_is_better = ("discounted_return", "mode_accuracy")

    def record(self, actions: Mapping[str, np.ndarray], step: Step) -> None:
        super().record(actions, step)
        self.steps += 1
        self.hits += int(step.info["mode_hit"])

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        return {"discounted_return": self.discounted_return(),
                "mode_accuracy": self.hits / max(self.steps, 1)}

    def clear(self) -> None:
        super().clear()
        self.steps = 0
        self.hits = 0

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "steps": self.steps, "hits": self.hits}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps, self.hits = int(state["steps"]), int(state["hits"])


raw_env, parallel_env, env, focal_env, vector_env = faces(WarehouseContinuousCore)
