"""The train loop: any learners on any Populace game, however many groups it has.

Each round every learner acts for the groups it controls, the groups nobody controls follow
fixed policies, the core steps, and each learner learns from its groups' :class:`Transition`
(with the game extras it declared). When an episode ends (termination or truncation) the core
is reset without a seed, so its own generator carries on. Every ``window`` rounds (or
episodes) the loop records one :class:`MetricsRow`: the round, the episodes completed, the
game's own columns (:meth:`PopulationCore.window_metrics`), each group's mean reward per agent
and round, and the training time. Nothing in the loop knows which game it plays.

>>> import numpy as np
>>> from populace.envs.anonymous.contribution import ContributionCore
>>> from populace.agents.base import TabularLearner
>>> class Eights(TabularLearner):  # everyone contributes 8, the equilibrium
...     def act(self, observations=None): return np.full(self.n_agents, 8)
...     def update(self, transition): pass
...     def policy(self): return np.eye(self.n_actions)[np.full(self.n_agents, 8)]
...     def _arrays(self): return {}
...     def _load_arrays(self, arrays): pass
>>> result = train(ContributionCore(n_agents=10), Eights(10, 20), rounds=500, window=100,
...                progress=False)
>>> len(result.history), result.history.final("distance"), result.rounds
(5, 0.0, 500)

The typed results live in :mod:`populace.train.results`, the round itself and checkpoints in
:mod:`populace.train.runner`, the checks in :mod:`populace.train.checks`; they are re-exported
here and from :mod:`populace.train`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from populace.agents.base import LearnerSpec
from populace.envs.faces import unwrap_core
from populace.envs.focal import FocalEnv
from populace.envs.policies import OtherGroups, PolicySpec, role_policies_for
from populace.jsonable import to_json
from populace.train.callbacks import (
    CallbackSpec,
    CSVLogger,
    Hooks,
    as_callbacks,
    call_hook,
    write_metrics_csv,
)
from populace.train.checkpoint import STATE_FILE, CorruptCheckpoint
from populace.train.checks import check_arguments, check_window_fits
from populace.train.controllers import controllers_for
from populace.train.progress import ProgressBar
from populace.train.results import History, RunContext, TrainResult
from populace.train.run_folder import RunFolder, logger, open_run_folder, run_config
from populace.train.runner import Runner

RESUME_KEYS = ("env", "learners", "fixed_groups", "seed", "unit", "window")  # must match


def train(
    env: object,
    learner: LearnerSpec,
    rounds: int | None = None,
    *,
    episodes: int | None = None,
    role_policies: Mapping[str, PolicySpec] | None = None,
    seed: int | None = 0,
    window: int = 250,
    callbacks: CallbackSpec | Iterable[CallbackSpec] | None = None,
    out_dir: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
    overwrite: bool = False,
    keep_checkpoints: int | None = 2,
    notes: dict[str, Any] | None = None,
) -> TrainResult:
    """Train ``learner`` on ``env`` for a budget of ``rounds`` or of ``episodes``.

    Args:
        env: a :class:`PopulationCore` or a Populace face wrapping one (PettingZoo, vector env,
            SB3 VecEnv). Learners control whole groups, so a focal view is refused.
        learner: a learner for one group, a multi-group learner, or ``{group: learner}``
            (see :mod:`populace.train.controllers`). Learners are used as given (seed them
            when you build them); ``seed`` seeds the game only.
        rounds: total rounds to reach (counted across episodes, including those of a
            resumed run); give this or ``episodes``.
        episodes: total episodes to complete instead; ``window`` and ``checkpoint_every``
            then count episodes too.
        role_policies: fixed policies of the groups no learner controls, ``{group: spec}``,
            as the faces take them; a group left out plays the game's default policy (a face
            passed as ``env`` lends its own role policies).
        seed: seed of the core's first reset.
        window: rounds (or episodes) per metrics row, at most the budget (a shorter budget
            is refused: it would record nothing); a trailing partial window is not recorded.
        callbacks: hooks (see :mod:`populace.train.callbacks`).
        out_dir: run folder for ``config.json``, ``metrics.csv`` and ``checkpoints/``. A final
            checkpoint is always written there, so a finished run can be extended.
        checkpoint_every: also checkpoint every this many rounds (or episodes), a multiple of
            ``window``.
        resume: continue from the newest checkpoint in ``out_dir`` (start afresh if none).
        progress: True always shows a progress bar on stderr, False never, None only on a
            terminal once the run has lasted a second.
        overwrite: replace a previous run in ``out_dir`` instead of refusing to.
        keep_checkpoints: how many of the newest checkpoints to keep (None: all).
        notes: JSON-able facts about the run that ``config.json`` keeps under ``"notes"``
            for the caller (``populace train`` keeps its arguments there to resume from);
            not compared on resume, and replaced by the resuming call's.
    """
    unit, budget = _budget(rounds, episodes)
    check_arguments(unit, budget, seed, window, checkpoint_every, out_dir, resume, overwrite,
                    keep_checkpoints, progress)
    if isinstance(env, FocalEnv) or isinstance(getattr(env, "unwrapped", None), FocalEnv):
        raise TypeError(
            "train() controls whole groups, so a focal view's population_policy would be "
            "ignored; pass the core (env.unwrapped.core) or another face"
        )
    core = unwrap_core(env)
    controllers = controllers_for(core, learner)
    check_window_fits(unit, budget, window)  # after the game and learners are known good
    learned = tuple(g for c in controllers for g in c.groups)
    if role_policies is None:
        role_policies = _face_role_policies(env, learned)
    fixed = OtherGroups(core, role_policies_for(core, learned, role_policies))
    hooks = as_callbacks(callbacks)
    config = run_config(core, controllers, fixed_groups=tuple(fixed.policies), seed=seed,
                        unit=unit, budget=budget, window=window,
                        checkpoint_every=checkpoint_every)
    if notes is not None:
        if not isinstance(notes, dict):
            raise TypeError(f"notes must be a dict, got {type(notes).__name__}")
        config["notes"] = to_json(notes)
    folder = open_run_folder(out_dir, config, resume=resume, overwrite=overwrite,
                             keep=keep_checkpoints, resume_keys=RESUME_KEYS)
    runner = Runner(core, controllers, fixed, window, unit, folder, checkpoint_every)
    _start_or_resume(runner, folder if resume else None, seed, budget)
    if folder is not None:
        folder.write_config(config)
        rows = [[row[name] for name in runner.columns] for row in runner.rows]
        write_metrics_csv(folder.metrics_path, runner.columns, rows)
        hooks.insert(0, CSVLogger(folder.metrics_path, append=True))
    runner.hooks, runner.progress_bar = hooks, _progress_bar(progress, hooks)
    context = RunContext(
        core=core, learners={g: c.learner for c in controllers for g in c.groups},
        budget=budget, unit=unit, window=window, seed=seed, start=runner.progress(),
        run_dir=folder.path if folder else None,
        history=History.from_rows(runner.rows, runner.columns), columns=runner.columns,
    )
    for hook in hooks:
        call_hook(hook, "on_start", context)
    stopped = runner.run_until(budget)
    result = runner.result(stopped)
    for hook in hooks:
        call_hook(hook, "on_end", result)
    return result


def _budget(rounds: int | None, episodes: int | None) -> tuple[str, int]:
    if (rounds is None) == (episodes is None):
        raise ValueError("give train() a budget of rounds= or of episodes= (exactly one)")
    if episodes is None:
        assert rounds is not None
        return "rounds", rounds
    return "episodes", episodes


def _face_role_policies(env: object, learned: tuple[str, ...]) -> dict[str, PolicySpec] | None:
    """The fixed policies a face was built with, for the groups no learner controls."""
    fixed = getattr(getattr(env, "other_groups", None), "policies", None)
    if not fixed:
        return None
    return {group: policy for group, policy in fixed.items() if group not in learned}


def _start_or_resume(
    runner: Runner, folder: RunFolder | None, seed: int | None, budget: int
) -> None:
    """Continue from the newest intact checkpoint in ``folder`` if there is one, else start
    afresh (saying so when a resume was asked for)."""
    latest = folder.latest_intact() if folder is not None else None
    if latest is None:
        if folder is not None:
            logger.warning("populace: no checkpoint in %s; starting afresh", folder.path)
        runner.start(seed)
        return
    path, state = latest
    missing = [key for key in ("core", "learners", "loop") if key not in state]
    if missing:
        raise CorruptCheckpoint(f"{path / STATE_FILE} lacks the keys {missing} of a run's state")
    played = int(state["loop"]["round" if runner.unit == "rounds" else "episodes"])
    if played > budget:
        raise ValueError(
            f"{runner.unit}={budget} is less than the {played} {runner.unit} already played by "
            f"the run in {path.parent.parent}"
        )
    runner.restore(state, seed)


def _progress_bar(progress: bool | None, hooks: list[Hooks]) -> ProgressBar | None:
    """The bar to tick every round: one the caller passed, or one made from ``progress``."""
    for hook in hooks:
        if isinstance(hook, ProgressBar):
            return hook
    if progress is False or (progress is None and not _stderr_is_tty()):
        return None
    bar = ProgressBar(force=progress)
    hooks.append(bar)
    return bar


def _stderr_is_tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())
