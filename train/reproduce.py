"""Paper reproductions: run many seeded training jobs, draw the figure, check the paper's claims.

A reproduction returns a :class:`Report` whose table puts what the paper says beside what we
measured, and whether the claim holds. ``populace reproduce NAME [--quick]`` prints that table
and exits non-zero if a claim fails, which is how the ``--quick`` forms run in CI.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Job:
    """One seeded training run: a game, a learner, a budget."""

    label: str
    game: str
    game_kwargs: dict[str, Any]
    learner: str
    learner_kwargs: dict[str, Any]
    rounds: int
    window: int
    seed: int


@dataclass(frozen=True)
class Curve:
    """Distance from equilibrium per metrics window, for one job."""

    job: Job
    rounds: np.ndarray
    distance: np.ndarray
    seconds: float


@dataclass(frozen=True)
class Claim:
    claim: str
    paper: str
    ours: str
    holds: bool


@dataclass
class Report:
    name: str
    claims: list[Claim]
    files: list[Path] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.claims)

    def table(self) -> str:
        lines = [
            f"## {self.name}",
            "",
            "| claim | paper | ours | holds |",
            "|---|---|---|---|",
        ]
        lines += [f"| {c.claim} | {c.paper} | {c.ours} | {'yes' if c.holds else 'NO'} |"
                  for c in self.claims]
        lines += ["", *(f"wrote {path}" for path in self.files)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Reproduction:
    summary: str
    run_fn: Callable[..., Report]

    def run(
        self, *, quick: bool, out_dir: Path, seed: int = 0, workers: int | None = None
    ) -> Report:
        out_dir.mkdir(parents=True, exist_ok=True)
        return self.run_fn(quick=quick, out_dir=out_dir, seed=seed, workers=workers)


def run_job(job: Job) -> Curve:
    """Build the game and learner of ``job`` and train; importable, so it runs in workers."""
    import importlib

    from populace.agents import make_learner
    from populace.train import train

    module = importlib.import_module(f"populace.envs.{job.game}")
    core = module.raw_env(**job.game_kwargs).core
    env_seed, learner_seed = np.random.SeedSequence(job.seed).generate_state(2)
    learner = make_learner(job.learner, core, seed=int(learner_seed), **job.learner_kwargs)
    result = train(core, learner, rounds=job.rounds, seed=int(env_seed), window=job.window,
                   progress=False)
    history = result.history
    return Curve(job, history.column("round"), history.column("distance"),
                 result.timings.seconds)


def run_jobs(jobs: list[Job], workers: int | None = None) -> list[Curve]:
    """Run jobs in parallel processes (one per core by default), results in job order."""
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [run_job(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_job, jobs))


def mean_curves(curves: list[Curve]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Average the distance curves of the runs that share a label."""
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    return {
        label: (runs[0].rounds, np.mean([c.distance for c in runs], axis=0))
        for label, runs in grouped.items()
    }


def rounds_to_reach(rounds: np.ndarray, distance: np.ndarray, threshold: float) -> int | None:
    """The first round at which the distance is at or below ``threshold`` and stays there."""
    above = np.flatnonzero(distance > threshold)
    if len(above) == 0:
        return int(rounds[0])
    if above[-1] == len(distance) - 1:
        return None
    return int(rounds[above[-1] + 1])


def settling_round(rounds: np.ndarray, distance: np.ndarray) -> tuple[int | None, float]:
    """When a curve settles: the first round after which it stays within 10% of its total drop.

    The settled level is the mean of the last quarter of the curve; the band is that level plus
    a tenth of the way back to the first value. Returns (round or None, settled level).
    """
    level = float(distance[-max(len(distance) // 4, 1) :].mean())
    band = level + 0.1 * (float(distance[0]) - level)
    return rounds_to_reach(rounds, distance, band), level


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


def plot_curves(
    means: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str,
    floor: float | None = None, ylabel: str = "distance from equilibrium  Σ ρ(a)|a − 8|",
) -> Path:
    """Distance from equilibrium against rounds, one line per label."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("figures need matplotlib: pip install 'populace[plot]'") from error
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for label, (rounds, distance) in means.items():
        ax.plot(rounds, distance, label=label, linewidth=1.4)
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle=":", linewidth=1, label="exploration floor")
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
