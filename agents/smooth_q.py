"""Smooth (Boltzmann) Q-learning (Leonardos, Piliouras & Spendlove, NeurIPS 2021, §3).

Every agent k keeps one value per action and plays the Boltzmann (softmax) distribution of
those values at its exploration rate, or temperature, T_k:

    Q_k ← (1 − α)·Q_k + α·r_k,        x_k = softmax(Q_k / T_k).

LPS write the update for the payoff vector r_k of all of k's actions against the others' play;
in continuous time it becomes the Q-learning dynamics of their equation (7), whose rest points
with every T_k > 0 are the quantal-response equilibria (QRE) and which converge to the unique
QRE in weighted zero-sum polymatrix games (their Theorem 4.1; the integrator lives in
:mod:`populace.agents.smooth_q_dynamics`). Where r_k comes from is the ``feedback``:

* ``"expected"``: the game tells every agent its payoff vector r_k(x_−k) against the others'
  mixed strategies (the ZSPG's ``feedback="expected"``; the action is then the mixed strategy
  itself, a point of the simplex). The learner reads r_k from the observation *after* the step,
  ``transition.next_observations``: that vector is computed from the strategies just played,
  x(t), so the update is LPS's Q(t + 1) = (1 − α)·Q(t) + α·r(x(t)). The observation before the
  step belongs to the previous round, one round stale (and to nothing at a reset).
* ``"sampled"``: the agent sees only the payoff of the action a it drew; the payoff vector is
  replaced by its importance-weighted estimate r̂_ki = 1{a = i}·reward / x_ki, which is
  unbiased (E r̂_k = r_k) under the policy x_k the action was drawn from. The update applies to
  every action, so the values of unplayed actions shrink by (1 − α) (*ours*: LPS analyse the
  expected update only). With ``estimate="observed"`` the agent instead reads the payoff
  vector from ``next_observations``, for games that show every agent what each of its actions
  would have earned against the others' realized actions (the ZSPG does, in both modes): also
  unbiased, and free of the importance weights' variance.

**Exploration schedules** (LPS §5 plot two, after Bai & Jin's explore-then-exploit and Smith &
Topin's one-cycle learning rate, and do not give formulas; the formulas are *ours*, piecewise
linear as in their Appendix C.5 experiment). With t the number of updates so far, H the
``horizon`` and T the agent's ``temperature``: T_k(t) = T·f(t) with

* ``constant``: f(t) = 1.
* ``ete`` (explore then exploit): f(t) = max(0, 1 − t/H), from T down to 0 at t = H.
* ``clr1`` (one cycle): with u = t/H and s the ``start_fraction``, f = s + (1 − s)·2u for
  u ≤ ½ (from s·T up to T at mid-horizon), f = 2·(1 − u) for ½ < u ≤ 1, 0 after.

At T_k = 0 the policy is the argmax of Q_k with ties split evenly (LPS Remark 1's best
response); the softmax is computed from Q − max Q, so it never overflows or returns NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

from populace.agents.base import (
    TabularLearner,
    Transition,
    check_round,
    checkpoint_array,
    pick_group,
)
from populace.envs.core import PopulationCore
from populace.envs.policies import sample_actions
from populace.envs.validation import check_choice, check_int, check_number

SCHEDULES = ("constant", "ete", "clr1")
FEEDBACKS = ("sampled", "expected")
ESTIMATES = ("importance", "observed")

__all__ = ["ESTIMATES", "FEEDBACKS", "SCHEDULES", "SmoothQLearner", "boltzmann", "schedule_factor"]


def schedule_factor(
    schedule: str, rounds: ArrayLike, horizon: int | None = None, start_fraction: float = 0.1
) -> np.ndarray:
    """The factor f(t) of an exploration schedule, T_k(t) = T_k·f(t), at ``rounds`` t ≥ 0.

    See the module's docstring for the formulas; ``horizon`` H is needed by ``ete`` and
    ``clr1``. Vectorized over ``rounds``.

    >>> schedule_factor("ete", [0, 50, 100, 150], horizon=100).tolist()
    [1.0, 0.5, 0.0, 0.0]
    >>> schedule_factor("clr1", [0, 25, 50, 75, 100], horizon=100, start_fraction=0.5).tolist()
    [0.5, 0.75, 1.0, 0.5, 0.0]
    """
    check_choice("schedule", schedule, SCHEDULES)
    t = np.asarray(rounds, dtype=np.float64)
    if schedule == "constant":
        return np.ones_like(t)
    if horizon is None:
        raise ValueError(f"horizon is needed by the {schedule!r} schedule; got None")
    u = t / check_int("horizon", horizon, minimum=1)
    if schedule == "ete":
        return np.clip(1.0 - u, 0.0, 1.0)
    rising = start_fraction + (1.0 - start_fraction) * 2.0 * u
    return np.where(u <= 0.5, rising, np.clip(2.0 * (1.0 - u), 0.0, 1.0))


def boltzmann(values: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """Row-wise softmax(values / T), ``(n, m)`` from ``(n, m)`` values and ``(n,)`` T ≥ 0.

    Computed from values − row max, so nothing overflows; a row with T = 0 (or so small that
    only the maxima survive) is the argmax with ties split evenly.

    >>> boltzmann(np.array([[1.0, 1.0, 0.0], [0.0, 1e3, 0.0]]), np.array([0.0, 1e-8])).tolist()
    [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]
    """
    if values.ndim == 2 and values.shape[1] == 2:
        return _boltzmann_pair(values, temperatures)
    shifted = values - values.max(axis=1, keepdims=True)  # ≤ 0, with 0 at the maxima
    exploring = temperatures > 0
    with np.errstate(over="ignore", divide="ignore"):  # −large/tiny → −inf → exp gives 0
        scaled = shifted / np.where(exploring, temperatures, 1.0)[:, None]
    weights = np.where(exploring[:, None], np.exp(scaled), shifted == 0.0)
    return cast(np.ndarray, weights / weights.sum(axis=1, keepdims=True))


def _boltzmann_pair(values: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """:func:`boltzmann` for two actions, column by column: the same operations on the same
    numbers (a maximum of two, two exponentials, a sum of two), so the same results bit for
    bit, without numpy's slow reductions along rows two entries wide."""
    first, second = values[:, 0], values[:, 1]
    top = np.maximum(first, second)
    out = np.empty(values.shape)
    np.subtract(first, top, out=out[:, 0])
    np.subtract(second, top, out=out[:, 1])
    exploring = temperatures > 0
    if exploring.all():
        with np.errstate(over="ignore", divide="ignore"):
            out /= temperatures[:, None]
        np.exp(out, out=out)
    else:
        with np.errstate(over="ignore", divide="ignore"):
            scaled = out / np.where(exploring, temperatures, 1.0)[:, None]
        out = np.where(exploring[:, None], np.exp(scaled), out == 0.0)
    total = out[:, 0] + out[:, 1]
    out /= total[:, None]
    return out


class SmoothQLearner(TabularLearner):
    """A population of smooth (Boltzmann) Q-learners (LPS §3), vectorized over the agents.

    Args:
        n_agents: number of agents (≥ 1).
        n_actions: number of actions m (≥ 2).
        alpha: learning rate α in (0, 1].
        temperature: exploration rate T ≥ 0 (the peak of ``ete`` and ``clr1``): one number
            for every agent, or one per agent.
        schedule: ``"constant"``, ``"ete"`` or ``"clr1"`` (module docstring), for every agent
            or one name per agent.
        horizon: rounds H over which ``ete`` and ``clr1`` run (needed by them).
        start_fraction: where ``clr1`` starts, as a fraction of T, in [0, 1].
        feedback: ``"sampled"`` (Discrete actions; importance-weighted realized payoffs) or
            ``"expected"`` (the action is the mixed strategy; payoff vectors observed).
        estimate: where r comes from: ``"importance"`` (the weighted realized payoff; only
            with sampled feedback) or ``"observed"`` (the payoff vectors in
            ``next_observations``). Default: importance when sampled, observed when expected.
        initial_scale: initial values Q_ki are drawn N(0, scale²) from the learner's
            generator (*ours*: random starting strategies); 0 (default) starts uniform.
        seed: seed of the learner's own generator.

    Attributes:
        values: Q, ``(n_agents, n_actions)``.
        t: number of updates so far (the clock of the schedules).

    >>> learner = SmoothQLearner(2, 2, alpha=0.5, temperature=1.0, feedback="expected")
    >>> learner.update(Transition(None, learner.act(), np.zeros(2), np.array([[2.0, 0.0]] * 2)))
    >>> learner.values.tolist(), learner.policy().round(3).tolist()
    ([[1.0, 0.0], [1.0, 0.0]], [[0.731, 0.269], [0.731, 0.269]])
    """

    def __init__(
        self,
        n_agents: int,
        n_actions: int,
        *,
        alpha: float = 0.1,
        temperature: float | Sequence[float] = 0.1,
        schedule: str | Sequence[str] = "constant",
        horizon: int | None = None,
        start_fraction: float = 0.1,
        feedback: str = "sampled",
        estimate: str | None = None,
        initial_scale: float = 0.0,
        seed: int | None = None,
    ) -> None:
        n_agents = check_int("n_agents", n_agents, minimum=1)
        n_actions = check_int("n_actions", n_actions, minimum=2)
        super().__init__(n_agents, n_actions, seed=seed)
        self.alpha = check_number("alpha", alpha, low=0.0, high=1.0, low_open=True)
        self.temperature = _per_agent_numbers("temperature", temperature, n_agents)
        self.schedule = _per_agent_schedules(schedule, n_agents)
        self.horizon = None if horizon is None else check_int("horizon", horizon, minimum=1)
        self.start_fraction = check_number("start_fraction", start_fraction, low=0.0, high=1.0)
        names = self.schedule if isinstance(self.schedule, list) else [self.schedule]
        if self.horizon is None and set(names) - {"constant"}:
            raise ValueError(f"horizon is needed by the schedules {sorted(set(names))}")
        self.feedback = check_choice("feedback", feedback, FEEDBACKS)
        default = "importance" if self.feedback == "sampled" else "observed"
        self.estimate = check_choice("estimate", default if estimate is None else estimate,
                                     ESTIMATES)
        if self.feedback == "expected" and self.estimate == "importance":
            raise ValueError("estimate='importance' needs feedback='sampled' (sampled actions)")
        self.initial_scale = check_number("initial_scale", initial_scale, low=0.0)
        if self.feedback == "expected":
            self.action_space = spaces.Box(0.0, 1.0, (n_actions,), dtype=np.float64)
        self._peak = np.broadcast_to(np.asarray(self.temperature, dtype=np.float64), (n_agents,))
        codes = np.array([SCHEDULES.index(name) for name in names], dtype=np.int64)
        self._codes = np.broadcast_to(codes, (n_agents,))
        self._used = set(names)
        self.t = 0
        self.values = self.initial_scale * self.rng.standard_normal((n_agents, n_actions))
        self.probabilities = boltzmann(self.values, self.temperatures())

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> SmoothQLearner:
        """A learner for ``group`` of ``core``: ``Discrete(m)`` actions give sampled feedback,
        ``Box(0, 1, (m,))`` actions (mixed strategies) expected feedback."""
        chosen = pick_group(core, group)
        space = chosen.action_space
        if isinstance(space, spaces.Discrete) and int(space.start) == 0:
            feedback, n_actions = "sampled", int(space.n)
        elif (isinstance(space, spaces.Box) and len(space.shape) == 1
              and (space.low == 0).all() and (space.high == 1).all()):
            feedback, n_actions = "expected", int(space.shape[0])
        else:
            raise ValueError(
                f"smooth Q-learning needs Discrete(m) or Box(0, 1, (m,)) actions; group "
                f"{chosen.name!r} has {space}"
            )
        given = kwargs.pop("feedback", feedback)
        if given != feedback:
            raise ValueError(f"feedback must be {feedback!r} for {space}, got {given!r}")
        build: Callable[..., SmoothQLearner] = cls  # its keywords (Learner.for_game)
        learner = build(chosen.size, n_actions, feedback=feedback, seed=seed, **kwargs)
        learner.group = chosen.name
        return learner

    # ------------------------------------------------------------------ playing
    def temperatures(self, t: int | None = None) -> np.ndarray:
        """Every agent's exploration rate T_k at round ``t`` (default: now), ``(n_agents,)``."""
        t = self.t if t is None else t
        factors = np.array([
            float(schedule_factor(name, t, self.horizon, self.start_fraction))
            if name in self._used else 0.0 for name in SCHEDULES
        ])
        return cast(np.ndarray, self._peak * factors[self._codes])

    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        """Sampled feedback: one action per agent drawn from x_k. Expected: x_k itself."""
        if self.feedback == "expected":
            return self.probabilities.copy()
        return sample_actions(self.probabilities, self.rng).astype(np.int64)

    def policy(self) -> np.ndarray:
        """x_k = softmax(Q_k / T_k) of every agent, ``(n_agents, n_actions)``."""
        return self.probabilities.copy()

    # ------------------------------------------------------------------ learning
    def update(self, transition: Transition) -> None:
        """Q ← (1 − α)·Q + α·r with the feedback's r; then the policy at the next round's T."""
        payoffs = self.payoff_vectors(transition)
        self.values *= 1.0 - self.alpha
        self.values += self.alpha * payoffs
        self.t += 1
        self.probabilities = boltzmann(self.values, self.temperatures())

    def payoff_vectors(self, transition: Transition) -> np.ndarray:
        """The r of the update, ``(n_agents, n_actions)``: the observed payoff vectors or the
        importance-weighted estimates (``estimate``)."""
        n, m = self.n_agents, self.n_actions
        if self.estimate == "observed":
            observed = np.asarray(transition.next_observations)
            if observed.shape != (n, m) or observed.dtype.kind not in "fiu":
                raise ValueError(
                    f"estimate='observed' reads the payoff vectors r_k from next_observations, "
                    f"real numbers of shape ({n}, {m}); got {observed.dtype} {observed.shape}"
                )
            finite = np.isfinite(observed).all(axis=1)
            if not finite.all():
                bad = int(np.flatnonzero(~finite)[0])
                raise ValueError(f"agent {bad} observed non-finite payoffs {observed[bad]}")
            return observed.astype(np.float64, copy=False)
        actions, rewards = check_round(n, m, transition.actions, transition.rewards)
        agents = np.arange(n)
        chance = self.probabilities[agents, actions]
        if not (chance > 0).all():
            bad = int(np.flatnonzero(chance <= 0)[0])
            raise ValueError(
                f"agent {bad} played {int(actions[bad])}, which its policy gives probability 0"
            )
        estimates = np.zeros((n, m))
        estimates[agents, actions] = rewards / chance
        return estimates

    # ------------------------------------------------------------------ state
    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "alpha": self.alpha, "temperature": self.temperature,
            "schedule": self.schedule, "horizon": self.horizon,
            "start_fraction": self.start_fraction, "feedback": self.feedback,
            "estimate": self.estimate,
            "initial_scale": self.initial_scale,
        }

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"values": self.values.copy(), "t": np.array(self.t, dtype=np.int64)}

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        values = checkpoint_array("values", arrays, (self.n_agents, self.n_actions), np.float64)
        t = int(checkpoint_array("t", arrays, (), np.int64))
        if not np.isfinite(values).all():
            raise ValueError("checkpoint 'values' must be finite")
        if t < 0:
            raise ValueError(f"checkpoint 't' must be >= 0, got {t}")
        self.values, self.t = values, t
        self.probabilities = boltzmann(self.values, self.temperatures())


def _per_agent_numbers(name: str, value: Any, n_agents: int) -> float | list[float]:
    """A temperature ≥ 0 for every agent, or a list of ``n_agents`` of them (JSON-able)."""
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        if len(value) != n_agents:
            raise ValueError(f"{name} must be one number or {n_agents} numbers, got {len(value)}")
        return [check_number(f"{name}[{k}]", v, low=0.0) for k, v in enumerate(value)]
    return check_number(name, value, low=0.0)


def _per_agent_schedules(value: Any, n_agents: int) -> str | list[str]:
    """A schedule name for every agent, or a list of ``n_agents`` of them."""
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        if len(value) != n_agents:
            raise ValueError(f"schedule must be one name or {n_agents} names, got {len(value)}")
        return [check_choice(f"schedule[{k}]", v, SCHEDULES) for k, v in enumerate(value)]
    return check_choice("schedule", value, SCHEDULES)
