"""Torch modules and optimizers as plain arrays and JSON, for checkpoints without pickle."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from torch import nn

from populace.jsonable import to_json


def module_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """A module's parameters and buffers, by name, as numpy copies."""
    return {name: value.detach().cpu().numpy().copy()
            for name, value in module.state_dict().items()}


def load_module_arrays(module: nn.Module, saved: dict[str, Any], name: str) -> None:
    """Put what :func:`module_arrays` saved back into ``module``, checking names and shapes
    (errors name the checkpoint entry ``name``)."""
    current = module.state_dict()
    if set(saved) != set(current):
        raise ValueError(f"checkpoint {name!r} has parameters {sorted(saved)}, "
                         f"expected {sorted(current)}")
    loaded = {}
    for key, value in current.items():
        array = np.asarray(saved[key], dtype=np.float64)
        if array.shape != tuple(value.shape):
            raise ValueError(f"checkpoint {name}.{key} must have shape {tuple(value.shape)}, "
                             f"got {array.shape}")
        loaded[key] = th.as_tensor(array.copy())
    module.load_state_dict(loaded)


def optimizer_arrays(optimizer: th.optim.Optimizer) -> dict[str, Any]:
    """A torch optimizer's state: its slots as arrays, its parameter groups as JSON."""
    saved = optimizer.state_dict()
    state = {
        str(index): {key: value.detach().cpu().numpy().copy() if isinstance(value, th.Tensor)
                     else value for key, value in slots.items()}
        for index, slots in saved["state"].items()
    }
    return {"state": state, "param_groups": to_json(saved["param_groups"])}


def load_optimizer_arrays(
    optimizer: th.optim.Optimizer, saved: dict[str, Any], device: th.device | str | None = None
) -> None:
    """Put what :func:`optimizer_arrays` saved back (JSON turned tuples such as Adam's betas
    into lists; they become tuples again)."""
    current = optimizer.state_dict()["param_groups"]
    if len(saved["param_groups"]) != len(current):
        raise ValueError("checkpoint optimizer has a different number of parameter groups")
    groups = []
    for now, old in zip(current, saved["param_groups"], strict=True):
        group = dict(old)
        for key, value in now.items():
            if isinstance(value, tuple) and key in group:
                group[key] = tuple(group[key])
        groups.append(group)
    state = {int(index): {key: th.as_tensor(np.asarray(value), device=device)
                          if isinstance(value, np.ndarray) else value
                          for key, value in slots.items()}
             for index, slots in saved["state"].items()}
    optimizer.load_state_dict({"state": state, "param_groups": groups})
