"""Several learners on one game, several seeds each, scored with the same metric.

``populace compare contribution_v0 --learners stage,regret --seeds 5`` runs every
(learner, seed) pair through the standard train loop, then writes a CSV of the distance
curves, a figure of their seed means, and prints a table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from populace.text import files_line
from populace.train.papers.claims import settling_round
from populace.train.papers.figures import NO_FIGURES, plot_curves
from populace.train.papers.jobs import Curve, Job, mean_curves, run_jobs, write_curves_csv


@dataclass(frozen=True)
class Comparison:
    """One row per learner: its distance at the end and when its mean curve settled."""

    learner: str
    final_distance: float  # mean over seeds of the last window's distance
    final_spread: float  # standard deviation over seeds
    settled_at: int | None
    seconds: float  # mean wall time of one run


@dataclass
class Comparisons:
    """What :func:`compare` measured and wrote."""

    rows: list[Comparison]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self, width: int = 100) -> str:
        """The table, the files written and any notes."""
        lines = [comparison_table(self.rows), files_line(self.files, width), *self.notes]
        return "\n".join(line for line in lines if line)


def compare(
    game: str, learners: list[str], *, seeds: int, rounds: int, window: int,
    game_kwargs: dict[str, Any], out_dir: Path, workers: int | None = None,
    progress: bool | None = None,
) -> Comparisons:
    """Train every learner with ``seeds`` seeds on ``game``; write CSV and PNG to ``out_dir``.

    The game's keywords and the learners are checked before any run starts.
    """
    if not learners:
        raise ValueError("compare needs at least one learner")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    check_learners(game, learners, game_kwargs)
    jobs = [Job(name, game, game_kwargs, name, {}, rounds, window, seed)
            for name in learners for seed in range(seeds)]
    curves = run_jobs(jobs, workers, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    means = mean_curves(curves)
    files = [write_curves_csv(curves, out_dir / "compare.csv")]
    n_agents = game_kwargs.get("n_agents")
    title = (f"{game}{f' (N={n_agents})' if n_agents else ''}: {', '.join(learners)}, "
             f"mean of {seeds} seed{'s' if seeds > 1 else ''}")
    figure = plot_curves(means, out_dir / "compare.png", title,
                         ylabel="distance from equilibrium")
    rows = [_summarize(name, [c for c in curves if c.job.label == name], means[name])
            for name in learners]
    if figure is None:
        return Comparisons(rows, files, [NO_FIGURES])
    return Comparisons(rows, [*files, figure])


def check_learners(game: str, learners: list[str], game_kwargs: dict[str, Any]) -> None:
    """Raise now what the runs would raise later: an unknown game or game keyword, an
    unknown learner, a baseline without its extra installed."""
    from populace.agents import BASELINES, make_learner
    from populace.envs.registry import make_core

    core = make_core(game, **game_kwargs)
    for name in learners:
        if name not in BASELINES:
            make_learner(name, core, seed=0)
            continue
        try:  # import only: building a network here would start torch before the workers fork
            importlib.import_module("populace.agents.sb3.learner")
        except ImportError as error:
            raise ImportError(
                f"learner {name!r} needs the baselines extra: pip install 'populace[baselines]' "
                f"({error})"
            ) from None


def _summarize(
    name: str, runs: list[Curve], mean: tuple[np.ndarray, np.ndarray]
) -> Comparison:
    finals = np.array([run.distance[-1] for run in runs])
    settled_at, _ = settling_round(*mean)
    return Comparison(name, float(finals.mean()), float(finals.std()), settled_at,
                      float(np.mean([run.seconds for run in runs])))


def comparison_table(rows: list[Comparison]) -> str:
    lines = ["| learner | final distance | settled at round | seconds per run |",
             "|---|---|---|---|"]
    for row in rows:
        settled = "—" if row.settled_at is None else f"{row.settled_at:,}"
        lines.append(f"| {row.learner} | {row.final_distance:.3f} ± {row.final_spread:.3f} "
                     f"| {settled} | {row.seconds:.2f} |")
    return "\n".join(lines)
