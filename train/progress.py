"""The train loop's progress bar: a tqdm bar driven by the loop's hooks.

``train(progress=None)`` shows it only when stderr is a terminal and the run has lasted more
than ``delay`` seconds (so short runs and logs stay clean); ``progress=True`` always shows it,
``progress=False`` never. The loop calls :meth:`ProgressBar.update` every round (tqdm redraws
at most every ``interval`` seconds) and the callback hooks at window ends.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from tqdm import tqdm

from populace.train.callbacks import Callback

if TYPE_CHECKING:
    from populace.train.results import MetricsRow, RunContext, TrainResult


class ProgressBar(Callback):
    """``42%|████      | 2100/5000 [00:01<00:01, 3.1krounds/s, distance=1.2]`` on stderr.

    Args:
        stream: where to draw (default: ``sys.stderr`` at start).
        force: True always draws, False never, None draws on a terminal after ``delay`` s.
        delay: seconds before the first draw when ``force`` is None.
        interval: least seconds between redraws.
        metric: the metrics column shown after the rate.
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
        self.bar: Any = None

    def on_start(self, context: RunContext) -> None:
        stream = self.stream or sys.stderr
        on_terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.bar = tqdm(
            total=context.budget, initial=context.start, unit=context.unit.rstrip("s"),
            unit_scale=True, file=stream, mininterval=self.interval, dynamic_ncols=True,
            delay=0.0 if self.force else self.delay,
            disable=self.force is False or (self.force is None and not on_terminal),
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
