"""What a training run produces: metrics rows, the metrics table, timings and the result.

Columns are named, not fixed: the loop's own (``round``, ``episodes``, ``reward/<group>``,
``time``) plus the columns the game declares (:meth:`PopulationCore.window_metrics`).
:func:`populace.train.train` returns a :class:`TrainResult`; callbacks receive a
:class:`RunContext` at the start and a :class:`MetricsRow` per window.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from populace.envs.core import PopulationCore
from populace.envs.policies import LearnedPolicy


@dataclass(frozen=True)
class MetricsRow(Mapping[str, float | int]):
    """The scores of one metrics window, by column name: ``row["distance"]``, ``row.round``."""

    values: dict[str, float | int]  # type: ignore[assignment]  # shadows Mapping.values()

    def __getitem__(self, name: str) -> float | int:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def round(self) -> int:
        return int(self.values["round"])

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


class History:
    """The metrics table: one numpy column per name, one entry per window.

    Columns of Python ints are int64, all others float64. A column whose name is an
    identifier can also be read as an attribute (``history.distance``).
    """

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self._columns = {name: _column(values) for name, values in columns.items()}

    @classmethod
    def from_rows(cls, rows: list[MetricsRow], columns: tuple[str, ...] = ()) -> History:
        names = columns or (tuple(rows[0]) if rows else ())
        return cls({name: [row[name] for row in rows] for name in names})

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns", {})
        if name in columns:
            return cast(np.ndarray, columns[name])
        raise AttributeError(name)

    def column(self, name: str) -> np.ndarray:
        """One metric over all windows."""
        if name not in self._columns:
            raise KeyError(f"unknown metric {name!r}; columns are {self.columns}")
        return self._columns[name]

    def final(self, name: str) -> int | float:
        """The last window's value of ``name``."""
        values = self.column(name)
        if len(values) == 0:
            raise ValueError("the history is empty: no metrics window was completed")
        return cast("int | float", values[-1].item())

    def as_rows(self) -> list[MetricsRow]:
        return [
            MetricsRow({name: values[i].item() for name, values in self._columns.items()})
            for i in range(len(self))
        ]

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(self._columns)


def _column(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.reshape(-1)
    integers = bool(values) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
    )
    return np.asarray(values, dtype=np.int64 if integers else np.float64).reshape(-1)


@dataclass(frozen=True)
class Timings:
    """How long this call to :func:`~populace.train.train` took."""

    seconds: float  # wall time of the rounds played in this call
    rounds: int  # rounds played in this call (less than the total after a resume)
    rounds_per_second: float
    agent_rounds_per_second: float  # counting every agent of every group
    total_seconds: float  # training time of the whole run, summed over resumed calls


@dataclass(frozen=True)
class RunContext:
    """What callbacks learn in ``on_start``."""

    core: PopulationCore
    learners: dict[str, Any]  # by group (one learner may appear under several groups)
    budget: int  # rounds or episodes to reach in this call
    unit: str  # "rounds" or "episodes": what ``budget``, ``window`` and ``start`` count
    window: int
    seed: int | None
    start: int  # 0, or where a resumed run continues from (in ``unit``)
    run_dir: Path | None
    history: History  # the rows recorded before this call (a resumed run's)
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`~populace.train.train` returns."""

    rounds: int  # rounds played in total (fewer than asked if stopped early)
    episodes: int  # episodes completed in total
    history: History
    policies: dict[str, LearnedPolicy]  # each learned group's learner.policy() at the end
    timings: Timings
    run_dir: Path | None
    stopped_early: bool
    fixed_groups: tuple[str, ...] = field(default=())  # groups that followed fixed policies

    @property
    def policy(self) -> LearnedPolicy:
        """The policy of the one learned group (a ValueError if there are several)."""
        if len(self.policies) != 1:
            raise ValueError(f"several groups learned {sorted(self.policies)}; use .policies")
        return next(iter(self.policies.values()))

    def summary(self) -> str:
        t = self.timings
        done = f"{self.rounds} rounds"
        if t.rounds != self.rounds:  # a resumed run
            done += f" ({t.rounds} in this call)"
        text = (
            f"{done} in {t.seconds:.2f} s ({t.rounds_per_second:,.0f} rounds/s, "
            f"{t.agent_rounds_per_second:,.0f} agent-rounds/s)"
        )
        if len(self.history):
            shown = [c for c in self.history.columns if c not in ("round", "episodes", "time")]
            text += "; last window: " + ", ".join(
                f"{name} {self.history.final(name):.4g}" for name in shown
            )
        if self.stopped_early:
            text += " (stopped early)"
        if self.run_dir is not None:
            text += f"; run folder {self.run_dir}"
        return text
