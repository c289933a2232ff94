"""Populace learners: vectorized populations of independent learning agents.

``make_learner(name, core)`` builds a learner sized for a game's (single) group of agents and
fills in the defaults that depend on the game, such as regret matching's μ.
"""

from __future__ import annotations

from typing import Any

from populace.agents.base import Learner
from populace.agents.regret import RegretMatching, mu_from_bounds
from populace.agents.stage import StageLearner

LEARNERS: dict[str, type[Learner]] = {"stage": StageLearner, "regret": RegretMatching}

# Stable-Baselines3 algorithms with parameter sharing (populace.train.sb3.SB3Learner); they need
# the ``baselines`` extra, so they are imported only when asked for.
BASELINES = ("ppo", "a2c", "dqn")

# keyword arguments each learner accepts besides n_agents, n_actions and seed
_OPTIONS: dict[str, tuple[str, ...]] = {
    "stage": ("epsilon", "tau", "use_statistics"),
    "regret": ("mu", "mu_rule", "delta", "gamma", "discount", "baseline"),
}

__all__ = [
    "BASELINES",
    "LEARNERS",
    "Learner",
    "RegretMatching",
    "StageLearner",
    "make_learner",
    "mu_from_bounds",
]


def make_learner(name: str, core: Any, *, seed: int | None = None, **kwargs: Any) -> Learner:
    """A learner called ``name`` for the agents of ``core`` (an array core with one group).

    ``name`` is a key of :data:`LEARNERS` or one of :data:`BASELINES` (keyword arguments then
    go to ``SB3Learner`` and the SB3 algorithm).

    ``n_agents`` and ``n_actions`` come from ``core.groups[0]`` (a ``Discrete`` action space).
    For ``"regret"``, μ defaults to ``mu_from_bounds(core.payoff_bounds(), n_actions)``;
    pass ``mu=`` to set it, or ``mu_rule="hart-mas-colell"`` for the theorem's bound.

    >>> from populace.envs.contribution_v0 import ContributionCore
    >>> make_learner("stage", ContributionCore(n_agents=10), seed=0, tau=100).tau
    100
    """
    if name in BASELINES:
        from populace.train.sb3 import SB3Learner

        return SB3Learner(core, name, seed=seed, **kwargs)
    if name not in LEARNERS:
        raise ValueError(
            f"unknown learner {name!r}; choose one of {sorted(LEARNERS) + list(BASELINES)}"
        )
    unknown = sorted(set(kwargs) - set(_OPTIONS[name]))
    if unknown:
        raise ValueError(
            f"unknown keyword arguments for learner {name!r}: {unknown}; "
            f"it accepts {list(_OPTIONS[name])}"
        )
    n_agents, n_actions = _population(core)
    if name == "regret":
        rule = kwargs.pop("mu_rule", "kfh")
        if "mu" not in kwargs:
            kwargs["mu"] = mu_from_bounds(_payoff_bounds(core), n_actions, rule=rule)
    return LEARNERS[name](n_agents, n_actions, seed=seed, **kwargs)


def _population(core: Any) -> tuple[int, int]:
    groups = getattr(core, "groups", None)
    if not groups:
        raise TypeError(f"core must be a populace array core with groups, got {type(core)!r}")
    group = groups[0]
    n_actions = getattr(group.action_space, "n", None)
    if n_actions is None:
        raise ValueError(
            f"learners need a Discrete action space; group {group.name!r} has "
            f"{group.action_space}"
        )
    return int(group.size), int(n_actions)


def _payoff_bounds(core: Any) -> tuple[float, float]:
    bounds = getattr(core, "payoff_bounds", None)
    if not callable(bounds):
        raise ValueError(
            f"{type(core).__name__} has no payoff_bounds(); pass mu= to the regret learner"
        )
    return bounds()
