"""A grid of training runs from a TOML file: games × learners × population sizes × seeds.

``populace sweep sweeps/smoke.toml`` runs every cell of the grid through the standard train
loop (:func:`populace.train.train`), each into its own run folder, then writes one table of the
final metrics (mean ± standard deviation over seeds) and a figure of the learning curves.

The config is read with the standard library's :mod:`tomllib`, which only builds plain data
(tables, arrays, strings, numbers, booleans): loading a config cannot run code.

.. code-block:: toml

    seeds = 3              # seeds 0, 1, 2 (or a list: [0, 7])
    agents = [100]         # population sizes N
    rounds = 3000          # the budget of every cell: rounds = ... or episodes = ...
    window = 250           # rounds (episodes) per metrics row
    # checkpoint_every = 1000   (optional: lets an interrupted cell resume mid-run)

    [learners.stage]       # a learner label; its learner is the label unless `learner` says
    kwargs = { epsilon = 0.05, tau = 250 }
    [learners.ppo-scaled]
    learner = "ppo"
    kwargs = { reward_scale = 0.01 }

    [games.contribution_v0]            # a game label; its game is the label unless `game` says
    learners = ["stage", "regret", "ppo-scaled"]   # labels above, or plain learner names
    env = { payoff = "average" }       # game keywords (N comes from `agents`)
    metrics = ["distance", "exploitability"]   # columns to tabulate (default: all of them)
    rounds = 2000                      # seeds, agents, rounds/episodes, window: per game too

Every cell runs in ``OUT/cells/<game>-<learner>-n<N>-seed<seed>/`` (a run folder: config,
metrics, checkpoints). A cell is finished once its ``result.json`` is there: the sweep writes
it atomically when the cell's run ends, with the final metrics and curves the table is made
from. Run again into the same folder, a sweep skips finished cells and reruns the others
(continuing from their newest checkpoint, if any); a cell that raised leaves its traceback in
``error.txt`` and does not stop the others. A cell that another live process is training
(its ``lock`` file, :mod:`populace.train.studies.sweep_lock`) is left to it and named in the
notes; worker processes exit when the sweep's process dies, even by ``kill -9``.
``OUT/sweep.json`` keeps the config, and a different config is refused unless ``overwrite``.
With a budget of rounds, SB3 learners get ``total_rounds`` (their schedules' horizon) set to it
unless their keywords give it. Seeds are derived as ``populace train`` derives them, so
``populace train GAME --learner L --agents N --seed S --rounds R --window W``, with the cell's
keywords as ``--env`` and ``--learner-kw``, reproduces a cell.
"""

from __future__ import annotations

import functools
import json
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.text import files_line
from populace.train.checkpoint import read_json_object, write_json_atomic
from populace.train.papers.figures import NO_FIGURES, have_matplotlib, plain_axes
from populace.train.studies.sweep_config import Cell, plan_cells
from populace.train.studies.sweep_lock import CellHeld, hold_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
RESULT_FILE = "result.json"
ERROR_FILE = "error.txt"
OUTPUTS = ("sweep.csv", "sweep.md", "sweep.png")
NOTES_KEY = "populace sweep"


# --------------------------------------------------------------------------- one cell
def run_cell(cell: Cell, cells_dir: str) -> dict[str, Any]:
    """Train one cell into ``cells_dir/<cell.name>`` (continuing from its newest checkpoint if
    any) and return its outcome: ``status`` "done" with the final metrics and curves, or
    "failed" with the traceback, or "held" when another live process trains the cell (its
    lock, :mod:`populace.train.studies.sweep_lock`). Never raises for a failed run;
    importable, so it runs in worker processes and as a Ray task."""
    try:
        with hold_cell(Path(cells_dir) / cell.name):
            return {"cell": cell.as_json(), "status": "done", **_train_cell(cell, cells_dir)}
    except CellHeld as held:
        return {"cell": cell.as_json(), "status": "held", "error": str(held)}
    except Exception:
        return {"cell": cell.as_json(), "status": "failed", "error": traceback.format_exc()}


def _train_cell(cell: Cell, cells_dir: str) -> dict[str, Any]:
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.train import train

    core = make_core(cell.module, n_agents=cell.n_agents, **cell.env)
    env_seed, learner_seed = np.random.SeedSequence(cell.seed).generate_state(2)
    learner = make_learner(cell.learner_name, core, seed=int(learner_seed),
                           **cell.learner_kwargs)
    rounds, episodes = (cell.budget, None) if cell.unit == "rounds" else (None, cell.budget)
    result = train(core, learner, rounds, episodes=episodes, seed=int(env_seed),
                   window=cell.window, out_dir=Path(cells_dir) / cell.name, resume=True,
                   checkpoint_every=cell.checkpoint_every, progress=False,
                   notes={NOTES_KEY: cell.as_json()})
    history = result.history
    return {
        "final": {name: history.final(name) for name in cell.metrics},
        "rounds": history.column("round").tolist(),
        "curves": {name: history.column(name).tolist() for name in cell.metrics},
        "seconds": result.timings.total_seconds,
    }


# --------------------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class Row:
    """One line of the table: a learner at one population size on one game, over seeds."""

    game: str
    module: str
    learner: str
    n_agents: int
    seeds: int  # finished seeds
    means: dict[str, float]
    spreads: dict[str, float]  # standard deviation over seeds (ddof=0)
    seconds: float  # mean training time of one run


@dataclass
class SweepReport:
    """What :func:`sweep` measured and wrote."""

    rows: list[Row]
    failed: list[tuple[str, str]]  # (cell name, last line of its error)
    reused: int  # cells finished by an earlier run of the sweep
    ran: int
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self, width: int = 100) -> str:
        """The tables, the failed cells, the files written and any notes."""
        lines = [markdown_tables(self.rows),
                 f"{self.ran} cells run, {self.reused} reused from an earlier run, "
                 f"{len(self.failed)} failed"]
        lines += [f"FAILED {name}: {error}" for name, error in self.failed]
        lines += [files_line(self.files, width), *self.notes]
        return "\n".join(line for line in lines if line)


def sweep(
    config: dict[str, Any], out_dir: str | Path, *, workers: int | None = None,
    backend: str = "local", address: str | None = None, overwrite: bool = False,
    progress: bool | None = None,
) -> SweepReport:
    """Run the cells of ``config`` (see the module docstring) not yet finished in ``out_dir``,
    then write ``sweep.csv``, ``sweep.md`` and ``sweep.png`` there from all finished cells.

    Args:
        backend: ``"local"`` (worker processes, ``workers`` of them, one per core by default)
            or ``"ray"`` (Ray tasks, on the cluster at ``address`` or on a local instance).
        overwrite: start afresh in an ``out_dir`` that holds a sweep of another config.
    """
    from populace.train.studies.sweep_backends import check_backend, run_cells

    check_backend(backend, workers, address)
    cells = plan_cells(config)
    out = Path(out_dir)
    _claim_folder(out, config, overwrite)
    cells_dir = out / CELLS_DIR
    outcomes: dict[str, dict[str, Any]] = {}
    todo = []
    for cell in cells:
        finished = _finished(cells_dir / cell.name, cell)
        if finished is None:
            todo.append(cell)
        else:
            outcomes[cell.name] = finished
    task = functools.partial(run_cell, cells_dir=str(cells_dir.resolve()))
    for index, outcome in run_cells(task, todo, backend=backend, workers=workers,
                                    address=address, progress=progress):
        outcomes[todo[index].name] = _record(cells_dir / todo[index].name, outcome)
    results = [outcomes[cell.name] for cell in cells]
    report = SweepReport(
        aggregate(cells, results),
        [(c.name, _last_line(r["error"]))
         for c, r in zip(cells, results, strict=True) if r["status"] == "failed"],
        reused=len(cells) - len(todo), ran=len(todo))
    report.files, report.notes = write_outputs(cells, results, report.rows, out)
    report.notes += [f"NOT RUN {r['error']}" for r in results if r["status"] == "held"]
    return report


def _claim_folder(out: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Keep ``config`` in ``out/sweep.json``; refuse a folder holding another sweep."""
    saved_path = out / SWEEP_FILE
    config = json.loads(json.dumps(config))
    if saved_path.exists():
        saved = read_json_object(saved_path)
        if overwrite:
            shutil.rmtree(out / CELLS_DIR, ignore_errors=True)
            for name in OUTPUTS:
                (out / name).unlink(missing_ok=True)
        elif saved != config:
            raise ValueError(
                f"{out} holds a sweep of another config ({_first_difference(saved, config)}); "
                "rerun that config to resume it, or use another --out, or --overwrite"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(saved_path, config)


def _first_difference(saved: Any, new: Any, path: str = "") -> str:
    """Where two configs first differ, e.g. ``games.contribution_v0.rounds: 200 -> 300``."""
    if isinstance(saved, dict) and isinstance(new, dict):
        for key in sorted(set(saved) | set(new)):
            if saved.get(key) != new.get(key):
                return _first_difference(saved.get(key), new.get(key),
                                         f"{path}.{key}" if path else key)
    return f"{path or 'the config'}: {saved!r} -> {new!r}"


def _finished(folder: Path, cell: Cell) -> dict[str, Any] | None:
    """The outcome in ``folder/result.json`` if it is this cell's, else None."""
    path = folder / RESULT_FILE
    if not path.exists():
        return None
    outcome = read_json_object(path)
    return outcome if outcome.get("cell") == cell.as_json() else None


def _record(folder: Path, outcome: dict[str, Any]) -> dict[str, Any]:
    """Mark a cell: ``result.json`` (written atomically) once done, ``error.txt`` if failed."""
    if outcome["status"] == "held":  # the live holder's files are its own
        return outcome
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR_FILE).unlink(missing_ok=True)
    if outcome["status"] == "done":
        write_json_atomic(folder / RESULT_FILE, outcome)
    else:
        (folder / RESULT_FILE).unlink(missing_ok=True)
        (folder / ERROR_FILE).write_text(outcome["error"], encoding="utf-8")
    return outcome


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


# --------------------------------------------------------------------------- the table
def aggregate(cells: list[Cell], results: list[dict[str, Any]]) -> list[Row]:
    """Mean and spread over seeds of each finished (game, learner, N) group of cells."""
    groups: dict[tuple[str, str, int], list[tuple[Cell, dict[str, Any]]]] = {}
    for cell, result in zip(cells, results, strict=True):
        groups.setdefault((cell.game, cell.learner, cell.n_agents), [])
        if result["status"] == "done":
            groups[(cell.game, cell.learner, cell.n_agents)].append((cell, result))
    rows = []
    for (game, learner, n_agents), done in groups.items():
        if not done:
            continue
        finals = {m: mean_and_spread([r["final"][m] for _, r in done])
                  for m in done[0][0].metrics}
        rows.append(Row(game, done[0][0].module, learner, n_agents, len(done),
                        {m: mean for m, (mean, _) in finals.items()},
                        {m: spread for m, (_, spread) in finals.items()},
                        float(np.mean([r["seconds"] for _, r in done]))))
    return rows


def mean_and_spread(values: list[float]) -> tuple[float, float]:
    """Mean and standard deviation (ddof=0) of finite values; a value that diverged makes
    the mean infinite (or nan) and the spread nan.

    >>> mean_and_spread([1.0, 3.0]), mean_and_spread([2.0, float("inf")])
    ((2.0, 1.0), (inf, nan))
    """
    array = np.asarray(values, dtype=float)
    if np.all(np.isfinite(array)):
        return float(array.mean()), float(array.std())
    with np.errstate(invalid="ignore"):
        return float(array.mean()), float("nan")


def markdown_tables(rows: list[Row]) -> str:
    """One Markdown table per game: a line per learner and N, ``mean ± std`` per metric."""
    blocks = []
    for game in dict.fromkeys(row.game for row in rows):
        mine = [row for row in rows if row.game == game]
        metrics = list(mine[0].means)
        title = game if mine[0].module == game else f"{game} ({mine[0].module})"
        lines = [f"#### {title}", "",
                 "| learner | N | seeds | " + " | ".join(metrics) + " | seconds per run |",
                 "|---|---|---|" + "---|" * len(metrics) + "---|"]
        for row in mine:
            values = " | ".join(_mean_text(row.means[m], row.spreads[m]) for m in metrics)
            lines.append(f"| {row.learner} | {row.n_agents:,} | {row.seeds} | {values} "
                         f"| {row.seconds:.1f} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _mean_text(mean: float, spread: float) -> str:
    """``mean ± spread``, or the mean alone where it is not finite (a run diverged)."""
    if not np.isfinite(mean):
        return _number(mean)
    return f"{_number(mean)} ± {_number(spread)}"


def _number(value: float) -> str:
    """Four significant digits, without an exponent for everyday magnitudes.

    >>> [_number(v) for v in (0.0, 0.012345, 3.14159, 1234.5, 2.5e-06)]
    ['0', '0.01235', '3.142', '1234', '2.5e-06']
    """
    return f"{value:.4g}"


def write_outputs(
    cells: list[Cell], results: list[dict[str, Any]], rows: list[Row], out: Path
) -> tuple[list[Path], list[str]]:
    """``sweep.csv`` (one line per game, learner, N and metric), ``sweep.md`` and, with
    matplotlib, ``sweep.png``; returns the files written and a note if the figure was not."""
    csv_path = out / "sweep.csv"
    lines = ["game,module,learner,n_agents,seeds,metric,mean,std"]
    for row in rows:
        for metric in [*row.means, "seconds"]:
            mean = row.seconds if metric == "seconds" else row.means[metric]
            std = 0.0 if metric == "seconds" else row.spreads[metric]
            lines.append(f"{row.game},{row.module},{row.learner},{row.n_agents},{row.seeds},"
                         f"{metric},{mean!r},{std!r}")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    md_path = out / "sweep.md"
    md_path.write_text(markdown_tables(rows) + "\n", encoding="utf-8")
    if not have_matplotlib():
        return [csv_path, md_path], [NO_FIGURES]
    figure_path = out / "sweep.png"
    sweep_figure(cells, results).savefig(figure_path, dpi=110)
    return [csv_path, md_path, figure_path], []


def mean_curves(
    cells: list[Cell], results: list[dict[str, Any]]
) -> Iterator[tuple[str, str, str, np.ndarray, np.ndarray]]:
    """``(game, metric, line label, rounds, seed-mean curve)`` of each finished group."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for cell, result in zip(cells, results, strict=True):
        if result["status"] == "done":
            groups.setdefault((cell.game, cell.learner, cell.n_agents), []).append(result)
    sizes = {game: {n for g, _, n in groups if g == game} for game, _, _ in groups}
    for (game, learner, n_agents), done in groups.items():
        metric = done[0]["cell"]["metrics"][0]
        label = learner if len(sizes[game]) == 1 else f"{learner} N={n_agents}"
        yield (game, metric, label, np.array(done[0]["rounds"]),
               np.mean([r["curves"][metric] for r in done], axis=0))


def sweep_figure(cells: list[Cell], results: list[dict[str, Any]]) -> Figure:
    """One panel per game: its first metric against rounds, the mean over seeds per learner."""
    from matplotlib.figure import Figure

    games = list(dict.fromkeys(cell.game for cell in cells))
    columns = min(3, len(games))
    rows = -(-len(games) // columns)
    figure = Figure(figsize=(5 * columns, 3.6 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(games):]:
        ax.set_visible(False)
    drawn: dict[str, list[np.ndarray]] = {game: [] for game in games}
    for game, metric, label, rounds, curve in mean_curves(cells, results):
        ax = axes[games.index(game)]
        ax.plot(rounds, curve, label=label, linewidth=1.3)
        ax.set_title(game, fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel(metric)
        drawn[game].append(curve[np.isfinite(curve)])
    for game, ax in zip(games, axes, strict=False):
        if ax.lines:
            values = np.concatenate(drawn[game])
            # a log scale only for curves that stay positive (a reward column may not)
            plain_axes(ax, values if np.all(values > 0) else values[:0])
            ax.legend(fontsize=7)
    figure.tight_layout()
    return figure
