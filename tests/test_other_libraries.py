"""Other RL libraries, each through its own adapter: the examples run where the library is
installed (each in a fresh process, so its threads and warnings stay there), and Gymnasium's
own vector wrappers run on the vector face in both autoreset modes.

The README's "Other RL libraries" table says which library takes which face.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.wrappers.vector import NormalizeObservation, NormalizeReward, RecordEpisodeStatistics

import populace  # noqa: F401 - registers every game
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.registry import GAMES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, **env: str) -> str:
    """Run ``examples/<name>`` in a fresh interpreter; return what it printed."""
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=600,
        env={**os.environ, **env}, cwd=EXAMPLES.parent,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    assert "is not writable" not in completed.stderr  # torch.as_tensor on a read-only array
    return completed.stdout


def test_torchrl_example():
    pytest.importorskip("torchrl")
    printed = run_example("torchrl_population.py")
    assert printed.count("torchrl ppo: 320 agent-steps") == 2
    assert "torchrl pettingzoo rollout: 3 rounds of 4 agents" in printed


def test_tianshou_example():
    pytest.importorskip("tianshou")
    # numba compiles Tianshou's buffer helpers on first use (~10 s); plain Python is quicker
    # for a few hundred steps and computes the same.
    printed = run_example("tianshou_focal.py", NUMBA_DISABLE_JIT="1")
    assert "tianshou dqn: greedy contribution" in printed


def test_rllib_example():
    pytest.importorskip("ray.rllib")
    printed = run_example("rllib_population.py")
    assert "rllib ppo on contribution: 8 agents trained" in printed
    assert "rllib ppo on mf_lqr: 8 agents trained" in printed


@pytest.mark.parametrize("module_name", sorted(GAMES))
def test_default_observations_suit_default_networks(module_name):
    """``observe="none"`` (the default) is a one-number Box, not ``Discrete(1)``, which RLlib's
    default encoders and Tianshou's ``Net`` refuse; a game that always shows something (the
    ZSPG's payoff vector) shows it as a flat Box too."""
    env = gymnasium.make(f"populace/{GAMES[module_name]}", n_agents=3)
    observation, _ = env.reset(seed=0)
    if not isinstance(env.unwrapped.core, AnonymousGameCore):
        space = env.observation_space
        assert isinstance(space, spaces.Box) and len(space.shape) == 1 and space.shape[0] >= 1
        assert space.contains(observation)
        return
    assert env.observation_space == spaces.Box(0.0, 1.0, (1,), np.float32)
    assert observation.shape == (1,) and observation.dtype == np.float32


def population(mode: str) -> gymnasium.vector.VectorEnv:
    return gymnasium.make_vec("populace/Contribution-v0", num_envs=6, max_cycles=3,
                              vectorization_mode="vector_entry_point", autoreset_mode=mode,
                              observe="population")


GYMNASIUM = tuple(int(part) for part in gymnasium.__version__.split(".")[:2])


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_gymnasium_vector_wrappers(mode):
    """Episode statistics and reward normalization in both modes; observation wrappers (which
    Gymnasium allows only with NEXT_STEP) in the default mode. (``RecordEpisodeStatistics``
    counts ``SAME_STEP`` episodes right from Gymnasium 1.4 on.)"""
    env = NormalizeReward(RecordEpisodeStatistics(population(mode)))
    if mode == "NextStep":
        env = NormalizeObservation(env)
    env.reset(seed=0)
    episodes = []
    for _ in range(8):
        *_, infos = env.step(np.full(6, 8))
        if "episode" in infos:
            episodes.append(infos["episode"]["l"])
    assert len(episodes) == 2
    if mode == "NextStep" or GYMNASIUM >= (1, 4):
        assert all((lengths == 3).all() for lengths in episodes)
