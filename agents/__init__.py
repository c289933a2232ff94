"""Populace learners: vectorized populations of learning agents behind one protocol.

``make_learner(name, core, group=...)`` builds any of them for one group of a game through the
learner's own :meth:`~populace.agents.base.Learner.for_game`, which fills in what depends on
the game (sizes, spaces, regret matching's μ from the payoff bounds, smooth Q-learning's
feedback from the action space).
"""

from __future__ import annotations

import inspect
from typing import Any

from populace.agents.base import Learner, MultiGroupLearner, TabularLearner, Transition
from populace.agents.regret import RegretMatching, mu_from_bounds
from populace.agents.smooth_q import SmoothQLearner
from populace.agents.stage import StageLearner

LEARNERS: dict[str, type[Learner]] = {
    "stage": StageLearner, "regret": RegretMatching, "smooth_q": SmoothQLearner,
}

# Stable-Baselines3 algorithms with parameter sharing (populace.agents.sb3_learner.SB3Learner);
# they need the ``baselines`` extra, so they are imported only when asked for.
BASELINES = ("ppo", "a2c", "dqn")

__all__ = [
    "BASELINES",
    "LEARNERS",
    "Learner",
    "MultiGroupLearner",
    "RegretMatching",
    "SmoothQLearner",
    "StageLearner",
    "TabularLearner",
    "Transition",
    "learner_options",
    "make_learner",
    "mu_from_bounds",
]


def make_learner(
    name: str, core: Any, *, group: str | None = None, seed: int | None = None, **kwargs: Any
) -> Learner:
    """A learner called ``name`` for ``group`` of ``core`` (default: the core's only group).

    ``name`` is a key of :data:`LEARNERS` or one of :data:`BASELINES` (keyword arguments then
    go to ``SB3Learner`` and the SB3 algorithm). Keyword arguments are checked against
    :func:`learner_options`. For ``"regret"``, μ defaults to
    ``mu_from_bounds(core.payoff_bounds(), n_actions)``; pass ``mu=`` or ``mu_rule=``.

    >>> from populace.envs.contribution_v0 import ContributionCore
    >>> make_learner("stage", ContributionCore(n_agents=10), seed=0, tau=100).tau
    100
    """
    if name in BASELINES:
        try:
            from populace.agents.sb3_learner import SB3Learner
        except ImportError as error:
            raise ImportError(
                f"learner {name!r} needs the baselines extra: pip install 'populace[baselines]' "
                f"({error})"
            ) from None
        return SB3Learner.for_game(core, group, seed=seed, algorithm=name, **kwargs)
    if name not in LEARNERS:
        raise ValueError(
            f"unknown learner {name!r}; choose one of {sorted(LEARNERS) + list(BASELINES)}"
        )
    accepted = learner_options(LEARNERS[name])
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown keyword arguments for learner {name!r}: {unknown}; it accepts {accepted}"
        )
    return LEARNERS[name].for_game(core, group, seed=seed, **kwargs)


def learner_options(cls: type[Learner]) -> list[str]:
    """The keyword arguments a learner class takes from :func:`make_learner`: those of its
    constructor and of its ``for_game``, less what the game decides."""
    decided = {"self", "cls", "core", "group", "seed", "n_agents", "n_actions", "action_space"}
    names: list[str] = []
    for function in (cls.__init__, cls.for_game):
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            if parameter.name not in decided and parameter.name not in names:
                names.append(parameter.name)
    return names
