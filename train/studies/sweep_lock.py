"""A lock file per sweep cell, so that no cell is trained by two live processes at once.

A sweep run twice into the same folder at the same time, or rerun while the workers of a
killed one still live, would otherwise have two processes appending to one cell's
``metrics.csv`` and writing its checkpoints. Before a cell trains, :func:`hold_cell` creates
``<cell>/lock`` exclusively (``O_CREAT | O_EXCL``) with the holder's host and process id, and
removes it when the cell ends. A lock left by a process that is gone (killed outright) is
taken over: on the same host the process id is checked to be alive; a lock from another host
cannot be checked from here, so it is taken over too (a Ray task retried after its node died
must be able to run the cell again).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_FILE = "lock"


class CellHeld(RuntimeError):
    """The cell is being trained by another live process."""

    def __init__(self, folder: Path, holder: dict[str, Any]) -> None:
        super().__init__(
            f"{folder.name} is being trained by process {holder.get('pid')} on this host "
            f"(lock file {folder / LOCK_FILE}); it was left to that process"
        )
        self.holder = holder


@contextmanager
def hold_cell(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock for the block; raise :class:`CellHeld` if a live process holds
    it already."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    mine = {"host": socket.gethostname(), "pid": os.getpid()}
    for _ in range(3):  # a stale lock is removed, then creating ours is tried again
        if _create(path, mine):
            break
        holder = _read(path)
        if holder is not None and _alive(holder, mine):
            raise CellHeld(folder, holder)
        path.unlink(missing_ok=True)
    else:
        raise CellHeld(folder, _read(path) or {})
    try:
        yield
    finally:
        if _read(path) == mine:
            path.unlink(missing_ok=True)


def _create(path: Path, holder: dict[str, Any]) -> bool:
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(holder, handle)
    return True


def _read(path: Path) -> dict[str, Any] | None:
    """The holder a lock file names (None: gone, or half written, i.e. not a live holder's)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _alive(holder: dict[str, Any], mine: dict[str, Any]) -> bool:
    """Whether ``holder`` is another process that still runs on this host."""
    pid = holder.get("pid")
    if holder.get("host") != mine["host"] or not isinstance(pid, int) or pid == mine["pid"]:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped: a killed sweep's workers are orphans,
    and where nothing reaps orphans (a container's init) they stay zombies, which ``kill(pid,
    0)`` still finds. Read from ``/proc``; False where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]
