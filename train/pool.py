"""Many independent runs in worker processes, each with one torch thread."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from populace.train.progress import make_bar, redraw


def map_in_processes(
    function: Callable[[Any], Any], items: list[Any], workers: int | None = None, *,
    progress: bool | None = None, unit: str = "run", spawn: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, function(item))`` as each item finishes, in worker processes (one per
    core by default; ``workers=1`` runs them here, in order).

    ``function`` must be importable (module level, or a ``functools.partial`` of one). A bar
    on stderr counts the finished items, ``progress`` as in :func:`~populace.train.train`.
    Each worker process keeps torch to one thread (:func:`one_thread_each`), so that the
    workers share the cores instead of all of them spreading over every core. ``spawn``
    starts fresh worker processes instead of forking this one (needed once this process has
    run torch: its thread pools do not survive a fork). An exception in ``function`` stops
    the rest and is raised here.
    """
    workers = workers or min(len(items), os.cpu_count() or 1)
    bar = make_bar(len(items), unit=unit, force=progress)
    try:
        if workers <= 1:
            for index, item in enumerate(items):
                result = function(item)
                bar.update()
                yield index, result
            return
        context = multiprocessing.get_context("spawn") if spawn else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=one_thread_each) as pool:
            futures = {pool.submit(function, item): index for index, item in enumerate(items)}
            try:
                pending = set(futures)
                while pending:  # wake up now and then, so the bar shows time passing
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if not done:
                        redraw(bar)
                    for future in done:
                        result = future.result()
                        bar.update()
                        yield futures[future], result
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        bar.close()


def one_thread_each() -> None:
    """Limit torch (and OpenMP/MKL) to one thread in a worker process.

    Several workers each running torch's default of one thread per core oversubscribe the
    machine: two PPO workers of two threads each took 4 to 10 times longer on two cores. The
    environment variables reach a torch the worker imports later; torch itself is only touched
    if the parent process had already imported it.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
