"""The train loop on a game with two groups: the test-only ``toy_v0`` (a leader with Discrete
actions, followers with Box actions, episodes that terminate or are truncated).

Two small learners are defined here: :class:`Chaser` controls the followers (a one-group
:class:`~populace.agents.base.Learner` over a Box space) and :class:`LeaderAndFollowers`
controls both groups (a :class:`~populace.agents.base.MultiGroupLearner`). Both draw from their
generators every round, so a resume that lost any state would show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import pytest
import toy_v0  # tests/ is on sys.path (conftest.py)
from gymnasium import spaces

from populace.agents.base import Learner, MultiGroupLearner, Transition, checkpoint_array
from populace.envs.policies import sample_actions
from populace.train import History, TrainResult, train

TOY = "populace_test/Toy-v0"
N = 4
FOLLOWER_ACTIONS = spaces.Box(-1.0, 1.0, (2,), np.float32)
ALWAYS_RIGHT = [0.0, 0.0, 1.0]  # a pure leader policy: it draws nothing from the generator
MOSTLY_RIGHT = [0.2, 0.3, 0.5]  # a mixed one: it draws from the core's generator every round


def toy(**kwargs: Any) -> toy_v0.ToyCore:
    return toy_v0.ToyCore(**{"n_agents": N, "max_cycles": 8, **kwargs})


# ----------------------------------------------------------------------------- learners
def chase(observations: Any, gain: np.ndarray, noise: float, rng: np.random.Generator) -> Any:
    """Move toward the leader: ``gain`` times the offset, plus exploration, clipped to the box."""
    offset = np.asarray(observations)[:, 2:4]
    push = gain[:, None] * offset + noise * rng.normal(size=offset.shape)
    return np.clip(push, -1.0, 1.0).astype(np.float32)


def adapt(gain: np.ndarray, transition: Transition, rate: float) -> np.ndarray:
    """Raise the gain of every follower that got closer to the leader, lower the others'."""
    before = np.hypot(*np.asarray(transition.observations)[:, 2:4].T)
    closer = -transition.rewards < before  # a follower's reward is minus its distance
    return np.clip(gain + rate * np.where(closer, 1.0, -1.0), 0.0, 2.0)


class Chaser(Learner):
    """The followers, each chasing the leader with its own gain; remembers every transition."""

    def __init__(
        self, n_agents: int, *, noise: float = 0.3, rate: float = 0.05, seed: int | None = None
    ) -> None:
        super().__init__(n_agents, FOLLOWER_ACTIONS, seed=seed)
        self.group = "follower"
        self.noise, self.rate = noise, rate
        self.gain = np.full(n_agents, 0.5)
        self.seen: list[Transition] = []

    def act(self, observations: Any = None) -> np.ndarray:
        return chase(observations, self.gain, self.noise, self.rng)

    def update(self, transition: Transition) -> None:
        self.seen.append(transition)
        self.gain = adapt(self.gain, transition, self.rate)

    def policy(self) -> np.ndarray:
        return self.gain.copy()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "noise": self.noise, "rate": self.rate}

    def _arrays(self) -> dict[str, Any]:
        return {"gain": self.gain.copy()}

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        self.gain = checkpoint_array("gain", arrays, (self.n_agents,), np.float64)


class LeaderAndFollowers(MultiGroupLearner):
    """Both groups: the leader's preferences over its moves follow its rewards (a softmax
    policy), the followers chase it; remembers every round's transitions."""

    groups = ("follower", "leader")

    def __init__(self, n_agents: int, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.n_agents = n_agents
        self.gain = np.full(n_agents, 0.5)
        self.preference = np.zeros(3)
        self.seen: list[dict[str, Transition]] = []

    def strategy(self) -> np.ndarray:
        weights = np.exp(self.preference - self.preference.max())
        return weights / weights.sum()

    def act(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        return {
            "leader": sample_actions(self.strategy(), self.rng, 1),
            "follower": chase(observations["follower"], self.gain, 0.3, self.rng),
        }

    def update(self, transitions: dict[str, Transition]) -> None:
        self.seen.append(transitions)
        leader = transitions["leader"]
        self.preference[int(leader.actions[0])] += 0.1 * float(leader.rewards[0])
        self.gain = adapt(self.gain, transitions["follower"], 0.05)

    def policy(self) -> dict[str, Any]:
        return {"leader": self.strategy()[None], "follower": self.gain.copy()}

    def config(self) -> dict[str, Any]:
        return {"n_agents": self.n_agents}

    def _arrays(self) -> dict[str, Any]:
        return {"gain": self.gain.copy(), "preference": self.preference.copy()}

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        self.gain = checkpoint_array("gain", arrays, (self.n_agents,), np.float64)
        self.preference = checkpoint_array("preference", arrays, (3,), np.float64)


# ----------------------------------------------------------------------------- helpers
def same_history(a: History, b: History) -> None:
    assert a.columns == b.columns
    for name in (c for c in a.columns if c != "time"):  # wall time differs between runs
        np.testing.assert_array_equal(a.column(name), b.column(name), err_msg=name)


def same_policies(a: TrainResult, b: TrainResult) -> None:
    assert a.policies.keys() == b.policies.keys()
    for group in a.policies:
        np.testing.assert_array_equal(a.policies[group], b.policies[group], err_msg=group)


def rounds_by_group(learner: Any) -> list[dict[str, Transition]]:
    """The transitions a learner saw, one dict by group per round."""
    return [t if isinstance(t, dict) else {"follower": t} for t in learner.seen]


def ended(transitions: dict[str, Transition]) -> bool:
    first = next(iter(transitions.values()))
    return first.terminated or first.truncated


# ----------------------------------------------------------------------------- metrics
def test_history_has_the_game_columns_and_a_reward_per_group():
    learner = Chaser(N, seed=1)
    window = 20
    result = train(toy(), {"follower": learner}, rounds=60, window=window,
                   role_policies={"leader": MOSTLY_RIGHT}, progress=False)
    history = result.history
    assert history.columns == ("round", "episodes", "follower_distance", "termination_rate",
                               "reward/follower", "reward/leader", "time")
    assert result.fixed_groups == ("leader",) and set(result.policies) == {"follower"}
    assert list(history.round) == [20, 40, 60]
    episodes = np.cumsum([t.terminated or t.truncated for t in learner.seen])
    assert list(history.episodes) == list(episodes[window - 1 :: window])
    for k in range(len(history)):
        seen = learner.seen[k * window : (k + 1) * window]
        rewards = np.stack([t.rewards for t in seen])
        terminations = np.mean([t.terminated for t in seen])
        assert history.column("reward/follower")[k] == pytest.approx(rewards.mean())
        assert history.follower_distance[k] == pytest.approx(-rewards.mean())
        assert history.termination_rate[k] == pytest.approx(terminations)
        # the leader earns 1 for reaching the boundary, minus the followers' mean distance
        assert history.column("reward/leader")[k] == pytest.approx(
            terminations - history.follower_distance[k]
        )
    assert history.termination_rate.max() > 0


def test_an_episodes_budget_counts_episodes():
    learner = LeaderAndFollowers(N, seed=2)
    result = train(toy(), learner, episodes=6, window=2, progress=False)
    ends = [ended(t) for t in learner.seen]
    assert result.episodes == sum(ends) == 6 and ends[-1]  # stops at the sixth episode's end
    assert result.rounds == len(learner.seen)
    assert list(result.history.episodes) == [2, 4, 6]
    last_rounds = np.flatnonzero(ends) + 1
    assert list(result.history.round) == list(last_rounds[1::2])
    assert result.fixed_groups == () and set(result.policies) == {"follower", "leader"}


# ----------------------------------------------------------------------------- transitions
@pytest.mark.parametrize("controls", ["followers", "both groups"])
def test_transitions_are_the_cores_steps(controls):
    """Replaying the learner's transitions on a fresh core reproduces every observation,
    reward and episode flag, across terminations, truncations and the resets after them."""
    if controls == "followers":
        learner: Any = Chaser(N, seed=3)
        train(toy(), learner, rounds=80, seed=5, window=40,
              role_policies={"leader": MOSTLY_RIGHT}, progress=False)
    else:
        learner = LeaderAndFollowers(N, seed=3)
        train(toy(), learner, rounds=80, seed=5, window=40, progress=False)
    core = toy()
    observations = core.reset(seed=5)
    flags = set()
    for transitions in rounds_by_group(learner):
        actions = {group: t.actions for group, t in transitions.items()}
        if "leader" not in actions:  # the fixed leader draws after the learner has acted
            actions["leader"] = sample_actions(np.array(MOSTLY_RIGHT), core.np_random, 1)
        step = core.step(actions)
        for group, t in transitions.items():
            np.testing.assert_array_equal(t.observations, observations[group])
            np.testing.assert_array_equal(t.rewards, step.rewards[group])
            np.testing.assert_array_equal(t.next_observations, step.observations[group])
            assert (t.terminated, t.truncated) == (step.terminated, step.truncated)
        flags.add((step.terminated, step.truncated))
        observations = core.reset() if step.terminated or step.truncated else step.observations
    assert flags >= {(False, False), (True, False), (False, True)}


# ----------------------------------------------------------------------------- resume
LEARNERS: dict[str, tuple[Callable[[], Any], dict[str, Any] | None]] = {
    "followers": (lambda: Chaser(N, seed=7), {"leader": MOSTLY_RIGHT}),
    "both groups": (lambda: LeaderAndFollowers(N, seed=7), None),
}


@pytest.mark.parametrize("controls", sorted(LEARNERS))
def test_resume_equals_an_uninterrupted_run(tmp_path, controls):
    make_learner, roles = LEARNERS[controls]

    def run(out_dir: str, rounds: int, **kwargs: Any) -> TrainResult:
        return train(toy(), make_learner(), rounds=rounds, seed=11, window=10,
                     role_policies=roles, out_dir=tmp_path / out_dir, progress=False, **kwargs)

    straight = run("straight", 90)
    run("resumed", 45, checkpoint_every=20)  # the last checkpoint falls mid-window
    resumed = run("resumed", 90, resume=True)
    assert resumed.rounds == straight.rounds == 90
    assert resumed.episodes == straight.episodes > 0
    assert resumed.timings.rounds == 45
    same_history(resumed.history, straight.history)
    same_policies(resumed, straight)
    assert straight.history.termination_rate.max() > 0


# ----------------------------------------------------------------------------- faces
def test_a_vector_face_lends_its_role_policies():
    vec = gymnasium.make_vec(TOY, num_envs=N, vectorization_mode="vector_entry_point",
                             group="follower", role_policies={"leader": ALWAYS_RIGHT},
                             max_cycles=8)
    learner = Chaser(N, seed=4)
    lent = train(vec, learner, rounds=40, window=10, progress=False)
    told = train(toy(), Chaser(N, seed=4), rounds=40, window=10,
                 role_policies={"leader": ALWAYS_RIGHT}, progress=False)
    default = train(toy(), Chaser(N, seed=4), rounds=40, window=10, progress=False)
    assert lent.fixed_groups == ("leader",)
    same_history(lent.history, told.history)
    assert not np.array_equal(lent.history.follower_distance, default.history.follower_distance)
    # a leader that always steps right reaches the boundary within four rounds, every episode
    ends = [(t.terminated, t.truncated) for t in learner.seen if t.terminated or t.truncated]
    assert len(ends) >= 8 and set(ends) == {(True, False)}


def test_a_focal_env_is_refused():
    for env in (gymnasium.make(TOY, group="follower", n_agents=N),
                toy_v0.focal_env(group="leader", n_agents=N)):
        with pytest.raises(TypeError, match="focal view"):
            train(env, Chaser(N), rounds=5, progress=False)


def test_a_learner_must_fit_its_group():
    with pytest.raises(ValueError, match="learner.n_agents is 3 but group 'follower'"):
        train(toy(), Chaser(3), rounds=5, progress=False)
    with pytest.raises(ValueError, match="acts in Box"):
        train(toy(), {"leader": Chaser(1)}, rounds=5, progress=False)


def test_group_and_role_policies_reach_the_registered_entry_points():
    calls: list[int] = []

    def stand_still(observations: Any, rng: np.random.Generator) -> np.ndarray:
        calls.append(len(observations))
        return np.zeros((len(observations), 2), np.float32)

    def step_right(observations: Any, rng: np.random.Generator) -> np.ndarray:
        return np.full(len(observations), 2)

    focal = gymnasium.make(TOY, group="follower", focal_index=2, population_policy=stand_still,
                           role_policies={"leader": step_right}, n_agents=3)
    assert (focal.unwrapped.focal_group, focal.unwrapped.focal_index) == ("follower", 2)
    assert focal.unwrapped.other_groups.policies == {"leader": step_right}
    focal.reset(seed=0)
    focal.step(np.zeros(2, np.float32))
    assert calls == [2]  # the two other followers
    leader = gymnasium.make(TOY, group="leader", role_policies={"follower": stand_still})
    assert leader.unwrapped.other_groups.policies == {"follower": stand_still}
    assert leader.action_space == spaces.Discrete(3)

    vec = gymnasium.make_vec(TOY, num_envs=1, vectorization_mode="vector_entry_point",
                             group="leader", role_policies={"follower": stand_still}, n_agents=3)
    assert (vec.group, vec.num_envs, vec.core.n_agents) == ("leader", 1, 3)
    assert vec.other_groups.policies == {"follower": stand_still}
    vec = gymnasium.make_vec(TOY, num_envs=6, vectorization_mode="vector_entry_point",
                             group="follower", role_policies={"leader": step_right})
    assert (vec.group, vec.num_envs, vec.core.n_agents) == ("follower", 6, 6)
    assert vec.other_groups.policies == {"leader": step_right}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gymnasium.make_vec(TOY, num_envs=3, vectorization_mode="vector_entry_point",
                                    group="leader"),
         r"num_envs \(3\) must equal the size of group 'leader' \(1\)"),
        (lambda: gymnasium.make(TOY, group="leader", role_policies={"leader": ALWAYS_RIGHT}),
         "not a fixed role"),
        (lambda: gymnasium.make(TOY, role_policies={"boss": ALWAYS_RIGHT}), "unknown groups"),
        (lambda: gymnasium.make(TOY, group="boss"), "no group named 'boss'"),
    ],
)
def test_bad_group_arguments_are_named(make, message):
    with pytest.raises((ValueError, KeyError), match=message):
        make()
