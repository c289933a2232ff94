"""What a training run produces: metrics rows, the metrics table, timings and the result.

One :class:`MetricsRow` per metrics window; :class:`History` holds them as numpy columns;
:func:`populace.train.train` returns a :class:`TrainResult`, and callbacks receive a
:class:`RunContext` at the start.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from populace.envs.core import PopulationCore


@dataclass(frozen=True)
class MetricsRow:
    """The scores of one metrics window (the rounds since the previous row)."""

    round: int  # rounds played when the window closed
    distance: float  # the game's distance of the window's action frequencies from equilibrium
    exploitability: float  # best-reply gain against the window's action frequencies
    mean_reward: float  # reward per agent per round over the window
    modal_action: int  # the action played most often in the window
    modal_share: float  # the share of plays that were the modal action
    time: float  # training seconds so far (wall clock, summed over resumed runs)

    def as_dict(self) -> dict[str, int | float]:
        return dataclasses.asdict(self)


COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MetricsRow))
INTEGER_COLUMNS = ("round", "modal_action")


@dataclass(frozen=True, eq=False)
class History:
    """The metrics table: one numpy column per :class:`MetricsRow` field, one entry per window."""

    round: np.ndarray
    distance: np.ndarray
    exploitability: np.ndarray
    mean_reward: np.ndarray
    modal_action: np.ndarray
    modal_share: np.ndarray
    time: np.ndarray

    columns: ClassVar[tuple[str, ...]] = COLUMNS

    @classmethod
    def from_rows(cls, rows: list[MetricsRow]) -> History:
        return cls(**{name: _column([getattr(r, name) for r in rows], name) for name in COLUMNS})

    @classmethod
    def from_columns(cls, columns: dict[str, Any]) -> History:
        return cls(**{name: _column(columns[name], name) for name in COLUMNS})

    def __len__(self) -> int:
        return len(self.round)

    def column(self, name: str) -> np.ndarray:
        """One metric over all windows."""
        if name not in COLUMNS:
            raise KeyError(f"unknown metric {name!r}; columns are {COLUMNS}")
        return getattr(self, name)

    def final(self, name: str) -> int | float:
        """The last window's value of ``name``."""
        values = self.column(name)
        if len(values) == 0:
            raise ValueError("the history is empty: no metrics window was completed")
        return values[-1].item()

    def as_rows(self) -> list[MetricsRow]:
        return [
            MetricsRow(**{name: getattr(self, name)[i].item() for name in COLUMNS})
            for i in range(len(self))
        ]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMNS}


def _column(values: Any, name: str) -> np.ndarray:
    dtype = np.int64 if name in INTEGER_COLUMNS else np.float64
    return np.asarray(values, dtype=dtype).reshape(-1)


@dataclass(frozen=True)
class Timings:
    """How long this call to :func:`~populace.train.train` took."""

    seconds: float  # wall time of the rounds played in this call
    rounds: int  # rounds played in this call (less than the total after a resume)
    rounds_per_second: float
    agent_rounds_per_second: float
    total_seconds: float  # training time of the whole run, summed over resumed calls


@dataclass(frozen=True)
class RunContext:
    """What callbacks learn in ``on_start``."""

    core: PopulationCore
    learner: Any
    rounds: int  # the round budget of this call
    window: int
    seed: int | None
    start_round: int  # 0, or the round a resumed run continues from
    run_dir: Path | None
    history: History  # the rows recorded before this call (a resumed run's)
    columns: tuple[str, ...] = COLUMNS


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`~populace.train.train` returns."""

    rounds: int  # rounds played in total (fewer than asked if stopped early)
    history: History
    policy: np.ndarray  # learner.policy() at the end, (n_agents, n_actions)
    frequencies: np.ndarray  # action frequencies of the last full window (of all rounds if none)
    timings: Timings
    run_dir: Path | None
    stopped_early: bool

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
            h = self.history
            text += (
                f"; last window: distance {h.final('distance'):.4g}, exploitability "
                f"{h.final('exploitability'):.4g}, mean reward {h.final('mean_reward'):.4g}, "
                f"{h.final('modal_share'):.0%} play {h.final('modal_action')}"
            )
        if self.stopped_early:
            text += " (stopped early)"
        if self.run_dir is not None:
            text += f"; run folder {self.run_dir}"
        return text
