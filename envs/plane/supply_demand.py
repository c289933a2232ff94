"""Supply with uncertain demand (Mguni, Jennings & Munoz de Cote, AAMAS 2018, Experiment 2).

| Import             | `from populace.envs import supply_demand_v0`                      |
|--------------------|-------------------------------------------------------------------|
| Actions            | Box(-action_bound, action_bound, (2,), float64): a velocity       |
| Parallel API       | Yes                                                               |
| Manual Control     | No                                                                |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`                 |
| Number of agents   | `n_agents` (default 200)                                          |
| Action shape       | (2,)                                                              |
| Observation shape  | (3,): own position, then the time t/T (float64)                   |
| Gymnasium ids      | `populace/SupplyDemand-v0` (focal and vector views)               |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from populace.envs.core import Step
from populace.envs.faces import faces
from populace.envs.metrics import ScoredPolicy, WindowMetrics, action_rule
from populace.envs.params import keywords_from, settle, with_defaults
from populace.envs.plane.picture import density_image, density_text
from populace.envs.plane.plane_game import (
    DIMENSION,
    PlaneGameCore,
    check_plane_params,
)
from populace.envs.plane.rewards import bump, congested
from populace.envs.plane.supply_equilibrium import (
    SupplyEquilibrium,
    SupplyGridGame,
    solve_supply,
    supply_finite_n_gap,
)
from populace.envs.validation import check_number, check_point


@dataclass(frozen=True, kw_only=True)
class SupplyDemandParams:
    """The game's keywords and defaults, checked (see :class:`SupplyDemandCore`'s Arguments
    table); frozen, so it keys the cache of grid equilibria."""

    n_agents: int = 200
    alpha: float = 0.1
    eta: float = 2.0
    sigma: float = 0.02
    demand_variance: float = 0.1
    demand_scale: float = 0.1
    path_centre: tuple[float, float] = (0.0, 0.0)
    path_radius: float = 1.0
    offset_std: float = 0.05
    speed_spread: float = 0.1
    start_mean: tuple[float, float] = (-0.2, 0.0)
    start_std: float = 0.1
    bandwidth: float = 0.1
    grid_cells: int = 121
    grid_half_width: float = 3.0
    action_bound: float = 0.5
    strict: bool = False
    max_cycles: int = 30
    render_mode: str | None = None

    def __post_init__(self) -> None:
        check_plane_params(self)
        settle(
            self,
            demand_variance=check_number("demand_variance", self.demand_variance, low=0.0,
                                         low_open=True),
            demand_scale=check_number("demand_scale", self.demand_scale, low=0.0,
                                      low_open=True),
            path_centre=check_point("path_centre", self.path_centre),
            path_radius=check_number("path_radius", self.path_radius, low=0.0, low_open=True),
            offset_std=check_number("offset_std", self.offset_std, low=0.0),
            speed_spread=check_number("speed_spread", self.speed_spread, low=0.0, high=1.0,
                                      high_open=True),
        )

    def equilibrium_key(self) -> SupplyDemandParams:
        """These parameters without those the grid equilibrium ignores (the population, the
        density grid, which it replaces with its own, strictness, rendering): the key of
        its cache."""
        return with_defaults(self, ("n_agents", "grid_cells", "grid_half_width", "strict",
                                      "render_mode"))


class SupplyDemandCore(PlaneGameCore):
    """## Description

    Firms place their supply where demand will be (Mguni, Jennings & Munoz de Cote,
    *Decentralised learning in systems with many, many strategic agents*, AAMAS 2018,
    Experiment 2). A bump of demand travels along a path through the plane during an episode
    of T = `max_cycles` steps; each agent (a firm's supply) observes only its own position and
    the time, picks a velocity u_t and moves:

        x_{t+1} = x_t + u_t + σ·ε_t,    ε_t ~ N(0, I₂).

    At every step it receives

        demand_t(x_t) / (1 + m_t(x_t))^α − η·|u_t|²,

    where demand_t is `demand_scale` times MJM's Gaussian bump (see
    :mod:`populace.envs.plane.rewards`, Σ = `demand_variance`·I) centred at c(t), and m_t the
    density of all agents' positions at time t (Gaussian kernel of bandwidth `bandwidth`,
    computed for the whole population at once in O(N + G log G),
    :mod:`populace.envs.plane.density`).
    The movement cost is convex, so with η > 0 agents do better to cut across and meet the
    demand later than to trace it; with η = 0 they trace it. The demand's scale is ours, chosen
    so that MJM's η = 2 matters: at the grid equilibrium (:meth:`reference_equilibrium`) agents
    then lag the path early and meet it near its top, while with η = 0 they trace it from the
    third step on (with a demand 2.5 times lower, η = 2 agents do not move at all). The
    default, 0.1, is the `mguni-supply` experiment's: the largest scale at which the grid
    equilibrium still meets the path later with η = 2 and beats tracing it (its scan is in
    :mod:`populace.train.papers.mguni_supply`).

    **The path** (ours, SPEC §2.6) is an arc of the circle of radius `path_radius` about
    `path_centre`: c(t) = centre + δ + r·(cos θ_t, sin θ_t), θ_t = π·(1 − s·t/T), from the
    circle's left end over its top to its right end. **Per-episode uncertainty**: the offset
    δ ~ N(0, `offset_std`²·I) and the speed s ~ U[1 − `speed_spread`, 1 + `speed_spread`]
    are drawn at every reset, and agents do not observe them.

    ## Action Space

    `Box(-action_bound, action_bound, (2,), float64)`: the velocity u_t. With `strict=False`
    (the default) finite actions outside the box are clipped into it (the clipped u moves the
    agent and is charged); with `strict=True` they are refused with an error naming the
    agent. NaN or infinite actions are always refused.

    ## Observation Space

    `Box([-inf, -inf, 0], [inf, inf, 1], (3,), float64)`: own position x_t, then t/T.

    ## Rewards

    As above, at the position before the move. `info` holds the step's `positions`, `moves`
    and demand `centre`.

    ## Starting State

    Positions i.i.d. N(`start_mean`, `start_std`²·I); the path's offset and speed (above).

    ## Episode End

    Truncation after `max_cycles` = T steps.

    ## Metrics

    `mean_reward` (per agent and step), `movement_cost` (η|u|², per agent and step),
    `demand_distance` (mean |x_t − c(t)|) over the window; `exploitability` of the learners'
    policy when it is a callable (read at every node and step of the grid game), else NaN.

    ## Reference equilibrium

    :meth:`reference_equilibrium`: the mean-field equilibrium of the game on a 31 × 31 grid
    over [−2, 2]² (moves on the lattice, the path's uncertainty averaged out), by fictitious
    play on the population's flow to an exploitability below 1e-3 per episode
    (:mod:`populace.envs.plane.supply_equilibrium`; cached per game constants). The faces' default
    population policy is uniform play (the equilibrium is a mixture of policies an agent keeps
    for a whole episode, which a memoryless population policy cannot draw).
    :meth:`finite_population_gap`: the equilibrium played by N agents (`populace finite-n
    supply_demand_v0`).

    ## Arguments

    | Parameter         | Type      | Default      | Description                                 |
    |-------------------|-----------|--------------|---------------------------------------------|
    | `n_agents`        | int       | 200          | population size (≥ 1)                       |
    | `alpha`           | float     | 0.1          | crowd aversion α > 0 (MJM: 0.1)             |
    | `eta`             | float     | 2.0          | movement cost η ≥ 0 (MJM: 2)                |
    | `sigma`           | float     | 0.02         | movement noise σ ≥ 0                        |
    | `demand_variance` | float     | 0.1          | Σ = v·I of the demand bump (v > 0)          |
    | `demand_scale`    | float     | 0.1          | the bump's height factor (> 0)              |
    | `path_centre`     | pair      | (0, 0)       | centre of the arc                           |
    | `path_radius`     | float     | 1.0          | its radius (> 0)                            |
    | `offset_std`      | float     | 0.05         | per-episode offset of the path              |
    | `speed_spread`    | float     | 0.1          | per-episode speed in 1 ± this (in [0, 1))   |
    | `start_mean`      | pair      | (−0.2, 0)    | mean of the start positions (MJM's first)   |
    | `start_std`       | float     | 0.1          | their standard deviation per coordinate     |
    | `bandwidth`       | float     | 0.1          | kernel bandwidth h of the density (> 0)     |
    | `grid_cells`      | int       | 121          | density grid nodes per axis (≥ 8)           |
    | `grid_half_width` | float     | 3.0          | the grid covers [−w, w]²                    |
    | `action_bound`    | float     | 0.5          | half-width of the action box (> 0)          |
    | `strict`          | bool      | False        | refuse (True) or clip (False) outside       |
    | `max_cycles`      | int       | 30           | the horizon T                               |
    | `render_mode`     | str, None | None         | `"ansi"`, `"rgb_array"` or `"human"`        |

    >>> from populace.envs import supply_demand_v0
    >>> core = supply_demand_v0.SupplyDemandCore(n_agents=3)
    >>> observations = core.reset(seed=0)["agent"]
    >>> observations.shape, float(observations[0, 2])
    ((3, 3), 0.0)
    >>> step = core.step({"agent": np.zeros((3, 2))})
    >>> float(step.observations["agent"][0, 2]) == 1 / 30
    True

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "supply_demand_v0", "render_modes": ["rgb_array", "ansi", "human"],
        "render_fps": 6,
    }
    @keywords_from(SupplyDemandParams)
    def __init__(self, params: SupplyDemandParams) -> None:
        observation_space = spaces.Box(np.array([-np.inf, -np.inf, 0.0]),
                                       np.array([np.inf, np.inf, 1.0]), dtype=np.float64)
        super().__init__(params, observation_space, state_size=DIMENSION * params.n_agents + 1)
        self.settings = params
        self.demand_variance = params.demand_variance
        self.demand_scale = params.demand_scale
        self.path_centre = np.array(params.path_centre)
        self.path_radius = params.path_radius
        self.offset_std = params.offset_std
        self.speed_spread = params.speed_spread
        self.positions = np.zeros((self.n_agents, DIMENSION))
        self.offset = np.zeros(DIMENSION)
        self.speed = 1.0

    # ----------------------------------------------------------------- the demand
    def centre(self, t: int, offset: np.ndarray | None = None,
               speed: float | None = None) -> np.ndarray:
        """The demand's centre c(t) (this episode's offset and speed unless given)."""
        offset = self.offset if offset is None else offset
        speed = self.speed if speed is None else speed
        angle = np.pi * (1.0 - speed * t / self.max_cycles)
        centre: np.ndarray = self.path_centre + offset
        return centre + self.path_radius * np.array([np.cos(angle), np.sin(angle)])

    def path(self, samples: int = 61) -> np.ndarray:
        """The nominal path (no offset, speed 1) at ``samples`` times over [0, T]."""
        times = np.linspace(0.0, self.max_cycles, samples)
        return np.stack([self.centre(t, np.zeros(DIMENSION), 1.0) for t in times])

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        self.positions = self.draw_positions()
        self.offset = self.offset_std * rng.standard_normal(DIMENSION)
        self.speed = float(rng.uniform(1.0 - self.speed_spread, 1.0 + self.speed_spread))
        return {self.agent_group: self._observe(0)}

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        moves = actions[self.agent_group]
        positions = self.positions
        t = self.cycle
        centre = self.centre(t)
        density = self.density(positions)  # a direct sum at small N, else binned FFT
        demand = bump(positions, (centre[0], centre[1]), self.demand_variance)
        demand *= self.demand_scale
        rewards = congested(demand, density, self.alpha)
        cost = np.einsum("ij,ij->i", moves, moves)
        cost *= self.eta
        rewards -= cost
        moved = self.np_random.standard_normal((self.n_agents, DIMENSION))
        moved *= self.sigma
        moved += positions
        moved += moves
        self.positions = moved
        return Step(observations={self.agent_group: self._observe(t + 1)},
                    rewards={self.agent_group: rewards}, terminated=False, truncated=False,
                    info={"positions": positions, "moves": moves, "centre": centre,
                          "cost": cost})

    def _observe(self, t: int) -> np.ndarray:
        observations = np.empty((self.n_agents, DIMENSION + 1))
        observations[:, :DIMENSION] = self.positions
        observations[:, DIMENSION] = min(t / self.max_cycles, 1.0)
        return observations

    # ----------------------------------------------------------------- equilibria
    def reference_equilibrium(self) -> SupplyEquilibrium:
        """The grid mean-field equilibrium (class doc; cached per game constants)."""
        return _equilibrium(self.settings.equilibrium_key())

    def exploitability(self, policy: Callable[..., ArrayLike]) -> float:
        """Per agent and episode, of a population policy ``policy(observations[, rng])`` read
        on the grid game (:meth:`SupplyGridGame.choice_of`)."""
        game = self.reference_equilibrium().game
        return game.policy_exploitability(game.choice_of(policy))

    def finite_population_gap(self, n_agents: int) -> float:
        """Exploitability per agent and episode of the grid equilibrium played by
        ``n_agents`` agents (Monte Carlo over 16 populations, seeded:
        :func:`populace.envs.plane.supply_equilibrium.supply_finite_n_gap`)."""
        return supply_finite_n_gap(self.reference_equilibrium(), n_agents)

    # ----------------------------------------------------------------- declared hooks
    def own_state_size(self, group: str) -> int:
        """The agent's own part of an observation: all of it (no population statistic)."""
        shape = cast(tuple[int, ...], self.group(group).observation_space.shape)  # a Box's
        return int(shape[0])

    def window_metrics(self) -> SupplyDemandMetrics:
        return SupplyDemandMetrics(self)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """Every agent's position, flattened, then t/T."""
        return np.append(self.positions.ravel(), self.cycle / self.max_cycles)

    def _picture(self) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
        centre = self.centre(min(self.cycle, self.max_cycles))
        return self.density.on_grid(self.positions), ((float(centre[0]), float(centre[1])),)

    def render_ansi(self) -> str:
        density, peaks = self._picture()
        return density_text(self.grid, density, self.positions, peaks,
                            f"{self.metadata['name']}  t={self.cycle}/{self.max_cycles}  "
                            f"n={self.n_agents}  eta={self.eta:g}  (+ = demand centre)")

    def render_rgb(self) -> np.ndarray:
        density, peaks = self._picture()
        return density_image(self.grid, density, self.positions, peaks,
                             f"T {self.cycle}/{self.max_cycles}  N={self.n_agents}")

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"positions": self.positions.copy(), "offset": self.offset.copy(),
                "speed": np.array(self.speed)}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        self.positions = self.load_positions(state, "positions")
        self.offset = np.array(state["offset"], dtype=np.float64).reshape(DIMENSION)
        self.speed = float(state["speed"])


class SupplyDemandMetrics(WindowMetrics):
    """``mean_reward`` and ``movement_cost`` per agent and step, and ``demand_distance`` (the
    mean distance of the agents to the demand's centre), over the window's steps;
    ``exploitability`` of the learners' policy when it is a callable (else NaN)."""

    columns = ("mean_reward", "movement_cost", "demand_distance", "exploitability")
    headline = "mean_reward"
    higher_is_better = ("mean_reward",)

    def __init__(self, core: SupplyDemandCore) -> None:
        self.core = core
        self.group = core.agent_group
        self.clear()

    def record(self, actions: dict[str, np.ndarray], step: Step) -> None:
        positions = step.info["positions"]
        offsets = positions - step.info["centre"]
        self.steps += 1
        self.reward += float(step.rewards[self.group].mean())
        self.cost += float(step.info["cost"].mean())
        self.distance += float(np.sqrt(np.einsum("ij,ij->i", offsets, offsets)).mean())

    def scores(self, policies: Mapping[str, ScoredPolicy]) -> dict[str, float | int]:
        rule = action_rule(policies.get(self.group))
        exploitability = float("nan") if rule is None else self.core.exploitability(rule)
        if self.steps == 0:
            return {**dict.fromkeys(self.columns, float("nan")), "exploitability": exploitability}
        return {"mean_reward": self.reward / self.steps, "movement_cost": self.cost / self.steps,
                "demand_distance": self.distance / self.steps, "exploitability": exploitability}

    def clear(self) -> None:
        self.steps = 0
        self.reward = self.cost = self.distance = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "reward": self.reward, "cost": self.cost,
                "distance": self.distance}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        self.reward = float(state["reward"])
        self.cost = float(state["cost"])
        self.distance = float(state["distance"])


@lru_cache(maxsize=16)
def _equilibrium(key: SupplyDemandParams) -> SupplyEquilibrium:
    """The grid equilibrium of the games whose parameters have this key, solved once."""
    return solve_supply(SupplyGridGame.of(SupplyDemandCore(**vars(key)), cells=31))


raw_env, parallel_env, env, focal_env, vector_env = faces(SupplyDemandCore)
