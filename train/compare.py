"""Several learners on one game, several seeds each, scored with the same metric.

``populace compare contribution_v0 --learners stage,regret --seeds 5`` runs every
(learner, seed) pair through the standard train loop, then writes a CSV of the distance
curves, a figure of their seed means, and prints a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from populace.train.reproduce import (
    Curve,
    Job,
    mean_curves,
    plot_curves,
    run_jobs,
    settling_round,
    write_curves_csv,
)


@dataclass(frozen=True)
class Comparison:
    """One row per learner: its distance at the end and when its mean curve settled."""

    learner: str
    final_distance: float  # mean over seeds of the last window's distance
    final_spread: float  # standard deviation over seeds
    settled_at: int | None
    seconds: float  # mean wall time of one run


def compare(
    game: str, learners: list[str], *, seeds: int, rounds: int, window: int,
    game_kwargs: dict[str, Any], out_dir: Path, workers: int | None = None,
) -> list[Comparison]:
    """Train every learner with ``seeds`` seeds on ``game``; write CSV and PNG to ``out_dir``."""
    if not learners:
        raise ValueError("compare needs at least one learner")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    jobs = [Job(name, game, game_kwargs, name, {}, rounds, window, seed)
            for name in learners for seed in range(seeds)]
    curves = run_jobs(jobs, workers)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_curves_csv(curves, out_dir / "compare.csv")
    means = mean_curves(curves)
    plot_curves(means, out_dir / "compare.png", f"{game}: {', '.join(learners)}",
                ylabel="distance from equilibrium")
    return [_summarize(name, [c for c in curves if c.job.label == name], means[name])
            for name in learners]


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
