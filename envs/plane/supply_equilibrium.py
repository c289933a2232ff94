"""The mean-field equilibrium of ``supply_demand_v0`` on a grid, by fictitious play.

**The grid game** (ours). Positions live on the nodes of a
:class:`~populace.envs.plane.density.Grid`; a move u is a lattice offset (a multiple of the node
spacing per coordinate, within the action box), the aim x + u must stay on the grid, and the
landing noise σε blurs the population's aims by a normalized Gaussian (FFT). Agents do not
observe the path's random offset and speed, and their positions do not depend on them, so
only the **expected demand** matters: D_t(x) = E[scale·bump(x − c_t)], averaged over a product
rule for the offset (Gauss–Hermite, 3 × 3 points) and the speed (Gauss–Legendre, 3 points).
With μ_t the population's distribution at step t (node masses) and m_t = K_h ⊛ μ_t its
density, an agent at x earns a_t(x) − η|u|², a_t = D_t / (1 + m_t)^α.

**Best response**: backward dynamic programming, V_T = 0,
V_t(x) = max_u [a_t(x) − η|u|² + (Φ_σ ⊛ V_{t+1})(x + u)], O(T·G·U) for U offsets.

**Fictitious play** averages the flows: μ̄ is the running mean of the best responses' flows
(the first against an empty plane), each best response computed against μ̄. The population
that plays the average is the mixture of the best responses (drawn once per agent), whose
payoff against μ̄ is Σ_t ⟨μ̄_t, a_t⟩ − η·c̄ (c̄ the mean of their expected movement costs):
the rewards are separable, so no policy table needs keeping.

**Exploitability** of a flow: Σ_x μ_0(x)·V_0(x) (the best response's value) minus that
payoff, per agent over the whole episode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.plane.density import DensityEstimator, GaussianSmoother, Grid
from populace.envs.plane.rewards import bump, congested

if TYPE_CHECKING:
    from populace.envs.plane.supply_demand import SupplyDemandCore


@dataclass(frozen=True)
class SupplyGridGame:
    """The discretized supply-and-demand game (module doc)."""

    grid: Grid
    horizon: int
    alpha: float
    eta: float
    sigma: float
    bandwidth: float
    reach: int  # moves are offsets of at most this many nodes per coordinate
    demand: np.ndarray = field(repr=False)  # (T, cells, cells): expected demand D_t
    start: np.ndarray = field(repr=False)  # (cells, cells): μ_0 as node masses

    @classmethod
    def of(cls, core: SupplyDemandCore, *, cells: int = 41,
           half_width: float = 2.0) -> SupplyGridGame:
        """The grid game of a ``SupplyDemandCore`` on ``cells``² nodes over
        [−half_width, half_width]²."""
        grid = Grid(-half_width, half_width, cells)
        reach = max(int(np.floor(core.action_bound / grid.spacing + 1e-9)), 0)
        return cls(grid=grid, horizon=core.max_cycles, alpha=core.alpha, eta=core.eta,
                   sigma=core.sigma, bandwidth=core.density.bandwidth, reach=reach,
                   demand=expected_demand(core, grid), start=start_masses(core, grid))

    @cached_property
    def offsets(self) -> np.ndarray:
        """The moves as node offsets ``(U, 2)``, ints."""
        span = np.arange(-self.reach, self.reach + 1)
        dx, dy = np.meshgrid(span, span, indexing="ij")
        return np.stack([dx.ravel(), dy.ravel()], axis=1)

    @cached_property
    def move_costs(self) -> np.ndarray:
        """η|u|² of each offset, ``(U,)``."""
        return cast(np.ndarray, self.eta * self.grid.spacing**2 * (self.offsets**2).sum(axis=1))

    @cached_property
    def spread(self) -> GaussianSmoother:
        return GaussianSmoother(self.grid, self.bandwidth)

    @cached_property
    def noise(self) -> GaussianSmoother | None:
        return GaussianSmoother(self.grid, self.sigma, normalize=True) if self.sigma else None

    def blur(self, values: np.ndarray) -> np.ndarray:
        return values if self.noise is None else self.noise(values)

    def payoffs(self, flow: np.ndarray) -> np.ndarray:
        """a_t = D_t / (1 + m_t)^α for every step, ``(T, cells, cells)``."""
        return np.stack([congested(self.demand[t].copy(),
                                   np.maximum(self.spread(flow[t]), 0.0), self.alpha)
                         for t in range(self.horizon)])

    def best_response(self, payoffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(choice, V_0)``: the optimal offset index per step and node ``(T, cells,
        cells)`` and the value at the start (backward induction)."""
        n, reach = self.grid.cells, self.reach
        choice = np.zeros((self.horizon, n, n), dtype=np.int64)
        value = np.zeros((n, n))
        padded = np.full((n + 2 * reach, n + 2 * reach), -np.inf)
        for t in range(self.horizon - 1, -1, -1):
            padded[reach:reach + n, reach:reach + n] = self.blur(value)
            best = np.full((n, n), -np.inf)
            for index, (dx, dy) in enumerate(self.offsets):
                candidate = padded[reach + dx:reach + dx + n, reach + dy:reach + dy + n] \
                    - self.move_costs[index]
                better = candidate > best
                best[better] = candidate[better]
                choice[t][better] = index
            value = payoffs[t] + best
        return choice, value

    def flow(self, choice: np.ndarray) -> tuple[np.ndarray, float]:
        """The population's distributions ``(T, cells, cells)`` when everyone plays
        ``choice``, and their expected movement cost per agent."""
        n = self.grid.cells
        rows, columns = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        flow = np.empty((self.horizon, n, n))
        flow[0] = self.start
        cost = 0.0
        for t in range(self.horizon):
            moves = self.offsets[choice[t]]
            cost += float((flow[t] * self.move_costs[choice[t]]).sum())
            if t + 1 == self.horizon:
                break
            aims = (rows + moves[..., 0]) * n + columns + moves[..., 1]
            pushed = np.bincount(aims.ravel(), weights=flow[t].ravel(), minlength=n * n)
            flow[t + 1] = self.blur(pushed.reshape(n, n))
        return flow, cost

    def exploitability(self, flow: np.ndarray, cost: float) -> float:
        """Best response's value minus the payoff Σ_t ⟨μ_t, a_t⟩ − cost of the population
        with distributions ``flow`` and expected movement cost ``cost``."""
        payoffs = self.payoffs(flow)
        _, value = self.best_response(payoffs)
        return float((self.start * value).sum() - ((flow * payoffs).sum() - cost))

    def policy_exploitability(self, choice: np.ndarray) -> float:
        """Of the pure grid policy ``choice`` (offset index per step and node)."""
        return self.exploitability(*self.flow(choice))

    def choice_of(self, policy: Callable[..., ArrayLike]) -> np.ndarray:
        """A population policy ``policy(observations, rng)`` (or ``policy(observations)``)
        read at every node and step, its move rounded to the nearest offset."""
        from populace.envs.plane.spatial_metrics import call_policy

        nodes = self.grid.nodes
        span = self.reach
        choice = np.empty((self.horizon, self.grid.cells, self.grid.cells), dtype=np.int64)
        for t in range(self.horizon):
            observations = np.column_stack([nodes, np.full(len(nodes), t / self.horizon)])
            moves = np.asarray(call_policy(policy, observations), dtype=np.float64)
            steps = np.clip(np.rint(moves.reshape(-1, 2) / self.grid.spacing), -span, span)
            index = (steps[:, 0] + span) * (2 * span + 1) + steps[:, 1] + span
            choice[t] = index.astype(np.int64).reshape(self.grid.cells, -1)
        return self._inside(choice)

    def _inside(self, choice: np.ndarray) -> np.ndarray:
        """``choice`` with every aim off the grid replaced by staying put."""
        n = self.grid.cells
        rows, columns = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        moves = self.offsets[choice]
        x, y = rows + moves[..., 0], columns + moves[..., 1]
        off = (x < 0) | (x >= n) | (y < 0) | (y >= n)
        stay = len(self.offsets) // 2
        return np.where(off, stay, choice)


def expected_demand(core: SupplyDemandCore, grid: Grid) -> np.ndarray:
    """E[bump(x − c_t)] at the nodes for t < T, over the path's random offset and speed."""
    hermite, hermite_weights = np.polynomial.hermite_e.hermegauss(3)
    hermite_weights = hermite_weights / hermite_weights.sum()
    legendre, legendre_weights = np.polynomial.legendre.leggauss(3)
    legendre_weights = legendre_weights / legendre_weights.sum()
    cells = grid.cells
    total = np.zeros((core.max_cycles, cells * cells))
    for i, wi in zip(hermite, hermite_weights, strict=True):
        for j, wj in zip(hermite, hermite_weights, strict=True):
            offset = core.offset_std * np.array([i, j])
            for s, ws in zip(legendre, legendre_weights, strict=True):
                speed = 1.0 + core.speed_spread * s
                for t in range(core.max_cycles):
                    centre = core.centre(t, offset, speed)
                    total[t] += wi * wj * ws * bump(grid.nodes, (centre[0], centre[1]),
                                                    core.demand_variance)
    total *= core.demand_scale
    return total.reshape(core.max_cycles, cells, cells)


def start_masses(core: SupplyDemandCore, grid: Grid) -> np.ndarray:
    """The start distribution N(start_mean, start_std²·I) as node masses (its density at the
    nodes, normalized; all mass on the nearest node when start_std is below the spacing/4)."""
    nodes = grid.nodes
    if core.start_std < grid.spacing / 4:
        masses = np.zeros(len(nodes))
        masses[np.argmin(((nodes - core.start_mean) ** 2).sum(axis=1))] = 1.0
    else:
        masses = np.exp(-0.5 * ((nodes - core.start_mean) ** 2).sum(axis=1) / core.start_std**2)
        masses /= masses.sum()
    return masses.reshape(grid.cells, grid.cells)


@dataclass
class SupplyEquilibrium:
    """What :func:`solve_supply` found: the average flow, its cost and numbers."""

    game: SupplyGridGame
    flow: np.ndarray  # (T, cells, cells)
    cost: float
    exploitability: float
    iterations: int
    history: list[float] = field(default_factory=list, repr=False)
    # (K, T, cells, cells): the best responses the flow averages (the mixture agents draw)
    choices: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 0), np.int16),
                                repr=False)

    def mean_path(self) -> np.ndarray:
        """The population's mean position at every step, ``(T, 2)``."""
        nodes = self.game.grid.nodes
        return np.stack([step.ravel() @ nodes for step in self.flow])


def solve_supply(game: SupplyGridGame, *, iterations: int = 300, tolerance: float = 1e-3,
                 check_every: int = 5) -> SupplyEquilibrium:
    """Fictitious play on the flows (module doc), until the exploitability is below
    ``tolerance`` (checked every ``check_every`` iterations) or after ``iterations``."""
    empty = np.zeros((game.horizon, game.grid.cells, game.grid.cells))
    choice, _ = game.best_response(game.payoffs(empty))
    flow, cost = game.flow(choice)
    mixture = [choice.astype(np.int16)]
    history: list[float] = []
    exploitability = np.inf
    k = 1
    for k in range(1, iterations + 1):
        payoffs = game.payoffs(flow)
        choice, value = game.best_response(payoffs)
        if k % check_every == 0 or k == iterations:
            exploitability = float((game.start * value).sum() - ((flow * payoffs).sum() - cost))
            history.append(exploitability)
            if exploitability <= tolerance:
                break
        response, response_cost = game.flow(choice)
        flow += (response - flow) / (k + 1)
        cost += (response_cost - cost) / (k + 1)
        mixture.append(choice.astype(np.int16))
    return SupplyEquilibrium(game, flow, cost, float(exploitability), k, history,
                             np.stack(mixture))


def supply_finite_n_gap(equilibrium: SupplyEquilibrium, n_agents: int, *, draws: int = 16,
                        seed: int = 0) -> float:
    """The exploitability of the grid equilibrium when exactly ``n_agents`` agents play it.

    ``n_agents − 1`` agents each draw one of the best responses the equilibrium mixes (and a
    start node from μ_0) and follow it on the lattice for the whole episode, the landing noise
    rounded to the nearest node; at every step their density is estimated as the game does
    (kernel h on the grid, divided by N) plus the deviator's own kernel K_h(0)/N. The
    deviator's payoff field, averaged over ``draws`` such populations (a fixed ``seed``),
    gives its best response by backward induction; the gap is what that gains over the
    equilibrium mixture in the same field, per agent and episode. As N → ∞ it tends to the
    equilibrium's own exploitability.
    """
    if isinstance(n_agents, bool) or not isinstance(n_agents, int | np.integer):
        raise TypeError(f"n_agents must be an int, got {type(n_agents).__name__} {n_agents!r}")
    if n_agents < 2:
        raise ValueError(f"n_agents must be >= 2 (a deviator and the others), got {n_agents}")
    game = equilibrium.game
    n, spacing = game.grid.cells, game.grid.spacing
    rng = np.random.default_rng(seed)
    estimator = DensityEstimator(game.grid, game.bandwidth)
    own = 1.0 / (2.0 * np.pi * game.bandwidth**2 * n_agents)
    cumulative = np.cumsum(game.start.ravel())
    others = n_agents - 1
    field_sum = np.zeros((game.horizon, n, n))
    for _ in range(draws):
        which = rng.integers(len(equilibrium.choices), size=others)
        start = np.minimum(np.searchsorted(cumulative, rng.random(others) * cumulative[-1],
                                           side="right"), n * n - 1)
        ix, iy = start // n, start % n
        for t in range(game.horizon):
            positions = np.column_stack([game.grid.axis[ix], game.grid.axis[iy]])
            density = estimator.on_grid(positions, total=n_agents) + own
            field_sum[t] += congested(game.demand[t].copy(), density, game.alpha)
            if t + 1 < game.horizon:
                moves = game.offsets[equilibrium.choices[which, t, ix, iy]]
                jitter = np.rint(game.sigma / spacing * rng.standard_normal((others, 2)))
                ix = np.clip(ix + moves[:, 0] + jitter[:, 0], 0, n - 1).astype(np.int64)
                iy = np.clip(iy + moves[:, 1] + jitter[:, 1], 0, n - 1).astype(np.int64)
    payoffs = field_sum / draws
    _, value = game.best_response(payoffs)
    return float((game.start * value).sum()
                 - ((equilibrium.flow * payoffs).sum() - equilibrium.cost))
