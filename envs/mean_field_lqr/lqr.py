"""Small dense linear-quadratic tools: the Stein (discrete Lyapunov) equation, the discrete
algebraic Riccati equation of an average-cost regulator, and the exact cost gap of a linear
feedback against the optimal one.

The problems here have a handful of state dimensions (the mean-field LQR's deviator sees two
per coordinate), so the equations are solved exactly through their Kronecker forms rather
than by a general solver; numpy is all they need.

Conventions: state ``x' = A x + B u + w`` with ``Cov(w) = W``, stage cost
``xᵀ Q x + uᵀ R u``, feedback ``u = −L x``; "stable" means every eigenvalue of ``A − B L``
lies strictly inside the unit circle.
"""

from __future__ import annotations

import numpy as np

RICCATI_TOLERANCE = 1e-15  # relative change of P that ends the policy iteration
RICCATI_MAX_ITERATIONS = 100


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(np.atleast_2d(matrix)))))


def is_stable(matrix: np.ndarray) -> bool:
    """Whether ``x' = matrix·x`` is asymptotically stable (spectral radius below 1)."""
    return spectral_radius(matrix) < 1.0


def stein(a: np.ndarray, q: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """The solution X of ``X = γ·aᵀ X a + q`` (the value of a stable linear system's
    quadratic cost; with ``aᵀ → a`` it is also the covariance equation, see
    :func:`stationary_covariance`).

    >>> float(stein(np.array([[0.5]]), np.array([[3.0]]))[0, 0])
    4.0
    """
    a, q = np.atleast_2d(a), np.atleast_2d(q)
    n = a.shape[0]
    # vec(aᵀ X a) = (aᵀ ⊗ aᵀ) vec(X) for row-major vec
    system = np.eye(n * n) - gamma * np.kron(a.T, a.T)
    x = np.linalg.solve(system, q.reshape(-1)).reshape(n, n)
    return (x + x.T) / 2


def stationary_covariance(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The stationary covariance Σ of ``x' = a x + noise`` (``Σ = a Σ aᵀ + w``)."""
    return stein(np.atleast_2d(a).T, w)


def riccati(
    a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray, gain: np.ndarray,
    gamma: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The stabilizing solution ``(P, L)`` of the discrete algebraic Riccati equation
    ``P = q + γ aᵀ P a − γ² aᵀ P b (r + γ bᵀ P b)⁻¹ bᵀ P a`` and its optimal feedback
    ``L = γ (r + γ bᵀ P b)⁻¹ bᵀ P a``, by policy iteration (Hewer 1971) from ``gain``, a
    feedback under which ``√γ (a − b·gain)`` is stable. Converges quadratically; each step
    solves one Stein equation exactly.

    >>> p, l = riccati(np.eye(1), np.eye(1) * 0.05, np.eye(1) * 0.1, np.eye(1) * 0.025,
    ...                np.eye(1))
    >>> round(float(l[0, 0]), 5)
    1.9025
    """
    a, b, q, r = (np.atleast_2d(np.asarray(m, dtype=np.float64)) for m in (a, b, q, r))
    gain = np.atleast_2d(np.asarray(gain, dtype=np.float64))
    if not is_stable(np.sqrt(gamma) * (a - b @ gain)):
        raise ValueError("riccati needs a stabilizing initial gain")
    p = np.zeros_like(a)
    for _ in range(RICCATI_MAX_ITERATIONS):
        closed = a - b @ gain
        new_p = stein(closed, q + gain.T @ r @ gain, gamma)
        gain = gamma * np.linalg.solve(r + gamma * b.T @ new_p @ b, b.T @ new_p @ a)
        change = np.max(np.abs(new_p - p)) / max(np.max(np.abs(new_p)), 1e-300)
        p = new_p
        if change <= RICCATI_TOLERANCE:
            break
    return p, gain


def average_cost(
    a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray, w: np.ndarray, gain: np.ndarray
) -> float:
    """The long-run average stage cost of ``u = −gain·x`` (infinite when unstable)."""
    closed = np.atleast_2d(a) - np.atleast_2d(b) @ np.atleast_2d(gain)
    if not is_stable(closed):
        return float("inf")
    sigma = stationary_covariance(closed, w)
    gain = np.atleast_2d(gain)
    return float(np.trace(sigma @ (q + gain.T @ r @ gain)))


def cost_gap_matrix(
    a: np.ndarray, b: np.ndarray, r: np.ndarray, gain: np.ndarray,
    optimal: tuple[np.ndarray, np.ndarray], gamma: float = 1.0,
) -> np.ndarray:
    """``D = P_gain − P*``, the excess of the quadratic value of ``u = −gain·x`` over the
    optimum, without cancellation: ``D = Σ_k γ^k (A_Lᵀ)^k M A_L^k`` with
    ``M = (L − L*)ᵀ (r + γ bᵀ P* b) (L − L*)`` and ``A_L = a − b·gain``
    (``optimal = (P*, L*)`` from :func:`riccati` with the same γ). Exact for the tiny gaps
    where the difference of two values would lose its digits."""
    a, b, r = np.atleast_2d(a), np.atleast_2d(b), np.atleast_2d(r)
    gain = np.atleast_2d(gain)
    p_star, l_star = optimal
    delta = gain - l_star
    excess = delta.T @ (r + gamma * b.T @ p_star @ b) @ delta
    return stein(a - b @ gain, excess, gamma)


def average_cost_gap(
    a: np.ndarray, b: np.ndarray, r: np.ndarray, w: np.ndarray, gain: np.ndarray,
    optimal: tuple[np.ndarray, np.ndarray],
) -> float:
    """``average_cost(gain) − average_cost(optimal gain)`` by the performance-difference
    identity ``tr(Σ_gain (L − L*)ᵀ (r + bᵀ P* b) (L − L*))`` (Σ_gain: the stationary
    covariance under ``gain``; infinite when ``gain`` does not stabilize)."""
    a, b, r = np.atleast_2d(a), np.atleast_2d(b), np.atleast_2d(r)
    gain = np.atleast_2d(gain)
    p_star, l_star = optimal
    closed = a - b @ gain
    if not is_stable(closed):
        return float("inf")
    sigma = stationary_covariance(closed, w)
    delta = gain - l_star
    return float(np.trace(sigma @ delta.T @ (r + b.T @ p_star @ b) @ delta))
