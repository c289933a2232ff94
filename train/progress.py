"""The train loop's progress bar: a tqdm bar driven by the loop's hooks.

``train(progress=None)`` shows it only when stderr is a terminal and the run has lasted more
than ``delay`` seconds (so short runs and logs stay clean); ``progress=True`` always shows it,
``progress=False`` never. The loop calls :meth:`ProgressBar.update` every round (tqdm redraws
at most every ``interval`` seconds) and the callback hooks at window ends. :func:`make_bar`
applies the same rule to any count, such as the runs of ``populace compare``.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from tqdm import tqdm

from populace.train.callbacks import Callback

if TYPE_CHECKING:
    from populace.train.results import MetricsRow, RunContext, TrainResult


DELAY = 1.0  # seconds before a bar shown only on a terminal first draws


def make_bar(
    total: int, *, unit: str, force: bool | None = None, initial: int = 0,
    stream: TextIO | None = None, delay: float | None = None, interval: float = 0.1,
    unit_scale: bool = False,
) -> tqdm:
    """A tqdm bar on ``stream`` (default: ``sys.stderr``): ``force`` True always draws, False
    never, None only on a terminal and only once ``delay`` (default :data:`DELAY`) seconds
    have passed."""
    stream = stream or sys.stderr
    on_terminal = bool(getattr(stream, "isatty", lambda: False)())
    return tqdm(
        total=total, initial=initial, unit=unit, unit_scale=unit_scale, file=stream,
        mininterval=interval, dynamic_ncols=True,
        delay=0.0 if force else (DELAY if delay is None else delay),
        disable=force is False or (force is None and not on_terminal),
    )


def redraw(bar: tqdm) -> None:
    """Show the time passing on a bar whose count has not moved (once it may draw at all)."""
    if not bar.disable and time.time() >= bar.start_t + bar.delay:  # tqdm's clock
        bar.refresh()


class ProgressBar(Callback):
    """``42%|████      | 2100/5000 [00:01<00:01, 3.1krounds/s, distance=1.2]`` on stderr.

    Args:
        stream: where to draw (default: ``sys.stderr`` at start).
        force: True always draws, False never, None draws on a terminal after ``delay`` s.
        delay: seconds before the first draw when ``force`` is None (default: :data:`DELAY`).
        interval: least seconds between redraws.
        metric: the metrics column shown after the rate.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        force: bool | None = None,
        delay: float | None = None,
        interval: float = 0.1,
        metric: str = "distance",
    ) -> None:
        self.stream = stream
        self.force = force
        self.delay = delay
        self.interval = interval
        self.metric = metric
        self.bar: Any = None

    def on_start(self, context: RunContext) -> None:
        self.bar = make_bar(
            context.budget, initial=context.start, unit=context.unit.rstrip("s"),
            unit_scale=True, force=self.force, stream=self.stream, delay=self.delay,
            interval=self.interval,
        )

    def update(self, done: int) -> None:
        """Note that ``done`` rounds (or episodes) are complete."""
        if self.bar is not None and done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def on_window(self, row: MetricsRow) -> bool | None:
        if self.bar is not None and self.metric in row:
            self.bar.set_postfix({self.metric: f"{row[self.metric]:.4g}"}, refresh=False)
        return None

    def on_end(self, result: TrainResult) -> None:
        self.close()

    def close(self) -> None:
        """Draw the final state and end the line (only if anything was drawn)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
