"""Populace learners: vectorized populations of learning agents behind one protocol.

``make_learner(name, core, group=...)`` builds any of them for one group of a game through the
learner's own :meth:`~populace.agents.base.Learner.for_game`, which fills in what depends on
the game (sizes, spaces, regret matching's μ from the payoff bounds, smooth Q-learning's
feedback from the action space).
"""

from __future__ import annotations

import importlib
import inspect

from populace.agents.alternating_marl import AlternatingMARL
from populace.agents.base import Learner, MultiGroupLearner, TabularLearner, Transition
from populace.agents.regret import RegretMatching, mu_from_bounds
from populace.agents.smooth_q import SmoothQLearner
from populace.agents.stage import StageLearner
from populace.envs.core import PopulationCore

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
CONTINUOUS_BASELINES = ("sac",)  # for Box actions; the others take Discrete(n)

# The README's install line for the torch learners: torch first and on its own (so that pip
# never picks a CUDA build for a later requirement), then the extra.
EXTRA_PACKAGES = ("torch", "stable_baselines3", "supersuit")  # what the baselines extra adds
INSTALL_BASELINES = "pip install torch==2.13.0 && pip install 'populace[baselines]'"

__all__ = [
    "BASELINES",
    "INSTALL_BASELINES",
    "AlternatingMARL",
    "ActorCriticFictitiousPlay",
    "CONTINUOUS_BASELINES",
    "LEARNERS",
    "TORCH_LEARNERS",
    "Learner",
    "MultiGroupLearner",
    "RegretMatching",
    "SmoothQLearner",
    "StageLearner",
    "TabularLearner",
    "Transition",
    "check_baseline_actions",
    "check_learner_name",
    "learner_class",
    "learner_fit",
    "learner_names",
    "learner_options",
    "make_learner",
    "mu_from_bounds",
]


def make_learner(
    name: str, core: PopulationCore, *, group: str | None = None, seed: int | None = None,
    **kwargs: object,
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
        check_baseline_actions(name, core, group)
        try:
            from populace.agents.sb3.learner import SB3Learner
        except ImportError as error:
            if not _missing_extra(error):
                raise
            raise ImportError(
                f"learner {name!r} needs the baselines extra (torch, Stable-Baselines3): "
                f"{INSTALL_BASELINES} ({error})"
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


def learner_names() -> list[str]:
    """Every learner :func:`make_learner` builds: the core ones, the torch ones, the baselines."""
    return [*LEARNERS, *TORCH_LEARNERS, *BASELINES]


def check_learner_name(name: str) -> None:
    """Raise a ValueError naming the choices unless ``name`` is a learner (imports nothing)."""
    if name not in learner_names():
        known = sorted(LEARNERS) + sorted(TORCH_LEARNERS) + list(BASELINES)
        raise ValueError(f"unknown learner {name!r}; choose one of {known}")


def learner_fit(name: str, core: PopulationCore, group: str | None = None) -> str | None:
    """Why ``make_learner(name, core, group=group)`` fails with the learner's defaults (the
    error's message; for a learner whose extra is missing, what to install), or None if it
    builds: learners check everything they need of a game when they are built. A baseline is
    judged by :func:`check_baseline_actions` alone (building SB3's networks takes seconds).

    >>> from populace.envs.anonymous.contribution import ContributionCore
    >>> learner_fit("stage", ContributionCore(n_agents=4)) is None
    True
    >>> learner_fit("sac", ContributionCore(n_agents=4))
    'sac needs Box actions with one axis, got Discrete(20)'
    """
    try:
        if name in BASELINES:
            check_baseline_actions(name, core, group)
        else:
            make_learner(name, core, group=group, seed=0)
    except (ValueError, TypeError, NotImplementedError, ImportError) as error:
        return str(error)
    return None


def check_baseline_actions(name: str, core: PopulationCore, group: str | None = None) -> None:
    """Refuse a group whose actions the SB3 algorithm ``name`` cannot output: SAC needs a Box
    with one axis, PPO, A2C and DQN ``Discrete(n)`` from 0 (as ``SB3Learner`` checks, without
    importing torch)."""
    from gymnasium import spaces

    from populace.agents.base import pick_group
    from populace.envs.faces import unwrap_core

    space = pick_group(unwrap_core(core), group).action_space
    if name in CONTINUOUS_BASELINES:
        if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
            raise ValueError(f"{name} needs Box actions with one axis, got {space}")
    elif not isinstance(space, spaces.Discrete) or int(space.start) != 0:
        raise ValueError(f"{name} needs Discrete(n) actions starting at 0, got {space}")


def learner_class(name: str) -> type[Learner] | type[MultiGroupLearner]:
    """The class of the learner called ``name`` (:data:`LEARNERS` or :data:`TORCH_LEARNERS`,
    whose module is imported now)."""
    if name in LEARNERS:
        return LEARNERS[name]
    check_learner_name(name)
    if name not in TORCH_LEARNERS:
        raise ValueError(f"{name!r} is a Stable-Baselines3 baseline, built by make_learner")
    module, attribute = TORCH_LEARNERS[name]
    try:
        loaded = importlib.import_module(module)
    except ImportError as error:
        if not _missing_extra(error):
            raise
        raise ImportError(
            f"learner {name!r} needs torch, the baselines extra: {INSTALL_BASELINES} ({error})"
        ) from None
    cls: type[Learner] = getattr(loaded, attribute)
    return cls


def _missing_extra(error: ImportError) -> bool:
    """Whether ``error`` says a package of the baselines extra is not installed (and not,
    say, that a name moved inside populace); a module made unimportable by setting
    ``sys.modules[name] = None`` counts as not installed."""
    missing = error.name or ""
    return isinstance(error, ModuleNotFoundError) and (
        missing.split(".")[0] in EXTRA_PACKAGES or missing.startswith("populace.agents.")
    )


def __getattr__(attribute: str) -> type[Learner] | type[MultiGroupLearner]:
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
