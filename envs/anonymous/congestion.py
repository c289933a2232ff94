"""Congestion game with cost sharing (Kash, Friedman & Halpern, AAMAS 2009, §4; Greenwald et
al. 2001).

| Import             | `from populace.envs import congestion_v0`            |
|--------------------|------------------------------------------------------|
| Actions            | Discrete(20)                                         |
| Parallel API       | Yes                                                  |
| Manual Control     | No                                                   |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`    |
| Number of agents   | `n_agents` (default 100)                             |
| Action shape       | ()                                                   |
| Action values      | 0 ... 19 (the demand q)                              |
| Observation shape  | (1,) with `observe="none"`, (20,) otherwise          |
| Observation values | constant 1, or demand frequencies in [0, 1]          |
| Gymnasium ids      | `populace/Congestion-v0` (focal and vector views)    |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.anonymous.core import AnonymousGameCore, check_anonymous_params
from populace.envs.anonymous.equilibrium import (
    best_reply_path,
    ordered_distance,
    symmetric_equilibria,
)
from populace.envs.faces import faces
from populace.envs.params import keywords_from, settle
from populace.envs.validation import check_choice, check_number

N_ACTIONS = 20
DEFAULT_ALPHA = 24.0
MECHANISMS = ("acp", "serial")
PAYOFF_MODES = ("population",)  # everyone shares one cost; there is no pairwise matching

Cost = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------- the mechanisms
def quadratic_cost(n_agents: float | np.ndarray) -> Cost:
    """The congestion cost C(s) = s²/N of total demand s (N may broadcast against s)."""
    return lambda s: s * s / n_agents


def _demands(demands: ArrayLike) -> np.ndarray:
    """``demands`` as a non-empty 1-D array of finite, non-negative numbers (dtype kept)."""
    q = np.asarray(demands)
    if q.ndim != 1 or q.size == 0 or q.dtype.kind not in "iuf":
        raise ValueError(f"demands must be a non-empty 1-D numeric array, got {q.dtype} {q.shape}")
    bad = (q < 0) | ~np.isfinite(q) if q.dtype.kind == "f" else q < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"demands[{i}] is {q[i]}; demands must be finite and >= 0")
    return q


def acp_cost_shares(demands: ArrayLike, cost: Cost | None = None) -> np.ndarray:
    """Average cost pricing: x_i = q_i·C(s)/s, and 0 for everyone when s = 0."""
    q = _demands(demands).astype(np.float64)
    cost = cost or quadratic_cost(len(q))
    s = q.sum()
    return q * (cost(s) / s) if s > 0 else np.zeros_like(q)


def serial_cost_shares(demands: ArrayLike, cost: Cost | None = None) -> np.ndarray:
    """Moulin & Shenker's serial cost shares of every agent, by one sort and two cumsums.

    With demands sorted q_(1) ≤ … ≤ q_(N), s^k = q_(1) + … + q_(k−1) + (N−k+1)·q_(k) is the total
    demand if everyone asked for at most q_(k), and x_(k) = Σ_{l≤k} [C(s^l) − C(s^{l−1})]/(N−l+1)
    (s^0 = 0): each increment of cost is split equally among the agents still demanding more.
    An agent's share depends only on its own demand and the smaller ones. O(N log N). ``cost``
    must satisfy C(0) = 0; the default is C(s) = s²/N.
    """
    q = _demands(demands)
    n = len(q)
    cost = cost or quadratic_cost(n)
    order = np.argsort(q)  # integers sort faster as integers; ties end up with equal shares
    ordered = q[order].astype(np.float64)
    remaining = np.arange(n, 0, -1, dtype=np.float64)  # N − k + 1
    s = np.cumsum(ordered) - ordered + remaining * ordered
    c = cost(s)
    increments = np.diff(c, prepend=0.0) / remaining
    shares = np.empty(n)
    shares[order] = np.cumsum(increments)
    return shares


def share_table(counts: ArrayLike, mechanism: str, cost: Cost | None = None) -> np.ndarray:
    """Cost share of each demand value 0..A−1 given the demand histogram ``counts`` (..., A).

    Equal to :func:`acp_cost_shares` / :func:`serial_cost_shares` at every demand someone
    played; other entries are just the formula evaluated there. O(A) per histogram: the serial
    share is a sum over unit intervals (a−1, a] of the cost increment there, split among the
    agents demanding at least a. Under the default cost C(s) = s²/N the serial shares are
    instead the pairwise sums of :class:`ShareRow`, each rounded once.
    """
    c = np.asarray(counts, dtype=np.float64)
    a = np.arange(c.shape[-1], dtype=np.float64)
    if mechanism == "serial" and cost is None:
        n = c.sum(axis=-1, keepdims=True)
        shares: np.ndarray = np.divide(c @ serial_pairwise(c.shape[-1]).T, n,
                                       out=np.zeros(c.shape), where=n > 0)
        return shares
    cost = cost or quadratic_cost(c.sum(axis=-1, keepdims=True))
    if mechanism == "acp":
        s = c @ a
        per_unit = np.divide(cost(s[..., None]), s[..., None], out=np.zeros(c.shape[:-1] + (1,)),
                             where=s[..., None] > 0)
        return a * per_unit
    check_choice("mechanism", mechanism, MECHANISMS)
    at_least = np.cumsum(c[..., ::-1], axis=-1)[..., ::-1]  # agents demanding >= a
    below = np.cumsum(c * a, axis=-1) - c * a  # total demand of agents demanding < a
    increments = np.diff(cost(below + a * at_least), axis=-1)
    steps = np.divide(increments, at_least[..., 1:], out=np.zeros_like(increments),
                      where=at_least[..., 1:] > 0)
    return np.concatenate([np.zeros(c.shape[:-1] + (1,)), np.cumsum(steps, axis=-1)], axis=-1)


def serial_pairwise(n_actions: int) -> np.ndarray:
    """Φ(a, b) = a² − max(a − b, 0)² for demands a, b < ``n_actions``, integers as float64:
    under C(s) = s²/N the serial share of demand a is Σ_b counts[b]·Φ(a, b)/N."""
    a = np.arange(n_actions, dtype=np.float64)
    pairwise: np.ndarray = a[:, None] ** 2 - np.maximum(a[:, None] - a[None, :], 0.0) ** 2
    return pairwise


class ShareRow:
    """:func:`share_table` for one integer histogram under the default cost C(s) = s²/N, the
    same numbers bit for bit in a few array calls — the reward table of a
    :class:`CongestionCore` step.

    With C(s) = s²/N both mechanisms are sums of pairwise terms (:func:`payoff_matrix`): the
    serial share of demand a is Σ_b counts[b]·Φ(a, b)/N with Φ(a, b) = a² − max(a − b, 0)².
    The sum is an integer (one integer matrix-vector product; it stays far below 2**53, so
    its conversion to float64 is exact), and the division rounds once: each share is the
    exact one correctly rounded (Moulin & Shenker's cumulative form,
    :func:`serial_cost_shares`, rounds at every step and agrees with it to a few units in the
    last place). ACP's share is a·C(s)/s.
    """

    def __init__(self, n_actions: int, mechanism: str, n_agents: int) -> None:
        self.mechanism = check_choice("mechanism", mechanism, MECHANISMS)
        self.n = float(n_agents)  # what counts.sum() is, as share_table's float
        self.a = np.arange(n_actions, dtype=np.float64)
        self.pairwise = serial_pairwise(n_actions).astype(np.int64)
        self._totals = np.empty(n_actions, dtype=np.int64)

    def __reduce__(self) -> tuple[type, tuple[int, str, int]]:
        return ShareRow, (len(self.a), self.mechanism, int(self.n))

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """The share of each demand value 0..A−1 (a new array) for 1-D integer ``counts``
        of ``n_agents`` agents."""
        a, n = self.a, self.n
        if self.mechanism == "acp":
            s = float(counts @ a)
            return a * ((s * s / n) / s) if s > 0 else np.zeros_like(a)
        np.matmul(self.pairwise, counts, out=self._totals)
        return np.divide(self._totals, n)


# --------------------------------------------------------------------- expected payoffs
def payoff_matrix(
    mechanism: str, alpha: float = DEFAULT_ALPHA, n_agents: int | None = None
) -> np.ndarray:
    """``P[q, p]``: reward of demand q when every other agent demands p.

    With C(s) = s²/N both mechanisms are sums of pairwise terms, x_i = Σ_j Φ(q_i, q_j)/N over
    all agents j (i included), with Φ(q, p) = q·p for ACP and Φ(q, p) = q² − max(q − p, 0)² for
    serial (Φ(q, q) = q²). So a reward is affine in the others' demand histogram, and
    ``ρ @ P.T`` is the *exact* expected reward of each demand when the N − 1 others are
    distributed as ρ (i.i.d. draws or an exact composition alike). ``n_agents=None`` gives the
    large-N (mean-field) limit, where an agent's own demand no longer moves the price:
    P[q, p] = v(q) − Φ(q, p). Entries are one rounded division each, so ties are exact.
    """
    q = np.arange(N_ACTIONS, dtype=np.float64)[:, None]
    p = q.T
    if mechanism == "acp":
        pairwise = q * p
    else:
        check_choice("mechanism", mechanism, MECHANISMS)
        pairwise = q * q - np.maximum(q - p, 0.0) ** 2
    value = alpha * q - q * q
    if n_agents is None:
        return value - pairwise
    return (n_agents * value - q * q - (n_agents - 1) * pairwise) / n_agents


def symmetric_equilibrium(matrix: np.ndarray) -> np.ndarray:
    """The end point of best-reply dynamics from uniform play on ``ρ ↦ ρ @ matrix.T``.

    If the path cycles (ACP at some small N alternates between two adjacent demands), the
    symmetric mixed equilibrium on the cycle's demands, found by support enumeration and
    checked to leave no profitable deviation to any demand.
    """
    n = matrix.shape[0]
    path = best_reply_path(lambda rho: rho @ matrix.T, np.full(n, 1.0 / n))
    if path.equilibrium is not None:
        return path.equilibrium
    closing = int(np.argmax(matrix[:, path.actions[-1]]))
    cycle = sorted(path.actions[path.actions.index(closing) :])
    for mix in symmetric_equilibria(matrix[np.ix_(cycle, cycle)]):
        rho = np.zeros(n)
        rho[cycle] = mix
        payoffs = matrix @ rho
        if payoffs.max() - rho @ payoffs <= 1e-9:
            return rho
    raise RuntimeError(f"no symmetric equilibrium on the best-reply cycle {cycle}")


# --------------------------------------------------------------------- the game
@dataclass(frozen=True, kw_only=True)
class CongestionParams:
    """The game's keywords and defaults, checked (see :class:`CongestionCore`'s Arguments
    table)."""

    n_agents: int = 100
    mechanism: str = "serial"
    alpha: float = DEFAULT_ALPHA
    payoff: str = "population"
    observe: str = "none"
    max_cycles: int = 1000
    render_mode: str | None = None

    def __post_init__(self) -> None:
        settle(self, mechanism=check_choice("mechanism", self.mechanism, MECHANISMS),
               alpha=check_number("alpha", self.alpha, low=0.0, low_open=True))
        check_anonymous_params(self, PAYOFF_MODES)


class CongestionCore(AnonymousGameCore):
    """## Description

    N agents share a congestible resource (a link, a server). Each demands q ∈ {0, ..., 19}
    units, values them at v(q) = α·q − q² [α = 24], and the total demand s costs
    C(s) = s²/N. A *cost-sharing mechanism* splits C(s) among the agents: with
    `mechanism="acp"` (average cost pricing) everyone pays the average cost per unit,
    x_i = q_i·C(s)/s; with `mechanism="serial"` (Moulin & Shenker 1992) agents pay in order of
    demand, each sharing the cost increments caused by demands up to its own equally with all
    agents demanding at least as much, so no agent pays for the excess of larger demanders.
    Both are budget balanced (Σ x_i = C(s)). Kash, Friedman & Halpern (AAMAS 2009, §4) tested
    stage learners on this game with both mechanisms, taken from Greenwald, Friedman & Shenker
    (2001), where serial cost sharing makes the game dominance solvable and learning converge
    more reliably than under ACP. The population-wide form, C(s) = s²/N and the constants are
    *ours*; `n_agents=2` is the two-agent game. Here iterated strict dominance leaves only
    q = 6 under serial (two rounds, any N). Under ACP it leaves 7 (N ≤ 3), {7, 8} (4 ≤ N ≤ 7),
    8 (N ≥ 8, after up to five rounds), and {7, 8, 9} in the large-N limit: dividing the cost by
    N makes ACP nearly dominance solvable too, unlike Greenwald et al.'s version.

    ## Action Space

    `Discrete(20)`: the demand q.

    ## Observation Space

    As in `contribution_v0`: the constant `[1.0]` in `Box(0, 1, (1,), float32)`
    (`observe="none"`), or last round's demand frequencies, exact (`"population"`) or from k
    others sampled with replacement (`"sample:k"`), in `Box(0, 1, (20,), float32)`; all zeros
    before the first round.

    ## Rewards

    v(q_i) − x_i, computed every round from the whole population's demands
    (`payoff="population"`, the only mode: there is nobody to be matched with). With C(s)
    quadratic, x_i = Σ_j Φ(q_i, q_j)/N (see :func:`payoff_matrix`), so the reward is affine in
    the others' histogram and `expected_payoffs(ρ)` is exact at this N for any ρ of the others.

    ## Reference equilibrium

    Best-reply dynamics on the exact finite-N payoffs, from uniform play (at α = 24). Serial:
    q* = α/4 = 6 for every N, a strict equilibrium. ACP: the real-valued fixed point is
    αN/(3N + 1) → α/3 = 8; on integers q* = 7 for N ≤ 4 (weakly at N = 4, where 8 ties), q* = 8
    for N ≥ 7 (weakly at N = 7), and at N = 5 and 6 no demand is a best reply to itself: the
    path cycles 7 ↔ 8 and the reference is the symmetric mix of 7 and 8 (½·7 + ½·8 at N = 5,
    0.2·7 + 0.8·8 at N = 6). The large-N map gives 8 (ACP) and 6 (serial). Distance:
    Σ_a |F_ρ(a) − F*(a)| (Wasserstein-1), which is Σ_a ρ(a)·|a − q*| for a pure q*; with
    `exploitability(ρ)` the exact gain of a best reply.

    ## Starting State

    No state carries over between rounds except the previous round's demand frequencies.

    ## Episode End

    1. Truncation: after `max_cycles` rounds. The game never terminates.

    ## Arguments

    | Parameter     | Type      | Default        | Description                               |
    |---------------|-----------|----------------|-------------------------------------------|
    | `n_agents`    | int       | 100            | population size N (≥ 2)                   |
    | `mechanism`   | str       | `"serial"`     | `"serial"` or `"acp"`                     |
    | `alpha`       | float     | 24.0           | slope of the value v(q) = α·q − q² (> 0)  |
    | `payoff`      | str       | `"population"` | the only mode, kept for a common signature |
    | `observe`     | str       | `"none"`       | `"none"`, `"population"` or `"sample:k"`  |
    | `max_cycles`  | int       | 1000           | rounds per episode                        |
    | `render_mode` | str, None | None           | `"ansi"`, `"rgb_array"`, `"human"`        |

    Two agents demanding 4 and 8 (s = 12, C = 72; v = 80 and 128):

    >>> from populace.envs import congestion_v0
    >>> env = congestion_v0.parallel_env(n_agents=2, mechanism="serial")
    >>> _ = env.reset(seed=0)
    >>> env.step({"agent_0": 4, "agent_1": 8})[1]
    {'agent_0': 64.0, 'agent_1': 72.0}
    >>> env = congestion_v0.parallel_env(n_agents=2, mechanism="acp")
    >>> _ = env.reset(seed=0)
    >>> env.step({"agent_0": 4, "agent_1": 8})[1]
    {'agent_0': 56.0, 'agent_1': 80.0}

    Reference equilibria:

    >>> [int(congestion_v0.CongestionCore(n_agents=n, mechanism=m).reference_equilibrium()
    ...      .argmax()) for m in ("serial", "acp") for n in (2, 1000)]
    [6, 6, 7, 8]

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "congestion_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4
    }

    @keywords_from(CongestionParams)
    def __init__(self, params: CongestionParams) -> None:
        self.mechanism = params.mechanism
        self.alpha = params.alpha
        super().__init__(params, n_actions=N_ACTIONS)
        self.settings = params
        demand = np.arange(N_ACTIONS, dtype=np.float64)
        self.values = self.alpha * demand - demand**2

    # ----------------------------------------------------------------- the game
    def reward_table(self, counts: np.ndarray) -> np.ndarray:
        """Reward of each demand value given the whole population's demand histogram."""
        if counts.ndim == 1:
            return cast(np.ndarray, self.values - self._share_row(counts))
        return cast(np.ndarray, self.values - share_table(counts, self.mechanism))

    @cached_property
    def _share_row(self) -> ShareRow:
        return ShareRow(self.n_actions, self.mechanism, self.n_agents)

    def cost_shares(self, demands: np.ndarray) -> np.ndarray:
        """Per-agent cost shares of a demand profile (the sort-based reference formulas)."""
        if self.mechanism == "acp":
            return acp_cost_shares(demands)
        return serial_cost_shares(demands)

    @cached_property
    def payoff_matrix(self) -> np.ndarray:
        """``P[q, p]``: reward of demand q when the N − 1 others all demand p (exact)."""
        return payoff_matrix(self.mechanism, self.alpha, self.n_agents)

    @cached_property
    def mean_field_matrix(self) -> np.ndarray:
        return payoff_matrix(self.mechanism, self.alpha, None)

    def mean_field_payoffs(self, frequencies: np.ndarray) -> np.ndarray:
        """The same in the large-N limit, where one agent's demand does not move its price."""
        return cast(
            np.ndarray, np.asarray(frequencies, dtype=np.float64) @ self.mean_field_matrix.T)

    def reference_equilibrium(self) -> np.ndarray:
        return self._reference.copy()

    @cached_property
    def _reference(self) -> np.ndarray:
        return symmetric_equilibrium(self.payoff_matrix)

    def mean_field_equilibrium(self) -> np.ndarray:
        """The large-N symmetric equilibrium: α/3 (ACP) or α/4 (serial), rounded to a demand."""
        return symmetric_equilibrium(self.mean_field_matrix)

    def distance(self, frequencies: np.ndarray) -> np.ndarray:
        """Σ_a |F_ρ(a) − F*(a)|, which is Σ_a ρ(a)·|a − q*| when the reference is pure q*."""
        return ordered_distance(frequencies, self._reference)


raw_env, parallel_env, env, focal_env, vector_env = faces(CongestionCore)
