"""Warehouse dispatcher and robots (ALT, *Learning approximate Nash equilibria in cooperative
MARL via mean-field subsampling*, App. G.1; constants from the authors' public code).

| Import             | `from populace.envs import warehouse_v0`                              |
|--------------------|-----------------------------------------------------------------------|
| Actions            | dispatcher: `Discrete(5)` (zone to prioritise); robot: `Discrete(3)`  |
| Parallel API       | Yes                                                                   |
| Manual Control     | No                                                                    |
| Agents             | `['dispatcher_0', 'robot_0', ..., 'robot_{n_agents-1}']`              |
| Number of agents   | `n_agents + 1`                                                        |
| Observation shape  | dispatcher: (6,); robot: (2,)                                         |
| Observation values | dispatcher: (s_g, counts of k sampled robots per zone); robot: (s_l, s_g) |
| Gymnasium ids      | `populace/Warehouse-v0` (`make`: the dispatcher; `make_vec`: the robots) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, Step
from populace.envs.faces import faces
from populace.envs.metrics import declared_probabilities, probability_source
from populace.envs.params import keywords_from, settle
from populace.envs.policies import sample_actions
from populace.envs.validation import check_choice
from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.fleet import (
    DiscountedReturns,
    FleetCore,
    FleetPicture,
    check_fleet_params,
)
from populace.envs.warehouse.model import PULLS, ROBOT_ACTIONS, ZONES, WarehouseModel
from populace.envs.warehouse.nash import nash_gains
from populace.envs.warehouse.sim import DispatcherFn, dispatcher_from_rows

NASH_ROLLOUTS = 100  # simulated episodes behind a window's ε-Nash gains
# Up to this k the dispatcher's best response behind the gains uses sampled next counts; above
# it, the authors' rounded operator (sampled: 25 × C(k + 4, 4) × 100 indices, 3 GB at k = 50).
SAMPLED_K = 20


@dataclass(frozen=True, kw_only=True)
class WarehouseParams:
    """The game's keywords and defaults, checked (see :class:`WarehouseCore`'s Arguments
    table; :func:`~populace.envs.warehouse.fleet.check_fleet_params` resolves ``k=None``)."""

    n_agents: int = 1000
    k: int | None = None
    pull: str = "next"
    gamma: float = 0.95
    max_cycles: int = 100
    render_mode: str | None = None

    def __post_init__(self) -> None:
        check_fleet_params(self)
        settle(self, pull=check_choice("pull", self.pull, PULLS))


class WarehouseCore(FleetCore):
    """## Description

    A dispatcher steers the warehouse's priority zone s_g among five zones on a ring while
    `n_agents` robots move between the zones (ALT App. G.1). The dispatcher cannot poll the
    whole fleet: every step it sees the zone counts of `k` robots sampled without replacement
    (k = n is full information). Each robot sees its own zone and the dispatcher's zone only.
    Robots earn most when they stand in the priority zone, so the dispatcher does best by
    steering to where the fleet is concentrated; moving costs the robots little and a bonus
    rewards moving "up" (the dynamics and rewards: :mod:`populace.envs.warehouse.model`).

    Order within a step, as the authors' simulator does it: rewards are paid for the current
    zones and actions, the dispatcher moves first (s_g' ~ softmax of 0.1 + 3.0·[a_g] +
    0.5·[s_g]), then every robot moves (softmax of 0.1 + 3.5·[s_l] + 1.5·[s_l ± 1 for
    up/down] + 0.3·[pull zone]) with the pull toward the *new* s_g(t+1) (`pull="next"`,
    default) or, as the authors' planning code assumes, the old s_g(t) (`pull="current"`).

    ## Action Space

    Dispatcher: `Discrete(5)`, the zone to prioritise. Robot: `Discrete(3)`: 0 stays, 1 moves
    up (+1 mod 5), 2 moves down (−1 mod 5).

    ## Observation Space

    Whole numbers in flat `float32` Boxes (what default networks take; tabular learners cast
    them to int). Dispatcher: `Box(0, [4, k, k, k, k, k], (6,), float32)`: its zone s_g, then
    how many of the k sampled robots stand in each zone (the counts sum to k; a fresh sample
    every step). Robot: `Box(0, 4, (2,), float32)`: (own zone s_l, dispatcher's zone s_g).

    ## Rewards

    Robot i: r_l = base + bonus[a_i], base = 10 if s_i = s_g else 2 / (1 + d) with d the ring
    distance, bonus = (0, +0.5, −0.3). Dispatcher: the system reward r_g + (1/n) Σ_i r_l with
    r_g = 1 (the cooperative objective ALT maximizes; γ = `gamma` discounts it in the metrics).

    ## Starting State

    s_g uniform over the zones; the robots' zones i.i.d. from p ~ Dirichlet(0.3 · 1), so an
    episode usually starts with one or two crowded zones.

    ## Episode End

    1. Truncation: after `max_cycles` steps (ALT evaluates over 100). It never terminates.

    ## Metrics

    `discounted_return`: Σ_t γ^t (system reward) per episode, averaged over the episodes that
    ended in the window (NaN if none did). `gain_dispatcher`, `gain_robot`, `epsilon`: how much
    each role could gain by deviating alone from the joint policy played, and the larger
    (:mod:`populace.envs.warehouse.nash`; a group's policy is scored as a table or through the
    action probabilities it declares, :class:`WarehouseMetrics`; NaN for a policy that
    declares none, such as a plain function).

    ## Arguments

    | Parameter     | Type      | Default  | Description                                      |
    |---------------|-----------|----------|--------------------------------------------------|
    | `n_agents`    | int       | 1000     | number of robots n (≥ 1)                         |
    | `k`           | int, None | None     | robots sampled per step, 1 ≤ k ≤ n (None: min(10, n)) |
    | `pull`        | str       | `"next"` | pull toward s_g(t+1), or `"current"`: s_g(t)     |
    | `gamma`       | float     | 0.95     | discount of the metrics, in [0, 1)               |
    | `max_cycles`  | int       | 100      | steps per episode                                |
    | `render_mode` | str, None | None     | `"ansi"`, `"rgb_array"` or `"human"`             |

    >>> from populace.envs import warehouse_v0
    >>> core = warehouse_v0.WarehouseCore(n_agents=4, k=2)
    >>> observations = core.reset(seed=0)
    >>> observations["dispatcher"].shape, observations["robot"].shape
    ((1, 6), (4, 2))
    >>> int(observations["dispatcher"][0, 1:].sum())
    2
    >>> step = core.step({"dispatcher": np.array([0]), "robot": np.zeros(4, np.int64)})
    >>> sorted(step.rewards)
    ['dispatcher', 'robot']

    ## Vectorized environment

    `gymnasium.make("populace/Warehouse-v0")` is the dispatcher's focal view (the robots follow
    `role_policies["robot"]`, uniform by default); `gymnasium.make_vec("populace/Warehouse-v0",
    num_envs=n, vectorization_mode="vector_entry_point")` has one slot per robot, the
    dispatcher following `role_policies["dispatcher"]`.

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "warehouse_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4,
    }
    @keywords_from(WarehouseParams)
    def __init__(self, params: WarehouseParams) -> None:
        super().__init__(params)
        self.settings = params
        self.pull = params.pull
        self.groups = (
            Group("dispatcher", 1, spaces.Discrete(ZONES), spaces.Box(
                0.0, np.array([ZONES - 1] + [self.k] * ZONES, np.float32), dtype=np.float32)),
            Group("robot", self.n_agents, spaces.Discrete(ROBOT_ACTIONS),
                  spaces.Box(0.0, ZONES - 1, (2,), np.float32)),
        )
        self.state_space = spaces.MultiDiscrete([ZONES] * (self.n_agents + 1))
        self.tables = WarehouseModel.build(n_robots=self.n_agents, k=self.k, gamma=self.gamma,
                                           pull=self.pull)
        self._cumulative_global = np.cumsum(self.tables.dispatcher_kernel, axis=-1)
        self._cumulative_robot = np.cumsum(self.tables.robot_kernel, axis=-1)
        # per pull zone: the first ZONES − 1 cumulative thresholds, by (zone, move) cell
        self._thresholds = np.ascontiguousarray(
            self._cumulative_robot[..., :-1].transpose(1, 3, 0, 2).reshape(ZONES, ZONES - 1, -1))
        self.zone = 0
        self.robots = np.zeros(self.n_agents, dtype=np.int64)
        self.sample = np.zeros(ZONES, dtype=np.int64)

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        self.zone = int(rng.integers(ZONES))
        shares = rng.dirichlet(np.full(ZONES, self.tables.start_concentration))
        self.robots = sample_actions(shares, rng, self.n_agents).astype(np.int64)
        return self._observe()

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        rng = self.np_random
        target = int(actions["dispatcher"][0])
        # one index per robot into the small (zone, move) tables: 1-D gathers, not (n, 5) rows
        cell = self.robots * ROBOT_ACTIONS
        cell += actions["robot"]
        robot_rewards = self.tables.robot_reward[:, self.zone, :].ravel().take(cell)
        system = float(self.tables.dispatcher_reward[self.zone, target] + robot_rewards.mean())
        old_zone = self.zone
        self.zone = draw(self._cumulative_global[old_zone, target], rng.random())
        pull = self.zone if self.pull == "next" else old_zone
        self.robots = next_zones(self._thresholds[pull], cell, rng.random(self.n_agents))
        return Step(
            observations=self._observe(),
            rewards={"dispatcher": np.array([system]), "robot": robot_rewards},
            terminated=False,
            truncated=False,
            info={"system_reward": system, "round": self.cycle},
        )

    def _observe(self) -> dict[str, np.ndarray]:
        """The dispatcher's sample is drawn here: k robots without replacement, as counts."""
        self.sample = self.np_random.multivariate_hypergeometric(self.counts(), self.k)
        dispatcher = np.concatenate([[self.zone], self.sample])[None].astype(np.float32)
        return {"dispatcher": dispatcher, "robot": self.robot_observations(self.robots, self.zone)}

    def counts(self) -> np.ndarray:
        """How many robots stand in each zone now."""
        return np.bincount(self.robots, minlength=ZONES).astype(np.int64)

    # ----------------------------------------------------------------- declared hooks
    def model(self) -> WarehouseModel:
        """The transition and reward tables (:class:`WarehouseModel`), for planners."""
        return self.tables

    def window_metrics(self) -> WarehouseMetrics:
        return WarehouseMetrics(self.tables)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """s_g, then every robot's zone."""
        return np.concatenate([[self.zone], self.robots]).astype(np.int64)

    def picture(self) -> FleetPicture:
        """Robots per zone; the dispatcher's zone marked."""
        return FleetPicture(self.counts(), [f"zone {z}" for z in range(ZONES)],
                            np.eye(ZONES)[self.zone],
                            f"dispatcher zone {self.zone}  k={self.k} sample "
                            f"{self.sample.tolist()}")

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"zone": np.array(self.zone), "robots": self.robots.copy(),
                "sample": self.sample.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        robots = self.load_robots(state, np.int64)
        self.zone = int(state["zone"])
        self.robots = robots
        self.sample = np.array(state["sample"], dtype=np.int64)


def next_zones(thresholds: np.ndarray, cell: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws, one per robot: the number of its cumulative thresholds (the column
    of ``thresholds`` ``(ZONES − 1, zones × moves)`` at its ``cell``) that ``u`` reaches."""
    after = (u >= thresholds[0].take(cell)).view(np.int8).astype(np.int64)
    for row in thresholds[1:]:
        after += u >= row.take(cell)
    return cast(np.ndarray, after)


def draw(cumulative: np.ndarray, u: float) -> int:
    """Inverse-CDF draw of one index from a cumulative distribution."""
    return min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)


class WarehouseMetrics(DiscountedReturns):
    """``discounted_return`` (:class:`~populace.envs.warehouse.fleet.DiscountedReturns`).
    ``gain_dispatcher``, ``gain_robot`` and ``epsilon``: the unilateral gains of
    the joint policy played — learners' and fixed groups' alike — and the larger of them
    (:func:`populace.envs.warehouse.nash.nash_gains`, 100 simulated episodes of 100 steps,
    seeded, so a window's score depends on the policies alone; for k > :data:`SAMPLED_K` the
    dispatcher's best response uses the authors' rounded operator).

    Each group's policy is read as a probability table when it is one — ``dispatcher[s_g,
    rank, a_g]`` over the ranks of :class:`~populace.envs.warehouse.count_vectors.CountVectors`,
    ``robot[s_l, s_g, a_l]`` — and otherwise through the probabilities it declares
    (:func:`~populace.envs.metrics.declared_probabilities`: SB3 learners, probability
    vectors, callables that declare them): the robots' at the 25 observations (s_l, s_g),
    the dispatcher's only at the observations (s_g, sampled counts) the simulated episodes
    visit, so its 5·C(k + 4, 4) states are never all tabulated. A policy that declares no
    probabilities (a plain function of the observations) cannot be scored this way: the three
    columns are NaN for it."""

    columns = ("discounted_return", "gain_dispatcher", "gain_robot", "epsilon")
    headline = "discounted_return"
    higher_is_better = ("discounted_return",)

    def __init__(self, model: WarehouseModel) -> None:
        super().__init__(model.gamma)
        self.model = model
        self.space = CountVectors(model.k, ZONES)

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        return {"discounted_return": self.discounted_return(), **self.gains(policies)}

    def gains(self, policies: Mapping[str, Any]) -> dict[str, float]:
        robot = self.robot_table(policies)
        dispatcher = self.dispatcher_policy(policies)
        if robot is None or dispatcher is None:
            return {"gain_dispatcher": float("nan"), "gain_robot": float("nan"),
                    "epsilon": float("nan")}
        method = "sampled" if self.model.k <= SAMPLED_K else "rounded"
        found = nash_gains(self.model, dispatcher, robot, rollouts=NASH_ROLLOUTS, method=method)
        return {"gain_dispatcher": found.dispatcher, "gain_robot": found.robot,
                "epsilon": found.epsilon}

    def robot_table(self, policies: Mapping[str, Any]) -> np.ndarray | None:
        """``[s_l, s_g, a_l]``: the robots' table, or their declared probabilities at every
        (s_l, s_g); None if they have neither."""
        shape = (ZONES, ZONES, ROBOT_ACTIONS)
        given = table_of(policies.get("robot"), shape)
        if given is not None:
            return given
        probabilities = declared_probabilities(policies, "robot", robot_observations())
        if probabilities is None:
            return None
        check_rows("robot", probabilities, (ZONES * ZONES, ROBOT_ACTIONS))
        return probabilities.reshape(shape)

    def dispatcher_policy(self, policies: Mapping[str, Any]) -> np.ndarray | DispatcherFn | None:
        """The dispatcher's table, or a function asking its declared probabilities at the
        observations played; None if it has neither."""
        given = table_of(policies.get("dispatcher"), (ZONES, self.space.size, ZONES))
        if given is not None:
            return given
        declared = probability_source(policies, "dispatcher")
        if declared is None:
            return None

        def rows_of(zones: np.ndarray, counts: np.ndarray) -> np.ndarray:
            observations = np.column_stack([zones, counts]).astype(np.float32)
            rows = np.asarray(declared(observations), dtype=np.float64)
            check_rows("dispatcher", rows, (len(zones), ZONES))
            return rows

        return dispatcher_from_rows(rows_of)


def table_of(policy: object, shape: tuple[int, ...]) -> np.ndarray | None:
    """``policy`` as a float table if it is an array (or nested list) of ``shape``."""
    if isinstance(policy, np.ndarray | list | tuple) and np.shape(policy) == shape:
        return np.asarray(policy, dtype=np.float64)
    return None


def robot_observations() -> np.ndarray:
    """The 25 robot observations (s_l, s_g), s_l-major: rows of a ``[s_l, s_g]`` table."""
    zones = np.arange(ZONES)
    return np.stack(np.meshgrid(zones, zones, indexing="ij"), axis=-1).reshape(-1, 2).astype(
        np.float32)


def check_rows(name: str, rows: np.ndarray, shape: tuple[int, int]) -> None:
    """Declared probabilities must be ``shape`` rows of probabilities, or a ValueError."""
    if np.shape(rows) != shape:
        raise ValueError(f"the {name} policy declared probabilities of shape {np.shape(rows)} "
                         f"for {shape[0]} observations, expected {shape}")
    if not np.allclose(np.sum(rows, axis=-1), 1.0) or np.min(rows, initial=0.0) < 0:
        raise ValueError(f"the {name} policy declared rows that are not probability vectors")


raw_env, parallel_env, env, focal_env, vector_env = faces(WarehouseCore)
