"""Who acts for each group of a game in the train loop: learners, and fixed policies for the rest.

``train``'s ``learner`` argument may be

* a :class:`~populace.agents.base.Learner` — it controls the group it was built for
  (``learner.group``), or the game's only group;
* a :class:`~populace.agents.base.MultiGroupLearner` — it controls the groups it declares;
* a dict ``{group: learner}`` — one learner per group (a multi-group learner appears under each
  of its groups).

Every group no learner controls follows a fixed policy, given as the faces take one
(``role_policies``), or the game's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from populace.agents.base import (
    GroupLearner,
    GroupsLearner,
    LearnerSpec,
    MultiGroupLearner,
    Transition,
)
from populace.envs.core import PopulationCore, Step
from populace.envs.metrics import PlayedPolicies
from populace.envs.policies import LearnedPolicy, PolicyFn

Arrays = dict[str, Any]
LEARNER_METHODS = ("act", "update", "policy", "state_dict", "load_state_dict", "config")


@dataclass
class Controller:
    """One learner and the groups it controls."""

    learner: GroupLearner | GroupsLearner
    groups: tuple[str, ...]
    multi: bool  # True: the learner speaks in dicts keyed by group

    @property
    def for_groups(self) -> GroupsLearner:
        """The learner, as the multi-group learner it is when :attr:`multi`."""
        return cast(GroupsLearner, self.learner)

    @property
    def for_group(self) -> GroupLearner:
        """The learner, as the one-group learner it is unless :attr:`multi`."""
        return cast(GroupLearner, self.learner)

    def act(self, observations: Arrays) -> Arrays:
        if self.multi:
            actions = self.for_groups.act({g: observations[g] for g in self.groups})
            missing = sorted(set(self.groups) - set(actions))
            if missing:
                learner = type(self.learner).__name__
                raise ValueError(f"{learner}.act() gave no actions for groups {missing}")
            return {g: actions[g] for g in self.groups}
        (group,) = self.groups
        return {group: self.for_group.act(observations[group])}

    def update(
        self, core: PopulationCore, observations: Arrays, actions: Arrays, step: Step
    ) -> None:
        transitions = {
            g: Transition(
                observations=observations[g],
                actions=actions[g],
                rewards=step.rewards[g],
                next_observations=step.observations[g],
                terminated=step.terminated,
                truncated=step.truncated,
                extras={
                    name: core.learner_extra(name, g, step.observations[g])
                    for name in getattr(self.learner, "extras", ())
                },
            )
            for g in self.groups
        }
        if self.multi:
            self.for_groups.update(transitions)
        else:
            self.for_group.update(transitions[self.groups[0]])

    def policies(self) -> dict[str, LearnedPolicy]:
        if self.multi:
            return dict(self.for_groups.policy())
        return {self.groups[0]: self.for_group.policy()}


def controllers_for(core: PopulationCore, learner: LearnerSpec) -> list[Controller]:
    """Sort ``learner`` (one, multi-group, or a dict by group) into controllers, checked."""
    name = core.metadata["name"]
    if isinstance(learner, Mapping):
        by_group: dict[int, tuple[Any, list[str]]] = {}
        for group, each in learner.items():
            core.group(group)  # a KeyError naming the groups
            by_group.setdefault(id(each), (each, []))[1].append(group)
        pairs = [(each, tuple(groups)) for each, groups in by_group.values()]
    else:
        pairs = [(learner, _groups_of(core, learner))]
    controllers = []
    for each, groups in pairs:
        _check_methods(each)
        multi = isinstance(each, MultiGroupLearner)
        if multi and set(groups) != set(each.groups):
            raise ValueError(
                f"{type(each).__name__} controls {list(each.groups)}; it was given {list(groups)}"
            )
        if not multi and len(groups) != 1:
            raise ValueError(f"{type(each).__name__} controls one group; it was given {groups}")
        for group in groups:
            _check_fit(core, each, group, name)
        for extra in getattr(each, "extras", ()):
            if extra not in core.learner_extras():
                core.learner_extra(extra, groups[0], None)  # raises the game's own explanation
        controllers.append(Controller(each, tuple(each.groups) if multi else groups, multi))
    return controllers


def _groups_of(core: PopulationCore, learner: object) -> tuple[str, ...]:
    if isinstance(learner, MultiGroupLearner):
        return learner.groups
    group = getattr(learner, "group", None)
    if group is not None:
        return (group,)
    if len(core.groups) != 1:
        raise ValueError(
            f"{core.metadata['name']} has groups {[g.name for g in core.groups]}: build the "
            "learner with make_learner(..., group=...) or pass {group: learner}"
        )
    return (core.groups[0].name,)


def _check_methods(learner: object) -> None:
    missing = [m for m in LEARNER_METHODS if not callable(getattr(learner, m, None))]
    if missing:
        raise TypeError(
            f"learner must be a populace.agents.base.Learner; {type(learner).__name__} has no "
            f"{', '.join(missing)}"
        )


def _check_fit(core: PopulationCore, learner: object, group_name: str, game: str) -> None:
    """A single-group learner must be sized for its group and share its action space."""
    if isinstance(learner, MultiGroupLearner):
        return  # it sizes itself from the game
    group = core.group(group_name)
    size = getattr(learner, "n_agents", None)
    if size != group.size:
        raise ValueError(
            f"learner.n_agents is {size} but group {group.name!r} of {game} has {group.size}; "
            "build the learner for this game"
        )
    space = getattr(learner, "action_space", None)
    if space is not None and space != group.action_space:
        raise ValueError(
            f"the learner acts in {space} but group {group.name!r} of {game} acts in "
            f"{group.action_space}; build the learner for this game"
        )


def learned_policies(controllers: list[Controller]) -> dict[str, LearnedPolicy]:
    """The learners' current policies by group."""
    return {g: p for c in controllers for g, p in c.policies().items()}


def played_policies(controllers: list[Controller], fixed: Mapping[str, PolicyFn]
                    ) -> PlayedPolicies:
    """Every group's policy for the game's metrics: the learners' ``policy()`` and the fixed
    groups' policies, with the object that acts for each group as its player."""
    players = {g: c.learner for c in controllers for g in c.groups}
    return PlayedPolicies({**learned_policies(controllers), **fixed}, {**players, **fixed})
