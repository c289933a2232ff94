"""Many independent runs in worker processes, each with one torch thread.

Torch's default of one thread per core is slow for the small networks Populace trains, and
ruinous when the cores are shared: a PPO run of 20 agents for 300 rounds trained in 191 s and
207 s with torch's default here (2 threads) against 6.7 s and 8.3 s with one (CPU time of the
whole command 48 s and 54 s against 5.6 s and 5.9 s; alternated, on the loaded 2-core
machine). So every run keeps torch to :data:`TORCH_THREADS` threads, in worker processes
(:func:`one_thread_each`) and in this one (:func:`torch_threads`, which ``populace`` wraps
around every command and :func:`map_in_processes` around the runs it makes here).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from populace.train.progress import make_bar, redraw

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
TORCH_THREADS = 1  # torch threads per run; torch_threads(n) changes it for a block


def map_in_processes(
    function: Callable[[Any], Any], items: list[Any], workers: int | None = None, *,
    progress: bool | None = None, unit: str = "run", spawn: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, function(item))`` as each item finishes, in worker processes (one per
    core by default; ``workers=1`` runs them here, in order).

    ``function`` must be importable (module level, or a ``functools.partial`` of one). A bar
    on stderr counts the finished items, ``progress`` as in :func:`~populace.train.train`.
    Each worker process keeps torch to :data:`TORCH_THREADS` threads (one unless
    :func:`torch_threads` says otherwise; :func:`one_thread_each`), so that the workers share
    the cores instead of all of them spreading over every core, and so do runs made here
    (``workers=1``). ``spawn``
    starts fresh worker processes instead of forking this one (needed once this process has
    run torch: its thread pools do not survive a fork). An exception in ``function`` stops
    the rest and is raised here.
    """
    workers = workers or min(len(items), os.cpu_count() or 1)
    bar = make_bar(len(items), unit=unit, force=progress)
    try:
        if workers <= 1:
            for index, item in enumerate(items):
                with torch_threads(TORCH_THREADS):
                    result = function(item)
                bar.update()
                yield index, result
            return
        context = multiprocessing.get_context("spawn") if spawn else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=start_worker,
                                 initargs=(TORCH_THREADS, os.getpid())) as pool:
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


def start_worker(threads: int, parent: int) -> None:
    """A worker's start: :func:`one_thread_each`, and :func:`die_with_parent`."""
    one_thread_each(threads)
    die_with_parent(parent)


def die_with_parent(parent: int, every: float = 0.2) -> threading.Thread:
    """Have this worker process exit soon after process ``parent`` is gone.

    When the parent is killed outright (``kill -9``: no handler runs, so the pool cannot shut
    its workers down), the workers are adopted by another process and would go on writing
    into run folders that a rerun is writing too. A daemon thread looks at the parent's id
    every ``every`` seconds and ends the process when it has changed (POSIX; where there is no
    parent id to watch, nothing is started).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    watcher = threading.Thread(target=watch, name="populace-parent-watch", daemon=True)
    if os.getppid() == parent:
        watcher.start()
    return watcher


def one_thread_each(threads: int = 1) -> None:
    """Limit torch (and OpenMP/MKL) to ``threads`` threads in a worker process.

    Several workers each running torch's default of one thread per core oversubscribe the
    machine: two PPO workers of two threads each took 4 to 10 times longer on two cores. The
    environment variables reach a torch the worker imports later; torch itself is only touched
    if the parent process had already imported it.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


@contextmanager
def torch_threads(threads: int | None = 1) -> Iterator[None]:
    """Run the block with torch (and OpenMP/MKL) kept to ``threads`` threads in this process,
    and the workers :func:`map_in_processes` starts in it too; None leaves torch's own choice.

    Afterwards the previous setting is restored, except that a torch first imported inside
    the block keeps ``threads`` (torch reads ``OMP_NUM_THREADS`` once, when imported).

    >>> before = os.environ.get("OMP_NUM_THREADS")
    >>> with torch_threads(3):
    ...     os.environ["OMP_NUM_THREADS"]
    '3'
    >>> os.environ.get("OMP_NUM_THREADS") == before
    True
    """
    global TORCH_THREADS
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"torch threads must be a positive integer, got {threads!r}")
    saved_variables = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    torch = sys.modules.get("torch")
    saved_threads = torch.get_num_threads() if torch is not None else None
    saved_default, TORCH_THREADS = TORCH_THREADS, threads
    one_thread_each(threads)
    try:
        yield
    finally:
        TORCH_THREADS = saved_default
        for name, value in saved_variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if torch is not None and saved_threads is not None:
            torch.set_num_threads(saved_threads)
