"""Hooks the train loop calls: at the start, after every metrics window, and at the end.

A callback is any object with one or more of these methods (subclass :class:`Callback` to get
no-op defaults for the others):

* ``on_start(context)`` — once, before the first round (``context.history`` holds the rows of
  a resumed run, so a callback can rebuild what it had counted);
* ``on_window(row) -> bool | None`` — after every ``window`` rounds with that window's
  :class:`~populace.train.MetricsRow`; returning True stops training after this window;
* ``on_end(result)`` — once, with the :class:`~populace.train.TrainResult`, unless the run was
  interrupted by an exception.

A plain function ``row -> bool | None`` is accepted as an ``on_window`` hook. The three
protocols :class:`StartHook`, :class:`WindowHook` and :class:`EndHook` type an object with the
one method each names; :data:`CallbackSpec` is what ``train`` accepts.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeGuard, cast, runtime_checkable

from populace.envs.validation import check_choice, check_int, check_number
from populace.train.checkpoint import write_atomic

if TYPE_CHECKING:
    from populace.train.results import MetricsRow, RunContext, TrainResult

HOOKS = ("on_start", "on_window", "on_end")


@runtime_checkable
class StartHook(Protocol):
    """An object called once before the first round."""

    def on_start(self, context: RunContext) -> None: ...


@runtime_checkable
class WindowHook(Protocol):
    """An object called after every metrics window; True stops training."""

    def on_window(self, row: MetricsRow) -> bool | None: ...


@runtime_checkable
class EndHook(Protocol):
    """An object called once with the result of a run that finished normally."""

    def on_end(self, result: TrainResult) -> None: ...


Hooks = StartHook | WindowHook | EndHook
"""An object with at least one of the hooks."""

CallbackSpec = Hooks | Callable[["MetricsRow"], "bool | None"]
"""One callback as ``train`` takes it: a hook object or a function ``row -> bool | None``."""


class Callback:
    """Base class with do-nothing hooks; override the ones you need."""

    def on_start(self, context: RunContext) -> None:
        """Called once before the first round of this call to ``train``."""

    def on_window(self, row: MetricsRow) -> bool | None:
        """Called after every metrics window; return True to stop training."""
        return None

    def on_end(self, result: TrainResult) -> None:
        """Called once with the result when training finishes normally."""


@dataclass
class FunctionCallback(Callback):
    """Wraps a function ``row -> bool | None`` as an ``on_window`` hook."""

    function: Callable[[MetricsRow], bool | None]

    def on_window(self, row: MetricsRow) -> bool | None:
        return self.function(row)


def as_callbacks(callbacks: CallbackSpec | Iterable[CallbackSpec] | None) -> list[Hooks]:
    """Validate ``train``'s ``callbacks`` argument; return a list of hook objects."""
    if callbacks is None:
        return []
    items: object = callbacks
    if isinstance(callbacks, Callback) or _has_hooks(callbacks):
        items = [callbacks]
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"callbacks must be a list of callbacks, got {type(items).__name__}"
        )
    checked: list[Hooks] = []
    for index, item in enumerate(items):
        if isinstance(item, Callback) or _has_hooks(item):
            checked.append(item)
        elif callable(item) and not isinstance(item, type):
            checked.append(FunctionCallback(cast(Callable[["MetricsRow"], "bool | None"], item)))
        else:
            raise TypeError(
                f"callbacks[{index}] must be a populace.train.Callback, an object with "
                f"{'/'.join(HOOKS)} methods, or a function row -> bool; "
                f"got {type(item).__name__} {item!r}"
            )
    return checked


def _has_hooks(obj: object) -> TypeGuard[Hooks]:
    return not isinstance(obj, type) and any(callable(getattr(obj, h, None)) for h in HOOKS)


def call_hook(callback: Hooks, hook: str, argument: object) -> object:
    method = getattr(callback, hook, None)
    return method(argument) if callable(method) else None


# --------------------------------------------------------------------------- CSV logging
def format_value(value: object) -> str:
    """Text for one CSV cell; floats round-trip exactly."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([format_value(v) for v in values])
    return buffer.getvalue()


def write_metrics_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """(Re)write a whole metrics file atomically: header plus ``rows``."""

    def write(handle: TextIO) -> None:
        handle.write(csv_line(columns))
        for row in rows:
            handle.write(csv_line(row))

    write_atomic(path, write)


class CSVLogger(Callback):
    """Append one line per metrics window to a CSV file, flushed every window.

    The file is opened, appended to and closed for each row, so an interrupted run leaves a
    complete, readable file. With ``append=False`` (default) an existing file is replaced;
    with ``append=True`` rows are added after the existing ones (the header is written only
    when the file is new or empty).
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False) -> None:
        self.path = Path(path)
        self.append = append
        self._columns: tuple[str, ...] | None = None

    def on_start(self, context: RunContext) -> None:
        self._columns = context.columns
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.append or not self.path.exists() or self.path.stat().st_size == 0
        if fresh:
            write_metrics_csv(self.path, context.columns, [])

    def on_window(self, row: MetricsRow) -> bool | None:
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(csv_line([row[c] for c in self._columns or tuple(row)]))
            handle.flush()
        return None


# --------------------------------------------------------------------------- early stopping
class EarlyStopping(Callback):
    """Stop once ``metric`` has been at or below ``threshold`` for ``patience`` windows in a row.

    With ``mode="max"`` the condition is "at or above". The streak is rebuilt from the history
    of a resumed run, so resuming does not change when training stops.

    >>> stop = EarlyStopping("distance", threshold=0.5, patience=2)
    """

    def __init__(
        self, metric: str = "distance", *, threshold: float, patience: int = 1, mode: str = "min"
    ) -> None:
        self.metric = metric
        self.threshold = check_number("threshold", threshold, low=-math.inf)
        self.patience = check_int("patience", patience, minimum=1)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.streak = 0

    def _met(self, value: float) -> bool:
        return value <= self.threshold if self.mode == "min" else value >= self.threshold

    def on_start(self, context: RunContext) -> None:
        if self.metric not in context.columns:
            raise ValueError(
                f"EarlyStopping: unknown metric {self.metric!r}; choose from {context.columns}"
            )
        self.streak = 0
        for value in context.history.column(self.metric)[::-1]:
            if not self._met(float(value)):
                break
            self.streak += 1

    def on_window(self, row: MetricsRow) -> bool | None:
        self.streak = self.streak + 1 if self._met(float(row[self.metric])) else 0
        return self.streak >= self.patience
