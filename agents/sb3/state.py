"""The state an SB3 algorithm keeps outside our learner: for checkpoints, its network,
optimizer, counters and buffer as plain arrays; for reproducibility, the global generators it
draws from. Follows SB3 2.9 (``common/buffers.py``, ``on_policy_algorithm.py``,
``off_policy_algorithm.py``, ``dqn/dqn.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import DQN, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from populace.agents.torch_state import load_optimizer_arrays, optimizer_arrays

BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "advantages",
                 "returns", "episode_starts", "log_probs", "values", "dones", "timeouts")


@contextmanager
def sb3_random(rng: np.random.Generator) -> Iterator[None]:
    """Seed numpy's and torch's global generators from ``rng``; restore them after."""
    seed = int(rng.integers(2**31 - 1))
    saved = np.random.get_state()
    with th.random.fork_rng(devices=[]):
        th.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(saved)


def model_arrays(model: BaseAlgorithm) -> dict[str, Any]:
    """Network, optimizers, counters and buffer of an SB3 PPO, A2C, DQN or SAC model."""
    extra = {name: optimizer_arrays(optimizer)
             for name, optimizer in _extra_optimizers(model).items()}
    log_ent_coef = getattr(model, "log_ent_coef", None)  # SAC's learned entropy coefficient
    return {
        "network": {k: v.detach().cpu().numpy() for k, v in model.policy.state_dict().items()},
        "optimizer": optimizer_arrays(model.policy.optimizer) if _has_optimizer(model) else None,
        "optimizers": extra,
        "log_ent_coef": None if log_ent_coef is None else log_ent_coef.detach().cpu().numpy(),
        "counters": {
            "num_timesteps": int(model.num_timesteps),
            "n_updates": int(model._n_updates),
            "n_calls": int(getattr(model, "_n_calls", 0)),
            "exploration_rate": float(getattr(model, "exploration_rate", 0.0)),
            "progress": float(model._current_progress_remaining),
        },
        "buffer": _buffer_state(_buffer(model)),
    }


def load_model_arrays(model: BaseAlgorithm, arrays: dict[str, Any]) -> None:
    """Put what :func:`model_arrays` saved back into ``model``."""
    device = model.device
    model.policy.load_state_dict(
        {k: th.as_tensor(np.asarray(v), device=device) for k, v in arrays["network"].items()}
    )
    if _has_optimizer(model):
        load_optimizer_arrays(model.policy.optimizer, arrays["optimizer"], device)
    for name, optimizer in _extra_optimizers(model).items():
        load_optimizer_arrays(optimizer, arrays["optimizers"][name], device)
    if arrays.get("log_ent_coef") is not None:  # saved only by a SAC that learns it
        assert isinstance(model, SAC) and model.log_ent_coef is not None
        with th.no_grad():
            model.log_ent_coef.copy_(th.as_tensor(np.asarray(arrays["log_ent_coef"])))
    counters = arrays["counters"]
    model.num_timesteps = int(counters["num_timesteps"])
    model._n_updates = int(counters["n_updates"])
    if isinstance(model, DQN):  # SAC saves neither (0 and 0.0) and reads neither
        model._n_calls = int(counters["n_calls"])
        model.exploration_rate = float(counters["exploration_rate"])
    model._current_progress_remaining = float(counters["progress"])
    _load_buffer(_buffer(model), arrays["buffer"])


def _has_optimizer(model: Any) -> bool:
    """Whether the policy has one optimizer (PPO, A2C, DQN); SAC's are its actor's and
    critic's."""
    return getattr(model.policy, "optimizer", None) is not None


def _extra_optimizers(model: Any) -> dict[str, th.optim.Optimizer]:
    """SAC's optimizers: its actor's, its critic's and its entropy coefficient's."""
    found = {}
    for name in ("actor", "critic"):
        optimizer = getattr(getattr(model.policy, name, None), "optimizer", None)
        if optimizer is not None and not _has_optimizer(model):
            found[name] = optimizer
    entropy = getattr(model, "ent_coef_optimizer", None)
    if entropy is not None:
        found["ent_coef"] = entropy
    return found


def _buffer(model: Any) -> Any:
    return model.rollout_buffer if isinstance(model, OnPolicyAlgorithm) else model.replay_buffer


def _buffer_state(buffer: Any) -> dict[str, Any]:
    """The filled part of an SB3 rollout or replay buffer, as arrays."""
    if getattr(buffer, "generator_ready", False):  # already trained on: nothing to keep
        return {"pos": 0, "full": False, "arrays": {}}
    filled = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {
        name: np.array(getattr(buffer, name)[:filled])
        for name in BUFFER_ARRAYS
        if isinstance(getattr(buffer, name, None), np.ndarray)
    }
    return {"pos": int(buffer.pos), "full": bool(buffer.full), "arrays": arrays}


def _load_buffer(buffer: Any, state: dict[str, Any]) -> None:
    buffer.reset()
    for name, values in state["arrays"].items():
        values = np.asarray(values)
        getattr(buffer, name)[: len(values)] = values
    buffer.pos, buffer.full = int(state["pos"]), bool(state["full"])
    if hasattr(buffer, "generator_ready"):
        buffer.generator_ready = False
