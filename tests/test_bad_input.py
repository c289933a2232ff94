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


def test_aec_face_refuses_a_bad_action_at_its_own_turn_and_forgets_it():
    aec = contribution_v0.env(n_agents=3, max_cycles=1)
    aec.reset(seed=0)
    aec.step(1)
    with pytest.raises(ValueError, match=re.escape("agent_1 played 25")):
        aec.step(25)
    assert aec.agent_selection == "agent_1"  # the turn stays, nothing was stored
    aec.step(2)
    aec.step(3)
    plain = contribution_v0.parallel_env(n_agents=3, max_cycles=1)
    plain.reset(seed=0)
    _, rewards, *_ = plain.step({"agent_0": 1, "agent_1": 2, "agent_2": 3})
    assert aec.rewards == rewards
    with pytest.raises(ValueError, match=re.escape(
            "agent_0's episode has ended: step(None) for it (PettingZoo's rule")):
        aec.step(1)
    for _ in aec.agent_iter():
        aec.step(None)
    with pytest.raises(RuntimeError, match=re.escape(
            "contribution_v0: step() called after the episode ended (every agent has finished); "
            "call reset() first")):
        aec.step(None)


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
    with pytest.raises(ValueError, match=re.escape(
            "n_agents must be >= 2, got 1 (num_envs=1 is the population size n_agents")):
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


# ----------------------------------------------------------------------------- issue 20's faults
def _focal_step(module: str, policy, action, **kwargs):
    """Step the focal view of ``module`` whose population plays ``policy(n_others)``."""
    env = gymnasium.make(gym_id(module), population_policy=lambda o, rng: policy(len(o)),
                         **kwargs)
    env.reset(seed=0)
    env.step(action)


def _sizes():
    """Sizes no machine can allocate, and a cost that overflows the reference, per game."""
    rows = []
    for module in GAMES:
        for n in (10**30, 10**10):
            rows.append(pytest.param(
                lambda module=module, n=n: make_core(module, n_agents=n), ValueError,
                f"n_agents={n} cannot be allocated: ", id=f"{module}-n_agents={n:.0e}"))
    for module in ("spatial_congestion_v0", "supply_demand_v0"):
        rows.append(pytest.param(
            lambda module=module: make_core(module, grid_cells=10**7), ValueError,
            "grid_cells=10000000 cannot be allocated: ", id=f"{module}-grid_cells=1e7"))
    return rows


FOCAL = "contribution_v0"
BOX = "mf_lqr_v0"
BAD_INPUTS = [
    *_sizes(),
    pytest.param(lambda: make_core(BOX, q2=1e308), ValueError,
                 "mf_lqr_v0: the reference equilibrium is not finite for q2=1e+308", id="q2"),
    # a focal env's population policy is checked like any action (agent_0 is the focal one)
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.full(n, 1.7), 1, n_agents=4),
                 ValueError, "agent_1 played 1.7 (float64); expected an integer action in",
                 id="population-float"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.ones(n, bool), 1, n_agents=4),
                 ValueError, "agent_1 played True (bool)", id="population-bool"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.array(["3"] * n), 1, n_agents=4),
                 ValueError, "agent_1 played '3' (<U1)", id="population-string"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.full(n, 1 + 0j), 1, n_agents=4),
                 ValueError, "agent_1 played (1+0j) (complex128)", id="population-complex"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.r_[1.0, np.nan, 1.0], 1, n_agents=4),
                 ValueError, "agent_2 played nan (float64)", id="population-nan"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: [1, True, 2], 1, n_agents=4),
                 ValueError, "agent_2 played True (bool)", id="population-list-bool"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.array([1, 2, 20]), 1, n_agents=4),
                 ValueError, "agent_3 played 20; expected an integer action in [0, 19]",
                 id="population-range"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: None, 1, n_agents=4), ValueError,
                 "population_policy must return one action per other member of group 'agent', "
                 "shape (3,); got NoneType of shape ()", id="population-none"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: np.ones(1, int), 1, n_agents=4),
                 ValueError, "shape (3,); got ndarray of shape (1,)", id="population-one-row"),
    pytest.param(lambda: _focal_step(FOCAL, lambda n: [1, 2], 1, n_agents=4), ValueError,
                 "shape (3,); got list of 2 actions", id="population-short-list"),
    pytest.param(lambda: _focal_step(BOX, lambda n: np.full((n, 2), 10.5), np.zeros(2),
                                     n_agents=3),
                 ValueError, "agent_1 sent [10.5 10.5], outside the action box",
                 id="population-box"),
    # a value just outside a box is printed with the digits that show it is outside
    pytest.param(lambda: _focal_step(BOX, lambda n: np.zeros((n, 2)),
                                     np.array([10.00000000001, 0.0]), n_agents=3),
                 ValueError, "agent_0 sent [10.00000000001  0.           ], outside the action "
                 "box [-10.0, 10.0]", id="box-digits"),
    # expected-feedback ZSPG in its strict mode still refuses a point off the simplex
    pytest.param(lambda: _focal_step("zspg_network_v0", lambda n: np.full((n, 2), 0.5),
                                     np.array([0.2, 0.2]), feedback="expected",
                                     strategies="strict"),
                 ValueError, "agent_0 sent [0.2, 0.2], which sums to 0.4", id="zspg-strict"),
    pytest.param(lambda: make_core("zspg_network_v0", feedback="expected", strategies="loose"),
                 ValueError, "strategies must be one of ['normalize', 'strict'], got 'loose'",
                 id="zspg-strategies"),
    pytest.param(lambda: gymnasium.make_vec("populace/Matrix-v0", num_envs=0,
                                            vectorization_mode="vector_entry_point"),
                 ValueError, "(num_envs=0 is the population size n_agents", id="num_envs=0"),
    pytest.param(lambda: gymnasium.make(CONTRIBUTION, frameskip=4), TypeError,
                 "unexpected keyword argument 'frameskip'", id="python-phrase"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS)
def test_bad_input_table(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_expected_zspg_takes_what_generic_clients_send():
    """Normalizing (the default): a box point is divided by its sum, zeros are uniform, and a
    point on the simplex is used exactly as given; the batched space samples strategies."""
    core = make_core("zspg_network_v0", game="amps", feedback="expected")
    core.reset(seed=0)
    given = np.array([[0.3, 0.9], [0.0, 0.0]])
    normalized = np.array([[0.25, 0.75], [0.5, 0.5]])
    twin = make_core("zspg_network_v0", game="amps", feedback="expected", strategies="strict")
    twin.reset(seed=0)
    assert core.step({"agent": given}).rewards["agent"].tolist() == twin.step(
        {"agent": normalized}).rewards["agent"].tolist()
    on_simplex = np.array([[0.5, 0.5 + 4e-7], [1.0, 0.0]])
    assert core.check_actions({"agent": on_simplex})["agent"] is not None
    np.testing.assert_array_equal(core.check_actions({"agent": on_simplex})["agent"], on_simplex)
    vec = gymnasium.make_vec("populace/ZSPGNetwork-v0", num_envs=7,
                             vectorization_mode="vector_entry_point", feedback="expected")
    vec.reset(seed=0)
    sample = vec.action_space.sample()
    assert vec.action_space.contains(sample)
    np.testing.assert_allclose(sample.sum(axis=1), 1.0)
    vec.step(sample)
    clipped = gymnasium.wrappers.ClipAction(
        gymnasium.make("populace/ZSPGNetwork-v0", feedback="expected"))
    clipped.reset(seed=0)
    clipped.step(np.array([3.0, -1.0]))  # clipped to (1, 0): a pure strategy
