"""Stable-Baselines3 baselines: the population VecEnv, the SuperSuit route, SB3Learner.

Skipped without the ``baselines`` extra (torch, stable-baselines3, supersuit).
"""

from __future__ import annotations

import copy
import warnings
from importlib.util import find_spec

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from gymnasium import spaces  # noqa: E402
from stable_baselines3 import A2C, DQN, PPO  # noqa: E402
from stable_baselines3.common.vec_env import (  # noqa: E402
    VecCheckNan,
    VecMonitor,
    VecNormalize,
)

from populace.agents.base import Learner, Transition  # noqa: E402
from populace.agents.sb3.learner import SB3Learner  # noqa: E402
from populace.agents.sb3.vec_env import PopulationVecEnv, supersuit_vec_env  # noqa: E402
from populace.envs.anonymous.contribution import ContributionCore  # noqa: E402
from populace.envs.core import Group, PopulationCore, Step  # noqa: E402
from populace.envs.parallel import PopulationParallelEnv  # noqa: E402

# The train loop (populace.train) is imported inside the tests that go through it, so the
# learner's own tests run even while the loop cannot be imported.


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


class TwoRoles(PopulationCore):
    """Three agents and two robots; an agent's reward is the sum of the robots' actions."""

    metadata = {**PopulationCore.metadata, "name": "two_roles"}

    def __init__(self, *, max_cycles: int = 5, render_mode: str | None = None) -> None:
        super().__init__(max_cycles=max_cycles, render_mode=render_mode)
        seen = spaces.Box(0.0, 1.0, (1,), np.float32)
        self.groups = (Group("agent", 3, spaces.Discrete(3), seen),
                       Group("robot", 2, spaces.Discrete(2), seen))

    def _reset(self) -> dict[str, np.ndarray]:
        return {g.name: np.zeros((g.size, 1), np.float32) for g in self.groups}

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        rewards = {"agent": np.full(3, float(actions["robot"].sum())), "robot": np.zeros(2)}
        return Step(self._reset(), rewards, False, False)

    def default_policy(self, group: str) -> list[float]:
        return [0.0, 1.0] if group == "robot" else [1 / 3] * 3  # robots push by default


def play(core: PopulationCore, learner: SB3Learner, rounds: int, observations=None):
    """What the train loop does each round: act, step, ``update(Transition)``, reset at the end.

    Starts from ``core.reset(seed=0)`` unless given the observations to continue from; returns
    those of the next round.
    """
    name = learner.group
    if observations is None:
        observations = core.reset(seed=0)[name]
    for _ in range(rounds):
        actions = learner.act(observations)
        step = core.step({name: actions})
        learner.update(Transition(observations, actions, step.rewards[name],
                                  step.observations[name], step.terminated, step.truncated))
        observations = step.observations[name]
        if step.terminated or step.truncated:
            observations = core.reset()[name]
    return observations


needs_supersuit = pytest.mark.skipif(
    find_spec("supersuit") is None, reason="the SuperSuit route needs supersuit"
)


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
        actions = case.sample(core.groups[0].action_space, rng, size=env.num_envs)
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


def test_other_groups_play_the_default_policy_or_the_given_one():
    env = PopulationVecEnv(TwoRoles())
    assert env.num_envs == 3 and env.group == "agent"
    env.reset()
    _, rewards, _, _ = env.step(np.zeros(3, dtype=int))
    np.testing.assert_array_equal(rewards, [2.0, 2.0, 2.0])  # both robots pushed (default)
    env = PopulationVecEnv(TwoRoles(), role_policies={"robot": [1.0, 0.0]})
    env.reset()
    _, rewards, _, _ = env.step(np.zeros(3, dtype=int))
    np.testing.assert_array_equal(rewards, [0.0, 0.0, 0.0])
    robots = PopulationVecEnv(TwoRoles(), group="robot")  # the agents play their default
    robots.reset()
    assert robots.step(np.ones(2, dtype=int))[1].shape == (2,)


def test_refused_step_changes_nothing():
    core = TwoRoles()
    env = PopulationVecEnv(core, role_policies={"robot": [0.5, 0.5]})  # robots draw
    env.seed(3)
    env.reset()
    before = core.np_random.bit_generator.state
    with pytest.raises(ValueError, match="agent_2 played 7"):
        env.step(np.array([0, 1, 7]))
    assert core.np_random.bit_generator.state == before and core.cycle == 0
    env.step(np.array([0, 1, 2]))
    assert core.cycle == 1 and core.np_random.bit_generator.state != before


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


@needs_supersuit
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


@needs_supersuit
def test_supersuit_route(case):
    """Every registered one-role game: seeding works, and an episode cut at ``max_cycles`` is
    reported as a truncation (a game that ends there by termination, as spatial congestion's
    independent plays do, is not)."""
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
    assert step.terminated != step.truncated
    assert all(info["TimeLimit.truncated"] is step.truncated for info in infos)
    np.testing.assert_array_equal(
        np.stack([np.asarray(i["terminal_observation"]) for i in infos]), step.observations[name]
    )


@needs_supersuit
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
def values_at(learner: SB3Learner, observations: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        values = learner.model.policy.predict_values(torch.as_tensor(observations))
    return values.numpy().reshape(-1)


def successive_observations(count: int, n_agents: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.dirichlet(np.ones(20), size=n_agents).astype(np.float32) for _ in range(count)]


# (terminated, truncated) of four successive rounds: goes on, time limit, end, both
ENDS = [(False, False), (False, True), (True, False), (True, True)]


@pytest.mark.parametrize("algorithm", ["ppo", "a2c"])
def test_on_policy_bootstraps_a_truncation_but_not_a_termination(algorithm):
    learner = SB3Learner(ContributionCore(n_agents=3, observe="population"), algorithm, seed=0,
                         n_steps=8, gamma=0.9)
    observations = successive_observations(5, 3)
    rewards = np.array([1.0, 2.0, -3.0])
    for t, (terminated, truncated) in enumerate(ENDS):
        actions = learner.act(observations[t])
        learner.update(Transition(observations[t], actions, rewards, observations[t + 1],
                                  terminated, truncated))
    buffer = learner.model.rollout_buffer
    assert buffer.pos == 4  # no training yet, so the network (and V) is unchanged
    bootstrapped = rewards + 0.9 * values_at(learner, observations[2])
    for row, expected in enumerate([rewards, bootstrapped, rewards, rewards]):
        np.testing.assert_allclose(buffer.rewards[row], expected, rtol=1e-6)
    np.testing.assert_array_equal(buffer.episode_starts[:4, 0], [1, 0, 1, 1])


@pytest.mark.parametrize("truncated", [False, True])
def test_returns_stop_at_a_termination_and_bootstrap_at_a_truncation(truncated):
    """A full buffer: SB3's GAE (λ = 1) on the rows, seen where ``train()`` would run."""
    learner = SB3Learner(ContributionCore(n_agents=2, observe="population"), "ppo", seed=0,
                         n_steps=2, gamma=0.5, gae_lambda=1.0)
    buffer = learner.model.rollout_buffer
    returns: list[np.ndarray] = []
    learner.model.train = lambda: returns.append(buffer.returns.copy())
    o = successive_observations(4, 2)  # o0 -> o1 ends the episode; o2 -> o3 goes on
    rewards = np.array([1.0, -1.0])
    for first, (terminated, cut) in ((0, (not truncated, truncated)), (2, (False, False))):
        actions = learner.act(o[first])
        learner.update(Transition(o[first], actions, rewards, o[first + 1], terminated, cut))
    assert len(returns) == 1 and buffer.pos == 0  # trained once, then emptied
    first = rewards + (0.5 * values_at(learner, o[1]) if truncated else 0.0)
    np.testing.assert_allclose(returns[0][0], first, rtol=1e-5)
    np.testing.assert_allclose(returns[0][1], rewards + 0.5 * values_at(learner, o[3]),
                               rtol=1e-5)


def test_dqn_stores_time_outs_apart_from_terminations():
    learner = SB3Learner(ContributionCore(n_agents=3, observe="population"), "dqn", seed=0,
                         learning_starts=1_000, buffer_size=100)
    observations = successive_observations(5, 3)
    for t, (terminated, truncated) in enumerate(ENDS):
        actions = learner.act(observations[t])
        learner.update(Transition(observations[t], actions, np.ones(3), observations[t + 1],
                                  terminated, truncated))
    replay = learner.model.replay_buffer
    np.testing.assert_array_equal(replay.dones[:4, 0], [0, 1, 1, 1])
    np.testing.assert_array_equal(replay.timeouts[:4, 0], [0, 1, 0, 0])
    for t in range(4):  # the true successor, also at an episode's end
        np.testing.assert_array_equal(replay.next_observations[t], observations[t + 1])
    targets = replay._get_samples(np.arange(4))  # what DQN's target reads as "terminal"
    np.testing.assert_array_equal(targets.dones.numpy().reshape(-1), [0, 0, 1, 1])


def test_terminating_game_in_act_update_mode():
    core = EndsAtTwoCore(n_agents=4, max_cycles=10, observe="population")
    learner = SB3Learner.for_game(core, seed=0, n_steps=8, gamma=0.9)
    play(core, learner, 6)
    buffer = learner.model.rollout_buffer
    np.testing.assert_array_equal(buffer.episode_starts[:6, 0], [1, 0, 1, 0, 1, 0])
    play(core, learner, 4)  # fills the buffer: trains once
    assert learner.model._n_updates > 0 and buffer.pos == 2


@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn"])
def test_learner_trains_by_act_and_update(algorithm):
    core = ContributionCore(n_agents=6, max_cycles=7, observe="population")
    extra = {"learning_starts": 12} if algorithm == "dqn" else {"n_steps": 5}
    learner = SB3Learner.for_game(core, seed=0, algorithm=algorithm, total_rounds=60,
                                  reward_scale=0.01, **extra)
    assert learner.group == "agent" and learner.algorithm == algorithm
    before = learner.policy()
    play(core, learner, 60)
    for probabilities in (before, learner.policy()):
        assert probabilities.shape == (6, 20) and np.all(probabilities >= 0)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)
    assert learner.model.num_timesteps == 60 * 6
    assert learner.model._n_updates > 0  # SB3's train() ran from act/update
    learner.learn(20)  # and SB3's own loop continues the same model
    assert learner.model.num_timesteps == 80 * 6


@pytest.mark.parametrize("algorithm", ["ppo", "dqn"])
def test_declared_action_probabilities_are_the_policy_played(algorithm, monkeypatch):
    """``policy()`` is ``action_probabilities`` at the last observations, which evaluates any
    batch (here in chunks of 3 rows) the same as it does row by row."""
    core = ContributionCore(n_agents=6, max_cycles=7, observe="population")
    extra = {"learning_starts": 0, "exploration_initial_eps": 0.3} if algorithm == "dqn" else {}
    learner = SB3Learner.for_game(core, seed=0, algorithm=algorithm, total_rounds=30, **extra)
    observations = play(core, learner, 9)
    np.testing.assert_array_equal(learner.policy(), learner.action_probabilities(observations))
    monkeypatch.setattr("populace.agents.sb3.learner.CHUNK", 3)
    batch = np.concatenate([observations, observations[::-1] + 1.0])
    chunked = learner.action_probabilities(batch)
    one_by_one = np.concatenate([learner.action_probabilities(row[None]) for row in batch])
    np.testing.assert_allclose(chunked, one_by_one, atol=1e-6)
    assert chunked.shape == (12, 20) and np.all(chunked >= 0)
    np.testing.assert_allclose(chunked.sum(axis=1), 1.0, atol=1e-12)
    if algorithm == "dqn":  # the ε-greedy mixture: ε/20 off the greedy action
        assert np.isclose(chunked.min(), learner._epsilon() / 20)


@pytest.mark.parametrize("algorithm", ["ppo", "dqn"])
def test_learner_state_dict_resumes_exactly(algorithm):
    def make() -> tuple[ContributionCore, SB3Learner]:
        core = ContributionCore(n_agents=5, max_cycles=6, observe="population")
        extra = {"n_steps": 4} if algorithm == "ppo" else {"learning_starts": 10}
        return core, SB3Learner(core, algorithm, seed=3, total_rounds=40, reward_scale=0.01,
                                **extra)

    core, straight = make()
    play(core, straight, 40)
    core, first = make()
    observations = play(core, first, 22)  # stops mid-rollout and mid-episode
    saved = copy.deepcopy((core.state_dict(), first.state_dict(), observations))
    core, resumed = make()
    core.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    play(core, resumed, 18, saved[2])
    np.testing.assert_array_equal(resumed.policy(), straight.policy())
    for name, weights in straight.state_dict()["network"].items():
        np.testing.assert_array_equal(resumed.state_dict()["network"][name], weights)


def test_for_game_picks_the_group():
    with pytest.raises(ValueError, match="group="):
        SB3Learner.for_game(TwoRoles(), seed=0)
    with pytest.raises(KeyError, match="no group"):
        SB3Learner.for_game(TwoRoles(), "drone", seed=0)
    learner = SB3Learner.for_game(TwoRoles(), "robot", seed=0, algorithm="dqn",
                                  learning_starts=0, buffer_size=100)
    assert isinstance(learner, Learner)
    assert (learner.group, learner.n_agents, learner.action_space) == ("robot", 2,
                                                                       spaces.Discrete(2))
    assert learner.policy().shape == (2, 2)
    learner.learn(5)  # SB3's loop, with the agents on the game's default policy
    assert learner.model.num_timesteps >= 10  # DQN collects train_freq (4) rounds at a time


def test_learner_rejects_misuse():
    core = ContributionCore(n_agents=3)
    with pytest.raises(ValueError, match="algorithm"):
        SB3Learner(core, "td3")
    with pytest.raises(ValueError, match="sac needs Box actions"):
        SB3Learner(core, "sac")
    with pytest.raises(ValueError, match="total_rounds"):
        SB3Learner(core, total_rounds=0)
    with pytest.raises(TypeError, match="total_rounds"):
        SB3Learner(core, total_rounds=2.5)
    with pytest.raises(ValueError, match="reward_scale"):
        SB3Learner(core, reward_scale=0.0)
    learner = SB3Learner(core, "a2c", seed=0)
    round_ = Transition.of_round(np.zeros(3, dtype=int), np.zeros(3))
    with pytest.raises(RuntimeError, match="act"):
        learner.update(round_)
    learner.act()
    with pytest.raises(ValueError, match="agent 1 played 20"):
        learner.update(Transition.of_round(np.array([0, 20, 1]), np.zeros(3)))
    learner.update(round_)  # the refused round did not use up act()
    assert learner.model.rollout_buffer.pos == 1


def test_learner_leaves_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    learner = SB3Learner(ContributionCore(n_agents=4), "ppo", seed=0, n_steps=2)
    learner.learn(4)
    assert np.array_equal(np.random.get_state()[1], state)


# ---------------------------------------------------------- through the train loop
@pytest.mark.parametrize("algorithm", ["ppo", "a2c", "dqn"])
def test_learner_in_the_train_loop(algorithm):
    from populace.train import train

    core = ContributionCore(n_agents=6, max_cycles=7, observe="population")
    extra = {"learning_starts": 12} if algorithm == "dqn" else {"n_steps": 5}
    learner = SB3Learner.for_game(core, seed=0, algorithm=algorithm, total_rounds=60,
                                  reward_scale=0.01, **extra)
    result = train(core, learner, 60, window=20, progress=False)
    assert np.all(result.policy >= 0)
    np.testing.assert_allclose(result.policy.sum(axis=1), 1.0, atol=1e-12)
    assert learner.model.num_timesteps == 60 * 6
    assert learner.model._n_updates > 0


@pytest.mark.parametrize("algorithm", ["ppo", "dqn"])
def test_learner_checkpoint_resumes_exactly(algorithm, tmp_path):
    from populace.train import train

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


def test_ppo_moves_towards_equilibrium():
    """A small version of the measured baseline: PPO leaves uniform play (distance 5.1)."""
    from populace.agents.sb3.ppo_contribution import train_ppo_contribution

    result = train_ppo_contribution(20_000, n_agents=50, seed=0)
    assert result.agent_steps == 20_000
    assert result.distance < 1.5
    assert result.mean_policy.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("game", ["chain", "amps"])
def test_ppo_trains_on_the_zspg_network_and_is_scored_by_its_metrics(game):
    """SB3 PPO, built by ``make_learner`` like the paper learners, on ``zspg_network_v0`` with
    sampled feedback (the n = 3 chain and AMPs): trained by the same loop, its history has the
    game's own columns, finite, computed from its policy; the same seed gives the same run."""
    from populace.agents import make_learner
    from populace.envs.zero_sum.metrics import KL_FLOOR
    from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore
    from populace.train import train

    def run():
        core = ZSPGNetworkCore(game=game, n_agents=3 if game == "chain" else None,
                               max_cycles=30)
        learner = make_learner("ppo", core, seed=4, n_steps=8, n_epochs=2, total_rounds=48)
        return core, learner, train(core, learner, 48, window=16, progress=False, seed=1)

    core, learner, result = run()
    history = result.history
    assert {"kl_to_qre", "nash_conv"} <= set(history.columns) and len(history) == 3
    assert np.isfinite(history.kl_to_qre).all() and np.isfinite(history.nash_conv).all()
    assert (history.kl_to_qre >= 0).all() and (history.nash_conv >= 0).all()
    assert learner.model._n_updates > 0
    floored = np.maximum(result.policy, KL_FLOOR)
    floored /= floored.sum(axis=1, keepdims=True)
    assert history.final("kl_to_qre") == pytest.approx(core.kl_to_qre(floored))
    assert history.final("nash_conv") == pytest.approx(core.nash_conv(result.policy))
    _, _, again = run()
    np.testing.assert_array_equal(again.history.kl_to_qre, history.kl_to_qre)
    np.testing.assert_array_equal(again.policy, result.policy)
