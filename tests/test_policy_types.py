"""The typed policy contract: what each learner's ``policy()`` returns, and how a game's metrics
tell the forms apart by type (``populace.envs.policies``, ``populace.envs.metrics``)."""

from __future__ import annotations

import typing

import numpy as np
import pytest
from gymnasium import spaces

from populace.agents import make_learner
from populace.agents.base import GroupLearner, GroupsLearner
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
from populace.envs.metrics import PlayedPolicies, action_rule, probability_source
from populace.envs.plane.spatial_metrics import call_policy
from populace.envs.policies import (
    ActionFunction,
    DeclaredPolicy,
    DeclaresProbabilities,
    LearnedPolicy,
    LinearRule,
    MixedStrategy,
    PlayedByLearner,
    as_policy,
)
from populace.envs.registry import make_core
from populace.train.callbacks import EndHook, StartHook, WindowHook, as_callbacks

LEARNED_TYPES = typing.get_args(LearnedPolicy)


def is_learned_policy(policy: object) -> bool:
    """Whether ``policy`` is one of the :data:`LearnedPolicy` forms (a LinearRule is a dict
    with exactly its keys at run time)."""
    if isinstance(policy, dict):
        return set(policy) == set(LinearRule.__annotations__)
    return isinstance(policy, tuple(t for t in LEARNED_TYPES if t is not LinearRule))


def test_the_family_is_the_documented_one():
    assert set(LEARNED_TYPES) == {np.ndarray, LinearRule, ActionFunction, PlayedByLearner}
    assert issubclass(DeclaredPolicy, ActionFunction)


@pytest.mark.parametrize("name", ["stage", "regret", "smooth_q"])
def test_tabular_learners_return_one_mixed_strategy_per_agent(name):
    learner = make_learner(name, ContributionCore(n_agents=6), seed=0)
    policy = learner.policy()
    assert is_learned_policy(policy) and isinstance(policy, np.ndarray)
    assert policy.shape == (6, 20) and np.allclose(policy.sum(axis=1), 1.0)
    assert isinstance(learner, GroupLearner) and not isinstance(learner, GroupsLearner)


def test_alternating_marl_returns_a_table_per_group():
    learner = make_learner("alternating_marl", make_core("warehouse_v0", n_agents=4, k=2),
                           seed=0)
    policy = learner.policy()
    assert set(policy) == {"dispatcher", "robot"}
    assert all(is_learned_policy(p) and isinstance(p, np.ndarray) for p in policy.values())
    assert isinstance(learner, GroupsLearner)


def test_ac_fp_returns_a_linear_rule_an_action_function_or_its_own_network():
    pytest.importorskip("torch")
    core = MFLQRCore(n_agents=5)
    linear = make_learner("ac_fp", core, seed=0).policy()
    assert is_learned_policy(linear) and set(linear) == {"gain", "offset", "offsets"}
    assert linear["offsets"].shape == (5, 2)
    mlp = make_learner("ac_fp", core, seed=0, actor="mlp")
    played = mlp.policy()
    assert type(played) is ActionFunction and is_learned_policy(played)
    observations = core.reset(seed=0)["agent"]
    assert np.array_equal(played(observations), mlp.mean_action(observations))
    mixture = make_learner("ac_fp", core, seed=0, components=2)
    assert mixture.policy() == PlayedByLearner(mixture)


def test_sb3_learners_return_a_table_or_their_mean_action():
    pytest.importorskip("stable_baselines3")
    ppo = make_learner("ppo", ContributionCore(n_agents=4), seed=0)
    assert isinstance(ppo.policy(), np.ndarray) and ppo.policy().shape == (4, 20)
    core = MFLQRCore(n_agents=4)
    sac = make_learner("sac", core, seed=0)
    rule = sac.policy()
    assert type(rule) is ActionFunction
    observations = core.reset(seed=0)["agent"]
    assert np.array_equal(rule(observations), sac.mean_action(observations))


def test_the_continuous_warehouse_learner_declares_its_greedy_play():
    pytest.importorskip("torch")
    from populace.agents.alternating_marl_continuous import ContinuousAlternatingMARL
    from populace.envs.warehouse.warehouse_continuous import ContinuousModel

    learner = ContinuousAlternatingMARL(ContinuousModel(n_robots=10, k=2, gamma=0.9),
                                        alternations=1, g_samples=8, g_epochs=1,
                                        l_episodes=1, l_horizon=2, seed=0)
    for policy in learner.policy().values():
        assert isinstance(policy, DeclaredPolicy) and isinstance(policy, DeclaresProbabilities)


# ------------------------------------------------------------------- dispatch in metrics
def test_action_rule_tells_callable_forms_from_the_others():
    rule = ActionFunction(lambda obs: obs)
    assert action_rule(rule) is rule

    def population(observations, rng):
        return observations

    assert action_rule(population) is population
    linear = LinearRule(gain=np.eye(2), offset=np.zeros(2), offsets=np.zeros((3, 2)))
    learner = make_learner("stage", ContributionCore(n_agents=3), seed=0)
    for scored_offline_never in (None, np.eye(3), linear, PlayedByLearner(learner), learner):
        assert action_rule(scored_offline_never) is None


def test_probabilities_are_found_on_the_policy_then_on_its_player():
    greedy = DeclaredPolicy(lambda obs: np.zeros(len(obs), dtype=np.int64),
                            lambda obs: np.tile([1.0, 0.0], (len(obs), 1)))
    mixed = MixedStrategy(np.array([0.25, 0.75]), 0)
    sb3_like = type("Net", (), {"action_probabilities": lambda self, obs: np.ones((len(obs), 2))})()
    played = PlayedPolicies({"a": greedy, "b": mixed, "c": np.eye(2), "d": None},
                            {"a": None, "b": mixed, "c": sb3_like, "d": object()})
    observations = np.zeros((3, 1))
    assert probability_source(played, "a")(observations).tolist() == [[1.0, 0.0]] * 3
    assert probability_source(played, "b")(observations).tolist() == [[0.25, 0.75]] * 3
    assert probability_source(played, "c")(observations).shape == (3, 2)  # from the player
    assert probability_source(played, "d") is None
    assert probability_source({"a": lambda obs, rng: obs}, "a") is None


def test_an_action_function_is_called_as_the_method_it_wraps():
    """Spatial games call a learner's deterministic rule with the observations alone, as they
    called the bound method it replaces (same moves, so the same scores)."""
    seen = []

    class Sac:
        def mean_action(self, observations):
            seen.append(observations)
            return -observations

    sac = Sac()
    starts = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(call_policy(ActionFunction(sac.mean_action), starts),
                          call_policy(sac.mean_action, starts))
    assert len(seen) == 2


def test_as_policy_reads_a_learner_by_its_act_method():
    learner = make_learner("stage", ContributionCore(n_agents=4), seed=0)
    fixed = as_policy(learner, spaces.Discrete(20), 4, "population_policy")
    assert fixed(np.zeros((4, 1)), np.random.default_rng(0)).shape == (4,)
    with pytest.raises(ValueError, match="the learner controls 4 agents but 3 need a policy"):
        as_policy(learner, spaces.Discrete(20), 3, "population_policy")


def test_callback_protocols_type_the_hooks_train_accepts():
    class OnEnd:
        def on_end(self, result):
            pass

    def on_window(row):
        return None

    hooks = as_callbacks([OnEnd(), on_window])
    assert isinstance(hooks[0], EndHook) and not isinstance(hooks[0], StartHook)
    assert isinstance(hooks[1], WindowHook)
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be"):
        as_callbacks([3])


def test_an_action_function_is_not_mistaken_for_a_learner():
    rule = ActionFunction(lambda obs: np.zeros(len(obs), dtype=np.int64))
    fixed = as_policy(rule, spaces.Discrete(2), 3, "population_policy")
    assert fixed is rule  # a callable policy, used as given
