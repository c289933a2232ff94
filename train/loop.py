"""The train loop: any learner population on any single-group Populace core.

Each round the learner acts for every agent, the core steps, and the learner learns from the
round (plus, if it uses population statistics, the expected payoff of every action given what
each agent observed). Rounds count across episodes: when the core truncates, it is reset
without a seed, so its own generator carries on. Every ``window`` rounds the loop scores the
actions played in that window (KFH's ρ) and records one :class:`MetricsRow`.

>>> import numpy as np
>>> from populace.envs.contribution_v0 import ContributionCore
>>> from populace.agents.base import Learner
>>> class Eights(Learner):  # everyone contributes 8, the equilibrium
...     def act(self, observations=None): return np.full(self.n_agents, 8)
...     def update(self, *args): pass
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
from pathlib import Path
from typing import Any

from populace.train.callbacks import CSVLogger, as_callbacks, call_hook, write_metrics_csv
from populace.train.checkpoint import RunFolder, load_checkpoint, open_run_folder, run_config
from populace.train.checks import check_arguments, controlled_group, unwrap_core
from populace.train.progress import ProgressBar
from populace.train.results import COLUMNS, History, RunContext, TrainResult
from populace.train.runner import Runner

RESUME_KEYS = ("env", "learner", "seed", "window")  # what a resumed run must share


def train(
    env: Any,
    learner: Any,
    rounds: int,
    *,
    seed: int | None = 0,
    window: int = 250,
    callbacks: Any = None,
    out_dir: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
    overwrite: bool = False,
    keep_checkpoints: int | None = 2,
) -> TrainResult:
    """Train ``learner`` on ``env`` for ``rounds`` rounds (counted across episodes).

    Args:
        env: a :class:`PopulationCore` or any Populace face wrapping one (PettingZoo, focal,
            vector env); the learner plays the core's single group directly, so a face's own
            population policy is not used.
        learner: a :class:`populace.agents.base.Learner` sized for that group. It is used as
            given (seed it when you build it); ``seed`` seeds the game only.
        rounds: total rounds to reach, counting those of a resumed run.
        seed: seed of the core's first reset.
        window: rounds per metrics row; a trailing partial window is not recorded.
        callbacks: hooks (see :mod:`populace.train.callbacks`).
        out_dir: run folder for ``config.json``, ``metrics.csv`` and ``checkpoints/``. A final
            checkpoint is always written there, so a finished run can be extended.
        checkpoint_every: also checkpoint every this many rounds (a multiple of ``window``).
        resume: continue from the newest checkpoint in ``out_dir`` (start afresh if none).
        progress: True always shows a progress bar on stderr, False never, None only on a
            terminal once the run has lasted a second.
        overwrite: replace a previous run in ``out_dir`` instead of refusing to.
        keep_checkpoints: how many of the newest checkpoints to keep (None: all).
    """
    check_arguments(rounds, seed, window, checkpoint_every, out_dir, resume, overwrite,
                    keep_checkpoints, progress)
    core = unwrap_core(env)
    group = controlled_group(core, learner)
    hooks = as_callbacks(callbacks)
    config = run_config(core, learner, seed=seed, window=window, rounds=rounds,
                        checkpoint_every=checkpoint_every)
    folder = open_run_folder(out_dir, config, resume=resume, overwrite=overwrite,
                             keep=keep_checkpoints, resume_keys=RESUME_KEYS)
    runner = Runner(core, group, learner, window, folder, checkpoint_every)
    _start_or_resume(runner, folder if resume else None, seed, rounds)
    if folder is not None:
        folder.write_config(config)
        rows = [[getattr(row, name) for name in COLUMNS] for row in runner.rows]
        write_metrics_csv(folder.metrics_path, COLUMNS, rows)
        hooks.insert(0, CSVLogger(folder.metrics_path, append=True))
    runner.hooks, runner.progress = hooks, _progress_bar(progress, hooks)
    context = RunContext(core, learner, rounds, window, seed, runner.round,
                         folder.path if folder else None, History.from_rows(runner.rows))
    for hook in hooks:
        call_hook(hook, "on_start", context)
    stopped = runner.run_until(rounds)
    result = runner.result(stopped)
    for hook in hooks:
        call_hook(hook, "on_end", result)
    return result


def _start_or_resume(
    runner: Runner, folder: RunFolder | None, seed: int | None, rounds: int
) -> None:
    """Continue from the newest checkpoint in ``folder`` if there is one, else start afresh."""
    latest = folder.latest() if folder is not None else None
    if latest is None:
        runner.start(seed)
        return
    played, path = latest
    if played > rounds:
        raise ValueError(
            f"rounds={rounds} is less than the {played} rounds already played by the run in "
            f"{path.parent.parent}"
        )
    runner.restore(load_checkpoint(path), seed)


def _progress_bar(progress: bool | None, hooks: list[Any]) -> ProgressBar | None:
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
