"""A run folder: ``config.json`` (what was trained), ``metrics.csv`` (one row per metrics
window) and ``checkpoints/round_<R>/`` (:mod:`populace.train.checkpoint`); what a run's config
records, and the check that a resumed run is the same run."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from populace.jsonable import to_json
from populace.train.checkpoint import (
    FORMAT_VERSION,
    CorruptCheckpoint,
    checkpoint_rounds,
    load_checkpoint,
    read_json_object,
    remove_temporaries,
    save_checkpoint,
    write_json_atomic,
)

if TYPE_CHECKING:
    from populace.envs.core import PopulationCore
    from populace.train.controllers import Controller

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CHECKPOINT_DIR = "checkpoints"
logger = logging.getLogger("populace.train")


@dataclass
class RunFolder:
    """The files of one training run under ``path``."""

    path: Path
    keep: int | None = 2  # checkpoints to keep (the newest); None keeps all

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    def holds_run(self) -> bool:
        return any(p.exists() for p in (self.config_path, self.metrics_path, self.checkpoint_dir))

    def clear(self) -> None:
        """Remove the files of a previous run (other files in the folder are left alone)."""
        self.config_path.unlink(missing_ok=True)
        self.metrics_path.unlink(missing_ok=True)
        shutil.rmtree(self.checkpoint_dir, ignore_errors=True)

    def check_config(self, config: dict[str, Any], keys: tuple[str, ...]) -> None:
        """Raise a ValueError if the saved config differs from ``config`` in any of ``keys``."""
        if not self.config_path.exists():
            return
        saved = read_json_object(self.config_path)
        current = json.loads(json.dumps(config))
        changed = [key for key in keys if saved.get(key) != current.get(key)]
        if changed:
            details = "; ".join(
                f"{key}: saved {saved.get(key)!r}, now {current.get(key)!r}" for key in changed
            )
            raise ValueError(
                f"cannot resume the run in {self.path}: it was started with a different "
                f"configuration ({details}); use another out_dir or pass overwrite=True "
                "(populace train: another --out, or --overwrite)"
            )

    def write_config(self, config: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.config_path, config)

    def latest(self) -> tuple[int, Path] | None:
        found = checkpoint_rounds(self.checkpoint_dir)
        if not found:
            return None
        round_ = max(found)
        return round_, found[round_]

    def latest_intact(self) -> tuple[Path, dict[str, Any]] | None:
        """The newest checkpoint that loads and verifies, with its state (None: there is no
        checkpoint). Each corrupt newer one is skipped with a one-line notice naming its file;
        when every checkpoint is corrupt, :class:`CorruptCheckpoint` lists them all."""
        found = checkpoint_rounds(self.checkpoint_dir)
        problems = []
        for round_ in sorted(found, reverse=True):
            try:
                state = load_checkpoint(found[round_])
            except CorruptCheckpoint as problem:
                problems.append(str(problem))
                logger.warning("populace: skipping a corrupt checkpoint: %s", problem)
                continue
            return found[round_], state
        if problems:
            raise CorruptCheckpoint(
                f"no intact checkpoint in {self.checkpoint_dir}: " + "; ".join(problems))
        return None

    def save(self, round_: int, state: dict[str, Any]) -> Path:
        path = save_checkpoint(self.checkpoint_dir, round_, state)
        self._prune()
        return path

    def _prune(self) -> None:
        if self.keep is None:
            return
        found = checkpoint_rounds(self.checkpoint_dir)
        for round_ in sorted(found)[: -self.keep]:
            shutil.rmtree(found[round_], ignore_errors=True)


def open_run_folder(
    out_dir: str | os.PathLike[str] | None, config: dict[str, Any], *, resume: bool,
    overwrite: bool, keep: int | None, resume_keys: tuple[str, ...],
) -> RunFolder | None:
    """The run folder for ``out_dir`` (None without one), after the overwrite/resume checks."""
    if out_dir is None:
        return None
    folder = RunFolder(Path(out_dir), keep)
    if folder.path.exists() and not folder.path.is_dir():
        raise ValueError(f"out_dir {folder.path} exists and is not a folder")
    if resume:
        folder.check_config(config, resume_keys)
    elif folder.holds_run():
        if not overwrite:
            raise ValueError(
                f"out_dir {folder.path} already holds a run; pass resume=True to continue it "
                "or overwrite=True to replace it (populace train: --resume or --overwrite)"
            )
        folder.clear()
    remove_temporaries(folder.checkpoint_dir)
    return folder


# --------------------------------------------------------------------------- config.json
def run_config(
    core: PopulationCore, controllers: list[Controller], *, fixed_groups: tuple[str, ...],
    seed: int | None, unit: str, budget: int, window: int, checkpoint_every: int | None,
) -> dict[str, Any]:
    """What ``config.json`` records about a run (JSON-able).

    The game is recorded by the parameters it declares (:attr:`PopulationCore.params`, the
    constructor's keywords with defaults filled in, ``render_mode`` left out).
    """
    from populace import __version__

    config = cast("dict[str, Any]", to_json({
        "format": FORMAT_VERSION,
        "populace": __version__,
        "env": {
            "name": core.metadata.get("name", type(core).__name__),
            "class": _qualified_name(type(core)),
            "kwargs": {k: v for k, v in core.params.items() if k != "render_mode"},
        },
        "learners": {
            ",".join(c.groups): {"class": _qualified_name(type(c.learner)),
                                 "config": c.learner.config()}
            for c in controllers
        },
        "fixed_groups": list(fixed_groups),
        "seed": seed,
        "unit": unit,
        "window": window,
        unit: budget,
        "checkpoint_every": checkpoint_every,
    }))  # a dict comes back a dict
    return config


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
