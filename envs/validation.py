"""Input checks shared by every game: clear errors that name the argument or the agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces

if TYPE_CHECKING:
    from populace.envs.core import Group


def check_actions(group: Group, actions: Any, *, first_index: int = 0) -> np.ndarray:
    """Return ``actions`` as an array for ``group``, or raise naming the first bad agent.

    Agent ``i`` of the array is named ``f"{group.name}_{first_index + i}"`` in errors.
    """
    arr = np.asarray(actions)
    space = group.action_space
    expected_shape = (group.size, *(space.shape or ()))
    if arr.shape != expected_shape:
        raise ValueError(
            f"actions for group {group.name!r} must have shape {expected_shape}, got {arr.shape}"
        )
    name = _Namer(group.name, first_index)
    if isinstance(space, spaces.Discrete):
        return _check_discrete(name, arr, int(space.start), int(space.start + space.n - 1))
    if isinstance(space, spaces.Box):
        return _check_box(name, group.size, arr, space)
    raise TypeError(f"unsupported action space {space!r}")


class _Namer:
    def __init__(self, group: str, first_index: int) -> None:
        self.group, self.first_index = group, first_index

    def __call__(self, index: int) -> str:
        return f"{self.group}_{self.first_index + index}"


def _check_discrete(name: _Namer, arr: np.ndarray, low: int, high: int) -> np.ndarray:
    if arr.dtype.kind not in "iu":  # floats too, even whole ones: actions are indices
        bad = _first_non_integer(arr)
        raise ValueError(
            f"{name(bad)} played {_item(arr, bad)!r} ({arr.dtype}); "
            f"expected an integer action in [{low}, {high}]"
        )
    if arr.size and _out_of_range(arr, low, high):
        bad = int(np.flatnonzero((arr < low) | (arr > high))[0])
        raise ValueError(
            f"{name(bad)} played {int(arr[bad])}; expected an integer action in [{low}, {high}]"
        )
    # One canonical dtype for the cores: no uint8 overflow in index arithmetic, no
    # int64 + uint64 -> float64 promotion, and no hidden cast inside ``bincount``/``take``.
    return arr.astype(np.int64, copy=False)


def _out_of_range(arr: np.ndarray, low: int, high: int) -> bool:
    """Whether any integer in ``arr`` lies outside ``[low, high]``, in as few passes as possible."""
    if low == 0 and arr.dtype.kind == "i":
        # One pass instead of min() and max(): read as unsigned, negatives wrap to huge values.
        return int(arr.view(arr.dtype.str.replace("i", "u")).max()) > high
    if low <= 0 and arr.dtype.kind == "u":
        return int(arr.max()) > high
    return bool(arr.min() < low or arr.max() > high)


def _item(arr: np.ndarray, index: int) -> Any:
    value = arr.reshape(-1)[index]
    return value.item() if isinstance(value, np.generic) else value


def _first_non_integer(arr: np.ndarray) -> int:
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(np.nan_to_num(arr))))
        return int(bad[0]) if len(bad) else 0
    # Error path only: a dict of ints with one string or None becomes a str/object array, so
    # look for the entry that is not an integer (or the text of one) to name the right agent.
    for index, value in enumerate(arr.reshape(-1).tolist()):
        if isinstance(value, bool) or not isinstance(value, int | str) or (
            isinstance(value, str) and not value.lstrip("-").isdigit()
        ):
            return index
    return 0


def _check_box(name: _Namer, size: int, arr: np.ndarray, space: spaces.Box) -> np.ndarray:
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"actions for group {name.group!r} must be numeric, got {arr.dtype}")
    arr = arr.astype(space.dtype, copy=False)
    flat = arr.reshape(size, -1)
    finite = np.isfinite(flat).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name(bad)} sent a non-finite action {flat[bad]}")
    inside = ((arr >= space.low) & (arr <= space.high)).reshape(size, -1).all(axis=1)
    if not inside.all():
        bad = int(np.flatnonzero(~inside)[0])
        raise ValueError(
            f"{name(bad)} sent {flat[bad]}, outside the action box "
            f"[{space.low.min()}, {space.high.max()}]"
        )
    return arr


def check_int(name: str, value: Any, *, minimum: int) -> int:
    """An integer argument ``>= minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def check_number(
    name: str, value: Any, *, low: float, high: float = np.inf, low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real argument in the interval [low, high] (ends open where asked)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not np.isfinite(number) and low == -np.inf and high == np.inf:
        raise ValueError(f"{name} must be finite, got {value!r}")
    if not np.isfinite(number) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open or high == np.inf else "]"
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value!r}")
    return number


def check_distribution(name: str, value: Any, size: int) -> np.ndarray:
    """A probability vector of length ``size`` (non-negative, sums to 1 within 1e-8)."""
    try:
        p = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a probability vector of length {size}, got {value!r}"
        ) from None
    if p.shape != (size,):
        raise ValueError(f"{name} must be a probability vector of length {size}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-8:
        raise ValueError(f"{name} must be non-negative and sum to 1, got {p}")
    return p
