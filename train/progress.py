"""A dependency-free progress bar on stderr.

``train(progress=None)`` shows it only when stderr is a terminal and the run has lasted more
than ``delay`` seconds (so short runs and logs stay clean); ``progress=True`` always shows it,
``progress=False`` never. The train loop calls :meth:`ProgressBar.update` every round (cheap: it
redraws at most every ``interval`` seconds) and the callback hooks at window ends.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from populace.train.callbacks import Callback

if TYPE_CHECKING:
    from populace.train.results import MetricsRow, RunContext, TrainResult

BAR_WIDTH = 24


class ProgressBar(Callback):
    """A one-line bar redrawn in place, e.g.
    ``42% [##########..............] 2100/5000 rounds  3.1k rounds/s  eta 0:00:01  distance 1.2``.

    Args:
        stream: where to draw (default: ``sys.stderr`` at start).
        force: True always draws, False never, None draws on a terminal after ``delay`` s.
        delay: seconds before the first draw when ``force`` is None.
        interval: least seconds between redraws.
        metric: the metrics column shown after the rates.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        force: bool | None = None,
        delay: float = 1.0,
        interval: float = 0.1,
        metric: str = "distance",
    ) -> None:
        self.stream = stream
        self.force = force
        self.delay = delay
        self.interval = interval
        self.metric = metric
        self.total = 0
        self.first_round = 0
        self.round = 0
        self.value: float | None = None
        self.drawn = False
        self._start = 0.0
        self._next_draw = 0.0

    # ------------------------------------------------------------------ hooks
    def on_start(self, context: RunContext) -> None:
        self.stream = self.stream or sys.stderr
        self.total = context.rounds
        self.first_round = self.round = context.start_round
        self._start = time.monotonic()
        if self.force is False:
            self._next_draw = float("inf")
        elif self.force:
            self._next_draw = self._start
        else:
            is_tty = getattr(self.stream, "isatty", lambda: False)()
            self._next_draw = self._start + self.delay if is_tty else float("inf")

    def update(self, round_: int) -> None:
        """Note that ``round_`` rounds are done; redraw if it is time."""
        self.round = round_
        now = time.monotonic()
        if now >= self._next_draw:
            self._next_draw = now + self.interval
            self._draw(now)

    def on_window(self, row: MetricsRow) -> bool | None:
        self.value = getattr(row, self.metric, None)
        self.update(row.round)
        return None

    def on_end(self, result: TrainResult) -> None:
        self.round = result.rounds
        self.close()

    def close(self) -> None:
        """Draw the final state and end the line (only if anything was drawn)."""
        if self.drawn and self.stream is not None:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    # ------------------------------------------------------------------ drawing
    def render(self, now: float) -> str:
        done = self.round - self.first_round
        elapsed = max(now - self._start, 1e-9)
        rate = done / elapsed
        share = self.round / self.total if self.total else 1.0
        filled = int(round(BAR_WIDTH * min(share, 1.0)))
        eta = (self.total - self.round) / rate if rate > 0 else float("nan")
        text = (
            f"{share:4.0%} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{self.round}/{self.total} rounds  {_si(rate)} rounds/s  eta {_clock(eta)}"
        )
        if self.value is not None:
            text += f"  {self.metric} {self.value:.4g}"
        return text

    def _draw(self, now: float) -> None:
        assert self.stream is not None
        self.stream.write("\r" + self.render(now))
        self.stream.flush()
        self.drawn = True


def _si(value: float) -> str:
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.1f}{suffix}"
    return f"{value:.0f}"


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN or unknown
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
