"""How exploitable the mean-field equilibrium of ``mf_lqr_v0`` is when only N agents play it.

The mean-field equilibrium policy ``u = −K*(x − h)`` is a best response to a population that
no single agent can move. With N agents one can: its own position enters the mean it is
charged against with weight 1/N, and the others' mean fluctuates with variance of order 1/N.
Here N − 1 agents play the equilibrium policy and one agent (the deviator) best-responds
exactly. Per coordinate, with ``e₁ = x − h`` (the deviator) and ``e₂ = ȳ − h`` (the mean of
the N − 1 others), the deviator faces a two-dimensional linear-quadratic problem:

* ``e₁' = e₁ + uΔt + σ√Δt·ε₀``; ``e₂' = (1 − K*Δt)·e₂ + σ√(Δt/(N − 1))·ε̄``;
* ``x − m̄ = w·(e₁ − e₂)`` with ``w = (N − 1)/N`` (m̄ includes the deviator), so the stage
  cost is ``(q₁e₁² + q₂w²(e₁ − e₂)² + ½u²)·Δt``.

Its best response is the Riccati feedback of that problem; the gap between the equilibrium
policy and it — computed by the performance-difference identity, exact even when the gap
is 10⁻¹² of the cost — is the exploitability, per unit time, summed over both coordinates.
Under the average criterion (discount rate 0) it is the gap of long-run average costs; with
discounting it is the normalized gap of discounted values from the stationary distribution.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from populace.envs.mean_field_lqr import lqr
from populace.envs.mean_field_lqr.reference import DIMENSION, LQModel, riccati_gain


def deviator_problem(
    model: LQModel, n_agents: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B, Q, R, W, L_eq)`` of one coordinate of the deviator's problem (module doc)."""
    if isinstance(n_agents, bool) or not isinstance(n_agents, int | np.integer):
        raise TypeError(f"n_agents must be an int, got {type(n_agents).__name__} {n_agents!r}")
    if n_agents < 2:
        raise ValueError(f"n_agents must be >= 2 (a deviator and the others), got {n_agents}")
    dt, sigma = model.dt, model.sigma
    _, gain = riccati_gain(model)
    w2 = ((n_agents - 1) / n_agents) ** 2
    a = np.diag([1.0, 1.0 - gain * dt])
    b = np.array([[dt], [0.0]])
    q = dt * np.array([[model.q1 + model.q2 * w2, -model.q2 * w2],
                       [-model.q2 * w2, model.q2 * w2]])
    r = np.array([[dt / 2.0]])
    noise = sigma**2 * dt * np.diag([1.0, 1.0 / (n_agents - 1)])
    equilibrium = np.array([[gain, 0.0]])
    return a, b, q, r, noise, equilibrium


def finite_n_gap(model: LQModel, n_agents: int) -> float:
    """The exploitability, per unit time, of the mean-field equilibrium policy played by
    ``n_agents`` agents (both coordinates).

    >>> model = LQModel()
    >>> finite_n_gap(model, 10) > finite_n_gap(model, 100) > 0
    True
    """
    a, b, q, r, noise, equilibrium = deviator_problem(model, n_agents)
    gamma = model.gamma
    optimal = lqr.riccati(a, b, q, r, equilibrium, gamma)
    if gamma == 1.0:
        per_step = lqr.average_cost_gap(a, b, r, noise, equilibrium, optimal)
    else:
        excess = lqr.cost_gap_matrix(a, b, r, equilibrium, optimal, gamma)
        start = lqr.stationary_covariance(a - b @ equilibrium, noise)
        value = np.trace(excess @ start) + gamma * np.trace(excess @ noise) / (1.0 - gamma)
        per_step = float(value * (1.0 - gamma))
    return DIMENSION * per_step / model.dt


def best_response_gain(model: LQModel, n_agents: int) -> np.ndarray:
    """The deviator's optimal feedback ``[L₁, L₂]``: ``u = −L₁(x − h) − L₂(ȳ − h)`` per
    coordinate, ȳ the others' mean."""
    a, b, q, r, _, equilibrium = deviator_problem(model, n_agents)
    return cast(np.ndarray, lqr.riccati(a, b, q, r, equilibrium, model.gamma)[1][0])
