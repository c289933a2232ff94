"""The seeded training runs a reproduction is made of, and the curves they return.

A :class:`Job` names a game, a learner and a budget; :func:`run_jobs` runs many in worker
processes and returns one :class:`Curve` each, in job order.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from populace.train.pool import map_in_processes


@dataclass(frozen=True)
class Job:
    """One seeded training run: a game, a learner, a budget.

    ``columns`` names the history columns to keep (the first is the curve's ``distance``);
    ``record_policy`` also keeps the learner's policy after every window; ``runner``, a
    module-level function ``job -> Curve``, replaces :func:`run_job` for runs that are not a
    train-loop run (an ODE integration, say).
    """

    label: str
    game: str
    game_kwargs: dict[str, Any]
    learner: str
    learner_kwargs: dict[str, Any]
    rounds: int
    window: int
    seed: int
    columns: tuple[str, ...] = ("distance",)
    record_policy: bool = False
    runner: Callable[[Job], Curve] | None = None


@dataclass(frozen=True)
class Curve:
    """A job's curve per metrics window: ``distance`` is its first column (``job.columns[0]``),
    ``columns`` every column the job asked for by name, plus ``"policy"`` (the learner's
    policy after each window, stacked) when ``job.record_policy``."""

    job: Job
    rounds: np.ndarray
    distance: np.ndarray
    seconds: float
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)


Means = dict[str, tuple[np.ndarray, np.ndarray]]
"""Seed-averaged curves by label, ``{label: (rounds, distance)}``, as :func:`mean_curves` makes."""


def run_job(job: Job) -> Curve:
    """Build the game and learner of ``job`` and train (or call ``job.runner``); importable,
    so it runs in workers."""
    if job.runner is not None:
        return job.runner(job)
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.train import train

    core = make_core(job.game, **job.game_kwargs)
    env_seed, learner_seed = np.random.SeedSequence(job.seed).generate_state(2)
    learner = make_learner(job.learner, core, seed=int(learner_seed), **job.learner_kwargs)
    policies: list[np.ndarray] = []
    record = [lambda row: policies.append(np.asarray(learner.policy()))] \
        if job.record_policy else None
    result = train(core, learner, rounds=job.rounds, seed=int(env_seed), window=job.window,
                   callbacks=record, progress=False)
    history = result.history
    columns = {name: history.column(name) for name in job.columns}
    if job.record_policy:
        columns["policy"] = np.stack(policies)
    return Curve(job, history.column("round"), columns[job.columns[0]],
                 result.timings.seconds, columns)


def run_jobs(
    jobs: list[Job], workers: int | None = None, *, progress: bool | None = None
) -> list[Curve]:
    """Run jobs in parallel processes (one per core by default), results in job order.

    A bar on stderr counts the finished runs; ``progress`` as in :func:`~populace.train.train`
    (None: only on a terminal, once the runs have taken a second). A failed run stops the rest.
    """
    done = dict(map_in_processes(run_job, jobs, workers, progress=progress, unit="run"))
    return [done[index] for index in range(len(jobs))]


def mean_curves(curves: list[Curve]) -> Means:
    """Average the distance curves of the runs that share a label."""
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    return {
        label: (runs[0].rounds, np.mean([c.distance for c in runs], axis=0))
        for label, runs in grouped.items()
    }


def seed_runs(curves: list[Curve]) -> list[list[Curve]]:
    """The runs split by seed: entry i holds the i-th run of every label (runs of a label come
    in seed order), so each can be summarized and checked alone. Labels must have equally
    many runs.

    Raises:
        ValueError: if the labels have different numbers of runs.
    """
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    counts = {label: len(runs) for label, runs in grouped.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(f"labels have different numbers of runs: {counts}")
    return [list(runs) for runs in zip(*grouped.values(), strict=True)]


def write_curves_csv(curves: list[Curve], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "n_agents", "learner", "seed", "round", "distance"])
        for curve in curves:
            n_agents = curve.job.game_kwargs.get("n_agents")
            for r, d in zip(curve.rounds, curve.distance, strict=True):
                writer.writerow([curve.job.label, n_agents, curve.job.learner, curve.job.seed,
                                 int(r), f"{d:.6f}"])
    return path


def write_columns_csv(
    curves: list[Curve], path: Path, columns: tuple[str, ...], unit: str = "round"
) -> Path:
    """Every run's named columns per window, one row each: label, seed, the window's last
    ``unit`` (round or episode count), then the columns (6 significant digits)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "seed", unit, *columns])
        for curve in curves:
            for i, end in enumerate(curve.rounds):
                writer.writerow([curve.job.label, curve.job.seed, int(end),
                                 *(f"{curve.columns[name][i]:.6g}" for name in columns)])
    return path
