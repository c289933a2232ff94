"""The reward landscape of the plane games (Mguni, Jennings & Munoz de Cote, AAMAS 2018, the
function L of Experiment 1): a Gaussian bump of desirability, discounted by congestion.

``bump(x) = exp(−(x − μ)ᵀΣ⁻¹(x − μ)) / (2π√|Σ|)`` with ``Σ = v·I`` (so ``√|Σ| = v``); note
the paper's exponent has no ½, so the bump's standard deviation per coordinate is √(v/2).
An agent at ``x`` where the density of agents is ``m(x)`` receives
``desirability(x) / (1 + m(x))^α``.
"""

from __future__ import annotations

import numpy as np


def bump(points: np.ndarray, centre: tuple[float, float], variance: float) -> np.ndarray:
    """MJM's desirability bump at each point of ``points`` (``(n, 2)``)."""
    dx = points[:, 0] - centre[0]
    dy = points[:, 1] - centre[1]
    squared = dx * dx
    squared += dy * dy
    squared *= -1.0 / variance
    np.exp(squared, out=squared)
    squared *= 1.0 / (2.0 * np.pi * variance)
    return squared


def desirability(points: np.ndarray, centres: tuple[tuple[float, float], ...],
                 variance: float) -> np.ndarray:
    """The sum of the bumps at ``centres``."""
    total = bump(points, centres[0], variance)
    for centre in centres[1:]:
        total += bump(points, centre, variance)
    return total


def congested(value: np.ndarray, density: np.ndarray, alpha: float) -> np.ndarray:
    """``value / (1 + density)^α``, in place on ``value``."""
    factor = density + 1.0
    if alpha == 1.0:
        value /= factor
    else:
        value *= factor ** (-alpha)
    return value
