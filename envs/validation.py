"""Input checks shared by every game: clear errors that name the argument or the agent."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from gymnasium import spaces

from populace.envs.clipped_box import clip_into, clips_actions

if TYPE_CHECKING:
    from populace.envs.core import Group

BOOLS = (bool, np.bool_)
_KINDS = {True: "iu", False: "fiu"}  # the dtype kinds a Discrete (True) or Box space takes
_NUMPY_SCALARS = set(np.sctypeDict.values())
_INTEGERS = frozenset({int} | {t for t in _NUMPY_SCALARS if issubclass(t, np.integer)
                           and t is not np.timedelta64})
_REALS = _INTEGERS | {float} | {t for t in _NUMPY_SCALARS if issubclass(t, np.floating)}
_dtype_of = attrgetter("dtype")
SMALL = 64  # up to this many action entries, the fast path checks the range in Python


def check_actions(group: Group, actions: object, *, first_index: int = 0) -> np.ndarray:
    """Return ``actions`` as an array for ``group``, or raise naming the first bad agent.

    Agent ``i`` of the array is named ``f"{group.name}_{first_index + i}"`` in errors. A list
    or tuple of per-agent actions goes through :func:`actions_from_sequence` first, so that a
    bool or a string among integers is caught before numpy converts it.

    The common case costs a handful of Python operations and one or two array reductions: an
    array already of the group's shape and canonical dtype (int64 for ``Discrete``, the
    space's dtype for a ``Box`` with the same finite bounds in every entry) whose range the
    group's cached :class:`_Plan` accepts is returned as it is; anything else (and every
    error) takes the full path below, which names the agent at fault.
    """
    if type(actions) is np.ndarray:
        plan = _plan_of(group)
        if actions.shape == plan.shape and actions.dtype == plan.dtype and plan.accepts(actions):
            return actions
    if isinstance(actions, list | tuple):
        actions = actions_from_sequence(group, actions, first_index=first_index)
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


class _Plan:
    """What :func:`check_actions` looks for in a group's actions, computed once per group.

    ``accepts`` is the range check of the fast path: for ``Discrete(n)`` starting at 0 one
    ``max`` of the int64 actions read as unsigned (negatives wrap to huge values); for another
    start, ``min`` and ``max``; for a ``Box`` with constant finite bounds, ``min`` and ``max``
    (NaN fails both). Groups without a fast path accept nothing here.
    """

    def __init__(self, group: Group) -> None:
        space = group.action_space
        self.shape = (group.size, *(space.shape or ()))
        self.dtype = np.dtype(np.int64)
        self.low: Any = None
        self.high: Any = None
        self.unsigned = False
        if type(space) is spaces.Discrete:
            self.low, self.high = int(space.start), int(space.start + space.n - 1)
            self.unsigned = self.low == 0
        elif isinstance(space, spaces.Box) and space.dtype is not None:
            low, high = space.low.min(), space.high.max()
            constant = space.low.max() == low and space.high.min() == high
            if constant and np.isfinite(low) and np.isfinite(high):
                self.dtype = np.dtype(space.dtype)
                self.low, self.high = low, high

    def accepts(self, arr: np.ndarray) -> bool:
        if self.low is None or arr.size == 0:
            return False
        if arr.size <= SMALL:  # a numpy reduction costs more than these Python calls
            values = arr.ravel().tolist()
            if self.dtype.kind == "f" and not math.isfinite(sum(values)):
                return False  # NaN or inf (or a sum that overflows): the full path decides
            return bool(min(values) >= self.low and max(values) <= self.high)
        if self.unsigned:
            return bool(arr.view(np.uint64).max() <= self.high)
        return bool(arr.min() >= self.low) and bool(arr.max() <= self.high)


def _plan_of(group: Group) -> _Plan:
    """The group's :class:`_Plan`, kept on the (frozen) group after the first call."""
    plan = group.__dict__.get("_check_plan")
    if plan is None:
        plan = _Plan(group)
        object.__setattr__(group, "_check_plan", plan)
    return plan


def actions_from_sequence(
    group: Group, values: Sequence[Any], *, first_index: int = 0
) -> np.ndarray:
    """One array from the per-agent actions of ``group`` (the values of a PettingZoo dict).

    numpy hides the agent at fault when it converts a mixed list: ``[5, "3", 1]`` becomes three
    strings and ``[5, True, 1]`` three integers. So the types are looked at first, in one pass
    that stays in C: when every value is of a type the action space takes as it is (integers
    for ``Discrete``; numbers or numeric arrays for ``Box``), one ``np.array`` call converts
    them. Otherwise (the error path, or unusual input such as nested lists) each value is
    checked on its own and the first bad one is named: a bool (Python or numpy) is never an
    action.
    """
    space = group.action_space
    if _plain(space, values):
        try:
            arr = np.array(values)
        except ValueError:  # arrays of different shapes: the slow path names the agent
            arr = None
        if arr is not None and arr.dtype.kind in _KINDS[isinstance(space, spaces.Discrete)]:
            return arr
    return _one_by_one(group, values, _Namer(group.name, first_index))


def _plain(space: spaces.Space, values: Sequence[Any]) -> bool:
    """Whether ``values`` are all of types that ``space`` takes without a closer look."""
    kinds = set(map(type, values))
    if isinstance(space, spaces.Discrete):
        return kinds <= _INTEGERS or _all_subclasses(kinds, int | np.integer)
    if kinds == {np.ndarray}:
        return all(dtype.kind in "fiu" for dtype in set(map(_dtype_of, values)))
    return space.shape == () and (
        kinds <= _REALS or _all_subclasses(kinds, int | float | np.integer | np.floating)
    )


def _all_subclasses(kinds: set[type], accepted: Any) -> bool:
    """Every kind a subclass of ``accepted`` and none a bool (for subclasses of the builtins)."""
    return all(issubclass(kind, accepted) and not issubclass(kind, BOOLS) for kind in kinds)


def _one_by_one(group: Group, values: Sequence[Any], name: _Namer) -> np.ndarray:
    """The slow path of :func:`actions_from_sequence`: check every value, name the first bad."""
    for index, value in enumerate(values):
        problem = action_problem(group.action_space, value)
        if problem is not None:
            raise ValueError(f"{name(index)} {problem}")
    if isinstance(group.action_space, spaces.Discrete):
        return np.array(values, dtype=np.int64)
    return np.array(values)


def action_problem(space: spaces.Space, value: object) -> str | None:
    """What is wrong with one agent's ``value`` as an action in ``space`` (None: nothing).

    >>> action_problem(spaces.Discrete(3), True)
    'played True (bool); expected an integer action in [0, 2]'
    >>> action_problem(spaces.Discrete(3), 2) is None
    True
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return f"sent {value!r}, which is not an array of numbers; expected an action in {space}"
    if arr.shape != space.shape:
        return (
            f"sent an action of shape {arr.shape} ({value!r}); expected shape {space.shape} "
            f"for {space}"
        )
    boolean = _holds_bool(value)
    if isinstance(space, spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n - 1)
        expected = f"expected an integer action in [{low}, {high}]"
        if boolean or arr.dtype.kind not in "iu":
            return f"played {_scalar(value)!r} ({'bool' if boolean else arr.dtype}); {expected}"
        if not low <= int(arr) <= high:
            return f"played {int(arr)}; {expected}"
        return None
    if boolean or arr.dtype.kind not in "fiu":
        return f"sent {value!r} ({'bool' if boolean else arr.dtype}); expected numbers in {space}"
    return None


def _holds_bool(value: Any) -> bool:
    """Whether ``value`` is a bool, a bool array, or a (nested) list or tuple holding one."""
    if isinstance(value, BOOLS):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "b" or (
            value.dtype.kind == "O" and any(_holds_bool(v) for v in value.reshape(-1).tolist())
        )
    if isinstance(value, list | tuple):
        return any(_holds_bool(v) for v in value)
    return False


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class _Namer:
    def __init__(self, group: str, first_index: int) -> None:
        self.group, self.first_index = group, first_index

    def __call__(self, index: int) -> str:
        return f"{self.group}_{self.first_index + index}"


def _check_discrete(name: _Namer, arr: np.ndarray, low: int, high: int) -> np.ndarray:
    if arr.dtype.kind == "f":  # even whole floats: actions are indices
        bad = _first_non_integer(arr)
        raise ValueError(
            f"{name(bad)} played {_item(arr, bad)!r} ({arr.dtype}); "
            f"expected an integer action in [{low}, {high}]"
        )
    if arr.dtype.kind not in "iu":
        _refuse_entries(name, arr, spaces.Discrete(high - low + 1, start=low))
    if arr.size and _out_of_range(arr, low, high):
        bad = int(np.flatnonzero((arr < low) | (arr > high))[0])
        raise ValueError(
            f"{name(bad)} played {int(arr[bad])}; expected an integer action in [{low}, {high}]"
        )
    # One canonical dtype for the cores: no uint8 overflow in index arithmetic, no
    # int64 + uint64 -> float64 promotion, and no hidden cast inside ``bincount``/``take``.
    return arr.astype(np.int64, copy=False)


def _refuse_entries(name: _Namer, arr: np.ndarray, space: spaces.Space) -> NoReturn:
    """Raise for an array that is not numeric (bools, strings, objects), naming the first agent
    whose entry is bad (error path only: one check per agent)."""
    entries = arr.tolist()  # Python values, each with its own type again
    for index, entry in enumerate(entries):
        problem = action_problem(space, entry)
        if problem is not None:
            raise ValueError(f"{name(index)} {problem}")
    raise ValueError(f"actions for group {name.group!r} must be numeric, got {arr.dtype}")


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
    bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(np.nan_to_num(arr))))
    return int(bad[0]) if len(bad) else 0


def _check_box(name: _Namer, size: int, arr: np.ndarray, space: spaces.Box) -> np.ndarray:
    if arr.dtype.kind not in "fiu":
        _refuse_entries(name, arr, space)
    arr = arr.astype(space.dtype, copy=False)
    if _inside_constant_bounds(arr, space):  # the common case, in two passes and no temporaries
        return arr
    flat = arr.reshape(size, -1)
    finite = np.isfinite(flat).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name(bad)} sent a non-finite action {flat[bad]}")
    if clips_actions(space):  # documented clipping (see populace.envs.clipped_box)
        return clip_into(space, arr)
    inside = ((arr >= space.low) & (arr <= space.high)).reshape(size, -1).all(axis=1)
    if not inside.all():
        bad = int(np.flatnonzero(~inside)[0])
        raise ValueError(
            f"{name(bad)} sent {_all_digits(flat[bad])}, outside the action box "
            f"[{space.low.min()}, {space.high.max()}]"
        )
    return arr


def _all_digits(values: np.ndarray) -> str:
    """``values`` printed with as many digits as tell each one apart from its neighbours, so
    that a value just outside the box does not print as the bound (error path only)."""
    return np.array2string(values, floatmode="unique")


def _inside_constant_bounds(arr: np.ndarray, space: spaces.Box) -> bool:
    """Whether ``space`` has the same finite bounds in every entry and ``arr`` lies within them
    (NaN fails: it makes ``min``/``max`` NaN)."""
    low, high = space.low.min(), space.high.max()
    if not (np.isfinite(low) and np.isfinite(high)) or arr.size == 0:
        return False
    if space.low.max() != low or space.high.min() != high:
        return False
    return bool(arr.min() >= low and arr.max() <= high)


def check_int(name: str, value: object, *, minimum: int) -> int:
    """An integer argument ``>= minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def check_number(
    name: str, value: object, *, low: float, high: float = np.inf, low_open: bool = False,
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


def check_distribution(name: str, value: object, size: int) -> np.ndarray:
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


def check_point(name: str, value: object) -> tuple[float, float]:
    """A finite point of R² given as a pair of real numbers."""
    try:
        point = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of real numbers, got {value!r}") from None
    if point.shape != (2,) or not np.isfinite(point).all():
        raise ValueError(f"{name} must be a finite pair of real numbers, got {value!r}")
    return float(point[0]), float(point[1])
