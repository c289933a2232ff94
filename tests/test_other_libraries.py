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


# ----------------------------------------------------------------------------- every game
# Each library's own adapter on every registered game at its defaults (what ``make(id)`` and
# ``parallel_env()`` give). Where a library's own rule forbids a game as it is (the warehouse's
# two groups have different spaces), the test runs the one-line recipe the README gives.
# A few steps only: these check that the adapters accept the games, not that they learn.
IDS = [pytest.param(module, id=module) for module in sorted(GAMES)]
TWO_SPACES = {"warehouse_v0", "warehouse_continuous_v0"}  # groups with different spaces


def gym_id(module: str) -> str:
    return f"populace/{GAMES[module]}"


def parallel_at_defaults(module: str):
    import importlib

    return importlib.import_module(f"populace.envs.{module}").parallel_env()


def aec_at_defaults(module: str):
    import importlib

    return importlib.import_module(f"populace.envs.{module}").env()


def padded(env):
    """The README's recipe for SuperSuit and Tianshou on a game whose groups differ: pad every
    agent's observation and action space to one (SuperSuit's wrappers)."""
    import supersuit

    return supersuit.pad_action_space_v0(supersuit.pad_observations_v0(env))


@pytest.mark.parametrize("module", IDS)
def test_gymnasium_wrappers_on_every_game(module):
    from gymnasium.wrappers import (
        ClipAction,
        FlattenObservation,
        NormalizeObservation,
        RecordEpisodeStatistics,
    )

    env = gymnasium.make(gym_id(module))
    if isinstance(env.action_space, spaces.Box):
        env = ClipAction(env)
    env = RecordEpisodeStatistics(NormalizeObservation(FlattenObservation(env)))
    env.reset(seed=0)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    vec = gymnasium.make_vec(gym_id(module), num_envs=env.unwrapped.core.group(
        env.unwrapped.focal_group).size, vectorization_mode="vector_entry_point")
    vec = gymnasium.wrappers.vector.RecordEpisodeStatistics(vec)
    vec.reset(seed=0)
    for _ in range(2):
        vec.step(vec.action_space.sample())  # the batched space samples valid actions


@pytest.mark.parametrize("module", IDS)
def test_sb3_on_the_focal_face_of_every_game(module):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gymnasium.make(gym_id(module))
    sb3_check_env(env)
    PPO("MlpPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu").learn(16)


@pytest.mark.parametrize("module", IDS)
def test_supersuit_and_sb3_on_every_game(module):
    supersuit = pytest.importorskip("supersuit")
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO

    from populace.agents.sb3.vec_env import supersuit_vec_env

    env = parallel_at_defaults(module)
    if module in TWO_SPACES:
        env = padded(env)
    # SuperSuit's own route, as the README gives it (its seeding gap closed by our wrapper)
    vec = supersuit_vec_env(env)
    assert isinstance(vec.venv, supersuit.vector.sb3_vector_wrapper.SB3VecEnvWrapper)
    PPO("MlpPolicy", vec, n_steps=2, batch_size=2 * vec.num_envs, n_epochs=1, seed=0,
        device="cpu").learn(2 * vec.num_envs)


@pytest.mark.parametrize("module", IDS)
def test_torchrl_gym_env_and_pettingzoo_wrapper_on_every_game(module):
    pytest.importorskip("torchrl")
    import torch
    from torchrl.envs import DoubleToFloat, GymEnv, PettingZooWrapper, TransformedEnv
    from torchrl.envs.utils import check_env_specs

    env = GymEnv(gym_id(module))  # TorchRL retries without frameskip on Python's own phrase
    if env.observation_spec["observation"].dtype == torch.float64:
        env = TransformedEnv(env, DoubleToFloat())  # TorchRL's own cast for a float64 game
    for cast in (env, GymEnv(gym_id(module), observation_dtype="float32")):  # or ours
        check_env_specs(cast)
        assert cast.observation_spec["observation"].dtype == torch.float32
        assert cast.rollout(3)["next", "observation"].dtype == torch.float32
    parallel = PettingZooWrapper(parallel_at_defaults(module), use_mask=True)
    check_env_specs(parallel)
    parallel.rollout(2)


@pytest.mark.parametrize("module", IDS)
def test_tianshou_on_every_game(module):
    pytest.importorskip("tianshou")
    from tianshou.env import DummyVectorEnv, PettingZooEnv

    vec = DummyVectorEnv([lambda: gymnasium.make(gym_id(module))])
    space = vec.action_space[0]
    vec.reset(seed=0)
    vec.step(np.stack([space.sample()]))
    aec = aec_at_defaults(module)
    if module in TWO_SPACES:
        aec = padded(aec)
    wrapped = PettingZooEnv(aec)
    observation, _ = wrapped.reset(seed=0)
    wrapped.step(wrapped.action_space.sample())


@pytest.mark.parametrize("module", IDS)
def test_rllib_pettingzoo_env_on_every_game(module):
    pytest.importorskip("ray.rllib")
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    parallel = parallel_at_defaults(module)
    env = ParallelPettingZooEnv(parallel)
    observations, _ = env.reset(seed=0)
    assert set(observations) == set(parallel.possible_agents)
    env.step({agent: parallel.action_space(agent).sample() for agent in observations})


@pytest.mark.parametrize("module", IDS)
def test_float32_observations_on_request_in_every_face(module):
    """``observation_dtype="float32"`` on every face; the default observations unchanged."""
    from gymnasium.utils.env_checker import check_env

    focal = gymnasium.make(gym_id(module), observation_dtype="float32")
    observation, _ = focal.reset(seed=0)
    assert focal.observation_space.dtype == observation.dtype == np.float32
    check_env(focal.unwrapped, skip_render_check=True)
    parallel = parallel_at_defaults(module)
    plain, _ = parallel.reset(seed=0)
    import importlib

    cast = importlib.import_module(f"populace.envs.{module}").parallel_env(
        observation_dtype="float32")
    observations, _ = cast.reset(seed=0)
    for agent, value in observations.items():
        assert value.dtype == np.float32 and cast.observation_space(agent).contains(value)
        np.testing.assert_array_equal(value, plain[agent].astype(np.float32))
    with pytest.raises(ValueError, match="observation_dtype must be 'float32' or 'float64'"):
        gymnasium.make(gym_id(module), observation_dtype="int8")
