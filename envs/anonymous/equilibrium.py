"""Reference equilibria and distance metrics for symmetric anonymous games.

A game is described here by its large-population payoff map ``expected_payoffs(ρ)``: the
payoff of each action against others whose actions are distributed as ρ. Learners never use
this module; the train loop and the tests score populations with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

PayoffMap = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BestReplyPath:
    """Pure best-reply dynamics on the population distribution, from ``start``."""

    actions: list[int]  # the best reply at each step, in order
    equilibrium: np.ndarray | None  # the fixed point reached, or None if the path cycles
    gain: float  # largest unilateral gain at the end point (0 at an equilibrium)


def exploitability(expected_payoffs: PayoffMap, distribution: np.ndarray) -> float | np.ndarray:
    """How much a best-responding agent gains over the population's average payoff.

    ``max_a r(a; ρ) − Σ_a ρ(a)·r(a; ρ)``: zero exactly at a symmetric Nash equilibrium.
    A batch of distributions ``(..., n_actions)`` gives one value each.
    """
    rho = np.asarray(distribution, dtype=np.float64)
    payoffs = expected_payoffs(rho)
    gain = payoffs.max(axis=-1) - (rho * payoffs).sum(axis=-1)
    return float(gain) if gain.ndim == 0 else gain


def ordered_distance(frequencies: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Earth mover's distance between distributions over the ordered actions 0, 1, 2, ...

    ``Σ_a |F_ρ(a) − F*(a)|`` with F the cumulative distributions; for a pure reference a* it is
    KFH's expected distance ``Σ_a ρ(a)·|a − a*|``, and it stays meaningful for a mixed one.
    """
    gap = np.cumsum(np.asarray(frequencies, dtype=np.float64) - reference, axis=-1)
    return cast(np.ndarray, np.abs(gap[..., :-1]).sum(axis=-1))


def best_reply_path(
    expected_payoffs: PayoffMap, start: np.ndarray, max_steps: int = 1000
) -> BestReplyPath:
    """Move the whole population to its best reply until it stops moving (ties: lowest action).

    KFH's stage learners follow an approximation of this path, which is why its end point is
    the equilibrium their experiments measure distance to.
    """
    rho = np.asarray(start, dtype=np.float64)
    n_actions = rho.shape[0]
    actions: list[int] = []
    for _ in range(max_steps):
        best = int(np.argmax(expected_payoffs(rho)))
        if actions and best == actions[-1]:
            end = np.eye(n_actions)[best]
            return BestReplyPath(actions, end, float(exploitability(expected_payoffs, end)))
        if best in actions:
            break
        actions.append(best)
        rho = np.eye(n_actions)[best]
    return BestReplyPath(actions, None, float(exploitability(expected_payoffs, rho)))


def symmetric_equilibria(payoff_matrix: np.ndarray, tol: float = 1e-9) -> list[np.ndarray]:
    """All symmetric Nash equilibria of a symmetric two-player game, by support enumeration.

    For every support S, solve ``M_SS x = v·1`` with ``Σx = 1``; keep solutions with ``x ≥ 0``
    whose payoff ``v`` no action outside S beats. Exponential in the number of actions, meant
    for matrix games (≤ 12 actions). Degenerate games may have continua; only the isolated
    points the linear systems return are listed.
    """
    m = np.asarray(payoff_matrix, dtype=np.float64)
    n = m.shape[0]
    if n > 12:
        raise ValueError(f"support enumeration is for small games; got {n} actions (max 12)")
    found: list[np.ndarray] = []
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            x = _equalizer(m, list(support))
            if x is None:
                continue
            payoffs = m @ x
            value = payoffs[list(support)].mean()
            if payoffs.max() <= value + tol and not any(np.allclose(x, y) for y in found):
                found.append(x)
    return found


def _equalizer(m: np.ndarray, support: list[int]) -> np.ndarray | None:
    """The mix on ``support`` that makes every supported action earn the same, if it is one."""
    k = len(support)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = m[np.ix_(support, support)]
    system[:k, k] = -1.0
    system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    solution, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    if not np.allclose(system @ solution, rhs, atol=1e-9):
        return None
    weights = solution[:k]
    if np.any(weights < -1e-12):
        return None
    x = np.zeros(m.shape[0])
    x[support] = np.clip(weights, 0.0, None)
    return cast("np.ndarray | None", x / x.sum())
