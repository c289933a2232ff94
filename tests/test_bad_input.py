"""SPEC §7: bad input raises ValueError/TypeError naming the argument or agent, the value and
what was expected — on every face. A refused call must leave the env unchanged."""

from __future__ import annotations

import re

import gymnasium
import numpy as np
import pettingzoo
import pytest

from populace.envs import contribution_v0, matrix_v0
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.registry import GAMES, core_class, make_core

CONTRIBUTION = "populace/Contribution-v0"


def load(module_name: str):
    import importlib

    return importlib.import_module(f"populace.envs.{module_name}")


def gym_id(module_name: str) -> str:
    return f"populace/{GAMES[module_name]}"


def started(n: int = 4, **kwargs):
    env = contribution_v0.parallel_env(n_agents=n, **kwargs)
    env.reset(seed=0)
    return env


def joint(n: int = 4, **changes) -> dict:
    actions = {f"agent_{i}": i for i in range(n)}
    actions.update(changes)
    return actions


# ----------------------------------------------------------------------------- construction
def test_unknown_keyword_is_named_on_every_entry_point(module_name):
    module = load(module_name)
    unknown = re.escape(f"{module_name}: unknown keyword arguments ['n_agent']; it accepts [")
    with pytest.raises(TypeError, match=unknown):
        module.parallel_env(n_agent=3)
    with pytest.raises(TypeError, match=unknown):
        module.env(n_agent=3)
    with pytest.raises(TypeError, match=unknown):
        pettingzoo.make("parallel", f"populace/{module_name}", n_agent=3)
    with pytest.raises(TypeError, match=unknown):
        gymnasium.make(gym_id(module_name), n_agent=3)
    with pytest.raises(TypeError, match=unknown):
        gymnasium.make_vec(gym_id(module_name), num_envs=3,
                           vectorization_mode="vector_entry_point", n_agent=3)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1, ValueError, "n_agents must be >= 2, got 1"),
        (0, ValueError, "n_agents must be >= 2, got 0"),
        (-5, ValueError, "n_agents must be >= 2, got -5"),
        (3.0, TypeError, "n_agents must be an int, got float 3.0"),
        ("3", TypeError, "n_agents must be an int, got str '3'"),
        (True, TypeError, "n_agents must be an int, got bool True"),
        (None, TypeError, "n_agents must be an int, got NoneType None"),
    ],
)
def test_bad_population_size(module_name, value, error, message):
    if not issubclass(core_class(module_name), AnonymousGameCore):
        pytest.skip("population size keyword differs")
    with pytest.raises(error, match=re.escape(message)):
        load(module_name).parallel_env(n_agents=value)


def test_numpy_integer_population_size_is_accepted():
    assert make_core("contribution_v0", n_agents=np.int64(3)).n_agents == 3


@pytest.mark.parametrize("factory", [contribution_v0.parallel_env, matrix_v0.parallel_env])
@pytest.mark.parametrize("payoff", ["avg", "Average", "", None, "population"])
def test_bad_payoff(factory, payoff):
    message = f"payoff must be one of ['average', 'matching'], got {payoff!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        factory(n_agents=3, payoff=payoff)


@pytest.mark.parametrize(
    ("observe", "message"),
    [
        ("sample:0", "observe='sample:k' needs an integer k >= 1, got 'sample:0'"),
        ("sample:x", "observe='sample:k' needs an integer k >= 1, got 'sample:x'"),
        ("sample:-2", "observe='sample:k' needs an integer k >= 1, got 'sample:-2'"),
        ("sample:", "observe='sample:k' needs an integer k >= 1, got 'sample:'"),
        ("histogram", "observe must be 'none', 'population' or 'sample:k', got 'histogram'"),
        ("sample", "observe must be 'none', 'population' or 'sample:k', got 'sample'"),
        (None, "observe must be 'none', 'population' or 'sample:k', got None"),
    ],
)
def test_bad_observe(module_name, observe, message):
    if not issubclass(core_class(module_name), AnonymousGameCore):
        pytest.skip("not an anonymous game")
    with pytest.raises(ValueError, match=re.escape(message)):
        load(module_name).parallel_env(n_agents=3, observe=observe)


PRESET_LIST = "['climbing', 'prisoners_dilemma', 'rock_paper_scissors', 'stag_hunt']"


@pytest.mark.parametrize(
    ("game", "error", "message"),
    [
        ("chicken", ValueError, f"game must be one of {PRESET_LIST} or a square matrix, "
                                "got 'chicken'"),
        ([[1, 2, 3], [4, 5, 6]], ValueError,
         "game matrix must be square with at least 2 actions, got (2, 3)"),
        ([[1.0]], ValueError, "game matrix must be square with at least 2 actions, got (1, 1)"),
        ([1, 2, 3, 4], ValueError, "game matrix must be square with at least 2 actions, got (4,)"),
        ([[1, np.nan], [0, 1]], ValueError, "game matrix must be finite, got nan at [0, 1]"),
        ([[1, 0], [-np.inf, 1]], ValueError, "game matrix must be finite, got -inf at [1, 0]"),
        ([["a", "b"], ["c", "d"]], TypeError,
         f"game must be one of {PRESET_LIST} or a square numeric matrix, got [['a', 'b']"),
    ],
)
def test_bad_game(game, error, message):
    with pytest.raises(error, match=re.escape(message)):
        matrix_v0.parallel_env(game=game, n_agents=3)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, ValueError, "max_cycles must be >= 1, got 0"),
        (-3, ValueError, "max_cycles must be >= 1, got -3"),
        (2.5, TypeError, "max_cycles must be an int, got float"),
        (None, TypeError, "max_cycles must be an int, got NoneType"),
    ],
)
def test_bad_max_cycles(module_name, value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        load(module_name).parallel_env(n_agents=3, max_cycles=value)
    with pytest.raises(error, match=re.escape(message)):
        gymnasium.make(gym_id(module_name), n_agents=3, max_cycles=value)


@pytest.mark.parametrize("mode", ["rgb", "Human", ""])
def test_bad_render_mode(module_name, mode):
    message = f"render_mode must be None or one of ['rgb_array', 'ansi', 'human'], got {mode!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        load(module_name).parallel_env(n_agents=3, render_mode=mode)
    with pytest.raises(ValueError, match=re.escape(message)):
        gymnasium.make(gym_id(module_name), n_agents=3, render_mode=mode)


@pytest.mark.parametrize(
    ("offset", "error", "message"),
    [
        (np.nan, ValueError, "cost_offset must be finite, got nan"),
        (np.inf, ValueError, "cost_offset must be finite, got inf"),
        ("big", TypeError, "cost_offset must be a real number, got str 'big'"),
    ],
)
def test_bad_cost_offset(offset, error, message):
    with pytest.raises(error, match=re.escape(message)):
        contribution_v0.parallel_env(n_agents=3, cost_offset=offset)


@pytest.mark.skipif("congestion_v0" not in GAMES, reason="congestion_v0 is not registered")
def test_bad_congestion_arguments():
    congestion_v0 = load("congestion_v0")
    with pytest.raises(ValueError, match=re.escape(
            "mechanism must be one of ['acp', 'serial'], got 'shapley'")):
        congestion_v0.parallel_env(n_agents=3, mechanism="shapley")
    with pytest.raises(ValueError, match=re.escape("alpha must be in (0, inf), got -1")):
        congestion_v0.parallel_env(n_agents=3, alpha=-1)


# ----------------------------------------------------------------------------- actions (dict)
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agent_3": 20}, "agent_3 played 20; expected an integer action in [0, 19]"),
        ({"agent_2": -1}, "agent_2 played -1; expected an integer action in [0, 19]"),
        ({"agent_1": 2.5}, "agent_1 played 2.5 (float64); expected an integer "
                           "action in [0, 19]"),
        ({"agent_2": np.nan}, "agent_2 played nan (float64); expected an integer"),
        ({"agent_0": np.inf}, "agent_0 played inf (float64); expected an integer"),
        ({"agent_3": "x"}, "agent_3 played 'x' (<U1); expected an integer action"),
        ({"agent_1": "1"}, "agent_1 played '1' (<U1); expected an integer action in [0, 19]"),
        ({"agent_2": None}, "agent_2 played None (object); expected an integer action"),
        ({"agent_2": [2]}, "agent_2 sent an action of shape (1,) ([2]); expected shape ()"),
    ],
)
def test_bad_action_names_the_agent(changes, message):
    env = started()
    with pytest.raises(ValueError, match=re.escape(message)):
        env.step(joint(**changes))


def test_all_string_or_bool_actions_are_refused():
    env = started(n=2)
    with pytest.raises(ValueError, match=re.escape("agent_0 played 'a' (<U1)")):
        env.step({"agent_0": "a", "agent_1": "b"})
    with pytest.raises(ValueError, match=re.escape("agent_0 played True (bool)")):
        env.step({"agent_0": True, "agent_1": False})


def test_missing_and_extra_agents():
    env = started()
    actions = joint()
    del actions["agent_2"]
    with pytest.raises(ValueError, match=re.escape("missing actions for 'agent_2'")):
        env.step(actions)
    with pytest.raises(ValueError, match=re.escape(
            "actions given for unknown or finished agents 'agent_9'")):
        env.step(joint(agent_9=1))
    swapped = {**actions, "robot_2": 1}
    with pytest.raises(ValueError, match=re.escape(
            "missing actions for 'agent_2'; actions given for unknown or finished agents "
            "'robot_2'")):
        env.step(swapped)
    with pytest.raises(ValueError, match=re.escape(
            "missing actions for 'agent_0', 'agent_1', 'agent_2' and 1 more")):
        env.step({})
    with pytest.raises(TypeError, match=re.escape(
            "actions must be a dict keyed by agent, got list")):
        env.step([0, 1, 2, 3])


def test_aec_face_reports_the_bad_agent():
    aec = contribution_v0.env(n_agents=3)
    aec.reset(seed=0)
    aec.step(1)
    aec.step(25)
    with pytest.raises(ValueError, match=re.escape("agent_1 played 25")):
        aec.step(2)  # the parallel step runs once every agent has acted


def test_stepping_after_the_end_or_before_reset():
    """Every face refuses with ResetNeededError, both a RuntimeError and a ValueError."""
    fresh = contribution_v0.parallel_env(n_agents=2)
    with pytest.raises(RuntimeError, match="call reset\\(\\) first"):
        fresh.step({"agent_0": 1, "agent_1": 1})
    env = contribution_v0.parallel_env(n_agents=2, max_cycles=1)
    env.reset(seed=0)
    _, _, _, truncations, _ = env.step({"agent_0": 1, "agent_1": 1})
    assert all(truncations.values()) and env.agents == []
    with pytest.raises(ValueError, match="contribution_v0: step\\(\\) called before reset\\(\\) "
                                         "or after the episode ended; call reset\\(\\) first"):
        env.step({"agent_0": 1, "agent_1": 1})
    core = env.core
    with pytest.raises(RuntimeError, match="after the episode ended; call reset\\(\\) first"):
        core.step({"agent": np.array([1, 1])})
    with pytest.raises(RuntimeError, match="before reset\\(\\)"):
        contribution_v0.ContributionCore(n_agents=2).step({"agent": np.array([1, 1])})


def test_focal_stepping_after_the_end_or_before_reset():
    focal = contribution_v0.focal_env(n_agents=3, max_cycles=1)
    with pytest.raises(RuntimeError, match="call reset\\(\\) first"):
        focal.step(1)
    focal.reset(seed=0)
    assert focal.step(1)[3] is True
    with pytest.raises(RuntimeError, match="after the episode ended; call reset\\(\\) first"):
        focal.step(1)
    wrapped = gymnasium.make(CONTRIBUTION, n_agents=3)
    with pytest.raises(gymnasium.error.ResetNeeded):
        wrapped.step(1)


def test_vector_face_autoresets_instead_of_failing():
    vec = gymnasium.make_vec(CONTRIBUTION, num_envs=3, vectorization_mode="vector_entry_point",
                             max_cycles=1)
    with pytest.raises(RuntimeError, match="call reset\\(\\) first"):
        vec.step(np.array([1, 2, 3]))
    vec.reset(seed=0)
    assert vec.step(np.array([1, 2, 3]))[3].all()
    _, rewards, terminated, truncated, _ = vec.step(np.array([1, 2, 3]))
    assert not rewards.any() and not terminated.any() and not truncated.any()
    assert vec.step(np.array([1, 2, 3]))[3].all()


# ----------------------------------------------------------------------------- vector / focal
@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([1, 2, 3, 4]), "actions for group 'agent' must have shape (3,), got (4,)"),
        (np.array([[1], [2], [3]]), "actions for group 'agent' must have shape (3,), got (3, 1)"),
        (np.int64(1), "actions for group 'agent' must have shape (3,), got ()"),
        (np.array([1, 20, 3]), "agent_1 played 20; expected an integer action in [0, 19]"),
        (np.array([1.0, 2.0, 3.5]), "agent_2 played 3.5 (float64)"),
        (np.array([True, False, True]), "agent_0 played True (bool)"),
    ],
)
def test_bad_vector_actions(actions, message):
    vec = gymnasium.make_vec(CONTRIBUTION, num_envs=3, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        vec.step(actions)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (20, "agent_0 played 20; expected an integer action in [0, 19]"),
        (-1, "agent_0 played -1; expected an integer action in [0, 19]"),
        (2.5, "agent_0 played 2.5 (float64)"),
        (2.0, "agent_0 played 2.0 (float64)"),
        ("3", "agent_0 played '3' (<U1)"),
        (None, "agent_0 played None (object)"),
        ([3], "the focal action must have shape () for Discrete(20), got [3]"),
        (np.array([1, 2]), "the focal action must have shape () for Discrete(20)"),
    ],
)
def test_bad_focal_action(action, message):
    env = gymnasium.make(CONTRIBUTION, n_agents=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        env.step(action)


def test_num_envs_conflicting_with_n_agents():
    with pytest.raises(ValueError, match=re.escape(
            "num_envs (5) is the population size; it conflicts with n_agents=4")):
        gymnasium.make_vec(CONTRIBUTION, num_envs=5, vectorization_mode="vector_entry_point",
                           n_agents=4)
    with pytest.raises(ValueError, match=re.escape("n_agents must be >= 2, got 1")):
        gymnasium.make_vec(CONTRIBUTION, vectorization_mode="vector_entry_point")  # num_envs=1


@pytest.mark.parametrize(
    ("policy", "error", "message"),
    [
        ([0.5, 0.5], ValueError,
         "population_policy must be a probability vector of length 20, got (2,)"),
        (np.full(20, 0.06), ValueError, "population_policy must be non-negative and sum to 1"),
        (np.r_[1.5, -0.5, np.zeros(18)], ValueError,
         "population_policy must be non-negative and sum to 1"),
        (np.r_[np.nan, np.zeros(19)], ValueError,
         "population_policy must be non-negative and sum to 1"),
        ("uniform", TypeError,
         "population_policy must be a probability vector of length 20, got 'uniform'"),
    ],
)
def test_bad_population_policy(policy, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gymnasium.make(CONTRIBUTION, n_agents=3, population_policy=policy)
    with pytest.raises(error, match=re.escape(message)):
        contribution_v0.focal_env(population_policy=policy, n_agents=3)


# ----------------------------------------------------------------------------- refusals are pure
def test_refused_steps_change_nothing():
    """A rejected step must not consume randomness or advance the round: afterwards each face
    continues exactly like a twin that never saw the bad input."""
    kwargs = {"n_agents": 5, "payoff": "matching", "observe": "sample:2", "max_cycles": 6}

    def focal_run(bad: bool) -> list:
        env = gymnasium.make("populace/Matrix-v0", game="rock_paper_scissors", **kwargs)
        env.reset(seed=9)
        out = []
        for t in range(5):
            if bad:
                for wrong in (7, -1, 1.5):
                    with pytest.raises(ValueError):
                        env.step(wrong)
            out.append(env.step(t % 3)[:2])
        return out

    def parallel_run(bad: bool) -> list:
        env = contribution_v0.parallel_env(**kwargs)
        env.reset(seed=9)
        out = []
        for t in range(5):
            if bad:
                with pytest.raises(ValueError):
                    env.step(joint(5, agent_4=99))
            out.append(env.step(joint(5, agent_0=t))[:2])
        return out

    def vector_run(bad: bool) -> list:
        vec = gymnasium.make_vec(CONTRIBUTION, num_envs=5, vectorization_mode="vector_entry_point",
                                 **{k: v for k, v in kwargs.items() if k != "n_agents"})
        vec.reset(seed=9)
        out = []
        for t in range(5):
            if bad:
                with pytest.raises(ValueError):
                    vec.step(np.array([1, 2, 3, 4, 5.5]))
            out.append(vec.step(np.array([t, 1, 2, 3, 4]))[:2])
        return out

    for run in (focal_run, parallel_run, vector_run):
        clean, noisy = run(False), run(True)
        assert len(clean) == len(noisy)
        for (obs_a, rew_a), (obs_b, rew_b) in zip(clean, noisy, strict=True):
            if isinstance(obs_a, dict):
                assert rew_a == rew_b
                assert all(np.array_equal(obs_a[k], obs_b[k]) for k in obs_a)
            else:
                assert np.array_equal(obs_a, obs_b) and np.array_equal(rew_a, rew_b)
