"""JSON-able copies of configuration values, for run configs and checkpoints."""

from __future__ import annotations

from typing import TypeAlias, cast

import numpy as np

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
"""A JSON document as :func:`json.load` gives it back: objects, arrays and scalars."""


def to_json(value: object) -> JSON:
    """A JSON-able copy of a configuration value (numpy values become plain Python; a value
    JSON has no form for becomes its ``repr``)."""
    if isinstance(value, np.ndarray | np.generic):
        return cast(JSON, value.tolist())  # nested lists of Python scalars
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
