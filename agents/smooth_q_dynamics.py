"""The continuous-time Q-learning dynamics (LPS equation (7)), integrated on the simplex.

For n agents with m actions each, exploration rates T_k ≥ 0 and any map ``payoffs`` from a
profile x ``(n, m)`` to the payoff vectors r(x) ``(n, m)`` (row k is r_k(x_−k); for a
polymatrix game r_ki = Σ_l (A^{kl} x_l)_i), the dynamics are

    dx_ki/dt = x_ki·[ r_ki − ⟨x_k, r_k⟩ − T_k·(ln x_ki − ⟨x_k, ln x_k⟩) ].

Integrating x directly loses the simplex when T is small (the replicator part pushes mass to
the boundary, where a step overshoots it). We integrate logits instead: with x_k = softmax(y_k)
the same dynamics read

    dy_ki/dt = r_ki(x) − T_k·y_ki  (+ any constant per agent, which softmax ignores),

so every x computed is a softmax, on the simplex by construction, at every T including 0. After
each step y_k is shifted so that its maximum is 0: the x trajectory is unchanged (adding c to
y_k adds −T_k·c·h to the step, another constant) and y stays bounded. Two steppers:

* ``"rk4"`` (default): classic fixed-step Runge-Kutta of order 4 on y.
* ``"exponential"``: exponential Euler, exact for the linear part −T·y:
  y ← e^{−T h}·y + (1 − e^{−T h})/T·r(x) (h·r at T = 0). With Q = T·y this is the discrete
  smooth Q-learner's expected-feedback update with α = 1 − e^{−T h}
  (:class:`populace.agents.smooth_q.SmoothQLearner`), so the learner *is* this integrator.
  Its rest points are exactly the QRE (y = r/T), but it is only first order: at T = 0 it
  spirals outwards where the dynamics cycle (asymmetric matching pennies, h = 0.1, t = 100:
  the conserved KL to the Nash equilibrium grows ninefold; RK4 keeps it to 3·10⁻⁵, and to
  10⁻⁸ with h = 0.02). Use RK4 for the continuous-time picture.

Any payoff-vector map works, e.g. a polymatrix game's ``payoff_vectors`` method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.validation import check_choice, check_int, check_number

METHODS = ("rk4", "exponential")
PayoffMap = Callable[[np.ndarray], np.ndarray]
Temperature = ArrayLike | Callable[[float], ArrayLike]  # fixed rates, or a schedule t ↦ rates

__all__ = ["METHODS", "Trajectory", "integrate_smooth_q", "softmax"]


@dataclass(frozen=True)
class Trajectory:
    """A solution of the Q-learning dynamics, sampled every ``record_every`` steps.

    Attributes:
        times: ``(K,)`` the times recorded, starting at 0.
        strategies: ``(K, n, m)`` the profile x at those times.
    """

    times: np.ndarray
    strategies: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The last profile recorded, ``(n, m)``."""
        return cast(np.ndarray, self.strategies[-1])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, m)`` logits, from logits − row max (no overflow).

    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(6).tolist()
    [[0.25, 0.75]]
    """
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return cast(np.ndarray, weights / weights.sum(axis=1, keepdims=True))


def integrate_smooth_q(
    payoffs: PayoffMap,
    x0: ArrayLike,
    temperature: Temperature,
    *,
    dt: float = 0.01,
    steps: int = 1000,
    method: str = "rk4",
    record_every: int = 1,
) -> Trajectory:
    """Integrate the Q-learning dynamics from the interior profile ``x0`` with a fixed step.

    Args:
        payoffs: the payoff-vector map, ``(n, m)`` profile → ``(n, m)`` payoff vectors.
        x0: ``(n, m)`` starting profile, every entry > 0 (rows are normalized). The boundary
            is invariant under the dynamics, so a start there would never leave it.
        temperature: exploration rates T ≥ 0: one number, one per agent ``(n,)``, or a
            callable ``t ↦`` either of those (a schedule in continuous time).
        dt: step h > 0.
        steps: number of steps (≥ 0); the trajectory ends at time ``steps·dt``.
        method: ``"rk4"`` or ``"exponential"`` (module docstring).
        record_every: keep every this many steps (the start and the end are always kept).

    Returns:
        A :class:`Trajectory`.

    Raises:
        ValueError: naming the argument that is wrong, or when ``payoffs`` returns an array of
            the wrong shape or a non-finite value.

    >>> a = np.array([[3.0, -1.0], [-1.0, 1.0]])   # asymmetric matching pennies, B = −Aᵀ
    >>> game = lambda x: np.stack([a @ x[1], -a.T @ x[0]])
    >>> path = integrate_smooth_q(game, np.full((2, 2), 0.5), 1.0, dt=0.05, steps=400)
    >>> path.final.round(4).tolist()                   # the QRE at T = 1
    [[0.4661, 0.5339], [0.3107, 0.6893]]
    """
    method = check_choice("method", method, METHODS)
    h = check_number("dt", dt, low=0.0, low_open=True)
    steps = check_int("steps", steps, minimum=0)
    record_every = check_int("record_every", record_every, minimum=1)
    y = _initial_logits(x0)
    n, m = y.shape
    rates = _rates(temperature, n)
    field = _Field(payoffs, n, m)
    stepper = _rk4 if method == "rk4" else _exponential
    kept = [k for k in range(steps + 1) if k % record_every == 0 or k == steps]
    times = np.array(kept, dtype=np.float64) * h
    strategies = np.empty((len(kept), n, m))
    strategies[0] = softmax(y)
    slot = 1
    for k in range(1, steps + 1):
        y = stepper(field, rates, (k - 1) * h, y, h)
        y -= y.max(axis=1, keepdims=True)
        if slot < len(kept) and kept[slot] == k:
            strategies[slot] = softmax(y)
            slot += 1
    return Trajectory(times, strategies)


class _Field:
    """dy/dt = r(softmax(y)) − T·y, with the payoff map's output checked."""

    def __init__(self, payoffs: PayoffMap, n: int, m: int) -> None:
        if not callable(payoffs):
            raise TypeError(f"payoffs must be a callable x -> r(x), got {payoffs!r}")
        self.payoffs, self.shape = payoffs, (n, m)

    def rewards(self, y: np.ndarray, t: float) -> np.ndarray:
        r = np.asarray(self.payoffs(softmax(y)), dtype=np.float64)
        if r.shape != self.shape:
            raise ValueError(f"payoffs(x) must have shape {self.shape}, got {r.shape}")
        if not np.isfinite(r).all():
            raise ValueError(f"payoffs(x) returned non-finite values at t = {t:g}")
        return r

    def __call__(self, rates: Callable[[float], np.ndarray], t: float, y: np.ndarray) -> Any:
        return self.rewards(y, t) - rates(t)[:, None] * y


def _rk4(
    field: _Field, rates: Callable[[float], np.ndarray], t: float, y: np.ndarray, h: float
) -> np.ndarray:
    k1 = field(rates, t, y)
    k2 = field(rates, t + h / 2, y + (h / 2) * k1)
    k3 = field(rates, t + h / 2, y + (h / 2) * k2)
    k4 = field(rates, t + h, y + h * k3)
    return cast(np.ndarray, y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4))


def _exponential(
    field: _Field, rates: Callable[[float], np.ndarray], t: float, y: np.ndarray, h: float
) -> np.ndarray:
    rate = rates(t)
    gain = np.where(rate > 0, -np.expm1(-rate * h) / np.where(rate > 0, rate, 1.0), h)
    return cast(np.ndarray, np.exp(-rate * h)[:, None] * y + gain[:, None] * field.rewards(y, t))


def _initial_logits(x0: Any) -> np.ndarray:
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1 or x.shape[0] < 1:
        raise ValueError(f"x0 must be a profile of shape (n_agents, n_actions), got {x.shape}")
    if not np.isfinite(x).all() or not (x > 0).all():
        raise ValueError("x0 must be finite and strictly positive (an interior profile)")
    logits = np.log(x / x.sum(axis=1, keepdims=True))
    return cast(np.ndarray, logits - logits.max(axis=1, keepdims=True))


def _rates(temperature: Any, n: int) -> Callable[[float], np.ndarray]:
    """T(t) as a callable returning ``(n,)`` checked rates."""

    def check(value: Any) -> np.ndarray:
        rates = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
        if not np.isfinite(rates).all() or (rates < 0).any():
            raise ValueError(f"temperature must be finite and >= 0, got {value!r}")
        return rates

    if callable(temperature):
        return lambda t: check(temperature(t))
    try:
        fixed = check(temperature)
    except (TypeError, ValueError) as error:
        if "temperature" in str(error):
            raise
        raise ValueError(
            f"temperature must be one number, {n} numbers or a callable, got {temperature!r}"
        ) from None
    return lambda t: fixed
