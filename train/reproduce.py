"""Paper reproductions: run many seeded training jobs, draw the figure, check the paper's claims.

A reproduction returns a :class:`Report` whose table puts what the paper says beside what we
measured, and whether the claim holds. ``populace reproduce NAME [--quick]`` writes that table
to ``NAME-claims.md``, prints it narrowed to the terminal (:meth:`Report.text`), and exits
non-zero if a claim fails, which is how the ``--quick`` forms run in CI.

The claims are checked by a pure function of the seed-averaged curves, apart from running the
jobs, so that tests can feed it any curves: fed those of players that do not learn, every
claim must fail (SPEC §5), and every bound must lie inside what the run can reach.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.train.progress import make_bar, redraw

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NO_FIGURES = "figures skipped: matplotlib is not installed (pip install 'populace[plot]')"


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
    notes: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.claims)

    def table(self) -> str:
        """The claims as a Markdown table (wide: ``populace reproduce`` writes it to a file)."""
        lines = [
            f"## {self.name}",
            "",
            "| claim | paper | ours | holds |",
            "|---|---|---|---|",
        ]
        lines += [f"| {c.claim} | {c.paper} | {c.ours} | {'yes' if c.holds else 'NO'} |"
                  for c in self.claims]
        return "\n".join(lines)

    def text(self, width: int = 100) -> str:
        """The claims, the files written and any notes, wrapped to ``width`` columns."""
        held = sum(c.holds for c in self.claims)
        lines = [f"{self.name}: {held} of {len(self.claims)} claims hold"]
        for claim in self.claims:
            lines.append(wrap(claim.claim, width, first=" yes  " if claim.holds else " NO   ",
                              rest="      "))
            lines.append(wrap(claim.paper, width, first="        paper: ", rest=" " * 15))
            lines.append(wrap(claim.ours, width, first="        ours:  ", rest=" " * 15))
        lines += [files_line(self.files, width), *(wrap(note, width) for note in self.notes)]
        return "\n".join(line for line in lines if line)


def wrap(text: str, width: int, first: str = "", rest: str = "  ") -> str:
    """``text`` wrapped to ``width`` columns, without breaking words or paths."""
    return textwrap.fill(text, width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def files_line(files: list[Path], width: int) -> str:
    """``wrote DIR/: a.csv, b.png`` for files that share a folder, else each path."""
    if not files:
        return ""
    folders = {path.parent for path in files}
    if len(folders) == 1:
        text = f"wrote {folders.pop()}{os.sep}: " + ", ".join(path.name for path in files)
    else:
        text = "wrote " + ", ".join(str(path) for path in files)
    return wrap(text, width)


@dataclass(frozen=True)
class Reproduction:
    """A paper's experiment in three parts, so that its claim checks can be tested alone.

    Attributes:
        name: what ``populace reproduce`` calls it.
        summary: one line for ``populace list``.
        jobs: ``jobs(quick, seed)``, the seeded runs; runs that share a label are averaged.
        claims: ``claims(summary, quick)``, the paper's claims checked against the summary of
            the curves and nothing else.
        save: ``save(curves, out_dir)`` writes the CSV and figures and returns their paths
            (None for a figure skipped because matplotlib is missing).
        summarize: ``summarize(curves)``, what the claims see: by default the seed-averaged
            curves (:func:`mean_curves`, :data:`Means`).
    """

    name: str
    summary: str
    jobs: Callable[[bool, int], list[Job]]
    claims: Callable[[Any, bool], list[Claim]]
    save: Callable[[list[Curve], Path], list[Path | None]]
    summarize: Callable[[list[Curve]], Any] = field(default=lambda curves: mean_curves(curves))

    def run(
        self, *, quick: bool, out_dir: Path, seed: int = 0, workers: int | None = None,
        progress: bool | None = None,
    ) -> Report:
        """Run the jobs, write the files (and ``<name>-claims.md``) and check the claims."""
        out_dir.mkdir(parents=True, exist_ok=True)
        curves = run_jobs(self.jobs(quick, seed), workers, progress=progress)
        saved = self.save(curves, out_dir)
        report = Report(self.name, self.claims(self.summarize(curves), quick),
                        [path for path in saved if path is not None])
        claims_file = out_dir / f"{self.name}-claims.md"
        claims_file.write_text(report.table() + "\n", encoding="utf-8")
        report.files.append(claims_file)
        if None in saved:
            report.notes.append(NO_FIGURES)
        return report


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


def map_in_processes(
    function: Callable[[Any], Any], items: list[Any], workers: int | None = None, *,
    progress: bool | None = None, unit: str = "run", spawn: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, function(item))`` as each item finishes, in worker processes (one per
    core by default; ``workers=1`` runs them here, in order).

    ``function`` must be importable (module level, or a ``functools.partial`` of one). A bar
    on stderr counts the finished items, ``progress`` as in :func:`~populace.train.train`.
    Each worker process keeps torch to one thread (:func:`one_thread_each`), so that the
    workers share the cores instead of all of them spreading over every core. ``spawn``
    starts fresh worker processes instead of forking this one (needed once this process has
    run torch: its thread pools do not survive a fork). An exception in ``function`` stops
    the rest and is raised here.
    """
    workers = workers or min(len(items), os.cpu_count() or 1)
    bar = make_bar(len(items), unit=unit, force=progress)
    try:
        if workers <= 1:
            for index, item in enumerate(items):
                result = function(item)
                bar.update()
                yield index, result
            return
        context = multiprocessing.get_context("spawn") if spawn else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=one_thread_each) as pool:
            futures = {pool.submit(function, item): index for index, item in enumerate(items)}
            try:
                pending = set(futures)
                while pending:  # wake up now and then, so the bar shows time passing
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if not done:
                        redraw(bar)
                    for future in done:
                        result = future.result()
                        bar.update()
                        yield futures[future], result
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        bar.close()


def one_thread_each() -> None:
    """Limit torch (and OpenMP/MKL) to one thread in a worker process.

    Several workers each running torch's default of one thread per core oversubscribe the
    machine: two PPO workers of two threads each took 4 to 10 times longer on two cores. The
    environment variables reach a torch the worker imports later; torch itself is only touched
    if the parent process had already imported it.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


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
    means: Means, path: Path, title: str, *, floor: float | None = None,
    ylabel: str = "distance from equilibrium  Σ ρ(a)|a − 8|",
    marks: dict[str, float] | None = None,
) -> Path | None:
    """Save :func:`curves_figure` to ``path``; None, and nothing written, without matplotlib."""
    if not have_matplotlib():
        return None
    figure = curves_figure(means, title, floor=floor, ylabel=ylabel, marks=marks)
    figure.savefig(path, dpi=120)
    return path


def have_matplotlib() -> bool:
    """Whether figures can be drawn (matplotlib is the ``plot`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def curves_figure(
    means: Means, title: str, *, floor: float | None = None,
    ylabel: str = "distance from equilibrium  Σ ρ(a)|a − 8|",
    marks: dict[str, float] | None = None,
) -> Figure:
    """Distance from equilibrium against rounds, one line per label, with plain tick labels:
    on a log scale (0.1, 0.2, 0.3, 0.5, 1, ...) when the values span a factor of 4 or more.

    Args:
        floor: the exploration floor, drawn as a dotted horizontal line.
        marks: ``{label: round}``, the paper's reference rounds, drawn as dashed vertical lines.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.2))
    ax = figure.subplots()
    for label, (rounds, distance) in means.items():
        ax.plot(rounds, distance, label=label, linewidth=1.4)
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle=":", linewidth=1,
                   label=f"exploration floor ({floor:.2f})")
    for label, round_ in (marks or {}).items():
        ax.axvline(round_, color="black", linestyle="--", linewidth=0.8, label=label)
    ax.set_title(title)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    plain_axes(ax, np.concatenate([d for _, d in means.values()]
                                  + [np.atleast_1d(floor or [])]))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def plain_axes(ax: Any, values: np.ndarray) -> None:
    """Plain tick labels on a rounds axis and a y axis: the y axis on a log scale (0.1, 0.2,
    0.3, 0.5, 1, ...) when the positive ``values`` span a factor of 4 or more, else linear
    without offset or exponent."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    values = values[values > 0]
    if len(values) and values.max() >= 4 * values.min():
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_log_label))
        ax.yaxis.set_minor_formatter(FuncFormatter(_plain_log_label))
    else:
        plain = ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.yaxis.set_major_formatter(plain)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.set_xlim(left=0)


def _plain_log_label(value: float, _: Any = None) -> str:
    """Label the log-scale ticks 1, 2, 3 and 5 times a power of ten, as plain numbers.

    >>> [_plain_log_label(v) for v in (0.05, 0.07, 0.3, 1.0, 20.0)]
    ['0.05', '', '0.3', '1', '20']
    """
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value))
    if not any(np.isclose(mantissa, m) for m in (1, 2, 3, 5)):
        return ""
    return f"{value:g}"
