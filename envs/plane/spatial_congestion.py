"""Spatial congestion (Mguni, Jennings & Munoz de Cote, AAMAS 2018, Experiment 1).

| Import             | `from populace.envs import spatial_congestion_v0`                 |
|--------------------|-------------------------------------------------------------------|
| Actions            | Box(-action_bound, action_bound, (2,), float64): a move           |
| Parallel API       | Yes                                                               |
| Manual Control     | No                                                                |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`                 |
| Number of agents   | `n_agents` (default 1000)                                         |
| Action shape       | (2,)                                                              |
| Observation shape  | (2,): own start position (float64)                                |
| Gymnasium ids      | `populace/SpatialCongestion-v0` (focal and vector views)          |
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from populace.envs.core import Step
from populace.envs.faces import faces
from populace.envs.params import keywords_from, settle, with_defaults
from populace.envs.plane.picture import density_image, density_text
from populace.envs.plane.plane_game import (
    DIMENSION,
    PlaneGameCore,
    check_plane_params,
)
from populace.envs.plane.rewards import congested, desirability
from populace.envs.plane.spatial_equilibrium import (
    GridEquilibrium,
    GridGame,
    finite_n_gap,
    nearest_start,
    solve,
)
from populace.envs.plane.spatial_metrics import SpatialMetrics
from populace.envs.policies import PolicySpec
from populace.envs.validation import check_choice, check_number

REWARDS = ("single", "bimodal")
CENTRES = {"single": ((0.0, 0.0),), "bimodal": ((-1.0, 0.0), (0.0, 0.0))}


@dataclass(frozen=True, kw_only=True)
class SpatialCongestionParams:
    """The game's keywords and defaults, checked (see :class:`SpatialCongestionCore`'s
    Arguments table); frozen, so it keys the cache of grid equilibria."""

    n_agents: int = 1000
    alpha: float = 1.0
    eta: float = 0.5
    sigma: float = 0.05
    reward: str = "single"
    bump_variance: float = 0.25
    start_mean: tuple[float, float] = (1.0, 0.0)
    start_std: float = 0.1
    bandwidth: float = 0.1
    grid_cells: int = 121
    grid_half_width: float = 3.0
    action_bound: float = 3.0
    strict: bool = False
    max_cycles: int = 1
    render_mode: str | None = None

    def __post_init__(self) -> None:
        check_plane_params(self)
        settle(self, reward=check_choice("reward", self.reward, REWARDS),
               bump_variance=check_number("bump_variance", self.bump_variance, low=0.0,
                                          low_open=True))

    def equilibrium_key(self) -> SpatialCongestionParams:
        """These parameters without those the grid equilibrium ignores (the population, the
        action box, the episode, rendering): the key of its cache."""
        return with_defaults(
            self, ("n_agents", "action_bound", "strict", "max_cycles", "render_mode"))


class SpatialCongestionCore(PlaneGameCore):
    """## Description

    Agents choose where to stand in the plane (Mguni, Jennings & Munoz de Cote, *Decentralised
    learning in systems with many, many strategic agents*, AAMAS 2018, Experiment 1). Some
    places are more desirable than others, but a crowded place is worth less: every agent
    starts at x₀, picks a move u and lands at

        x_T = x₀ + u + σ·ε,    ε ~ N(0, I₂),

    where it receives

        L(x_T, m) − ½·η·|u|²,   L(x, m) = desirability(x) / (1 + m(x))^α,

    with `desirability` MJM's Gaussian bump exp(−(x − μ)ᵀΣ⁻¹(x − μ)) / (2π√|Σ|) at μ = (0, 0)
    (`reward="single"`) or the sum of two such bumps at (−1, 0) and (0, 0) (`"bimodal"`),
    Σ = `bump_variance`·I, and m(x) the density of the agents' landing points at x. Larger α
    makes agents more averse to crowds, so the population spreads further.

    Each round is one play of MJM's one-shot game; an episode is `max_cycles` rounds (one by
    default), and every round draws fresh start positions, so rounds are independent.

    **The density m** is the Gaussian kernel density estimate of all N landing points,
    m(x) = (1/N) Σᵢ K_h(x − x_T,i), K_h the 2-D Gaussian of bandwidth h (`bandwidth`; an
    agent's own kernel counts), computed for the whole population at once in O(N + G log G)
    by linear binning onto a grid of `grid_cells`² nodes over [−`grid_half_width`,
    `grid_half_width`]², FFT smoothing and bilinear interpolation
    (:mod:`populace.envs.plane.density`); outside that window the density is 0. It integrates to 1:
    a probability density, independent of N (the mean field).

    ## Action Space

    `Box(-action_bound, action_bound, (2,), float64)`: the move u. With `strict=False` (the
    default) a finite action outside the box is clipped into it, coordinate by coordinate,
    before anything else (the clipped u is what moves the agent and what the movement cost
    charges); with `strict=True` it is refused with a ValueError naming the agent. NaN or
    infinite actions are always refused.

    ## Observation Space

    `Box(-inf, inf, (2,), float64)`: the agent's own start position x₀ for the round to be
    played (after a step: the start of the next round).

    ## Rewards

    As above, per agent, every round. `info` of a step holds the round's `starts`, `moves`
    (clipped), `landings` and the `density` on the grid.

    ## Starting State

    Start positions i.i.d. N(`start_mean`, `start_std`²·I), from the core's generator.

    ## Episode End

    Termination after `max_cycles` rounds (one by default), never truncation: the episode is a
    fixed number of independent plays of a one-shot game, and nothing follows the last play,
    so there is no state to bootstrap a value from (the semantics Gymnasium expects of a game
    that ends: `terminated=True`, `truncated=False`; a time limit would be a truncation).

    ## Metrics

    `exploitability` of the learners' policy (or of the window's play) on the grid game,
    `density_distance` (L1) of the landing density from the grid equilibrium's, `mean_reward`,
    `spread`, `mean_x`, `mean_y` (:class:`populace.envs.plane.spatial_metrics.SpatialMetrics`).

    ## Reference equilibrium

    :meth:`reference_equilibrium`: the mean-field equilibrium of the game discretized on the
    density grid (aims at the nodes, starts at Gauss–Hermite points), by fictitious play to an
    exploitability below 1e-4 (:mod:`populace.envs.plane.spatial_equilibrium`; computed once per
    set of game constants and cached). :meth:`exploitability` scores any grid policy;
    :meth:`finite_population_gap` is that of the equilibrium played by N agents (`populace
    finite-n spatial_congestion_v0`). The faces' default population policy plays it: an agent
    takes the quadrature start nearest to its own, draws an aim y from the equilibrium's mixed
    aims there and moves u = y − x₀ (clipped to the box).

    ## Arguments

    | Parameter         | Type      | Default    | Description                                   |
    |-------------------|-----------|------------|-----------------------------------------------|
    | `n_agents`        | int       | 1000       | population size (≥ 1)                         |
    | `alpha`           | float     | 1.0        | crowd aversion α > 0 (MJM: 1, 2, 3)           |
    | `eta`             | float     | 0.5        | movement cost η ≥ 0                           |
    | `sigma`           | float     | 0.05       | landing noise σ ≥ 0                           |
    | `reward`          | str       | "single"   | `"single"` or `"bimodal"` desirability        |
    | `bump_variance`   | float     | 0.25       | Σ = v·I of each bump (v > 0)                  |
    | `start_mean`      | pair      | (1, 0)     | mean of the start positions                   |
    | `start_std`       | float     | 0.1        | their standard deviation per coordinate       |
    | `bandwidth`       | float     | 0.1        | kernel bandwidth h of the density (> 0)       |
    | `grid_cells`      | int       | 121        | density grid nodes per axis (≥ 8)             |
    | `grid_half_width` | float     | 3.0        | the grid covers [−w, w]²                      |
    | `action_bound`    | float     | 3.0        | half-width of the action box (> 0)            |
    | `strict`          | bool      | False      | refuse (True) or clip (False) outside the box |
    | `max_cycles`      | int       | 1          | rounds per episode                            |
    | `render_mode`     | str, None | None       | `"ansi"`, `"rgb_array"` or `"human"`          |

    The constants are ours (SPEC §2.5); MJM used η = 0 in Experiment 1 and σ unstated.

    >>> from populace.envs import spatial_congestion_v0
    >>> core = spatial_congestion_v0.SpatialCongestionCore(n_agents=3)
    >>> starts = core.reset(seed=0)["agent"]
    >>> step = core.step({"agent": -starts})      # everyone heads for the origin
    >>> step.rewards["agent"].shape, step.info["landings"].shape
    ((3,), (3, 2))

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "spatial_congestion_v0", "render_modes": ["rgb_array", "ansi", "human"],
        "render_fps": 4,
    }
    @keywords_from(SpatialCongestionParams)
    def __init__(self, params: SpatialCongestionParams) -> None:
        observation_space = spaces.Box(-np.inf, np.inf, (DIMENSION,), dtype=np.float64)
        super().__init__(params, observation_space, state_size=DIMENSION * params.n_agents)
        self.settings = params
        self.reward = params.reward
        self.centres = CENTRES[self.reward]
        self.bump_variance = params.bump_variance
        self.starts = np.zeros((self.n_agents, DIMENSION))
        self.landings: np.ndarray | None = None
        self.last_density: np.ndarray | None = None

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        self.starts = self.draw_positions()
        self.landings = None
        self.last_density = None
        return {self.agent_group: self.starts.copy()}

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        moves = actions[self.agent_group]
        starts = self.starts
        landings = self.np_random.standard_normal((self.n_agents, DIMENSION))
        landings *= self.sigma
        landings += starts
        landings += moves
        rewards, density = self.payoffs(landings, moves)
        self.landings, self.last_density = landings, density
        self.starts = self.draw_positions()
        return Step(observations={self.agent_group: self.starts.copy()},
                    rewards={self.agent_group: rewards},
                    terminated=self.cycle + 1 >= self.max_cycles, truncated=False,
                    info={"starts": starts, "moves": moves, "landings": landings,
                          "density": density})

    def payoffs(self, landings: np.ndarray, moves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every agent's reward for these landing points and moves, and the density grid."""
        density = self.density.on_grid(landings)
        rewards = congested(desirability(landings, self.centres, self.bump_variance),
                            self.density.at(density, landings), self.alpha)
        if self.eta:
            rewards -= (0.5 * self.eta) * np.einsum("ij,ij->i", moves, moves)
        return rewards, density

    # ----------------------------------------------------------------- equilibria
    def grid_game(self) -> GridGame:
        """The game discretized on the density grid
        (:mod:`populace.envs.plane.spatial_equilibrium`)."""
        return GridGame.of(self)

    def reference_equilibrium(self) -> GridEquilibrium:
        """The grid mean-field equilibrium (fictitious play; cached per game constants)."""
        return _equilibrium(self.settings.equilibrium_key())

    def exploitability(self, policy: ArrayLike) -> float:
        """Of a grid policy (``(S, G)``, rows over the nodes) on the grid game."""
        return self.reference_equilibrium().game.exploitability(policy)

    def finite_population_gap(self, n_agents: int) -> float:
        """Exploitability of the grid equilibrium played by ``n_agents`` agents (Monte Carlo
        over 32 populations, seeded:
        :func:`populace.envs.plane.spatial_equilibrium.finite_n_gap`)."""
        return finite_n_gap(self.reference_equilibrium(), n_agents)

    # ----------------------------------------------------------------- declared hooks
    def default_policy(self, group: str) -> PolicySpec:
        """The grid equilibrium (see the class doc), solved at its first use."""
        self.group(group)
        bound = self.action_bound

        def play_equilibrium(observations: Any, rng: np.random.Generator) -> np.ndarray:
            equilibrium = self.reference_equilibrium()
            starts = np.asarray(observations, dtype=np.float64)
            nodes = equilibrium.game.grid.nodes
            which = nearest_start(equilibrium.game.starts, starts)
            draws = rng.random(len(starts))
            aims = np.empty((len(starts), DIMENSION))
            for s, row in enumerate(equilibrium.policy):
                chosen = which == s
                if chosen.any():
                    cumulative = np.cumsum(row)
                    index = np.searchsorted(cumulative, draws[chosen] * cumulative[-1],
                                            side="right")
                    aims[chosen] = nodes[np.minimum(index, len(row) - 1)]
            return np.clip(aims - starts, -bound, bound)

        return play_equilibrium

    def own_state_size(self, group: str) -> int:
        """The agent's own part of an observation: all of it, its position (the population
        reaches an agent only through its rewards)."""
        return DIMENSION

    def window_metrics(self) -> SpatialMetrics:
        return SpatialMetrics(self)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """Every agent's start position for the next round, flattened: ``[x₀, y₀, x₁, ...]``."""
        return self.starts.ravel().copy()

    def _picture_points(self) -> tuple[np.ndarray, np.ndarray, str]:
        if self.landings is None or self.last_density is None:
            return self.starts, self.density.on_grid(self.starts), "starts"
        return self.landings, self.last_density, "landings"

    def render_ansi(self) -> str:
        points, density, what = self._picture_points()
        return density_text(self.grid, density, points, self.centres,
                            f"{self.metadata['name']}  round {self.cycle}  n={self.n_agents}  "
                            f"alpha={self.alpha:g}  ({what} over their density)")

    def render_rgb(self) -> np.ndarray:
        points, density, what = self._picture_points()
        return density_image(self.grid, density, points, self.centres,
                             f"ROUND {self.cycle}  N={self.n_agents}")

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"starts": self.starts.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        self.starts = self.load_positions(state, "starts")
        self.landings = None
        self.last_density = None


@lru_cache(maxsize=16)
def _equilibrium(key: SpatialCongestionParams) -> GridEquilibrium:
    """The grid equilibrium of the games whose parameters have this key, solved once."""
    return solve(GridGame.of(SpatialCongestionCore(**vars(key))))


raw_env, parallel_env, env, focal_env, vector_env = faces(SpatialCongestionCore)
