"""Stable-Baselines3 PPO trains the warehouse robots (one shared network) while the dispatcher
follows a fixed policy, through the same train loop and metrics as ALTERNATING-MARL."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from populace.agents import make_learner  # noqa: E402
from populace.envs.warehouse_v0 import WarehouseCore  # noqa: E402
from populace.train import train  # noqa: E402


def follow_the_sampled_mode(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The dispatcher prioritises the zone most of its sampled robots stand in."""
    return np.asarray(observations)[:, 1:].argmax(axis=1)


def test_ppo_trains_the_robots_with_the_dispatcher_fixed():
    core = WarehouseCore(n_agents=12, k=4, max_cycles=20)
    ppo = make_learner("ppo", core, group="robot", seed=0, total_rounds=200)
    result = train(core, {"robot": ppo}, rounds=200, window=100, seed=1, progress=False,
                   role_policies={"dispatcher": follow_the_sampled_mode})
    history = result.history
    assert result.fixed_groups == ("dispatcher",) and set(result.policies) == {"robot"}
    assert np.isfinite(history.column("discounted_return")).all()
    assert np.isnan(history.column("epsilon")).all()  # the ε columns score tables only
    every_state = np.array([[s, g] for s in range(5) for g in range(5)], dtype=np.float32)
    assert set(np.unique(ppo.act(every_state))) <= {0, 1, 2}
