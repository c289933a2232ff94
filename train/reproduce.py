"""Paper reproductions: run many seeded training jobs, draw the figure, check the paper's claims.

A reproduction returns a :class:`Report` whose table puts what the paper says beside what we
measured, and whether the claim holds. ``populace reproduce NAME [--quick]`` prints that table
and exits non-zero if a claim fails, which is how the ``--quick`` forms run in CI.

The claims are checked by a pure function of the seed-averaged curves, apart from running the
jobs, so that tests can feed it any curves: fed those of players that do not learn, every
claim must fail (SPEC §5), and every bound must lie inside what the run can reach.
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


Means = dict[str, tuple[np.ndarray, np.ndarray]]
"""Seed-averaged curves by label, ``{label: (rounds, distance)}``, as :func:`mean_curves` makes."""

SETTLE_BAND = 0.1  # a curve has settled once it stays within this fraction of its drop
MIN_DROP = 0.5  # ... and only if its level is at most (1 − MIN_DROP) times its first value


@dataclass(frozen=True)
class Claim:
    """One claim of a paper: what the paper says, what we measured, and whether it holds."""

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
    """A paper's experiment in three parts, so that its claim checks can be tested alone.

    Attributes:
        name: what ``populace reproduce`` calls it.
        summary: one line for ``populace list``.
        jobs: ``jobs(quick, seed)``, the seeded runs; runs that share a label are averaged.
        claims: ``claims(means, quick)``, the paper's claims checked against the seed-averaged
            curves (:data:`Means`) and nothing else.
        save: ``save(curves, out_dir)`` writes the CSV and figures and returns their paths.
    """

    name: str
    summary: str
    jobs: Callable[[bool, int], list[Job]]
    claims: Callable[[Means, bool], list[Claim]]
    save: Callable[[list[Curve], Path], list[Path]]

    def run(
        self, *, quick: bool, out_dir: Path, seed: int = 0, workers: int | None = None
    ) -> Report:
        """Run the jobs, write the files and check the claims."""
        out_dir.mkdir(parents=True, exist_ok=True)
        curves = run_jobs(self.jobs(quick, seed), workers)
        files = self.save(curves, out_dir)
        return Report(self.name, self.claims(mean_curves(curves), quick), files)


def run_job(job: Job) -> Curve:
    """Build the game and learner of ``job`` and train; importable, so it runs in workers."""
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.train import train

    core = make_core(job.game, **job.game_kwargs)
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


def mean_curves(curves: list[Curve]) -> Means:
    """Average the distance curves of the runs that share a label."""
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    return {
        label: (runs[0].rounds, np.mean([c.distance for c in runs], axis=0))
        for label, runs in grouped.items()
    }


def rounds_to_reach(rounds: np.ndarray, distance: np.ndarray, threshold: float) -> int | None:
    """The first round at which the distance is at or below ``threshold`` and stays there.

    None if the curve ends above ``threshold``; ``rounds[0]`` if it never was above.
    """
    above = np.flatnonzero(distance > threshold)
    if len(above) == 0:
        return int(rounds[0])
    if above[-1] == len(distance) - 1:
        return None
    return int(rounds[above[-1] + 1])


def settling_round(rounds: np.ndarray, distance: np.ndarray) -> tuple[int | None, float]:
    """When a curve settles: the first round after which it stays within 10% of its total drop.

    The settled level is the mean of the last quarter of the curve; the band is that level plus
    a tenth of the way back to the first value. A curve settles only if it fell to at most half
    its first value and entered the band before its last quarter began, so a flat curve (players
    that do not learn) and one still falling at the end have not settled.

    Returns:
        (round, level): the settling round (None if the curve did not settle) and the level.

    >>> rounds = np.arange(250, 3001, 250)
    >>> settling_round(rounds, 0.3 + 4.8 * np.exp(-rounds / 250.0))[0]
    1000
    >>> settling_round(rounds, np.full(12, 5.1))  # uniform play: no drop, no settling
    (None, 5.1)
    >>> settling_round(rounds, 5.1 - rounds / 1000.0)[0] is None  # still falling at the end
    True
    """
    tail = max(len(distance) // 4, 1)
    level = float(distance[-tail:].mean())
    start = float(distance[0])
    if len(distance) < 2 or level > (1.0 - MIN_DROP) * start:
        return None, level
    settled = rounds_to_reach(rounds, distance, level + SETTLE_BAND * (start - level))
    if settled is None or settled > rounds[-tail - 1]:
        return None, level
    return settled, level


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
    means: Means, path: Path, title: str,
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
