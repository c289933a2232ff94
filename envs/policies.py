"""Fixed behaviour for the agents a face does not hand to the user.

A *population policy* may be given as

* ``None`` — the game's documented default (:meth:`PopulationCore.default_policy`: its
  reference equilibrium where one exists, else uniform play);
* a probability vector over a discrete action space — every agent samples i.i.d. from it;
* a callable ``policy(observations, rng) -> actions`` over the whole batch of agents (it may
  also declare ``action_probabilities``, :mod:`populace.envs.metrics`, for metrics that
  tabulate policies);
* a learner (anything with ``act(observations)``) controlling exactly that many agents.

All sampling draws from the core's own generator, so a seed fixes everything.
:class:`OtherGroups` is the one place where the groups nobody hands to a user act: the focal
and vector faces, the SB3 VecEnv and the train loop all step through it.

**What a learner's ``policy()`` returns** (:data:`LearnedPolicy`), one of a small family that a
game's metrics tell apart by type:

* a :data:`ProbabilityTable` — an array whose last axis is the actions: one mixed strategy per
  agent ``(n_agents, n_actions)``, or one per state (a warehouse table ``[s_l, s_g, a_l]``);
* a :class:`LinearRule` — ``u = −G(x − c_i)``: a gain, the agents' rest points and their mean;
* an :class:`ActionFunction` — ``policy(observations) -> actions``, a deterministic rule that
  declares no probabilities (SAC's mean action, an MLP actor's mean);
* a :class:`DeclaredPolicy` — an action function that also declares the probabilities it
  draws from (``action_probabilities(observations)``), so a game can tabulate it;
* a :class:`PlayedByLearner` — the learner's network is the policy and has no form a game can
  score offline (a mixture actor): the game scores the window's play instead.

A multi-group learner returns one of these per group. Anything that declares
``action_probabilities`` (:class:`DeclaresProbabilities`: SB3's discrete learners, a
:class:`MixedStrategy`) can be tabulated by the metrics that need it
(:func:`populace.envs.metrics.declared_probabilities`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast, runtime_checkable

import numpy as np
from gymnasium import spaces

from populace.envs.validation import check_distribution

if TYPE_CHECKING:
    from populace.envs.core import PopulationCore, Step

PolicyFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]
"""A population policy as the faces play it: ``policy(observations, rng) -> actions``."""

ActionFn = Callable[[np.ndarray], np.ndarray]
"""Actions (or, for a probability function, ``(rows, n_actions)`` probabilities) for a batch of
observations, leading axis = rows."""

ProbabilityTable = np.ndarray
"""Action probabilities tabulated in advance; the last axis is the actions."""


@runtime_checkable
class DeclaresProbabilities(Protocol):
    """Anything that says with which probabilities it picks each action at any observations."""

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        """``(rows, n_actions)``: the distribution sampled from at each observation."""
        ...


class LinearRule(TypedDict):
    """A linear policy ``u = −G(x − c_i)``: ``gain`` G, each agent's rest point ``offsets``
    c_i ``(n_agents, d)`` and their mean ``offset``."""

    gain: np.ndarray
    offset: np.ndarray
    offsets: np.ndarray


class ActionFunction:
    """A deterministic rule ``policy(observations) -> actions`` that declares no
    probabilities (so a game may call it at observations of its choosing, but not tabulate
    a distribution from it).

    >>> ActionFunction(lambda obs: 2 * obs)(np.array([1.0, 2.0])).tolist()
    [2.0, 4.0]
    """

    def __init__(self, rule: ActionFn) -> None:
        self.rule = rule  # not ``act``: this is no learner to the faces

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        return self.rule(observations)


class DeclaredPolicy(ActionFunction):
    """An action function that also declares the probabilities it draws from.

    >>> greedy = DeclaredPolicy(lambda obs: obs.astype(int), lambda obs: np.eye(2)[obs])
    >>> greedy.action_probabilities(np.array([1, 0])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """

    def __init__(self, rule: ActionFn, probabilities: ActionFn) -> None:
        super().__init__(rule)
        self.probabilities = probabilities

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        return self.probabilities(observations)


@dataclass(frozen=True)
class PlayedByLearner:
    """The learner's own network is its policy, with no form a game can score offline (a
    mixture of Gaussians, say, whose mean action lands between its modes where few agents
    go): a game scores the window's play instead, and may ask ``learner`` directly."""

    learner: object


LearnedPolicy = ProbabilityTable | LinearRule | ActionFunction | PlayedByLearner
"""What :meth:`populace.agents.base.Learner.policy` returns (see the module docstring)."""


@runtime_checkable
class Acts(Protocol):
    """A learner as a population policy: it acts for a batch of observations."""

    def act(self, observations: np.ndarray | None) -> np.ndarray: ...


PolicySpec = PolicyFn | Acts | np.ndarray | Sequence[float] | None
"""A population policy in any form the faces take (see the module docstring)."""


def as_policy(
    spec: PolicySpec, action_space: spaces.Space, n_agents: int, name: str
) -> PolicyFn:
    """Turn any accepted population-policy form into ``policy(observations, rng)``."""
    if isinstance(spec, Acts):
        learner = spec
        controlled = getattr(spec, "n_agents", n_agents)
        if controlled != n_agents:
            raise ValueError(
                f"{name}: the learner controls {controlled} agents but {n_agents} need a policy"
            )
        return lambda observations, rng: np.asarray(learner.act(observations))
    if callable(spec):
        return cast(PolicyFn, spec)
    if isinstance(action_space, spaces.Discrete):
        probabilities = check_distribution(name, spec, int(action_space.n))
        return MixedStrategy(probabilities, int(action_space.start))
    raise TypeError(
        f"{name} must be a callable, a learner or (for discrete actions) a probability vector, "
        f"got {type(spec).__name__}"
    )


def sample_actions(
    probabilities: np.ndarray, rng: np.random.Generator, size: int | None = None
) -> np.ndarray:
    """Draw actions by inverse CDF, one uniform number per draw.

    ``probabilities`` is either one mixed strategy ``(m,)``, drawn ``size`` times, or one per
    agent ``(n, m)``, drawn once per row. Rows need not be normalized exactly.

    >>> sample_actions(np.array([[0.0, 1.0], [1.0, 0.0]]), np.random.default_rng(0)).tolist()
    [1, 0]
    """
    p = np.asarray(probabilities, dtype=np.float64)
    last = p.shape[-1] - 1
    if p.ndim == 1:
        cumulative = np.cumsum(p)
        draws = rng.random(size) * cumulative[-1]
        return cast(np.ndarray, np.minimum(np.searchsorted(cumulative, draws, side="right"), last))
    if last == 1:  # two actions, column by column: the same sums and compares, bit for bit
        total = p[:, 0] + p[:, 1]
        draws = rng.random(len(p))
        draws *= total
        second = p[:, 0] <= draws
        second |= total <= draws  # min(sum of the two compares, 1)
        return second.astype(np.int64)
    cumulative = np.cumsum(p, axis=1)
    draws = rng.random(len(p)) * cumulative[:, -1]
    return cast(np.ndarray, np.minimum((cumulative <= draws[:, None]).sum(axis=1), last))


class MixedStrategy:
    """Every agent samples i.i.d. from one probability vector over ``Discrete(n, start)``
    (a pure strategy draws nothing, so the generator is left as it is). It declares its
    ``action_probabilities`` (:mod:`populace.envs.metrics`): the vector, at every observation.
    """

    def __init__(self, probabilities: np.ndarray, start: int) -> None:
        self.probabilities = probabilities
        self.start = start
        support = np.flatnonzero(probabilities)
        self.pure = int(support[0]) + start if len(support) == 1 else None

    def __call__(self, observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.pure is not None:
            return np.full(len(observations), self.pure, dtype=np.int64)
        return sample_actions(self.probabilities, rng, len(observations)).astype(
            np.int64) + self.start

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        return np.tile(self.probabilities, (len(observations), 1))


def role_policies_for(
    core: PopulationCore, controlled: str | tuple[str, ...],
    role_policies: Mapping[str, PolicySpec] | None,
) -> dict[str, PolicyFn]:
    """One policy per group not in ``controlled``, from ``{group: policy spec}``; a group left
    out plays the game's :meth:`~populace.envs.core.PopulationCore.default_policy`."""
    controlled = (controlled,) if isinstance(controlled, str) else tuple(controlled)
    if role_policies is not None and not isinstance(role_policies, dict):
        raise TypeError(
            f"role_policies must be a dict keyed by group, got {type(role_policies).__name__}"
        )
    given = dict(role_policies or {})
    policies = {}
    for group in core.groups:
        if group.name in controlled:
            if group.name in given:
                raise ValueError(
                    f"role_policies gives a policy for group {group.name!r}, which is not "
                    "a fixed role here"
                )
            continue
        spec = given.pop(group.name, None)
        if spec is None:
            spec = core.default_policy(group.name)
        policies[group.name] = as_policy(
            spec, group.action_space, group.size, f"role_policies[{group.name!r}]",
        )
    if given:
        raise ValueError(
            f"role_policies names unknown groups {sorted(given)}; the groups are "
            f"{[g.name for g in core.groups]}"
        )
    return policies


class OtherGroups:
    """The groups that follow fixed policies, and the joint step that lets them act.

    :meth:`step` validates the actions it is given *before* any fixed policy draws from the
    core's generator, so a refused step changes nothing; then every fixed group acts on its
    own latest observations and the core steps.
    """

    def __init__(self, core: PopulationCore, policies: dict[str, PolicyFn]) -> None:
        self.core = core
        self.policies = policies

    def step(self, given: dict[str, Any], observations: dict[str, Any]) -> Step:
        """Step the core with ``given`` (group -> actions) plus the fixed groups' actions."""
        return self.core.step_checked(self.joint_actions(given, observations))

    def joint_actions(
        self, given: dict[str, Any], observations: dict[str, Any]
    ) -> dict[str, np.ndarray]:
        """Every group's validated actions: ``given``, then the fixed groups' draws."""
        self.core.require_running()
        joint = {name: self.core.check_group_actions(name, a) for name, a in given.items()}
        rng = self.core.np_random
        for name, policy in self.policies.items():
            joint[name] = self.core.check_group_actions(name, policy(observations[name], rng))
        return joint
