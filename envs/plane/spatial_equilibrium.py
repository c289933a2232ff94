"""The mean-field equilibrium of ``spatial_congestion_v0`` on a grid, by fictitious play.

**The grid game.** In the mean-field limit an agent starting at x₀ that aims at y = x₀ + u
lands at y + σε and earns ``R(y) − ½η|y − x₀|²`` with ``R = Φ_σ ⊛ P``, ``P(z) = b(z) / (1 +
m(z))^α`` (b the desirability, Φ_σ the landing noise's density) and ``m = K_h ⊛ (law of the
landing points)``. Discretized (ours):

* **aims** y are the nodes of a :class:`~populace.envs.plane.density.Grid` (by default the game's
  own density grid);
* **starts** are the points of a tensor Gauss–Hermite rule for N(``start_mean``,
  ``start_std``²·I) (``start_points``² points, weights w_s; one point when ``start_std`` is 0);
* a **policy** is a row-stochastic matrix π[s, y] (each start's mixed aim over the nodes);
* the landing law's aims ν = Σ_s w_s π[s] are node masses, so m = K_{√(h²+σ²)} ⊛ ν (the
  Gaussians compose) and R = Φ_σ ⊛ P are two FFT smoothings (:mod:`populace.envs.plane.density`).

**Exploitability** of a policy π: Σ_s w_s (max_y r(s, y) − Σ_y π[s, y]·r(s, y)), the payoffs
r taken under the density that π itself induces: what a single agent gains on average by
best-responding to the population playing π. Zero exactly at a mean-field equilibrium.

**The solver: fictitious play** (the game is a congestion game, monotone in m: crowding
lowers every payoff, so fictitious play converges to its equilibrium): π̄ is the average of
the best responses so far, the first to an empty plane, each next one to the density π̄
induces; it stops when the exploitability of π̄ falls below ``tolerance`` or after
``iterations``. Each iteration is O(S·G + G log G) (O(G log G) when η = 0: every start then
has the same best response).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.plane.density import DensityEstimator, GaussianSmoother, Grid
from populace.envs.plane.rewards import congested, desirability

if TYPE_CHECKING:
    from populace.envs.plane.spatial_congestion import SpatialCongestionCore


@dataclass(frozen=True)
class GridGame:
    """The discretized spatial congestion game (module doc)."""

    grid: Grid
    centres: tuple[tuple[float, float], ...]
    bump_variance: float
    alpha: float
    eta: float
    sigma: float
    bandwidth: float
    starts: np.ndarray = field(repr=False)  # (S, 2)
    weights: np.ndarray = field(repr=False)  # (S,), sums to 1

    @classmethod
    def of(cls, core: SpatialCongestionCore, *, grid: Grid | None = None,
           start_points: int = 5) -> GridGame:
        """The grid game of a ``SpatialCongestionCore`` (on its density grid by default)."""
        starts, weights = gauss_hermite_starts(core.start_mean, core.start_std, start_points)
        return cls(grid=grid or core.grid, centres=core.centres,
                   bump_variance=core.bump_variance, alpha=core.alpha, eta=core.eta,
                   sigma=core.sigma, bandwidth=core.density.bandwidth, starts=starts,
                   weights=weights)

    @cached_property
    def bumps(self) -> np.ndarray:
        """The desirability b at the nodes, ``(cells, cells)``."""
        n = self.grid.cells
        return desirability(self.grid.nodes, self.centres, self.bump_variance).reshape(n, n)

    @cached_property
    def spread(self) -> GaussianSmoother:
        """Node masses of the aims → density m of the landing points (K_{√(h²+σ²)})."""
        return GaussianSmoother(self.grid, float(np.hypot(self.bandwidth, self.sigma)))

    @cached_property
    def noise(self) -> GaussianSmoother | None:
        """P → R = Φ_σ ⊛ P (a normalized blur); None without noise."""
        return GaussianSmoother(self.grid, self.sigma, normalize=True) if self.sigma else None

    @cached_property
    def costs(self) -> np.ndarray:
        """½η|y − x_s|², ``(S, G)``."""
        offsets = self.grid.nodes[None, :, :] - self.starts[:, None, :]
        return cast(np.ndarray, 0.5 * self.eta * np.einsum("sgk,sgk->sg", offsets, offsets))

    @property
    def size(self) -> tuple[int, int]:
        return len(self.starts), self.grid.cells**2

    # ------------------------------------------------------------- payoffs
    def aims(self, policy: np.ndarray) -> np.ndarray:
        """ν = Σ_s w_s π[s], as node masses ``(cells, cells)``."""
        n = self.grid.cells
        return cast(np.ndarray, (self.weights @ policy).reshape(n, n))

    def density(self, policy: np.ndarray) -> np.ndarray:
        """m on the nodes, for a population playing ``policy``."""
        return self.spread(self.aims(policy))

    def value_of_aims(self, density: np.ndarray) -> np.ndarray:
        """R(y) = E[P(y + σε)] at every node (flat, ``(G,)``) under ``density``."""
        payoff = congested(self.bumps.copy(), np.maximum(density, 0.0), self.alpha)
        if self.noise is not None:
            payoff = self.noise(payoff)
        return payoff.ravel()

    def payoffs(self, policy: np.ndarray) -> np.ndarray:
        """r(s, y) = R(y) − ½η|y − x_s|² under the density ``policy`` induces, ``(S, G)``."""
        return cast(np.ndarray, self.value_of_aims(self.density(policy))[None, :] - self.costs)

    def exploitability(self, policy: ArrayLike) -> float:
        """Σ_s w_s (max_y r − Σ_y π r) under π's own density (module doc)."""
        policy = check_policy(self, policy)
        return gain(self.payoffs(policy), policy, self.weights)

    def best_response(self, payoffs: np.ndarray) -> np.ndarray:
        """A pure best response per start (ties: the first node), as a 0/1 matrix."""
        response = np.zeros(self.size)
        response[np.arange(len(payoffs)), payoffs.argmax(axis=1)] = 1.0
        return response

    # ------------------------------------------------------------- policies
    def policy_of_aims(self, aims: np.ndarray) -> np.ndarray:
        """The pure policy aiming at ``aims[s]`` (points, ``(S, 2)``) from each start, each
        aim split over its cell's nodes by linear binning (an aim outside the grid: moved to
        the grid's edge)."""
        policy = np.zeros(self.size)
        add_aims(self.grid, policy, np.arange(len(aims)), aims)
        return policy

    def policy_of_play(self, starts: np.ndarray, aims: np.ndarray) -> np.ndarray:
        """The empirical policy of a population: each agent counts for the start nearest to
        its own, its aim split over nodes by linear binning; a start no agent is nearest to
        plays the population's overall aims."""
        policy = np.zeros(self.size)
        add_aims(self.grid, policy, nearest_start(self.starts, starts), aims)
        totals = policy.sum(axis=1, keepdims=True)
        empty = totals[:, 0] == 0
        if empty.any():
            policy[empty] = policy.sum(axis=0) / max(float(totals.sum()), 1.0)
            totals[empty] = 1.0
        return cast(np.ndarray, policy / totals)


def add_aims(grid: Grid, policy: np.ndarray, rows: np.ndarray, aims: np.ndarray) -> None:
    """Add each aim's linear-binning shares over the nodes to ``policy[rows[i]]``."""
    n = grid.cells
    index, fx, fy, _ = grid.corners(np.clip(aims, grid.low, grid.high))
    for shift, share in ((0, (1 - fx) * (1 - fy)), (1, (1 - fx) * fy),
                         (n, fx * (1 - fy)), (n + 1, fx * fy)):
        np.add.at(policy, (rows, index + shift), share)


def gain(payoffs: np.ndarray, policy: np.ndarray, weights: np.ndarray) -> float:
    """Σ_s w_s (max_y payoffs[s] − payoffs[s]·policy[s])."""
    best = payoffs.max(axis=1)
    played = np.einsum("sg,sg->s", payoffs, policy)
    return float(weights @ (best - played))


def gauss_hermite_starts(mean: np.ndarray, std: float, points: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Quadrature points and weights of N(mean, std²·I) in the plane (one point if std = 0)."""
    if std == 0 or points == 1:
        return np.asarray(mean, dtype=np.float64)[None, :].copy(), np.ones(1)
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    weights = weights / weights.sum()
    x, y = np.meshgrid(nodes, nodes, indexing="ij")
    starts = np.stack([x.ravel(), y.ravel()], axis=1) * std + np.asarray(mean)
    return starts, np.outer(weights, weights).ravel()


def nearest_start(starts: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The index of the start nearest to each point (O(len(points)·S))."""
    best = np.zeros(len(points), dtype=np.int64)
    best_distance = np.full(len(points), np.inf)
    for s, start in enumerate(starts):
        offset = points - start
        distance = np.einsum("ij,ij->i", offset, offset)
        closer = distance < best_distance
        best[closer] = s
        best_distance[closer] = distance[closer]
    return best


def check_policy(game: GridGame, policy: ArrayLike) -> np.ndarray:
    """``policy`` as an ``(S, G)`` row-stochastic float array, or a ValueError saying why."""
    array = np.asarray(policy, dtype=np.float64)
    if array.shape != game.size:
        raise ValueError(f"a grid policy must have shape {game.size} (starts × nodes), "
                         f"got {array.shape}")
    if not np.isfinite(array).all() or (array < -1e-12).any():
        raise ValueError("a grid policy must be finite and non-negative")
    if np.abs(array.sum(axis=1) - 1.0).max() > 1e-6:
        raise ValueError("every row of a grid policy must sum to 1")
    return array


@dataclass
class GridEquilibrium:
    """What :func:`solve` found: the average policy of fictitious play and its numbers."""

    game: GridGame
    policy: np.ndarray  # (S, G)
    exploitability: float
    iterations: int
    history: list[float] = field(default_factory=list, repr=False)

    @cached_property
    def density(self) -> np.ndarray:
        """m* on the nodes (the density of the landing points, bandwidth h included)."""
        return self.game.density(self.policy)

    @cached_property
    def aims(self) -> np.ndarray:
        """ν*: the equilibrium's aims as node masses."""
        return self.game.aims(self.policy)

    def spread(self) -> float:
        """E|x_T − E x_T|² of the landing points (aims' variance + 2σ²)."""
        nodes = self.game.grid.nodes
        mass = self.aims.ravel()
        mean = mass @ nodes
        offsets = nodes - mean
        return float(mass @ np.einsum("gk,gk->g", offsets, offsets)) + 2 * self.game.sigma**2


def solve(game: GridGame, *, iterations: int = 2000, tolerance: float = 1e-4,
          check_every: int = 10) -> GridEquilibrium:
    """Fictitious play on ``game`` (module doc). The average policy is kept as counts of
    best responses (O(S) to update) and its aims ν incrementally, so an iteration costs one
    density (FFT), one blur and the S×G argmax; the exploitability is checked every
    ``check_every`` iterations."""
    starts, nodes = game.size
    rows = np.arange(starts)
    counts = np.zeros(game.size)
    aims = np.zeros(nodes)
    choice = (game.value_of_aims(np.zeros((game.grid.cells,) * 2))[None, :]
              - game.costs).argmax(axis=1)
    history: list[float] = []
    exploitability = np.inf
    k = 0
    for k in range(1, iterations + 1):
        np.add.at(counts, (rows, choice), 1.0)
        np.add.at(aims, choice, game.weights)
        density = game.spread(aims.reshape(game.grid.cells, -1) / k)
        values = game.value_of_aims(density)
        if game.eta == 0:
            choice = np.full(starts, values.argmax())
            payoffs = None
        else:
            payoffs = values[None, :] - game.costs
            choice = payoffs.argmax(axis=1)
        if k % check_every == 0 or k == iterations:
            full = values[None, :] - game.costs if payoffs is None else payoffs
            exploitability = gain(full, counts / k, game.weights)
            history.append(exploitability)
            if exploitability <= tolerance:
                break
    return GridEquilibrium(game, counts / k, float(exploitability), k, history)


def finite_n_gap(equilibrium: GridEquilibrium, n_agents: int, *, draws: int = 32,
                 seed: int = 0) -> float:
    """The exploitability of the grid equilibrium when exactly ``n_agents`` agents play it.

    ``n_agents − 1`` agents draw a start s (weights w_s) and an aim y ~ π*[s], land at
    y + σε; their density is estimated as the game does (kernel h, linear binning on the
    grid, divided by N), plus the deviator's own kernel K_h(0)/N where it lands. The
    deviator's expected payoff of each aim is averaged over ``draws`` such populations (a
    fixed ``seed``: the same numbers every call); the gap is what its best response gains
    over playing π*, weighted over starts. As N → ∞ it tends to the equilibrium's grid
    exploitability (plus the O((d/h)²) difference of the binned estimator).
    """
    if isinstance(n_agents, bool) or not isinstance(n_agents, int | np.integer):
        raise TypeError(f"n_agents must be an int, got {type(n_agents).__name__} {n_agents!r}")
    if n_agents < 2:
        raise ValueError(f"n_agents must be >= 2 (a deviator and the others), got {n_agents}")
    game = equilibrium.game
    rng = np.random.default_rng(seed)
    estimator = DensityEstimator(game.grid, game.bandwidth)
    joint = (game.weights[:, None] * equilibrium.policy).ravel()
    cumulative = np.cumsum(joint)
    nodes = game.grid.nodes
    own = 1.0 / (2.0 * np.pi * game.bandwidth**2 * n_agents)
    mean_payoff = np.zeros((game.grid.cells,) * 2)
    for _ in range(draws):
        picks = np.searchsorted(cumulative, rng.random(n_agents - 1) * cumulative[-1],
                                side="right")
        picks = np.minimum(picks, len(joint) - 1) % game.size[1]
        landings = nodes[picks] + game.sigma * rng.standard_normal((n_agents - 1, 2))
        density = estimator.on_grid(landings, total=n_agents) + own
        mean_payoff += congested(game.bumps.copy(), density, game.alpha)
    mean_payoff /= draws
    values = game.noise(mean_payoff) if game.noise is not None else mean_payoff
    payoffs = values.ravel()[None, :] - game.costs
    return gain(payoffs, equilibrium.policy, game.weights)
