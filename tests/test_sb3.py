"""Stable-Baselines3 baselines: the population VecEnv, the SuperSuit route, SB3Learner.

Skipped without the ``baselines`` extra (torch, stable-baselines3, supersuit).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from stable_baselines3 import A2C, DQN, PPO  # noqa: E402
from stable_baselines3.common.vec_env import (  # noqa: E402
    VecCheckNan,
    VecMonitor,
    VecNormalize,
)

from populace.envs.contribution_v0 import ContributionCore  # noqa: E402
from populace.envs.core import Step  # noqa: E402
from populace.envs.parallel import PopulationParallelEnv  # noqa: E402
from populace.train import train  # noqa: E402
from populace.train.sb3 import (  # noqa: E402
    PopulationVecEnv,
    SB3Learner,
    supersuit_vec_env,
    train_ppo_contribution,
)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny MLPs: one thread is several times faster than two on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class EndsAtTwoCore(ContributionCore):
    """A contribution game whose episodes *terminate* after two rounds (for done flags)."""

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        result = super()._step(actions)
        result.terminated = self.cycle + 1 >= 2
        return result


def actions_for(env: PopulationVecEnv, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(env.action_space.n, size=env.num_envs)


# =========================================================================== PopulationVecEnv
def test_vec_env_equals_core(case):
    """Same seed and actions: the VecEnv's observations and rewards are the core's, exactly."""
    if not case.single_group:
        pytest.skip("other roles draw from the core's generator; compared on one-group games")
    core, env = case.core(max_cycles=4), PopulationVecEnv(case.core(max_cycles=4))
    rng = np.random.default_rng(1)
    env.seed(7)
    np.testing.assert_array_equal(env.reset(), core.reset(seed=7)[core.groups[0].name])
    name = core.groups[0].name
    for _ in range(10):
        actions = actions_for(env, rng)
        obs, rewards, dones, infos = env.step(actions)
        step = core.step({name: actions})
        expected = step.observations[name]
        if step.truncated or step.terminated:
            np.testing.assert_array_equal(np.stack([i["terminal_observation"] for i in infos]),
                                          expected)
            expected = core.reset()[name]
        np.testing.assert_array_equal(obs, expected)
        np.testing.assert_array_equal(rewards, step.rewards[name])
        assert rewards.dtype == step.rewards[name].dtype
        assert dones.dtype == bool and dones.all() == (step.truncated or step.terminated)
        assert len(infos) == env.num_envs


def test_truncation_at_max_cycles():
    env = PopulationVecEnv(ContributionCore(n_agents=5, max_cycles=3, observe="population"))
    env.seed(0)
    env.reset()
    for _ in range(2):
        _, _, dones, infos = env.step(np.full(5, 8))
        assert not dones.any() and infos == [{}] * 5
    obs, rewards, dones, infos = env.step(np.array([8, 8, 8, 8, 2]))
    assert dones.all() and rewards.shape == (5,)
    played = np.bincount([8, 8, 8, 8, 2], minlength=20) / 5
    for info in infos:
        assert info["TimeLimit.truncated"] is True
        np.testing.assert_allclose(info["terminal_observation"], played)
    np.testing.assert_array_equal(obs, np.zeros((5, 20)))  # the next episode's first obs
    _, _, dones, _ = env.step(np.full(5, 8))  # and play goes on
    assert not dones.any()


def test_termination_is_not_truncation():
    env = PopulationVecEnv(EndsAtTwoCore(n_agents=4, max_cycles=10))
    env.reset()
    env.step(np.full(4, 8))
    _, _, dones, infos = env.step(np.full(4, 8))
    assert dones.all()
    assert all(info["TimeLimit.truncated"] is False for info in infos)
    assert all("terminal_observation" in info for info in infos)


def test_seed_reproduces_and_autoreset_does_not_reseed():
    def rollout(seed: int) -> list[np.ndarray]:
        env = PopulationVecEnv(ContributionCore(n_agents=6, max_cycles=2, payoff="matching",
                                                observe="sample:2"))
        assert env.seed(seed) == [seed] * 6
        out = [env.reset()]
        for t in range(5):
            obs, rewards, _, _ = env.step(np.arange(6) + t)
            out += [obs, rewards]
        return out

    a, b, c = rollout(3), rollout(3), rollout(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_sb3_wrappers_accept_it():
    """SB3 has no VecEnv checker; its own check_env steps envs through VecCheckNan."""
    env = PopulationVecEnv(ContributionCore(n_agents=4, max_cycles=3, observe="population"))
    wrapped = VecNormalize(VecMonitor(VecCheckNan(env, raise_exception=True)), gamma=0.9)
    wrapped.seed(0)
    wrapped.reset()
    episodes = []
    for _ in range(6):
        _, _, dones, infos = wrapped.step(np.full(4, 8))
        episodes += [info["episode"] for info in infos if "episode" in info]
    assert len(episodes) == 8 and episodes[0]["l"] == 3  # two episodes × four agents
    assert episodes[0]["r"] == pytest.approx(3 * 79.0)


def test_attributes_methods_and_render():
    core = ContributionCore(n_agents=3, render_mode="ansi")
    env = PopulationVecEnv(core)
    assert env.render_mode == "ansi" and env.metadata["name"] == "contribution_v0"
    assert env.get_attr("n_agents") == [3, 3, 3] and env.get_attr("payoff", [0]) == ["average"]
    env.set_attr("max_cycles", 5)
    assert core.max_cycles == 5
    with pytest.raises(ValueError, match="share one core"):
        env.set_attr("max_cycles", 6, indices=[0])
    assert env.env_method("exploration_floor", 0.1, indices=[0, 1]) == [
        pytest.approx(0.5368, abs=1e-3)
    ] * 2
    assert env.env_is_wrapped(object) == [False] * 3
    env.reset()
    env.step(np.array([1, 2, 8]))
    assert "round 1" in env.render()


@pytest.mark.parametrize("algorithm", [PPO, A2C, DQN])
def test_sb3_algorithms_learn(algorithm):
    env = PopulationVecEnv(ContributionCore(n_agents=8, max_cycles=10, observe="population"))
    extra = {"n_steps": 8, "batch_size": 32} if algorithm is PPO else {}
    if algorithm is DQN:
        extra = {"learning_starts": 16, "buffer_size": 1000}
    model = algorithm("MlpPolicy", env, seed=0, device="cpu", **extra)
    model.learn(total_timesteps=400)
    assert model.num_timesteps >= 400
    actions, _ = model.predict(env.reset())
    assert actions.shape == (8,)


# =========================================================================== SuperSuit route
def raw_supersuit(parallel_env):
    ss = pytest.importorskip("supersuit")
    vec = ss.pettingzoo_env_to_vec_env_v1(parallel_env)
    return ss.concat_vec_envs_v1(vec, 1, base_class="stable_baselines3")


def test_supersuit_gaps_exist_upstream():
    """What the adapter fixes. If this fails, SuperSuit fixed a gap and the fix can go."""
    raw = raw_supersuit(PopulationParallelEnv(ContributionCore(n_agents=3, max_cycles=2)))
    with pytest.raises(AttributeError, match="seed"):
        raw.seed(0)
    with pytest.raises(AttributeError, match="seed"):
        raw.reset(seed=0)
    with pytest.raises(AttributeError, match="seed"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        PPO("MlpPolicy", raw, seed=0, n_steps=4, batch_size=6)
    raw.reset()
    raw.step(np.full(3, 8))
    _, _, dones, infos = raw.step(np.full(3, 8))  # max_cycles: a truncation
    assert dones.all() and all("terminal_observation" in info for info in infos)
    assert all("TimeLimit.truncated" not in info for info in infos)  # reads as a termination


def test_supersuit_route(case):
    """Every registered one-role game: seeding works and truncation is reported as such."""
    if not case.single_group:
        with pytest.raises(ValueError, match="one observation and action space"):
            supersuit_vec_env(case.parallel(max_cycles=3))
        return
    core = case.core(max_cycles=3)
    name = core.groups[0].name
    env = supersuit_vec_env(case.parallel(max_cycles=3))
    assert env.seed(5) == [5] * env.num_envs
    np.testing.assert_array_equal(env.reset(), core.reset(seed=5)[name])
    rng = np.random.default_rng(0)
    for t in range(3):
        actions = case.sample(core.groups[0].action_space, rng, size=env.num_envs)
        obs, rewards, dones, infos = env.step(actions)
        step = core.step({name: actions})
        np.testing.assert_allclose(rewards, step.rewards[name].astype(np.float32))
        assert dones.dtype == bool and dones.all() == (t == 2)
    assert all(info["TimeLimit.truncated"] is True for info in infos)
    np.testing.assert_array_equal(
        np.stack([np.asarray(i["terminal_observation"]) for i in infos]), step.observations[name]
    )


def test_supersuit_termination_and_sb3_training():
    env = supersuit_vec_env(PopulationParallelEnv(EndsAtTwoCore(n_agents=4)))
    env.reset()
    env.step(np.full(4, 8))
    _, _, dones, infos = env.step(np.full(4, 8))
    assert dones.all() and all(info["TimeLimit.truncated"] is False for info in infos)
    assert env.get_attr("possible_agents", [0])[0][:2] == ["agent_0", "agent_1"]
    assert env.get_attr("render_mode") == [None] * 4
    env = supersuit_vec_env(
        PopulationParallelEnv(ContributionCore(n_agents=4, max_cycles=5)), num_vec_envs=2
    )
    assert env.num_envs == 8 and env.seed(1) == [1, 1, 1, 1, 2, 2, 2, 2]
    model = PPO("MlpPolicy", env, seed=0, n_steps=8, batch_size=16, device="cpu")
    model.learn(total_timesteps=200)


# =========================================================================== SB3Learner
@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn"])
def test_learner_in_the_train_loop(algorithm):
    core = ContributionCore(n_agents=6, max_cycles=7, observe="population")
    learner = SB3Learner(core, algorithm, seed=0, total_rounds=60, reward_scale=0.01,
                         n_steps=5) if algorithm != "dqn" else SB3Learner(
        core, algorithm, seed=0, total_rounds=60, reward_scale=0.01, learning_starts=12)
    policy = learner.policy()
    assert policy.shape == (6, 20)
    result = train(core, learner, 60, window=20, progress=False)
    for probabilities in (policy, result.policy, learner.policy()):
        assert np.all(probabilities >= 0)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)
    assert learner.model.num_timesteps == 60 * 6
    assert learner.model._n_updates > 0  # SB3's train() ran from the act/update loop
    learner.learn(20)  # and SB3's own loop continues the same model
    assert learner.model.num_timesteps == 80 * 6


@pytest.mark.parametrize("algorithm", ["ppo", "dqn"])
def test_learner_checkpoint_resumes_exactly(algorithm, tmp_path):
    def make() -> tuple[ContributionCore, SB3Learner]:
        core = ContributionCore(n_agents=5, max_cycles=6, observe="population")
        extra = {"n_steps": 4} if algorithm == "ppo" else {"learning_starts": 10}
        return core, SB3Learner(core, algorithm, seed=3, total_rounds=40, reward_scale=0.01,
                                **extra)

    straight = train(*make(), 40, window=10, progress=False)
    train(*make(), 22, window=10, progress=False, out_dir=tmp_path)  # stops mid-rollout
    resumed = train(*make(), 40, window=10, progress=False, out_dir=tmp_path, resume=True)
    np.testing.assert_array_equal(resumed.policy, straight.policy)
    np.testing.assert_array_equal(resumed.history.distance, straight.history.distance)


def test_learner_rejects_misuse():
    core = ContributionCore(n_agents=3)
    with pytest.raises(ValueError, match="algorithm"):
        SB3Learner(core, "sac")
    learner = SB3Learner(core, "a2c", seed=0)
    with pytest.raises(RuntimeError, match="act"):
        learner.update(np.zeros(3, dtype=int), np.zeros(3), np.zeros(3, dtype=int))


def test_learner_leaves_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    learner = SB3Learner(ContributionCore(n_agents=4), "ppo", seed=0, n_steps=2)
    learner.learn(4)
    assert np.array_equal(np.random.get_state()[1], state)


def test_ppo_moves_towards_equilibrium():
    """A small version of the measured baseline: PPO leaves uniform play (distance 5.1)."""
    result = train_ppo_contribution(20_000, n_agents=50, seed=0)
    assert result.agent_steps == 20_000
    assert result.distance < 1.5
    assert result.mean_policy.sum() == pytest.approx(1.0)
