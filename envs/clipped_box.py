"""A ``Box`` action space whose out-of-range actions are clipped instead of refused.

Populace refuses an action outside its space with an error naming the agent (SPEC §7: never a
silent clip unless documented). A game that documents clipping as its rule (the plane games'
``strict=False``) declares its action space as a :class:`ClippedBox`: every face's validation
(:func:`populace.envs.validation.check_actions`) then clips finite actions into the box; NaN,
infinite, wrongly shaped or non-numeric actions are still refused.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from gymnasium import spaces


class ClippedBox(spaces.Box):
    """``Box(low, high)`` for sampling and learners; finite actions outside it are clipped
    into it when a step validates them (``contains`` still answers for the box itself)."""

    clips_actions = True

    def __repr__(self) -> str:
        return "Clipped" + super().__repr__()


def clips_actions(space: object) -> bool:
    """Whether ``space`` clips out-of-range actions rather than refusing them."""
    return bool(getattr(space, "clips_actions", False))


def clip_into(space: spaces.Box, actions: np.ndarray) -> np.ndarray:
    """``actions`` clipped into ``space`` (a new array)."""
    return cast(np.ndarray, np.clip(actions, space.low, space.high).astype(space.dtype, copy=False))


def check_strict(strict: object) -> bool:
    """A game's ``strict`` keyword (refuse, or clip, actions outside the box): a bool."""
    if not isinstance(strict, bool | np.bool_):
        raise TypeError(f"strict must be a bool, got {type(strict).__name__} {strict!r}")
    return bool(strict)


def velocity_box(bound: float, dimension: int, strict: bool) -> spaces.Box:
    """``Box(−bound, bound, (dimension,), float64)`` that refuses out-of-range actions when
    ``strict`` (checked by :func:`check_strict`), else a :class:`ClippedBox` that clips them."""
    box = spaces.Box if strict else ClippedBox
    return box(-bound, bound, (dimension,), np.float64)
