"""Where the cells of a sweep run: worker processes here, or Ray tasks.

Both backends call the same cell function on the same cells and yield ``(index, outcome)`` as
each cell finishes, so :func:`populace.train.studies.sweep.sweep` records every cell the moment it
is
done (an interrupted sweep keeps what finished) and the results do not depend on the backend.

Ray is used through its core API only (``ray.init``, ``ray.remote``, ``ray.wait``): on the
cluster at ``address`` (``"auto"`` for the one this machine belongs to, ``ray://HOST:10001``
through Ray Client), or without one on a Ray instance started here and stopped afterwards.
A Ray already initialised in this process is used as it is and left running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from populace.train.pool import map_in_processes, one_thread_each
from populace.train.progress import make_bar, redraw

BACKENDS = ("local", "ray")
NO_RAY = "--backend ray needs the ray extra: pip install 'populace[ray]'"


def run_cells(
    task: Callable[[Any], Any], cells: list[Any], *, backend: str = "local",
    workers: int | None = None, address: str | None = None, progress: bool | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, task(cell))`` for every cell as it finishes, on ``backend``."""
    check_backend(backend, workers, address)
    if backend == "local":
        if cells:
            yield from map_in_processes(task, cells, workers, progress=progress,
                                        unit="cell", spawn=True)
        return
    yield from _run_on_ray(task, cells, address, progress)


def check_backend(backend: str, workers: int | None, address: str | None) -> None:
    """Refuse a backend that does not exist and options the backend has no use for."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if backend == "local" and address is not None:
        raise ValueError("--address is for --backend ray; the local backend needs none")
    if backend == "ray" and workers is not None:
        raise ValueError("--workers is for the local backend; Ray schedules its tasks on the "
                         "cluster's CPUs")


def _run_on_ray(
    task: Callable[[Any], Any], cells: list[Any], address: str | None, progress: bool | None
) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError:
        raise ImportError(NO_RAY) from None
    if not cells:
        return
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_one_thread_task)
        refs = {remote.remote(task, cell): index for index, cell in enumerate(cells)}
        bar = make_bar(len(cells), unit="cell", force=progress)
        try:
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=0.5)
                if not done:
                    redraw(bar)
                for ref in done:
                    outcome = ray.get(ref)
                    bar.update()
                    yield refs[ref], outcome
        except BaseException:
            for ref in refs:
                ray.cancel(ref)
            raise
        finally:
            bar.close()
    finally:
        if started:
            ray.shutdown()


def _one_thread_task(task: Callable[[Any], Any], cell: Any) -> Any:
    """``task(cell)`` in a Ray worker kept to one torch thread, as the local workers are."""
    one_thread_each()
    return task(cell)
