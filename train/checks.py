"""What :func:`~populace.train.train` checks before the first round: its arguments, the env
(opened down to its core) and whether the learner fits the core's one group."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, PopulationCore

LEARNER_METHODS = ("act", "update", "policy", "state_dict", "load_state_dict", "config")


def unwrap_core(env: Any) -> PopulationCore:
    """The :class:`PopulationCore` inside ``env`` (itself, or behind ``.core``/wrappers)."""
    current = env
    for _ in range(32):
        if isinstance(current, PopulationCore):
            return current
        inner = None
        for attribute in ("core", "unwrapped", "env", "par_env", "aec_env"):
            try:
                candidate = getattr(current, attribute, None)
            except Exception:  # some wrappers raise other errors for unknown attributes
                candidate = None
            if candidate is not None and candidate is not current:
                inner = candidate
                break
        if inner is None:
            break
        current = inner
    raise TypeError(
        "env must be a PopulationCore or a Populace env (PettingZoo, focal or vector face) "
        f"with a .core attribute; got {type(env).__name__}"
    )


def controlled_group(core: PopulationCore, learner: Any) -> Group:
    """The core's single group, after checking that ``learner`` fits it."""
    missing = [m for m in LEARNER_METHODS if not callable(getattr(learner, m, None))]
    if missing:
        raise TypeError(
            f"learner must be a populace.agents.base.Learner; {type(learner).__name__} has no "
            f"{', '.join(missing)}"
        )
    name = core.metadata.get("name", type(core).__name__)
    if len(core.groups) != 1:
        raise ValueError(
            f"train() drives games with one group; {name} has {[g.name for g in core.groups]}"
        )
    group = core.groups[0]
    space = group.action_space
    if not isinstance(space, spaces.Discrete) or int(space.start) != 0:
        raise ValueError(f"train() needs Discrete(n) actions starting at 0; {name} has {space}")
    for attribute, expected in (("n_agents", group.size), ("n_actions", int(space.n))):
        value = getattr(learner, attribute, None)
        if value != expected:
            raise ValueError(
                f"learner.{attribute} is {value} but group {group.name!r} of {name} has "
                f"{expected}; build the learner for this game"
            )
    if getattr(learner, "uses_statistics", False):
        _check_statistics(core, group, name)
    return group


def _check_statistics(core: PopulationCore, group: Group, name: str) -> None:
    observation = group.observation_space
    n_actions = int(group.action_space.n)  # type: ignore[attr-defined]
    if not isinstance(observation, spaces.Box) or observation.shape != (n_actions,):
        raise ValueError(
            f"the learner uses population statistics, but {name} observes {observation}; "
            "create the game with observe='population' or observe='sample:k'"
        )
    if not callable(getattr(core, "expected_payoffs", None)):
        raise ValueError(f"the learner uses population statistics; {name} has no expected_payoffs")


def check_arguments(
    rounds: Any, seed: Any, window: Any, checkpoint_every: Any, out_dir: Any, resume: Any,
    overwrite: Any, keep_checkpoints: Any, progress: Any,
) -> None:
    """Reject bad values of :func:`~populace.train.train`'s arguments, naming the argument."""
    _check_int("rounds", rounds, 1)
    _check_int("window", window, 1)
    if seed is not None:
        _check_int("seed", seed, 0)
    if keep_checkpoints is not None:
        _check_int("keep_checkpoints", keep_checkpoints, 1)
    for flag, value in (("resume", resume), ("overwrite", overwrite)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    if progress not in (None, True, False):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    if checkpoint_every is not None:
        _check_int("checkpoint_every", checkpoint_every, 1)
        if checkpoint_every % window:
            raise ValueError(
                f"checkpoint_every ({checkpoint_every}) must be a multiple of window ({window})"
            )
        if out_dir is None:
            raise ValueError("checkpoint_every needs out_dir (the folder checkpoints go to)")
    if out_dir is None and resume:
        raise ValueError("resume=True needs out_dir (the folder of the run to continue)")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; choose one")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
