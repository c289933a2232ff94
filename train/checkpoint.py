"""Checkpoints without pickle, and the atomic JSON files of a run folder.

A checkpoint is a folder ``round_<R>/`` with ``state.json`` (scalars, nested dicts, lists) and
``arrays.npz`` (every numpy array of the state, loaded with ``allow_pickle=False``); the run
folder that holds them is :class:`populace.train.run_folder.RunFolder`.

A state is any tree of dicts (string keys), lists, JSON scalars, numpy arrays and numpy
scalars. :func:`split_state` moves the arrays out of the tree, leaving ``{"__array__": name}``
markers (``{"__scalar__": name}`` for numpy scalars, so their dtype survives) that
:func:`join_state` puts back.

Checkpoints are atomic: both files are written into a hidden temporary folder next to the
others, flushed to disk, and the folder is renamed into place. A crash leaves either the old
set of checkpoints or the new one, never a half-written checkpoint under a ``round_`` name.

Checkpoints are also verified: ``state.json`` records the shape, dtype and SHA-256 of every
array and a SHA-256 of the rest of the state, and :func:`load_checkpoint` refuses a folder whose
files do not match (a disk or copy error, a truncated or hand-edited file) with a
:class:`CorruptCheckpoint` naming the file.
:meth:`~populace.train.run_folder.RunFolder.latest_intact` then falls back to the newest
checkpoint that is intact, with a one-line notice naming the one it skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeAlias, cast

import numpy as np

from populace.jsonable import JSON

STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
FORMAT_VERSION = 2  # 2: array shapes, dtypes and checksums; 1 (no checks) is still read
_READABLE_FORMATS = (1, 2)
_CHECKPOINT_NAME = re.compile(r"^round_(\d+)$")
_TEMP_PREFIX = ".tmp-"


class CorruptCheckpoint(ValueError):
    """A checkpoint folder whose files are missing, unreadable, or not what was written."""


# --------------------------------------------------------------------------- state trees
StateTree: TypeAlias = (
    "dict[str, StateTree] | list[StateTree] | np.ndarray | np.generic | str | int | float | bool"
    " | None"
)
"""A learner's or a game's state: JSON's values plus numpy arrays and scalars."""


def split_state(tree: object) -> tuple[JSON, dict[str, np.ndarray]]:
    """Separate the numpy arrays of a state tree from its JSON-able rest (anything else in
    ``tree`` is a TypeError naming where it is)."""
    arrays: dict[str, np.ndarray] = {}
    return _split(tree, arrays, "state"), arrays


def _split(node: object, arrays: dict[str, np.ndarray], where: str) -> JSON:
    if isinstance(node, np.ndarray):
        if node.dtype.hasobject:
            raise TypeError(f"{where}: object arrays cannot be checkpointed without pickle")
        name = f"a{len(arrays)}"
        arrays[name] = node
        return {"__array__": name}
    if isinstance(node, np.generic):
        name = f"a{len(arrays)}"
        arrays[name] = np.asarray(node)
        return {"__scalar__": name}
    if isinstance(node, dict):
        for key in node:
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be strings, got {key!r}")
            if key in ("__array__", "__scalar__"):
                raise ValueError(f"{where}: the key {key!r} is reserved")
        return {key: _split(value, arrays, f"{where}.{key}") for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_split(value, arrays, f"{where}[{i}]") for i, value in enumerate(node)]
    if node is None or isinstance(node, bool | int | float | str):
        return node
    raise TypeError(f"{where}: cannot checkpoint a {type(node).__name__} without pickle")


def join_state(tree: JSON, arrays: dict[str, np.ndarray]) -> StateTree:
    """Inverse of :func:`split_state`."""
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[cast(str, tree["__array__"])]
        if set(tree) == {"__scalar__"}:
            return arrays[cast(str, tree["__scalar__"])][()]
        return {key: join_state(value, arrays) for key, value in tree.items()}
    if isinstance(tree, list):
        return [join_state(value, arrays) for value in tree]
    return tree


# --------------------------------------------------------------------------- files
def write_atomic(path: Path, write: Callable[[TextIO], None]) -> None:
    """Have ``write`` fill a temporary file beside ``path``, flush it to disk, rename it over
    ``path``: readers see the old file or the new one, never half of one."""
    temp = path.with_name(f"{_TEMP_PREFIX}{path.name}")
    with temp.open("w", encoding="utf-8", newline="") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (what :func:`json.dump` cannot
    encode is its TypeError)."""

    def dump(handle: TextIO) -> None:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")

    write_atomic(path, dump)


def read_json(path: Path) -> JSON:
    """The JSON document in ``path``; a file that is not valid JSON is a ValueError naming it."""
    with path.open(encoding="utf-8") as handle:
        try:
            return cast(JSON, json.load(handle))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from None


def read_json_object(path: Path) -> dict[str, JSON]:
    """The JSON object in ``path`` (a run's or a sweep's record); a file that is not valid
    JSON, or holds another kind of document, is a ValueError naming it."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise ValueError(f"{path} holds a JSON {type(document).__name__}, not an object")
    return document


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_checkpoint(folder: Path, round_: int, state: dict[str, Any]) -> Path:
    """Atomically write ``state`` as ``folder/round_<round_>``; return that path."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"round_{round_:012d}"
    temp = folder / f"{_TEMP_PREFIX}{final.name}-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        _write_checkpoint_files(temp, state)
        if final.exists():  # same round written again (e.g. an interrupt right after a save)
            old = folder / f"{_TEMP_PREFIX}old-{final.name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(temp, final)
            shutil.rmtree(old)
        else:
            os.replace(temp, final)
        _fsync_dir(folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final


def _write_checkpoint_files(folder: Path, state: dict[str, Any]) -> None:
    tree, arrays = split_state(state)
    named: dict[str, Any] = arrays
    with (folder / ARRAYS_FILE).open("wb") as handle:
        np.savez(handle, **named)
        handle.flush()
        os.fsync(handle.fileno())
    document = {"format": FORMAT_VERSION, "state": tree, "state_sha256": _tree_digest(tree),
                "arrays": {name: _array_record(a) for name, a in arrays.items()}}
    with (folder / STATE_FILE).open("w", encoding="utf-8") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(folder)


def _array_record(array: np.ndarray) -> dict[str, Any]:
    """What ``state.json`` says about one array: its shape, dtype and checksum."""
    return {"shape": list(array.shape), "dtype": array.dtype.str, "sha256": _array_digest(array)}


def _array_digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).view(np.uint8).reshape(-1).data).hexdigest()


def _tree_digest(tree: Any) -> str:
    """SHA-256 of the JSON part of a state, in a canonical form (sorted keys, no spaces)."""
    canonical = json.dumps(tree, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read and verify a checkpoint folder written by :func:`save_checkpoint`.

    Raises :class:`CorruptCheckpoint`, naming the file, when a file is missing or unreadable or
    when an array's shape, dtype or checksum, or the rest of the state, is not what was saved.
    """
    document = _read_state_document(path / STATE_FILE)
    arrays = _read_arrays(path / ARRAYS_FILE)
    if document["format"] >= 2:
        _verify(path, document, arrays)
    try:
        return cast("dict[str, Any]", join_state(document["state"], arrays))
    except KeyError as missing:
        raise CorruptCheckpoint(
            f"{path / ARRAYS_FILE} lacks the array {missing} that {STATE_FILE} refers to"
        ) from None


def _read_state_document(file: Path) -> dict[str, Any]:
    try:
        document = read_json(file)
    except (OSError, ValueError) as error:
        raise CorruptCheckpoint(f"cannot read {file}: {error}") from None
    if not isinstance(document, dict) or "state" not in document:
        raise CorruptCheckpoint(f"{file} is not a checkpoint's state (no 'state' key)")
    if document.get("format") not in _READABLE_FORMATS:
        raise CorruptCheckpoint(
            f"{file}: unsupported checkpoint format {document.get('format')!r}; this version "
            f"of populace reads formats {list(_READABLE_FORMATS)}"
        )
    return document


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as error:  # noqa: BLE001 - a damaged zip fails in many ways; all mean this
        reason = f"{type(error).__name__}: {error}"
        raise CorruptCheckpoint(f"cannot read {file}: {reason}") from None


def _verify(path: Path, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Compare what was loaded with the records ``state.json`` keeps (error: the file named)."""
    records = document.get("arrays")
    if not isinstance(records, dict) or document.get("state_sha256") != _tree_digest(
            document["state"]):
        raise CorruptCheckpoint(
            f"{path / STATE_FILE} does not match its checksum (edited or damaged)")
    if set(records) != set(arrays):
        raise CorruptCheckpoint(
            f"{path / ARRAYS_FILE} holds arrays {sorted(arrays)}, but {STATE_FILE} records "
            f"{sorted(records)}"
        )
    for name, record in records.items():
        found = _array_record(arrays[name])
        for key in ("shape", "dtype"):
            if found[key] != record.get(key):
                raise CorruptCheckpoint(
                    f"{path / ARRAYS_FILE}: array {name!r} has {key} {found[key]}, but was "
                    f"saved with {record.get(key)}"
                )
        if found["sha256"] != record.get("sha256"):
            raise CorruptCheckpoint(
                f"{path / ARRAYS_FILE}: array {name!r} does not match its checksum (damaged "
                "or edited)"
            )


def checkpoint_rounds(folder: Path) -> dict[int, Path]:
    """Completed checkpoints in ``folder`` by round (temporary folders are not listed)."""
    if not folder.is_dir():
        return {}
    found = {}
    for entry in folder.iterdir():
        match = _CHECKPOINT_NAME.match(entry.name)
        if match and entry.is_dir():
            found[int(match.group(1))] = entry
    return found


def remove_temporaries(folder: Path) -> None:
    """Delete what an interrupted save left behind."""
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith(_TEMP_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)


# --------------------------------------------------------------------------- run folders
