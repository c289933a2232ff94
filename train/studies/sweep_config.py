"""A sweep's grid: its TOML config read safely, checked, and listed as :class:`Cell` runs.

The config format is documented in :mod:`populace.train.studies.sweep`. The standard library's
:mod:`tomllib` only builds plain data (tables, arrays, strings, numbers, booleans), so loading a
config cannot run code; every game and learner is then built once here, so that a bad config
fails before any run starts.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

GRID_KEYS = ("seeds", "agents", "rounds", "episodes", "window")  # top level, or per game
TOP_KEYS = (*GRID_KEYS, "checkpoint_every", "games", "learners")
GAME_KEYS = (*GRID_KEYS, "game", "env", "learners", "metrics")
LEARNER_KEYS = ("learner", "kwargs")
LABEL = re.compile(r"^[A-Za-z0-9_-]+$")


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
        return cast("dict[str, Any]", json.loads(json.dumps(asdict(self))))


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
