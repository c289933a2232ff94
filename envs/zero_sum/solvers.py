"""Equilibria of weighted zero-sum polymatrix games and the distances to them.

* :func:`qre` — the quantal response (logit) equilibrium for positive per-agent temperatures
  T_k: x_ki ∝ exp(r_ki(x_−k)/T_k). Unique when every T_k > 0 (LPS Theorem 4.1).
* :func:`nash_conv` — Σ_k (max_i r_ki(x_−k) − ⟨x_k, r_k(x_−k)⟩), the sum of the agents'
  best-response gains; zero exactly at a Nash equilibrium. The best response to fixed others
  is a linear program over the simplex, whose optimum is a vertex: the largest entry of r_k.
* :func:`kl_divergence` — Σ_k KL(x*_k ‖ x_k).
* :func:`is_chain_nash` — membership in the Nash set of the (odd-length) match–mismatch chain.

The QRE solver has two methods (``qre(method=...)``); the default ``"auto"`` uses Newton where
its linear systems can be solved directly and extragradient everywhere else or as a fallback.

**Newton** (:mod:`populace.envs.zero_sum.qre_newton`): damped Newton in centred logits with a
homotopy in T, solved directly for small games and on path graphs (the chain, AMPs, RPS).

**Extragradient** (entropic mirror-prox) in log space,

    z_k ← (1 − ηT_k)·z_k + η·r_k(x_−k),   x_k = softmax(z_k)   (a half step, then the full
    step from the same z with r evaluated at the half step),

whose fixed points are exactly the QRE (z_k = r_k/T_k up to a constant) and which contracts
at a linear rate (about 1 − ηT_min per step) in weighted zero-sum games (Cen, Wei & Chi's
entropy-regularized extragradient, here on the network), on any graph. The step is
η = 1/(T_max + L) with L = max_k Σ_l max|A^{kl}| (ours: twice the step their two-player
bound allows, measured to converge about twice as fast on the chain, AMPs, RPS and random
weighted networks). Steps at T = 0.01: about 7,000 on the 7-agent chain, 1,100 on AMPs —
any first-order method needs of the order of L/T steps per decade of accuracy. A homotopy in
T halves the temperature scale from 2L/T_min down to the target (from where Newton stopped,
when it is the fallback). Iterates are ``(m, n)`` (one row per action), so the reductions
over the m actions run across all agents at once.

Both work in logits and take softmax through log-sum-exp, so no temperature overflows or
gives NaN; the residual max |x − softmax(r(x)/T)| is checked at the end whatever the method,
so a failure raises, never returns junk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from populace.envs.validation import check_choice
from populace.envs.zero_sum.polymatrix import H, PolymatrixGame
from populace.envs.zero_sum.qre_newton import (
    NEWTON_DENSE_LIMIT,
    newton_homotopy,
    newton_system,
    softmax_columns,
)

QRE_METHODS = ("auto", "newton", "extragradient")


@dataclass(frozen=True)
class QREResult:
    strategies: np.ndarray  # (n, m)
    residual: float  # max |x − softmax(r(x)/T)|
    iterations: int  # Newton steps plus extragradient steps, over all homotopy stages


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax through log-sum-exp (safe for any finite logits)."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return cast(np.ndarray, e / e.sum(axis=1, keepdims=True))


def as_temperatures(temperatures: float | np.ndarray, n_agents: int) -> np.ndarray:
    """A positive temperature per agent from a scalar or a length-n sequence."""
    t = np.broadcast_to(np.asarray(temperatures, dtype=np.float64), (n_agents,)).copy() \
        if np.ndim(temperatures) == 0 else np.asarray(temperatures, dtype=np.float64)
    if t.shape != (n_agents,) or not np.isfinite(t).all() or (t <= 0).any():
        raise ValueError(f"temperatures must be one positive number or {n_agents} of them, "
                         f"got {temperatures!r}")
    return t


def logit_response(game: PolymatrixGame, x: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """softmax(r_k(x_−k)/T_k) for every agent."""
    return softmax_rows(game.payoff_vectors(x) / temperatures[:, None])


def qre_residual(game: PolymatrixGame, x: np.ndarray, temperatures: float | np.ndarray) -> float:
    """max |x − softmax(r(x)/T)|: zero exactly at the QRE."""
    t = as_temperatures(temperatures, game.n_agents)
    return float(np.abs(np.asarray(x) - logit_response(game, x, t)).max())


def qre(
    game: PolymatrixGame,
    temperatures: float | np.ndarray,
    *,
    tol: float = 1e-12,
    max_iterations: int = 200_000,
    start: np.ndarray | None = None,
    method: str = "auto",
) -> QREResult:
    """The QRE for per-agent temperatures (see the module docstring for the methods).

    ``method``: ``"newton"`` (small games and paths only), ``"extragradient"``, or ``"auto"``
    (Newton where it applies, falling back to extragradient from wherever Newton stopped if
    it stalls). Stops when the residual max |x − softmax(r(x)/T)| is below ``tol``; raises
    RuntimeError if ``max_iterations`` steps (Newton plus extragradient, over all stages) do
    not get there.
    """
    t = as_temperatures(temperatures, game.n_agents)
    method = check_choice("method", method, QRE_METHODS)
    x = (np.full((game.n_agents, game.n_actions), 1.0 / game.n_actions) if start is None
         else np.asarray(start, dtype=np.float64))
    if x.shape != (game.n_agents, game.n_actions) or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError(f"start must be a ({game.n_agents}, {game.n_actions}) profile of "
                         f"non-negative numbers")
    z = np.log(np.maximum(x, 1e-300)).T.copy()  # logits, one row per action
    used, scale = 0, np.inf
    system = None if method == "extragradient" else newton_system(game)
    if method == "newton" and system is None:
        raise ValueError(f"method='newton' needs a path graph or at most {NEWTON_DENSE_LIMIT} "
                         f"unknowns n·(m−1); this game has {game.n_agents} agents and "
                         f"{len(game.src) // 2} edges")
    if system is not None:
        z, used, scale = newton_homotopy(game, system, z, t, tol, max_iterations)
    x = softmax_columns(z)
    if np.abs(x - softmax_columns(game.payoff_columns(x) / t)).max() > tol:
        if method == "newton":
            raise RuntimeError(f"qre: Newton stalled after {used} steps")
        for stage_scale, stage_tol in _stages(game, t, tol, scale):
            z, steps = _extragradient(game, z, t * stage_scale, stage_tol, max_iterations - used)
            used += steps
    x = np.ascontiguousarray(softmax_columns(z).T)
    residual = qre_residual(game, x, t)
    if residual > tol:
        raise RuntimeError(f"qre: residual {residual:.3g} > tol {tol:g} after {used} steps")
    return QREResult(x, residual, used)


def _stages(
    game: PolymatrixGame, t: np.ndarray, tol: float, below: float = np.inf
) -> list[tuple[float, float]]:
    """The extragradient homotopy: temperature scales from about 2L/T_min halving down to 1
    (only those under ``below``: where a Newton homotopy stopped), each solved to 1e-6
    (warm-starting the next), then the target to ``tol``."""
    scale_top = max(1.0, 2.0 * max(game.lipschitz(), 1e-12) / float(t.min()))
    scales = [float(s) for s in 2.0 ** -np.arange(int(np.ceil(np.log2(scale_top))) + 1)
              * scale_top if 1.0 < s < below]
    return [(s, 1e-6) for s in scales] + [(1.0, tol)]


def _extragradient(
    game: PolymatrixGame, z: np.ndarray, t: np.ndarray, tol: float, budget: int
) -> tuple[np.ndarray, int]:
    """Entropic extragradient on ``(m, n)`` logits until the residual is below ``tol``."""
    eta = 1.0 / (float(t.max()) + game.lipschitz() + 1e-12)
    keep = 1.0 - eta * t
    check_every = 20
    for step in range(1, budget + 1):
        half = keep * z + eta * game.payoff_columns(softmax_columns(z))
        z = keep * z + eta * game.payoff_columns(softmax_columns(half))
        z -= z.max(axis=0)  # logits stay bounded
        if step % check_every == 0:
            x = softmax_columns(z)
            if np.abs(x - softmax_columns(game.payoff_columns(x) / t)).max() <= tol:
                return z, step
    return z, budget


def nash_conv(game: PolymatrixGame, strategies: np.ndarray) -> float:
    """Σ_k (max_i r_ki − ⟨x_k, r_k⟩): the total gain of every agent's best response."""
    x = np.asarray(strategies, dtype=np.float64)
    r = game.payoff_vectors(x)
    return float((r.max(axis=1) - np.einsum("ki,ki->k", x, r)).sum())


def kl_divergence(reference: np.ndarray, strategies: np.ndarray) -> float:
    """Σ_k KL(x*_k ‖ x_k) with 0·ln 0 = 0; +inf where x_k puts 0 on an action x*_k plays.
    Clamped at 0 (rounding can leave −1e-16 for x = x*)."""
    p = np.asarray(reference, dtype=np.float64)
    q = np.asarray(strategies, dtype=np.float64)
    support = p > 0
    with np.errstate(divide="ignore"):
        terms = np.where(support, p * (np.log(np.where(support, p, 1.0))
                                       - np.log(np.where(support, q, 1.0))), 0.0)
    return max(float(terms.sum()), 0.0)


def is_chain_nash(strategies: np.ndarray, atol: float = 1e-9) -> bool:
    """Whether ``strategies`` ((n, 2), column 0 = P(H)) lies in the Nash set of the chain of
    odd length n (orientation of :func:`populace.envs.zero_sum.polymatrix.chain_game`).

    The set (agents numbered 1..n): every odd agent plays H, and the even agents' P(H),
    p_2, p_4, …, p_{n−1}, is non-decreasing along the chain — any such sequence in [0, 1],
    pure steps included. Why: with odd neighbours on H an even agent earns 0 with either
    action (indifferent); odd agent k earns 2(p_{k+1} − p_{k−1}) with H and the negative
    with T, where p_0 = 0 (dummy 0 plays T) and p_{n+1} = 1 (dummy n+1 plays H), so H is a
    best response exactly when the sequence does not fall at k. That this is *all* the
    equilibria (none has an odd agent off H) is checked independently in
    ``tests/zero_sum/test_crosschecks.py``: the equilibria of a zero-sum polymatrix game are the
    optimal face of one linear program (Cai, Candogan, Daskalakis & Papadimitriou 2016),
    which scipy's LP solver shows to be exactly this set for n = 3, 5, 7, 9, and a grid of
    profiles scored by best-response LPs agrees; :func:`nash_conv` confirms membership
    numerically.
    """
    x = np.asarray(strategies, dtype=np.float64)
    n = x.shape[0]
    if n % 2 == 0 or x.shape != (n, 2):
        raise ValueError(f"is_chain_nash needs an odd-length chain's (n, 2) strategies, "
                         f"got shape {x.shape}")
    odd_on_h = bool(np.all(np.abs(x[0::2, H] - 1.0) <= atol))
    even = x[1::2, H]
    return odd_on_h and bool(np.all(np.diff(even) >= -atol))


def chain_nash_point(even_p_heads: np.ndarray) -> np.ndarray:
    """The chain profile with odd agents on H and the even agents' P(H) given (sorted, so
    the profile is a Nash equilibrium): ``(2·len + 1, 2)``."""
    p = np.sort(np.asarray(even_p_heads, dtype=np.float64))
    n = 2 * len(p) + 1
    heads = np.ones(n)
    heads[1::2] = p
    return np.stack([heads, 1.0 - heads], axis=1)
