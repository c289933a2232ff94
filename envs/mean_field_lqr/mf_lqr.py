"""Mean-field linear-quadratic regulator (Mguni, Jennings & Munoz de Cote, AAMAS 2018, Exp. 3;
Bardi 2012).

| Import             | `from populace.envs import mf_lqr_v0`                             |
|--------------------|-------------------------------------------------------------------|
| Actions            | Box(-action_bound, action_bound, (2,), float64): a velocity       |
| Parallel API       | Yes                                                               |
| Manual Control     | No                                                                |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`                 |
| Number of agents   | `n_agents` (default 100)                                          |
| Action shape       | (2,)                                                              |
| Observation shape  | (4,): own position, then the population mean (float64)            |
| Gymnasium ids      | `populace/MFLQR-v0` (focal and vector views)                      |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, PopulationCore, Step
from populace.envs.faces import faces
from populace.envs.mean_field_lqr.finite_n import finite_n_gap
from populace.envs.mean_field_lqr.metrics import MFLQRMetrics
from populace.envs.mean_field_lqr.picture import positions_image, positions_text
from populace.envs.mean_field_lqr.reference import (
    FiniteHorizonEquilibrium,
    LQModel,
    StationaryEquilibrium,
    finite_horizon_equilibrium,
    stationary_equilibrium,
)
from populace.envs.params import keywords_from, settle
from populace.envs.policies import PolicySpec
from populace.envs.sizes import check_size
from populace.envs.validation import check_number, check_point

DIMENSION = 2


def as_plane(points: np.ndarray) -> np.ndarray:
    """``(n, 2)`` float64 points as ``(n,)`` complex numbers x + iy (a view when contiguous)."""
    return np.ascontiguousarray(points, dtype=np.float64).view(np.complex128).reshape(-1)


def plane_mean(points: np.ndarray) -> np.ndarray:
    """The mean of complex points, as a ``(2,)`` float64 array."""
    total = points.sum() / len(points)
    return np.array([total.real, total.imag])


def squared_norms(points: np.ndarray) -> np.ndarray:
    """``|p|²`` of each complex point (``points`` is a temporary: it is overwritten)."""
    pairs = points.view(np.float64).reshape(-1, 2)
    pairs *= pairs
    return pairs[:, 0] + pairs[:, 1]


@dataclass(frozen=True, kw_only=True)
class MFLQRParams:
    """The game's keywords and defaults, checked (see :class:`MFLQRCore`'s Arguments table);
    the model's constants default to :class:`LQModel`'s."""

    n_agents: int = 100
    dt: float = LQModel.dt
    sigma: float = LQModel.sigma
    q1: float = LQModel.q1
    q2: float = LQModel.q2
    target: tuple[float, float] = LQModel.target
    discount_rate: float = LQModel.discount_rate
    init_mean: tuple[float, float] = (0.0, 0.0)
    init_std: float = 0.5
    action_bound: float = 10.0
    max_cycles: int = 200
    render_mode: str | None = None

    def __post_init__(self) -> None:
        settle(
            self,
            n_agents=check_size("n_agents", self.n_agents, minimum=1),
            dt=check_number("dt", self.dt, low=0.0, high=1.0, low_open=True),
            sigma=check_number("sigma", self.sigma, low=0.0),
            q1=check_number("q1", self.q1, low=0.0, low_open=True),
            q2=check_number("q2", self.q2, low=0.0),
            target=check_point("target", self.target),
            discount_rate=check_number("discount_rate", self.discount_rate, low=0.0),
            init_mean=check_point("init_mean", self.init_mean),
            init_std=check_number("init_std", self.init_std, low=0.0),
            action_bound=check_number("action_bound", self.action_bound, low=0.0,
                                      low_open=True),
        )


def check_reference_finite(lq: LQModel) -> None:
    """Refuse, naming the parameters, a model whose reference equilibrium is not finite (a
    weight such as ``q2=1e308`` overflows the Riccati recursion; the metrics, and every error
    after them, would otherwise be NaN)."""
    try:
        with np.errstate(all="ignore"):
            reference = stationary_equilibrium(lq)
            finite = bool(np.isfinite([reference.gain, reference.variance,
                                       reference.value_curvature]).all())
    except (OverflowError, ZeroDivisionError, FloatingPointError):
        finite = False
    if finite:
        return
    names = ("dt", "sigma", "q1", "q2", "discount_rate")
    changed = [f"{n}={getattr(lq, n)!r}" for n in names if getattr(lq, n) != getattr(LQModel, n)]
    named = ", ".join(changed) or "these parameters"
    raise ValueError(
        f"mf_lqr_v0: the reference equilibrium is not finite for {named} (its gain or "
        "variance overflows); use smaller cost weights or noise"
    )


class MFLQRCore(PopulationCore):
    """## Description

    Every agent steers a point in the plane (Mguni, Jennings & Munoz de Cote, *Decentralised
    learning in systems with many, many strategic agents*, AAMAS 2018, Experiment 3; the
    linear-quadratic mean-field game of Bardi, *Explicit solutions of some linear-quadratic
    mean field games*, 2012). An agent wants to be near a target h and near the population's
    mean m̄, and pays for moving fast. Time runs in steps of Δt (`dt`), the discretization is
    ours (SPEC §2.7):

        x ← x + u·Δt + σ·√Δt·ε,    ε ~ N(0, I₂) independent across agents and steps.

    As Δt → 0 the stationary equilibrium tends to Bardi's: the population is N(h, σ²/(2κ)·I)
    with κ = √(2(q₁ + q₂)) (mean (0.5, −0.5) and variance 0.140625 for the defaults, the
    paper's B1 column). For Δt > 0 the exact discrete-time equilibrium is
    :meth:`reference_equilibrium` (variance 0.1552 at Δt = 0.05).

    ## Action Space

    `Box(-action_bound, action_bound, (2,), float64)`: the velocity u. An action outside the
    box, NaN or infinite is refused with an error naming the agent; nothing is clipped.

    ## Observation Space

    `Box(-inf, inf, (4,), float64)`: the agent's own position x (2 numbers), then the
    population mean m̄ (2 numbers, the same for everyone), both before the agent acts.

    ## Rewards

    `−(q₁|x − h|² + q₂|x − m̄|² + ½|u|²)·Δt`, at the position and mean before the move and
    the chosen u (the mean includes the agent itself).

    ## Starting State

    Positions i.i.d. N(`init_mean`, `init_std`²·I), drawn from the core's generator.

    ## Episode End

    1. Truncation: after `max_cycles` steps (Δt·`max_cycles` units of time). The game never
       terminates.

    ## Metrics

    `mean_x`, `mean_y`, `variance` — the population's mean and its variance per coordinate,
    averaged over the window's steps (before each move); `mean_error` = |mean − m*| and
    `variance_error` = |variance − v*| against the stationary equilibrium; `exploitability`
    of the learners' policy per unit time (see
    :class:`populace.envs.mean_field_lqr.metrics.MFLQRMetrics`
    for the policy forms it scores, and the least-squares fit used otherwise).

    ## Reference equilibria

    :meth:`reference_equilibrium` (stationary: Riccati fixed point + mean consistency, average
    reward, or discounted with γ = exp(−βΔt) when `discount_rate` β > 0),
    :meth:`finite_horizon_reference` (an episode of `max_cycles` steps from the starting
    distribution: time-varying gains), :meth:`exploitability` of any linear policy and
    :meth:`finite_population_gap` (the mean-field policy played by N agents; `populace
    finite-n mf_lqr_v0`). The default population policy of the faces is the stationary
    equilibrium u = −K*(x − h), clipped to the action box (it rarely binds).

    ## Arguments

    | Parameter       | Type      | Default       | Description                                  |
    |-----------------|-----------|---------------|----------------------------------------------|
    | `n_agents`      | int       | 100           | population size (≥ 1)                        |
    | `dt`            | float     | 0.05          | time step Δt, in (0, 1]                      |
    | `sigma`         | float     | 0.75          | noise σ (≥ 0)                                |
    | `q1`            | float     | 1.5           | weight of the distance to the target (> 0)   |
    | `q2`            | float     | 0.5           | weight of the distance to the mean (≥ 0)     |
    | `target`        | pair      | (0.5, −0.5)   | the target h                                 |
    | `discount_rate` | float     | 0.0           | β ≥ 0 of the learners' criterion (0: average)|
    | `init_mean`     | pair      | (0.0, 0.0)    | mean of the starting positions               |
    | `init_std`      | float     | 0.5           | their standard deviation per coordinate      |
    | `action_bound`  | float     | 10.0          | the action box's half-width (> 0)            |
    | `max_cycles`    | int       | 200           | steps per episode                            |
    | `render_mode`   | str, None | None          | `"ansi"`, `"rgb_array"` or `"human"`         |

    q₁ + q₂ = 2 gives κ = 2, SPEC's constants; the equilibrium mean is h for any split with
    q₁ > 0.

    >>> from populace.envs import mf_lqr_v0
    >>> core = mf_lqr_v0.MFLQRCore(n_agents=2)
    >>> observations = core.reset(seed=0)
    >>> observations["agent"].shape
    (2, 4)
    >>> step = core.step({"agent": np.zeros((2, 2))})
    >>> x, m = observations["agent"][0, :2], observations["agent"][0, 2:]
    >>> reward = -(1.5 * np.sum((x - [0.5, -0.5]) ** 2) + 0.5 * np.sum((x - m) ** 2)) * 0.05
    >>> bool(np.isclose(step.rewards["agent"][0], reward))
    True
    >>> eq = core.reference_equilibrium()
    >>> round(eq.gain, 5), round(eq.variance, 4)
    (1.9025, 0.1552)

    ## Vectorized environment

    >>> import gymnasium
    >>> vec = gymnasium.make_vec("populace/MFLQR-v0", num_envs=1000,
    ...                          vectorization_mode="vector_entry_point")
    >>> observations, _ = vec.reset(seed=0)
    >>> observations.shape, vec.single_action_space.shape
    ((1000, 4), (2,))

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "mf_lqr_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 10,
    }
    agent_group = "agent"

    @keywords_from(MFLQRParams)
    def __init__(self, params: MFLQRParams) -> None:
        super().__init__(max_cycles=params.max_cycles, render_mode=params.render_mode)
        self.settings = params
        self.n_agents = params.n_agents
        self.lq = LQModel(dt=params.dt, sigma=params.sigma, q1=params.q1, q2=params.q2,
                          target=params.target, discount_rate=params.discount_rate)
        check_reference_finite(self.lq)
        self.init_mean = np.array(params.init_mean)
        self.init_std = params.init_std
        self.action_bound = params.action_bound
        action_space = spaces.Box(-self.action_bound, self.action_bound, (DIMENSION,),
                                  dtype=np.float64)
        observation_space = spaces.Box(-np.inf, np.inf, (2 * DIMENSION,), dtype=np.float64)
        self.groups = (Group(self.agent_group, self.n_agents, action_space, observation_space),)
        self.state_space = spaces.Box(-np.inf, np.inf, (DIMENSION * self.n_agents,),
                                      dtype=np.float64)
        self.noise_scale = self.lq.sigma * np.sqrt(self.lq.dt)
        self.positions = np.zeros((self.n_agents, DIMENSION))
        self.mean = np.zeros(DIMENSION)

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        draws = self.np_random.standard_normal((self.n_agents, DIMENSION))
        draws *= self.init_std
        draws += self.init_mean
        self.positions = draws
        self.mean = plane_mean(as_plane(draws))
        return {self.agent_group: self._observe()}

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        u = actions[self.agent_group]
        before, mean = self.positions, self.mean
        rewards = self.rewards(before, mean, u)
        # x + uΔt + σ√Δt·ε, on the points as complex numbers: the same numbers as (n, 2)
        # arrays, in fewer passes (no broadcasting over a length-2 axis)
        moved = self.np_random.standard_normal(DIMENSION * self.n_agents).view(np.complex128)
        moved *= self.noise_scale
        moved += as_plane(before)
        moved += as_plane(u) * self.lq.dt
        self.positions = moved.view(np.float64).reshape(self.n_agents, DIMENSION)
        self.mean = plane_mean(moved)
        return Step(observations={self.agent_group: self._observe()},
                    rewards={self.agent_group: rewards}, terminated=False, truncated=False,
                    info={"positions": before, "mean": mean})

    def rewards(self, positions: np.ndarray, mean: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Every agent's stage reward, in the completed-square form
        ``−(Q|x − z|² + ½|u|² + q₁q₂/Q·|h − m̄|²)·Δt`` (Q = q₁ + q₂, z = (q₁h + q₂m̄)/Q),
        which equals the definition with fewer passes over the agents."""
        model = self.lq
        # the scalars in Python floats: the same operations as on the (2,) arrays, bit for bit
        q1, q2, q = model.q1, model.q2, model.q
        (hx, hy), mx, my = model.target, float(mean[0]), float(mean[1])
        z = complex((q1 * hx + q2 * mx) / q, (q1 * hy + q2 * my) / q)  # tracked_point
        dx, dy = hx - mx, hy - my
        constant = q1 * q2 / q * (dx * dx + dy * dy)
        total = squared_norms(as_plane(positions) - z)
        total *= model.q
        total += 0.5 * squared_norms(as_plane(u).copy())
        total += constant
        total *= -model.dt
        return total

    def _observe(self) -> np.ndarray:
        """``[x, y, m̄x, m̄y]`` per agent: a fresh array the caller owns."""
        pairs = np.empty((self.n_agents, 2), dtype=np.complex128)
        pairs[:, 0] = as_plane(self.positions)
        pairs[:, 1] = complex(self.mean[0], self.mean[1])
        return pairs.view(np.float64)

    # ----------------------------------------------------------------- equilibria
    def reference_equilibrium(self) -> StationaryEquilibrium:
        """The stationary mean-field equilibrium the metrics measure against."""
        return stationary_equilibrium(self.lq)

    def finite_horizon_reference(self) -> FiniteHorizonEquilibrium:
        """The equilibrium of one episode: `max_cycles` steps from the starting distribution."""
        return finite_horizon_equilibrium(self.lq, self.max_cycles, self.init_mean,
                                          self.init_std**2)

    def exploitability(self, policy: object) -> float:
        """Per unit time, of a population playing the linear ``policy`` (the forms of
        :func:`populace.envs.mean_field_lqr.reference.as_linear_policy`)."""
        return MFLQRMetrics(self).exploitability_of(policy)

    def finite_population_gap(self, n_agents: int) -> float:
        """Exploitability per unit time of the stationary equilibrium policy played by
        ``n_agents`` agents (:func:`populace.envs.mean_field_lqr.finite_n.finite_n_gap`)."""
        return finite_n_gap(self.lq, n_agents)

    # ----------------------------------------------------------------- declared hooks
    def default_policy(self, group: str) -> PolicySpec:
        """The stationary equilibrium u = −K*(x − h), clipped to the action box."""
        self.group(group)
        equilibrium = self.reference_equilibrium()
        bound = self.action_bound

        def play_equilibrium(observations: Any, rng: np.random.Generator) -> np.ndarray:
            positions = np.asarray(observations)[:, :DIMENSION]
            return cast(np.ndarray, np.clip(equilibrium.actions(positions), -bound, bound))

        return play_equilibrium

    def own_state_size(self, group: str) -> int:
        """The agent's own part of an observation: its position; the population mean follows."""
        return DIMENSION

    def window_metrics(self) -> MFLQRMetrics:
        return MFLQRMetrics(self)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """Every agent's position, flattened: ``[x₀, y₀, x₁, y₁, ...]``."""
        return self.positions.ravel().copy()

    def render_ansi(self) -> str:
        return positions_text(self.positions, self.mean, self.lq.h,
                              f"{self.metadata['name']}  step {self.cycle}  "
                              f"t={self.cycle * self.lq.dt:.2f}  n={self.n_agents}",
                              reference=self.reference_equilibrium())

    def render_rgb(self) -> np.ndarray:
        return positions_image(self.positions, self.mean, self.lq.h,
                               f"STEP {self.cycle}  N={self.n_agents}")

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"positions": self.positions.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        positions = np.array(state["positions"], dtype=np.float64)
        if positions.shape != (self.n_agents, DIMENSION):
            raise ValueError(f"checkpoint positions have shape {positions.shape}, "
                             f"expected ({self.n_agents}, {DIMENSION})")
        self.positions = positions
        self.mean = plane_mean(as_plane(positions))


raw_env, parallel_env, env, focal_env, vector_env = faces(MFLQRCore)
