"""Several learners on one game, several seeds each, scored with the game's own metrics.

``populace compare contribution_v0 --learners stage,regret --seeds 5`` runs every
(learner, seed) pair through the standard train loop, then writes a CSV of every metric column
the game declares (one row per run and window), a figure of the seed means of one of them,
and prints a table of that one. The metric reported is the game's declared headline
(:meth:`~populace.envs.metrics.WindowMetrics.headline_column`: ``distance`` for the anonymous
games, ``kl_to_qre`` for zspg, ``exploitability`` for mf_lqr and spatial congestion,
``mean_reward`` for supply and demand, ``discounted_return`` for the warehouses) unless
``metric`` names another column.

Everything that can be checked before training is (the game and its keywords, the learners
and their keywords on that game, the metric, the budget against the window), so a mistake
costs no run. A run that fails anyway does not stop the others: what finished is written, and
the failed runs are named in the notes (:attr:`Comparisons.failures`).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from populace.text import files_line
from populace.train.papers.claims import settling_round
from populace.train.papers.figures import NO_FIGURES, plot_curves
from populace.train.papers.jobs import Curve, Job, run_job
from populace.train.pool import map_in_processes


@dataclass(frozen=True)
class Comparison:
    """One row per learner: its headline metric at the end and when its mean curve settled."""

    learner: str
    final: float  # mean over the seeds that finished of each one's last value (not NaN)
    spread: float  # standard deviation over those seeds
    settled_at: int | None  # None: not settled, or a metric where more is better
    seconds: float  # mean wall time of one finished run
    finished: int  # seeds that finished
    failed: int  # seeds that raised


@dataclass(frozen=True)
class Failure:
    """A run that raised: which one, and the error in one line."""

    learner: str
    seed: int
    error: str

    def line(self) -> str:
        return f"{self.learner} seed {self.seed} failed: {self.error}"


@dataclass
class Comparisons:
    """What :func:`compare` measured and wrote."""

    metric: str
    higher_is_better: bool
    rows: list[Comparison]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def text(self, width: int = 100) -> str:
        """The table, the files written, the failed runs and any notes."""
        lines = [comparison_table(self.rows, self.metric, self.higher_is_better),
                 files_line(self.files, width), *(f.line() for f in self.failures),
                 *self.notes]
        return "\n".join(line for line in lines if line)


def compare(
    game: str, learners: list[str], *, seeds: int, rounds: int, window: int,
    game_kwargs: dict[str, Any], out_dir: Path, workers: int | None = None,
    progress: bool | None = None, metric: str | None = None,
    learner_kwargs: Mapping[str, Mapping[str, Any]] | None = None, group: str | None = None,
) -> Comparisons:
    """Train every learner with ``seeds`` seeds on ``game``; write CSV and PNG to ``out_dir``.

    Args:
        game: a game module name, e.g. ``"contribution_v0"``.
        learners: learner names (see :func:`populace.agents.make_learner`), each run alone
            on the game (groups it does not control play the game's default policy).
        seeds: runs per learner (seeds 0, 1, ...).
        rounds: rounds per run; window: rounds per metrics row (at most ``rounds``).
        game_kwargs: the game's keywords (``n_agents`` among them, or the game's own size).
        out_dir: folder for ``compare.csv`` (every metric column, every run) and
            ``compare.png`` (the seed means of ``metric``).
        workers: processes (default: one per core; 1 runs here, with one torch thread).
        metric: the column to report (default: the game's declared headline).
        learner_kwargs: ``{learner: {keyword: value}}``, each learner's extra keywords.
        group: the group each learner controls, for a game of several groups.

    Returns:
        The table's rows, the files written, and the runs that failed (the others are
        written all the same).
    """
    if not learners:
        raise ValueError("compare needs at least one learner")
    if len(set(learners)) != len(learners):
        raise ValueError(f"each learner once, please; got {learners}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    per_learner = _learner_kwargs(learners, learner_kwargs, group)
    columns, metric, higher = check_comparison(game, learners, game_kwargs, per_learner,
                                               metric=metric, rounds=rounds, window=window)
    ordered = (metric, *(c for c in columns if c != metric))
    jobs = [Job(name, game, game_kwargs, name, per_learner[name], rounds, window, seed,
                columns=ordered)
            for name in learners for seed in range(seeds)]
    outcomes = dict(map_in_processes(attempt_job, jobs, workers, progress=progress,
                                     unit="run", spawn="torch" in sys.modules))
    curves = [o for o in (outcomes[i] for i in range(len(jobs))) if isinstance(o, Curve)]
    failures = [o for o in outcomes.values() if isinstance(o, Failure)]
    failures.sort(key=lambda f: (learners.index(f.learner), f.seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_comparison_csv(curves, ordered, out_dir / "compare.csv")]
    means = mean_curves(curves)
    n_agents = game_kwargs.get("n_agents")
    title = (f"{game}{f' (N={n_agents})' if n_agents else ''}: {', '.join(learners)}, "
             f"mean of {seeds} seed{'s' if seeds > 1 else ''}")
    figure = plot_curves(means, out_dir / "compare.png", title, ylabel=metric) if means else None
    rows = [_summarize(name, [c for c in curves if c.job.label == name], means.get(name),
                       higher, sum(f.learner == name for f in failures))
            for name in learners]
    notes = [NO_FIGURES] if figure is None and means else []
    return Comparisons(metric, higher, rows, [*files, *([figure] if figure else [])], notes,
                       failures)


def _learner_kwargs(
    learners: list[str], given: Mapping[str, Mapping[str, Any]] | None, group: str | None
) -> dict[str, dict[str, Any]]:
    """Each learner's keywords (``group`` among them when given)."""
    given = dict(given or {})
    strangers = sorted(set(given) - set(learners))
    if strangers:
        raise ValueError(f"learner keywords for {strangers}, which are not among the learners "
                         f"compared ({learners})")
    chosen = {} if group is None else {"group": group}
    return {name: {**chosen, **given.get(name, {})} for name in learners}


def check_comparison(
    game: str, learners: list[str], game_kwargs: dict[str, Any],
    learner_kwargs: Mapping[str, Mapping[str, Any]], *, metric: str | None, rounds: int,
    window: int,
) -> tuple[tuple[str, ...], str, bool]:
    """Raise now what the runs would raise later — an unknown game or game keyword, an unknown
    learner or one that does not fit the game, a learner keyword it does not take, a missing
    extra, an unknown metric, a budget shorter than a window — in that order. Returns the
    game's metric columns, the metric to report and whether more of it is better.

    Learners are built here once, torch ones too (the runs then start in fresh processes).
    """
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.envs.validation import check_int
    from populace.train.checks import check_window_fits

    core = make_core(game, **game_kwargs)
    for name in learners:
        make_learner(name, core, seed=0, **learner_kwargs.get(name, {}))
    tally = core.window_metrics()
    columns = tuple(tally.columns)
    if not columns:
        raise ValueError(f"{game} declares no metric columns to compare learners by")
    chosen = tally.headline_column() if metric is None else metric
    if chosen not in columns:
        raise ValueError(f"{game} has no metric {chosen!r}; its metrics are {list(columns)}")
    check_int("rounds", rounds, minimum=1)
    check_int("window", window, minimum=1)
    check_window_fits("rounds", rounds, window)
    return columns, chosen, chosen in tally.higher_is_better


def attempt_job(job: Job) -> Curve | Failure:
    """:func:`run_job`, with an error returned as a :class:`Failure` instead of raised (a
    Ctrl-C still stops everything)."""
    try:
        return run_job(job)
    except Exception as error:  # noqa: BLE001 - any error of one run is reported, not raised
        message = " ".join(str(error).split()) or "(no message)"
        return Failure(job.learner, job.seed, f"{type(error).__name__}: {message}")


def mean_curves(curves: list[Curve]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Seed means of the reported metric (``Curve.distance``) by learner, ignoring NaN
    windows (a window without a finished episode, say)."""
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    means = {}
    for label, runs in grouped.items():
        stacked = np.array([run.distance for run in runs], dtype=np.float64)
        finite = np.isfinite(stacked)
        total = np.where(finite, stacked, 0.0).sum(axis=0)
        count = finite.sum(axis=0)
        mean = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
        means[label] = (runs[0].rounds, mean)
    return means


def write_comparison_csv(curves: list[Curve], columns: tuple[str, ...], path: Path) -> Path:
    """One row per run and window: the run's learner, seed and N, the round, every column."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner", "seed", "n_agents", "round", *columns])
        for curve in curves:
            n_agents = curve.job.game_kwargs.get("n_agents")
            values = [curve.columns[name] for name in columns]
            for i, round_ in enumerate(curve.rounds):
                writer.writerow([curve.job.learner, curve.job.seed, n_agents, int(round_),
                                 *(f"{float(v[i]):.6g}" for v in values)])
    return path


def _summarize(
    name: str, runs: list[Curve], mean: tuple[np.ndarray, np.ndarray] | None, higher: bool,
    failed: int,
) -> Comparison:
    if not runs or mean is None:
        return Comparison(name, float("nan"), float("nan"), None, float("nan"), 0, failed)
    finals = np.array([_last_value(run.distance) for run in runs], dtype=np.float64)
    settled_at = None
    if not higher and np.isfinite(mean[1]).all():
        settled_at, _ = settling_round(*mean)
    with np.errstate(invalid="ignore"):  # the spread of infinite values is NaN
        spread = float(finals.std())
    return Comparison(name, float(finals.mean()), spread, settled_at,
                      float(np.mean([run.seconds for run in runs])), len(runs), failed)


def _last_value(values: np.ndarray) -> float:
    """The last value that is not NaN (a window may have none: no episode ended in it)."""
    present = np.flatnonzero(~np.isnan(values))
    return float(values[present[-1]]) if len(present) else float("nan")


def _mean_and_spread(row: Comparison) -> str:
    if not row.finished:
        return "—"
    if not np.isfinite(row.final):
        return f"{row.final}"  # inf (a policy that does not stabilize, say) or nan
    return f"{row.final:.3f} ± {row.spread:.3f}"


def comparison_table(rows: list[Comparison], metric: str, higher_is_better: bool) -> str:
    """A Markdown table: the final ``metric`` (each run's last value that is not NaN; mean ±
    standard deviation over seeds), the
    settling round of the mean curve (judged where less is better), seconds per run."""
    sense = "more" if higher_is_better else "less"
    lines = [f"| learner | final {metric} ({sense} is better) | settled at round "
             "| seconds per run | runs |",
             "|---|---|---|---|---|"]
    for row in rows:
        settled = "—" if row.settled_at is None else f"{row.settled_at:,}"
        runs = f"{row.finished}" + (f" ({row.failed} failed)" if row.failed else "")
        final = _mean_and_spread(row)
        seconds = "—" if not row.finished else f"{row.seconds:.2f}"
        lines.append(f"| {row.learner} | {final} | {settled} | {seconds} | {runs} |")
    return "\n".join(lines)
