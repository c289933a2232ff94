"""What every Populace learner provides, and the helpers they share.

**The protocol.** A :class:`Learner` controls the ``n_agents`` members of one group of a game,
whatever its Gymnasium spaces: :meth:`~Learner.act` maps a batch of observations (leading axis
= agents) to a batch of actions; :meth:`~Learner.update` learns from one :class:`Transition`
of the group (observations, actions, rewards, next observations, terminated, truncated, and
the game extras the learner declares in :attr:`~Learner.extras`, such as population
statistics); :meth:`~Learner.policy` returns what the game's metrics score, one of the
:data:`~populace.envs.policies.LearnedPolicy` types (for discrete actions, one mixed strategy
per agent; for continuous ones a linear rule, an action function, or the learner's own
network). A learner may also declare ``action_probabilities(observations)``, its action
probabilities at any observations, for metrics that tabulate policies
(:mod:`populace.envs.metrics`). A :class:`MultiGroupLearner` controls several groups at once
and speaks in dicts keyed by group. The train loop asks no more of a learner than the
:class:`GroupLearner` (or :class:`GroupsLearner`) protocol, so any object with those members
will do; subclassing :class:`Learner` gives the checkpoints and the construction for free.
A learner that plans with the game's model reads it from ``core.model()`` in
:meth:`~Learner.for_game`, the one constructor :func:`populace.agents.make_learner` calls.

Learners never score themselves and never import the train loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from gymnasium import spaces
from numpy.typing import DTypeLike

from populace.envs.policies import LearnedPolicy, sample_actions

if TYPE_CHECKING:
    from populace.envs.core import Group, PopulationCore

__all__ = ["GroupLearner", "GroupsLearner", "Learner", "LearnerSpec", "MultiGroupLearner",
           "TabularLearner", "Transition", "sample_actions"]


@dataclass(frozen=True)
class Transition:
    """One step of one group, batched over its agents (leading axis = agents).

    ``terminated``/``truncated`` are the episode's (every agent's episode ends together).
    ``extras`` holds the game extras the learner declared, by name.
    """

    observations: Any
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: Any
    terminated: bool = False
    truncated: bool = False
    extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_round(cls, actions: np.ndarray, rewards: np.ndarray, **extras: object) -> Transition:
        """A round of a one-shot game in which nothing is observed and the episode goes on."""
        return cls(None, actions, rewards, None, extras=extras)


@runtime_checkable
class GroupLearner(Protocol):
    """What the train loop asks of a learner for one group (:class:`Learner` provides it)."""

    n_agents: int

    def act(self, observations: np.ndarray | None) -> np.ndarray:
        """One action per agent for a batch of observations (None for a one-shot game)."""
        ...

    def update(self, transition: Transition) -> None:
        """Learn from one step of the group."""
        ...

    def policy(self) -> LearnedPolicy:
        """The current policy, as the game's metrics score it."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Enough state to continue exactly."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        ...


@runtime_checkable
class GroupsLearner(Protocol):
    """What the train loop asks of a learner for several groups (:class:`MultiGroupLearner`
    provides it): the same members, speaking in dicts keyed by the :attr:`groups` it names."""

    groups: tuple[str, ...]

    def act(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        """Actions of every controlled group."""
        ...

    def update(self, transitions: dict[str, Transition]) -> None:
        """Learn from one step of every controlled group."""
        ...

    def policy(self) -> Mapping[str, LearnedPolicy]:
        """The current policy of every controlled group."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Enough state to continue exactly."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        ...


LearnerSpec = GroupLearner | GroupsLearner | Mapping[str, GroupLearner | GroupsLearner]
"""What ``train`` takes as its learner: one learner, a multi-group learner, or one per group."""


class _Checkpointable:
    """Seeded generator, JSON-able config and array state shared by every learner."""

    def __init__(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def _arrays(self) -> dict[str, Any]:
        """The learner's array state, by name."""

    @abstractmethod
    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        """Restore what :meth:`_arrays` returned."""

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (besides the seed)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Arrays plus JSON-able scalars (no pickle): enough to continue exactly."""
        return {"config": self.config(), "rng": self.rng.bit_generator.state, **self._arrays()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        config = state["config"]
        if config != self.config():
            raise ValueError(
                f"{type(self).__name__}: checkpoint was saved with {config}, "
                f"this learner has {self.config()}"
            )
        self.rng.bit_generator.state = state["rng"]
        self._load_arrays({k: v for k, v in state.items() if k not in ("config", "rng")})


class Learner(_Checkpointable, ABC):
    """A population of learning agents: the members of one group, vectorized over them.

    Attributes:
        n_agents: number of agents controlled.
        action_space: the action space of each of them.
        group: the group it was built for (None: whichever single group it is given).
        extras: names of the game extras :meth:`update` needs in ``transition.extras``
            (see :meth:`populace.envs.core.PopulationCore.learner_extra`).
    """

    extras: tuple[str, ...] = ()

    def __init__(
        self, n_agents: int, action_space: spaces.Space, *, seed: int | None = None
    ) -> None:
        super().__init__(seed)
        self.n_agents = n_agents
        self.action_space = action_space
        self.group: str | None = None

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> Learner:
        """A learner sized for ``group`` of ``core`` (default: its only group).

        ``kwargs`` go to the learner's constructor. Which keywords that is depends on the class
        chosen at run time (``make_learner("stage", ...)``), so they are typed ``object`` here
        and checked where they land: by :func:`populace.agents.learner_options` and by the
        constructor itself.
        """
        raise NotImplementedError(f"{cls.__name__} cannot be built from a game")

    @abstractmethod
    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        """One action per agent, leading axis ``n_agents``."""

    @abstractmethod
    def update(self, transition: Transition) -> None:
        """Learn from one step of the group."""

    @abstractmethod
    def policy(self) -> LearnedPolicy:
        """The current policy, in the form the game's metrics score."""

    def config(self) -> dict[str, Any]:
        return {"n_agents": self.n_agents}


class TabularLearner(Learner):
    """A learner over ``Discrete(n_actions)`` whose policy is a mixed strategy per agent."""

    def __init__(self, n_agents: int, n_actions: int, *, seed: int | None = None) -> None:
        super().__init__(n_agents, spaces.Discrete(n_actions), seed=seed)
        self.n_actions = n_actions

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> TabularLearner:
        chosen = pick_group(core, group)
        build: Callable[..., TabularLearner] = cls  # the subclass's keywords (Learner.for_game)
        learner = build(chosen.size, discrete_actions(chosen), seed=seed, **kwargs)
        learner.group = chosen.name
        return learner

    @abstractmethod
    def policy(self) -> np.ndarray:
        """The mixed strategy each agent plays now, shape ``(n_agents, n_actions)``."""

    def config(self) -> dict[str, Any]:
        return {"n_agents": self.n_agents, "n_actions": self.n_actions}


class MultiGroupLearner(_Checkpointable, ABC):
    """One learner for several groups at once (e.g. a dispatcher and the robots it directs).

    It declares the :attr:`groups` it controls; :meth:`act`, :meth:`update` and
    :meth:`policy` take and return dicts keyed by those group names.
    """

    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> MultiGroupLearner:
        raise NotImplementedError(f"{cls.__name__} cannot be built from a game")

    @abstractmethod
    def act(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        """Actions of every controlled group."""

    @abstractmethod
    def update(self, transitions: dict[str, Transition]) -> None:
        """Learn from one step of every controlled group."""

    @abstractmethod
    def policy(self) -> Mapping[str, LearnedPolicy]:
        """The current policy of every controlled group."""


def pick_group(core: PopulationCore, group: str | None) -> Group:
    """``core``'s group named ``group``, or its only group when ``group`` is None."""
    groups: list[Group] | None = getattr(core, "groups", None)
    if not groups:
        raise TypeError(f"core must be a populace array core with groups, got {type(core)!r}")
    if group is not None:
        return core.group(group)
    if len(groups) != 1:
        raise ValueError(
            f"{core.metadata['name']} has groups {[g.name for g in groups]}; say which one "
            "with group= (populace train/compare: --group)"
        )
    return groups[0]


def discrete_actions(group: Group) -> int:
    """The number of actions of a ``Discrete(n)`` group starting at 0, or a ValueError."""
    space = group.action_space
    if not isinstance(space, spaces.Discrete) or int(space.start) != 0:
        raise ValueError(
            f"this learner needs Discrete(n) actions starting at 0; group {group.name!r} has "
            f"{space}"
        )
    return int(space.n)


# --------------------------------------------------------------------- input checks
def check_round(
    n_agents: int, n_actions: int, actions: object, rewards: object
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one round given to ``update``: int64 actions in range and finite float rewards.

    Errors name the first bad agent (``agent 17 played 25 ...``).
    """
    acts = np.asarray(actions)
    if acts.shape != (n_agents,):
        raise ValueError(f"actions must have shape ({n_agents},), got {acts.shape}")
    if acts.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers, got dtype {acts.dtype}")
    if n_agents and (acts.min() < 0 or acts.max() >= n_actions):
        bad = int(np.flatnonzero((acts < 0) | (acts >= n_actions))[0])
        raise ValueError(
            f"agent {bad} played {int(acts[bad])}; expected an action in [0, {n_actions - 1}]"
        )
    pay = np.asarray(rewards)
    if pay.shape != (n_agents,):
        raise ValueError(f"rewards must have shape ({n_agents},), got {pay.shape}")
    if pay.dtype.kind not in "fiu":
        raise ValueError(f"rewards must be real numbers, got dtype {pay.dtype}")
    pay = pay.astype(np.float64, copy=False)
    finite = np.isfinite(pay)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"agent {bad} received a non-finite reward {pay[bad]}")
    return acts.astype(np.int64, copy=False), pay


def check_payoff_estimates(n_agents: int, n_actions: int, estimates: object) -> np.ndarray:
    """Validate the ``(n_agents, n_actions)`` payoff estimates a statistics learner is given."""
    if estimates is None:
        raise ValueError(
            "this learner uses population statistics: update() needs the extra "
            f"'payoff_estimates' of shape ({n_agents}, {n_actions})"
        )
    est = np.asarray(estimates)
    if est.shape != (n_agents, n_actions):
        raise ValueError(
            f"payoff_estimates must have shape ({n_agents}, {n_actions}), got {est.shape}"
        )
    if est.dtype.kind not in "fiu":
        raise ValueError(f"payoff_estimates must be real numbers, got dtype {est.dtype}")
    rows = est[:1] if n_agents and est.strides[0] == 0 else est  # one row broadcast to all
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"agent {bad} has non-finite payoff estimates {est[bad]}")
    return est


def checkpoint_array(
    name: str, arrays: dict[str, Any], shape: tuple[int, ...], dtype: DTypeLike
) -> np.ndarray:
    """A fresh, writable copy of ``arrays[name]`` with the expected shape, or a ValueError."""
    if name not in arrays:
        raise ValueError(f"checkpoint has no {name!r} (has {sorted(arrays)})")
    value = np.array(arrays[name], dtype=dtype, order="C")
    if value.shape != shape:
        raise ValueError(f"checkpoint {name!r} must have shape {shape}, got {value.shape}")
    return value
