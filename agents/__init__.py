"""Populace learners: vectorized populations of learning agents behind one protocol.

``make_learner(name, core, group=...)`` builds any of them for one group of a game through the
learner's own :meth:`~populace.agents.base.Learner.for_game`, which fills in what depends on
the game (sizes, spaces, regret matching's μ from the payoff bounds, smooth Q-learning's
feedback from the action space).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from populace.agents.alternating_marl import AlternatingMARL
from populace.agents.base import Learner, MultiGroupLearner, TabularLearner, Transition
from populace.agents.regret import RegretMatching, mu_from_bounds
from populace.agents.smooth_q import SmoothQLearner
from populace.agents.stage import StageLearner

LEARNERS: dict[str, type[Learner] | type[MultiGroupLearner]] = {
    "stage": StageLearner, "regret": RegretMatching, "smooth_q": SmoothQLearner,
    "alternating_marl": AlternatingMARL,  # ALT: dispatcher and robots of warehouse_v0
}

# Learners built on torch (installed with the ``baselines`` extra), imported only when asked
# for, so that importing populace stays light: name -> (module, class).
TORCH_LEARNERS: dict[str, tuple[str, str]] = {
    "ac_fp": ("populace.agents.actor_critic.fictitious_play", "ActorCriticFictitiousPlay"),
    "alternating_marl_continuous": ("populace.agents.alternating_marl_continuous",
                                    "ContinuousAlternatingMARL"),
}

# Stable-Baselines3 algorithms with parameter sharing (populace.agents.sb3.learner.SB3Learner);
# they need the ``baselines`` extra, so they are imported only when asked for.
BASELINES = ("ppo", "a2c", "dqn", "sac")

__all__ = [
    "BASELINES",
    "AlternatingMARL",
    "ActorCriticFictitiousPlay",
    "LEARNERS",
    "TORCH_LEARNERS",
    "Learner",
    "MultiGroupLearner",
    "RegretMatching",
    "SmoothQLearner",
    "StageLearner",
    "TabularLearner",
    "Transition",
    "learner_class",
    "learner_options",
    "make_learner",
    "mu_from_bounds",
]


def make_learner(
    name: str, core: Any, *, group: str | None = None, seed: int | None = None, **kwargs: Any
) -> Learner | MultiGroupLearner:
    """A learner called ``name`` for ``group`` of ``core`` (default: the core's only group).

    ``name`` is a key of :data:`LEARNERS` or :data:`TORCH_LEARNERS` (``"ac_fp"``, MJM's
    actor-critic fictitious play), or one of :data:`BASELINES` (keyword arguments then
    go to ``SB3Learner`` and the SB3 algorithm). Keyword arguments are checked against
    :func:`learner_options`. For ``"regret"``, μ defaults to
    ``mu_from_bounds(core.payoff_bounds(), n_actions)``; pass ``mu=`` or ``mu_rule=``.

    >>> from populace.envs.anonymous.contribution import ContributionCore
    >>> make_learner("stage", ContributionCore(n_agents=10), seed=0, tau=100).tau
    100
    """
    if name in BASELINES:
        try:
            from populace.agents.sb3.learner import SB3Learner
        except ImportError as error:
            raise ImportError(
                f"learner {name!r} needs the baselines extra: pip install 'populace[baselines]' "
                f"({error})"
            ) from None
        return SB3Learner.for_game(core, group, seed=seed, algorithm=name, **kwargs)
    cls = learner_class(name)
    accepted = learner_options(cls)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown keyword arguments for learner {name!r}: {unknown}; it accepts {accepted}"
        )
    return cls.for_game(core, group, seed=seed, **kwargs)


def learner_class(name: str) -> type[Learner] | type[MultiGroupLearner]:
    """The class of the learner called ``name`` (:data:`LEARNERS` or :data:`TORCH_LEARNERS`,
    whose module is imported now)."""
    if name in LEARNERS:
        return LEARNERS[name]
    if name not in TORCH_LEARNERS:
        known = sorted(LEARNERS) + sorted(TORCH_LEARNERS) + list(BASELINES)
        raise ValueError(f"unknown learner {name!r}; choose one of {known}")
    module, attribute = TORCH_LEARNERS[name]
    try:
        loaded = importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"learner {name!r} needs torch: pip install 'populace[baselines]' ({error})"
        ) from None
    cls: type[Learner] = getattr(loaded, attribute)
    return cls


def __getattr__(attribute: str) -> Any:
    """``ActorCriticFictitiousPlay`` and the other torch learners, imported on first use."""
    for name, (_, class_name) in TORCH_LEARNERS.items():
        if attribute == class_name:
            return learner_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def learner_options(cls: type[Learner] | type[MultiGroupLearner]) -> list[str]:
    """The keyword arguments a learner class takes from :func:`make_learner`: those of its
    constructor and of its ``for_game``, less what the game decides."""
    decided = {"self", "cls", "core", "group", "seed", "n_agents", "n_actions", "action_space",
               "observation_space", "model"}
    names: list[str] = []
    for function in (cls.__init__, cls.for_game):
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            if parameter.name not in decided and parameter.name not in names:
                names.append(parameter.name)
    return names
