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
from typing import Any

from populace.agents.base import MultiGroupLearner, Transition
from populace.envs.core import PopulationCore, Step
from populace.envs.metrics import PlayedPolicies

Arrays = dict[str, Any]
LEARNER_METHODS = ("act", "update", "policy", "state_dict", "load_state_dict", "config")


@dataclass
class Controller:
    """One learner and the groups it controls."""

    learner: Any
    groups: tuple[str, ...]
    multi: bool  # True: the learner speaks in dicts keyed by group

    def act(self, observations: Arrays) -> Arrays:
        if self.multi:
            actions = self.learner.act({g: observations[g] for g in self.groups})
            missing = sorted(set(self.groups) - set(actions))
            if missing:
                learner = type(self.learner).__name__
                raise ValueError(f"{learner}.act() gave no actions for groups {missing}")
            return {g: actions[g] for g in self.groups}
        (group,) = self.groups
        return {group: self.learner.act(observations[group])}

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
            self.learner.update(transitions)
        else:
            self.learner.update(transitions[self.groups[0]])

    def policies(self) -> dict[str, Any]:
        policy = self.learner.policy()
        return dict(policy) if self.multi else {self.groups[0]: policy}


def controllers_for(core: PopulationCore, learner: Any) -> list[Controller]:
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


def _groups_of(core: PopulationCore, learner: Any) -> tuple[str, ...]:
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


def _check_methods(learner: Any) -> None:
    missing = [m for m in LEARNER_METHODS if not callable(getattr(learner, m, None))]
    if missing:
        raise TypeError(
            f"learner must be a populace.agents.base.Learner; {type(learner).__name__} has no "
            f"{', '.join(missing)}"
        )


def _check_fit(core: PopulationCore, learner: Any, group_name: str, game: str) -> None:
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


def learned_policies(controllers: list[Controller]) -> dict[str, Any]:
    """The learners' current policies by group."""
    return {g: p for c in controllers for g, p in c.policies().items()}


def played_policies(controllers: list[Controller], fixed: Mapping[str, Any]) -> PlayedPolicies:
    """Every group's policy for the game's metrics: the learners' ``policy()`` and the fixed
    groups' policies, with the object that acts for each group as its player."""
    players = {g: c.learner for c in controllers for g in c.groups}
    return PlayedPolicies({**learned_policies(controllers), **fixed}, {**players, **fixed})
