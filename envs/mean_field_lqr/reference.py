"""The exact discrete-time reference of the mean-field LQR game (``mf_lqr_v0``, SPEC §2.7).

The game (per agent, in R², Δt > 0): ``x' = x + u·Δt + σ·√Δt·ε`` and stage reward
``−(q₁|x − h|² + q₂|x − m̄|² + ½|u|²)·Δt`` with m̄ the population mean. The coordinates do
not interact, so every Riccati equation here is scalar. With the mean held at m, the stage
cost is ``Q|x − z|² + ½|u|²`` (times Δt, up to a constant) with ``Q = q₁ + q₂`` and
``z = (q₁h + q₂m)/Q``: a tracking regulator whose optimal feedback is ``u = −K(x − z)``.

* :func:`stationary_equilibrium` — the stationary mean-field equilibrium: the Riccati fixed
  point ``P² − QΔt·P − Q/2 = 0`` (average reward), ``K = Q/P``; mean consistency
  ``m = z(m)`` gives ``m = h`` for any split with q₁ > 0; the population's stationary
  variance is ``σ²/(K(2 − KΔt))`` per coordinate (0.1552 at Δt = 0.05, → σ²/(2√(2Q)) =
  0.140625 as Δt → 0 for the defaults). With a discount rate β (γ = exp(−βΔt) per step) the
  Riccati equation is the discounted one.
* :func:`finite_horizon_equilibrium` — an episode of T steps from a Gaussian start: backward
  Riccati with time-varying gains, and the mean path solved jointly with them (the forward
  mean equation and the backward offset equation are linear, so the fixed point is one
  linear solve, not an iteration).
* :func:`exploitability` — of a population playing any linear policy ``u = −K(x − c)``: the
  cost of the policy against the mean field it creates, minus the cost of the exact best
  response (the Riccati gain, centred at z), per unit time; with ``K = K*`` it equals
  ``q₁²/(q₁+q₂)·|c − h|²`` under the average criterion.

References: Bardi, *Explicit solutions of some linear-quadratic mean field games* (Networks
and Heterogeneous Media 7(2), 2012) for the continuous-time model; Mguni, Jennings & Munoz de
Cote (AAMAS 2018), Experiment 3. The discretization is ours (SPEC §2.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from populace.envs.mean_field_lqr import lqr

DIMENSION = 2


@dataclass(frozen=True)
class LQModel:
    """The constants of the game. ``discount_rate`` β: the learners' criterion is average
    reward when 0, else discounted with ``γ = exp(−βΔt)`` per step."""

    dt: float = 0.05
    sigma: float = 0.75
    q1: float = 1.5
    q2: float = 0.5
    target: tuple[float, float] = (0.5, -0.5)
    discount_rate: float = 0.0

    @property
    def q(self) -> float:
        return self.q1 + self.q2

    @property
    def gamma(self) -> float:
        """The per-step discount factor (1: average reward)."""
        return float(np.exp(-self.discount_rate * self.dt))

    @property
    def h(self) -> np.ndarray:
        return np.asarray(self.target, dtype=np.float64)

    def tracked_point(self, mean: np.ndarray) -> np.ndarray:
        """z = (q₁h + q₂m)/(q₁ + q₂): where the stage cost is lowest given the mean m."""
        return (self.q1 * self.h + self.q2 * np.asarray(mean, dtype=np.float64)) / self.q


# ----------------------------------------------------------------------------- stationary
@dataclass(frozen=True)
class StationaryEquilibrium:
    """The stationary mean-field equilibrium: every agent plays ``u = −gain·(x − offset)``;
    the population is then N(mean, variance·I)."""

    gain: float  # K
    offset: np.ndarray  # c = h
    mean: np.ndarray
    variance: float  # per coordinate
    value_curvature: float  # P: the value is −P|x − z|² + const (per step, undiscounted units)
    gamma: float

    def actions(self, positions: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, -self.gain * (positions - self.offset))


def riccati_gain(model: LQModel) -> tuple[float, float]:
    """``(P, K)``: the scalar Riccati fixed point of the tracking problem and its gain.

    Average reward (γ = 1): ``P = (QΔt + √(Q²Δt² + 2Q))/2``, ``K = Q/P``. Discounted:
    the positive root of ``γΔt·P² + ((1 − γ)/2 − γQΔt²)·P − QΔt/2 = 0`` and
    ``K = γP/(½ + γΔtP)``.

    >>> round(riccati_gain(LQModel())[1], 5)
    1.9025
    """
    dt, q, gamma = model.dt, model.q, model.gamma
    a2 = gamma * dt
    a1 = (1.0 - gamma) / 2.0 - gamma * q * dt * dt
    a0 = -q * dt / 2.0
    p = (-a1 + np.sqrt(a1 * a1 - 4.0 * a2 * a0)) / (2.0 * a2)
    return float(p), float(gamma * p / (0.5 + gamma * dt * p))


def closed_loop_variance(gain: float, model: LQModel) -> float:
    """Stationary variance per coordinate of ``x' = x − KΔt(x − c) + σ√Δt ε``:
    ``σ²/(K(2 − KΔt))`` (infinite unless 0 < KΔt < 2)."""
    kdt = gain * model.dt
    if not 0.0 < kdt < 2.0:
        return float("inf")
    return model.sigma**2 / (gain * (2.0 - kdt))


def stationary_equilibrium(model: LQModel) -> StationaryEquilibrium:
    """The stationary equilibrium (Riccati fixed point + mean consistency, see the module).

    >>> eq = stationary_equilibrium(LQModel())
    >>> round(eq.variance, 4), eq.mean.tolist()
    (0.1552, [0.5, -0.5])
    """
    if model.q1 <= 0:
        raise ValueError(f"q1 must be > 0 for a unique stationary mean, got {model.q1}")
    p, gain = riccati_gain(model)
    # mean consistency m = z(m) = (q1 h + q2 m)/Q  =>  m = h when q1 > 0
    mean = model.h.copy()
    return StationaryEquilibrium(gain, mean.copy(), mean, closed_loop_variance(gain, model), p,
                                 model.gamma)


# ----------------------------------------------------------------------------- finite horizon
@dataclass(frozen=True)
class FiniteHorizonEquilibrium:
    """The equilibrium of an episode of ``horizon`` steps: at step t every agent plays
    ``u = −gains[t]·x + intercepts[t]``; the population's mean and variance per coordinate
    before step t are ``means[t]`` and ``variances[t]`` (t = 0 … horizon)."""

    gains: np.ndarray  # (T,)
    intercepts: np.ndarray  # (T, 2)
    means: np.ndarray  # (T + 1, 2)
    variances: np.ndarray  # (T + 1,)

    def actions(self, t: int, positions: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, -self.gains[t] * positions + self.intercepts[t])


def backward_riccati(model: LQModel, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """``(P, d)``: value curvatures ``P[t]`` (t = 0 … T, ``P[T] = 0``: no terminal reward)
    and the contraction ``d[t] = 1/(1 + 2γΔtP[t+1])`` of step t (t < T).

    The value before step t is ``−(P[t]x² + 2s[t]x + const)`` per coordinate, with
    ``P[t] = QΔt + γP[t+1]·d[t]``; the optimal gain is ``K[t] = 2γP[t+1]·d[t]``."""
    dt, q, gamma = model.dt, model.q, model.gamma
    p = np.zeros(horizon + 1)
    d = np.empty(horizon)
    for t in range(horizon - 1, -1, -1):
        d[t] = 1.0 / (1.0 + 2.0 * gamma * dt * p[t + 1])
        p[t] = q * dt + gamma * p[t + 1] * d[t]
    return p, d


def finite_horizon_equilibrium(
    model: LQModel, horizon: int, init_mean: ArrayLike, init_variance: float
) -> FiniteHorizonEquilibrium:
    """The mean-field equilibrium of ``horizon`` steps from N(init_mean, init_variance·I).

    Per coordinate the offsets s[t] (linear part of the value) and the means m[t] satisfy

    * backward: ``s[T] = 0``, ``s[t] = −(q₁h + q₂m[t])Δt + γ d[t] s[t+1]``;
    * forward: ``m[0]`` given, ``m[t+1] = (1 − K[t]Δt) m[t] − 2γΔt d[t] s[t+1]``

    (the best response is ``u = −K[t]x − 2γ d[t] s[t+1]``): a linear system in
    (s, m), solved exactly once for both coordinates.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    dt, gamma = model.dt, model.gamma
    p, d = backward_riccati(model, horizon)
    gains = 2.0 * gamma * p[1:] * d
    t_count = horizon
    # unknowns: s[1..T-1] (s[0] is not needed, s[T] = 0) and m[1..T-1]; m[T] follows.
    size = 2 * t_count
    system = np.zeros((size, size))
    rhs = np.zeros((size, DIMENSION))
    s_index = np.arange(t_count)  # s[t+1] for t = 0..T-1 at rows 0..T-1 (s[T] row: s=0)
    m_index = t_count + np.arange(t_count)  # m[t] for t = 0..T-1
    h, m0 = model.h, np.asarray(init_mean, dtype=np.float64)
    for t in range(t_count):
        # backward equation for s[t+1] (t+1 = 1..T): s[T] = 0
        row = s_index[t]
        system[row, s_index[t]] = 1.0
        if t + 1 < t_count:
            system[row, m_index[t + 1]] = model.q2 * dt
            system[row, s_index[t + 1]] = -gamma * d[t + 1]
            rhs[row] = -model.q1 * h * dt
        # forward equation for m[t]
        row = m_index[t]
        system[row, m_index[t]] = 1.0
        if t == 0:
            rhs[row] = m0
        else:
            system[row, m_index[t - 1]] = -(1.0 - gains[t - 1] * dt)
            system[row, s_index[t - 1]] = 2.0 * gamma * dt * d[t - 1]
    solution = np.linalg.solve(system, rhs)
    s_next, means = solution[:t_count], solution[t_count:]
    intercepts = -2.0 * gamma * d[:, None] * s_next
    last = (1.0 - gains[-1] * dt) * means[-1] + intercepts[-1] * dt
    variances = np.empty(horizon + 1)
    variances[0] = init_variance
    for t in range(horizon):
        variances[t + 1] = (1.0 - gains[t] * dt) ** 2 * variances[t] + model.sigma**2 * dt
    return FiniteHorizonEquilibrium(gains, intercepts, np.vstack([means, last]), variances)


# ----------------------------------------------------------------------------- linear policies
@dataclass(frozen=True)
class LinearPolicy:
    """``u = −gain·(x − offset)``: ``gain`` a 2×2 matrix (a scalar K means K·I, a pair the
    diagonal), ``offset`` the point the policy steers to (its rest point)."""

    gain: np.ndarray
    offset: np.ndarray

    @classmethod
    def of(cls, gain: ArrayLike, offset: ArrayLike) -> LinearPolicy:
        k = np.asarray(gain, dtype=np.float64)
        if k.ndim == 0:
            k = k * np.eye(DIMENSION)
        elif k.shape == (DIMENSION,):
            k = np.diag(k)
        if k.shape != (DIMENSION, DIMENSION) or not np.isfinite(k).all():
            raise ValueError(f"gain must be finite: a scalar, a pair or a 2x2 matrix, got {gain!r}")
        c = np.broadcast_to(np.asarray(offset, dtype=np.float64), (DIMENSION,)).copy()
        if not np.isfinite(c).all():
            raise ValueError(f"offset must be a finite point in R^2, got {offset!r}")
        return cls(k, c)

    @classmethod
    def affine(cls, gain: ArrayLike, intercept: ArrayLike) -> LinearPolicy:
        """From ``u = −gain·x + intercept`` (offset = gain⁻¹·intercept; a singular gain has
        no rest point and gets an infinite offset)."""
        policy = cls.of(gain, 0.0)
        b = np.asarray(intercept, dtype=np.float64)
        try:
            offset = np.linalg.solve(policy.gain, b)
        except np.linalg.LinAlgError:
            offset = np.full(DIMENSION, np.inf)
        return cls(policy.gain, offset)

    def actions(self, positions: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, -(positions - self.offset) @ self.gain.T)


def as_linear_policy(spec: object) -> LinearPolicy | None:
    """A :class:`LinearPolicy` from the forms a learner's ``policy()`` may take — a
    LinearPolicy, ``{"gain": K, "offset": c}``, a pair ``(K, c)``, or any object with
    ``gain`` and ``offset`` attributes — else None."""
    if isinstance(spec, LinearPolicy):
        return spec
    if isinstance(spec, dict) and "gain" in spec and "offset" in spec:
        return LinearPolicy.of(spec["gain"], spec["offset"])
    if isinstance(spec, tuple) and len(spec) == 2:
        return LinearPolicy.of(*spec)
    if hasattr(spec, "gain") and hasattr(spec, "offset"):
        return LinearPolicy.of(spec.gain, spec.offset)
    return None


def policy_cost(
    model: LQModel, policy: LinearPolicy, mean_field: np.ndarray, start_mean: np.ndarray,
    start_variance: np.ndarray,
) -> float:
    """The cost per unit time of one agent playing ``policy`` while the mean stays at
    ``mean_field``: the long-run average (γ = 1), else the discounted cost from an
    N(start_mean, start_variance) start, normalized by (1 − γ)/Δt. Infinite when the policy
    does not stabilize the agent (or, discounted, when γ·ρ(A)² ≥ 1)."""
    dt, gamma = model.dt, model.gamma
    a = np.eye(DIMENSION) - dt * policy.gain
    if not np.isfinite(policy.offset).all():
        return float("inf")
    cost = dt * (model.q * np.eye(DIMENSION) + 0.5 * policy.gain.T @ policy.gain)
    y_target = model.tracked_point(mean_field) - policy.offset  # the agent's y = x − offset
    constant = dt * (model.q1 * np.sum((policy.offset - model.h) ** 2)
                     + model.q2 * np.sum((policy.offset - mean_field) ** 2))
    linear = -dt * model.q * y_target  # stage cost = yᵀ cost y + 2 linearᵀ y + constant
    noise = model.sigma**2 * dt * np.eye(DIMENSION)
    if gamma == 1.0:
        if not lqr.is_stable(a):
            return float("inf")
        covariance = lqr.stationary_covariance(a, noise)
        return float(np.trace(covariance @ cost) + constant) / dt
    if lqr.spectral_radius(a) ** 2 * gamma >= 1.0:
        return float("inf")
    p = lqr.stein(a, cost, gamma)
    s = np.linalg.solve(np.eye(DIMENSION) - gamma * a.T, linear)
    r = (constant + gamma * np.trace(p @ noise)) / (1.0 - gamma)
    y0 = np.asarray(start_mean, dtype=np.float64) - policy.offset
    start = np.diag(np.broadcast_to(start_variance, (DIMENSION,)))
    expected = float(y0 @ p @ y0 + np.trace(p @ start) + 2.0 * s @ y0 + r)
    return expected * (1.0 - gamma) / dt


def population_moments(model: LQModel, policy: LinearPolicy) -> tuple[np.ndarray, np.ndarray]:
    """The stationary mean (the offset) and per-coordinate variances of a population that
    plays ``policy``; infinite variances when it does not stabilize."""
    a = np.eye(DIMENSION) - model.dt * policy.gain
    if not lqr.is_stable(a):
        return policy.offset, np.full(DIMENSION, np.inf)
    covariance = lqr.stationary_covariance(a, model.sigma**2 * model.dt * np.eye(DIMENSION))
    return policy.offset, np.diag(covariance).copy()


def best_response(model: LQModel, mean_field: np.ndarray) -> LinearPolicy:
    """The exact best response to a mean held at ``mean_field``: ``u = −K*(x − z)``."""
    _, gain = riccati_gain(model)
    return LinearPolicy.of(gain, model.tracked_point(mean_field))


def exploitability(model: LQModel, policy: LinearPolicy) -> float:
    """What one agent gains per unit time by best-responding when the whole population plays
    ``policy`` and sits at its stationary distribution (infinite if the policy does not
    stabilize the population).

    >>> model = LQModel()
    >>> eq = stationary_equilibrium(model)
    >>> exploitability(model, LinearPolicy.of(eq.gain, eq.offset)) < 1e-12
    True
    >>> round(exploitability(model, LinearPolicy.of(eq.gain, [0.0, 0.0])), 6)  # 1.5²/2 · ½
    0.5625
    """
    mean, variances = population_moments(model, policy)
    if not (np.isfinite(mean).all() and np.isfinite(variances).all()):
        return float("inf")
    played = policy_cost(model, policy, mean, mean, variances)
    best = policy_cost(model, best_response(model, mean), mean, mean, variances)
    return max(played - best, 0.0)
