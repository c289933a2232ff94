"""A game's parameters, declared once.

Each game declares its keyword arguments, with their defaults, as one frozen keyword-only
dataclass next to its core (``SpatialCongestionParams`` beside ``SpatialCongestionCore``, in
the spirit of OpenSpiel's ``_DEFAULT_PARAMS``). The dataclass checks its values when it is
built, so a params object is always valid, and being frozen it can key a cache (the plane
games' equilibria). The core's constructor takes its keywords from the dataclass
(:func:`keywords_from`): ``SpatialCongestionCore(alpha=2.0)`` builds
``SpatialCongestionParams(alpha=2.0)`` and hands it to the constructor's body.

The keywords a core was called with stay recorded as they were given in
:attr:`populace.envs.core.PopulationCore.params` (what run folders store).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

P = ParamSpec("P")
Core = TypeVar("Core")
Params = TypeVar("Params")
Frozen = TypeVar("Frozen", bound="DataclassInstance")


def keywords_from(
    params_class: Callable[P, Params],
) -> Callable[[Callable[[Core, Params], None]], Callable[Concatenate[Core, P], None]]:
    """Decorate a core's ``__init__(self, params)`` so that it takes the fields of
    ``params_class`` (a keyword-only dataclass) as its keywords instead; ``inspect.signature``
    and ``help()`` show them with their defaults."""

    def decorate(init: Callable[[Core, Params], None]) -> Callable[Concatenate[Core, P], None]:
        @functools.wraps(init)
        def __init__(self: Core, *args: P.args, **kwargs: P.kwargs) -> None:
            init(self, params_class(*args, **kwargs))

        parameters = inspect.signature(params_class).parameters.values()
        self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [self_parameter, *parameters], return_annotation=None)
        return __init__

    return decorate


def settle(params: object, **checked: object) -> None:
    """Store checked (normalized) values on a frozen dataclass from its ``__post_init__``."""
    names = {f.name for f in dataclasses.fields(params)}  # type: ignore[arg-type]
    for name, value in checked.items():
        if name not in names:
            raise AttributeError(f"{type(params).__name__} has no field {name!r}")
        object.__setattr__(params, name, value)


def with_defaults(params: Frozen, names: Iterable[str]) -> Frozen:
    """``params`` with the fields ``names`` set back to their defaults (checked again)."""
    defaults = {f.name: f.default for f in dataclasses.fields(params)}
    return dataclasses.replace(params, **{name: defaults[name] for name in names})
