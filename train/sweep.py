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
``error.txt`` and does not stop the others. ``OUT/sweep.json`` keeps the config, and a
different config is refused unless ``overwrite``. With a budget of rounds, SB3 learners get
``total_rounds`` (their schedules' horizon) set to it unless their keywords give it. Seeds are
derived as ``populace train`` derives them, so ``populace train GAME --learner L --agents N
--seed S --rounds R --window W``, with the cell's keywords as ``--env`` and ``--learner-kw``,
reproduces a cell.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tomllib
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from populace.train.checkpoint import read_json, write_json_atomic
from populace.train.reproduce import NO_FIGURES, files_line, have_matplotlib, plain_axes

SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
RESULT_FILE = "result.json"
ERROR_FILE = "error.txt"
OUTPUTS = ("sweep.csv", "sweep.md", "sweep.png")
GRID_KEYS = ("seeds", "agents", "rounds", "episodes", "window")  # top level, or per game
TOP_KEYS = (*GRID_KEYS, "checkpoint_every", "games", "learners")
GAME_KEYS = (*GRID_KEYS, "game", "env", "learners", "metrics")
LEARNER_KEYS = ("learner", "kwargs")
LABEL = re.compile(r"^[A-Za-z0-9_-]+$")
NOTES_KEY = "populace sweep"


# --------------------------------------------------------------------------- the grid
@dataclass(frozen=True)
class Cell:
    """One training run of the grid; its fields are what its ``result.json`` records."""

    game: str  # the game's label in the config
    module: str  # the registered game
    env: dict[str, Any]
    learner: str  # the learner's label in the config
    learner_name: str
    learner_kwargs: dict[str, Any]
    n_agents: int
    seed: int
    unit: str  # "rounds" or "episodes"
    budget: int
    window: int
    checkpoint_every: int | None
    metrics: tuple[str, ...]  # the columns tabulated, the first one drawn

    @property
    def name(self) -> str:
        return f"{self.game}-{self.learner}-n{self.n_agents}-seed{self.seed}"

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))


def load_config(path: str | Path) -> dict[str, Any]:
    """The TOML file at ``path`` as plain data (a ValueError names a syntax error's place)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"no sweep config at {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from None


def plan_cells(config: dict[str, Any]) -> list[Cell]:
    """Check ``config`` and list its cells (game, learner, N, seed order).

    Every game is built at each population size and every learner for its game, so an unknown
    key, game, learner or keyword, a bad value or a learner that cannot play a game is a
    ValueError naming it now, before any run starts.
    """
    _check_keys(config, TOP_KEYS, "the sweep config")
    games = _table(config, "games", required=True)
    labels = _learner_labels(_table(config, "learners", required=False))
    checkpoint_every = config.get("checkpoint_every")
    if checkpoint_every is not None:
        _positive_int(checkpoint_every, "checkpoint_every")
    cells = []
    for label, game in games.items():
        where = f"games.{label}"
        _check_label(label, "games")
        if not isinstance(game, dict):
            raise ValueError(f"{where} must be a table, got {game!r}")
        _check_keys(game, GAME_KEYS, where)
        grid = _grid({**{k: config[k] for k in GRID_KEYS if k in config},
                      **{k: game[k] for k in GRID_KEYS if k in game}}, where)
        if checkpoint_every is not None and checkpoint_every % grid["window"]:
            raise ValueError(f"checkpoint_every ({checkpoint_every}) must be a multiple of "
                             f"{where}'s window ({grid['window']})")
        module = game.get("game", label)
        env = _plain(game.get("env", {}), f"{where}.env")
        if not isinstance(env, dict):
            raise ValueError(f"{where}.env must be a table of game keywords, got {env!r}")
        if "n_agents" in env:
            raise ValueError(f"{where}.env: set the population size with `agents`, not n_agents")
        learners = game.get("learners")
        if not isinstance(learners, list) or not learners:
            raise ValueError(f"{where}.learners must be a non-empty list of learner labels, "
                             f"got {learners!r}")
        metrics = _check_game(module, env, grid, game.get("metrics"), where)
        for learner in learners:
            name, kwargs = _resolve_learner(learner, labels, grid, where)
            _check_pairing(module, env, min(grid["agents"]), learner, name, kwargs, where)
            for n_agents in grid["agents"]:
                cells += [Cell(label, module, env, learner, name, kwargs, n_agents, seed,
                               grid["unit"], grid["budget"], grid["window"], checkpoint_every,
                               metrics) for seed in grid["seeds"]]
    return cells


def _check_keys(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in {where}; known keys: {list(known)}")


def _table(config: dict[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    table = config.get(key, {})
    if not isinstance(table, dict) or (required and not table):
        raise ValueError(f"the sweep config needs a non-empty [{key}] table"
                         if required else f"[{key}] must be a table, got {table!r}")
    return table


def _check_label(label: str, kind: str) -> None:
    if not LABEL.match(label):
        raise ValueError(f"{kind}.{label!r}: labels name folders, so use letters, digits, "
                         "'_' and '-' only")


def _learner_labels(table: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{label: (learner name, keywords)}`` from the ``[learners]`` table."""
    labels = {}
    for label, entry in table.items():
        where = f"learners.{label}"
        _check_label(label, "learners")
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a table, got {entry!r}")
        _check_keys(entry, LEARNER_KEYS, where)
        name = entry.get("learner", label)
        kwargs = _plain(entry.get("kwargs", {}), f"{where}.kwargs")
        if not isinstance(name, str) or not isinstance(kwargs, dict):
            raise ValueError(f"{where}: `learner` must be a learner name and `kwargs` a table")
        labels[label] = (name, kwargs)
    return labels


def _grid(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Seeds, population sizes, budget and window of one game, checked."""
    if ("rounds" in values) == ("episodes" in values):
        raise ValueError(f"{where}: give a budget of `rounds` or of `episodes` (exactly one, "
                         "at the top or in the game's table)")
    unit = "rounds" if "rounds" in values else "episodes"
    budget = _positive_int(values[unit], f"{where}: {unit}")
    window = _positive_int(values.get("window"), f"{where}: window")
    if window > budget:
        raise ValueError(f"{where}: window {window} is longer than {unit} {budget}: no metrics "
                         "row would be recorded")
    seeds = values.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(_positive_int(seeds, f"{where}: seeds")))
    seeds = _int_list(seeds, f"{where}: seeds", minimum=0)
    agents = values.get("agents")
    agents = _int_list([agents] if isinstance(agents, int) else agents, f"{where}: agents",
                       minimum=1)
    return {"unit": unit, "budget": budget, "window": window, "seeds": seeds, "agents": agents}


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where} must be a positive integer, got {value!r}")
    return value


def _int_list(values: Any, where: str, *, minimum: int) -> list[int]:
    if (not isinstance(values, list) or not values
            or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in values)):
        raise ValueError(f"{where} must be a non-empty list of integers >= {minimum} (or one "
                         f"integer), got {values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{where} lists a value twice: {values!r}")
    return list(values)


def _plain(value: Any, where: str) -> Any:
    """``value`` if it is JSON data (TOML's dates and times are not), else a ValueError."""
    if isinstance(value, dict):
        return {key: _plain(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, where) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError(f"{where}: {value!r} is not a string, number, boolean, array or table")


def _check_game(
    module: str, env: dict[str, Any], grid: dict[str, Any], metrics: Any, where: str
) -> tuple[str, ...]:
    """Build the game at every size; return the metrics to tabulate, checked."""
    from populace.envs.registry import make_core

    columns: tuple[str, ...] = ()
    for n_agents in grid["agents"]:
        try:
            core = make_core(module, n_agents=n_agents, **env)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where} (game {module!r}, N={n_agents}): {error}") from None
        columns = (*core.window_metrics().columns, *(f"reward/{g.name}" for g in core.groups))
    if metrics is None:
        return columns
    if not isinstance(metrics, list) or not metrics or not all(
            isinstance(m, str) for m in metrics):
        raise ValueError(f"{where}.metrics must be a non-empty list of column names, "
                         f"got {metrics!r}")
    unknown = [m for m in metrics if m not in columns]
    if unknown:
        raise ValueError(f"{where}.metrics: {module} has no column {unknown[0]!r}; its columns "
                         f"are {list(columns)}")
    return tuple(metrics)


def _resolve_learner(
    label: Any, labels: dict[str, tuple[str, dict[str, Any]]], grid: dict[str, Any], where: str
) -> tuple[str, dict[str, Any]]:
    """The learner name and keywords of ``label`` in a game with this ``grid``."""
    from populace.agents import BASELINES, LEARNERS, TORCH_LEARNERS

    known = [*LEARNERS, *TORCH_LEARNERS, *BASELINES]
    if not isinstance(label, str) or (label not in labels and label not in known):
        raise ValueError(f"{where}.learners: unknown learner {label!r}; use a label of "
                         f"[learners] {sorted(labels)} or a learner name {known}")
    name, kwargs = labels.get(label, (label, {}))
    if name in BASELINES and grid["unit"] == "rounds":
        kwargs = {"total_rounds": grid["budget"], **kwargs}
    return name, kwargs


def _check_pairing(
    module: str, env: dict[str, Any], n_agents: int, label: str, name: str,
    kwargs: dict[str, Any], where: str,
) -> None:
    """Build the learner for the game: a learner that cannot play it fails here, clearly."""
    from populace.agents import make_learner
    from populace.envs.registry import make_core

    core = make_core(module, n_agents=n_agents, **env)
    try:
        make_learner(name, core, seed=0, **kwargs)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: learner {label!r} ({name}) cannot play {module} with "
                         f"these settings: {error}") from None


# --------------------------------------------------------------------------- one cell
def run_cell(cell: Cell, cells_dir: str) -> dict[str, Any]:
    """Train one cell into ``cells_dir/<cell.name>`` (continuing from its newest checkpoint if
    any) and return its outcome: ``status`` "done" with the final metrics and curves, or
    "failed" with the traceback. Never raises for a failed run; importable, so it runs in
    worker processes and as a Ray task."""
    try:
        return {"cell": cell.as_json(), "status": "done", **_train_cell(cell, cells_dir)}
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
    from populace.train.sweep_backends import check_backend, run_cells

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
    return report


def _claim_folder(out: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Keep ``config`` in ``out/sweep.json``; refuse a folder holding another sweep."""
    saved_path = out / SWEEP_FILE
    config = json.loads(json.dumps(config))
    if saved_path.exists():
        saved = read_json(saved_path)
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
    outcome = read_json(path)
    return outcome if outcome.get("cell") == cell.as_json() else None


def _record(folder: Path, outcome: dict[str, Any]) -> dict[str, Any]:
    """Mark a cell: ``result.json`` (written atomically) once done, ``error.txt`` if failed."""
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


def sweep_figure(cells: list[Cell], results: list[dict[str, Any]]) -> Any:
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
