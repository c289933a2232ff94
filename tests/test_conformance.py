"""Conformance of every registered game, driven by ``ENV_CASES`` in ``conftest.py``.

PettingZoo's and Gymnasium's own checkers, our multi-step determinism test (PettingZoo 1.27's
``parallel_seed_test`` stops after one step), ``make``/``make_vec`` through the registries, and
exact agreement of the three faces with the array core.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
import types
from functools import partial
from typing import Any

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    seed_test,
    state_test,
)

from populace.envs.anonymous import PAYOFF_MODES, AnonymousGameCore
from populace.envs.policies import as_policy
from populace.envs.registry import GAMES

MAX_CYCLES = 7  # short episodes, so ~50 steps cross several episode boundaries
STEPS = 50


# ----------------------------------------------------------------------------- the table
def test_every_registered_game_has_a_case(env_cases):
    untested = sorted(set(GAMES) - set(env_cases))
    assert not untested, f"add rows for {untested} to ENV_CASES in tests/conftest.py"
    empty = sorted(name for name in GAMES if not env_cases[name])
    assert not empty, f"ENV_CASES rows are empty for {empty}"


def test_cases_cover_every_observe_and_payoff_mode(module_name, env_cases):
    rows = env_cases[module_name]

    def make(kwargs: dict[str, Any]) -> Any:
        return pettingzoo.make("parallel", f"populace/{module_name}", **kwargs)

    if not isinstance(make(rows[0]).core, AnonymousGameCore):
        pytest.skip(f"{module_name} is not an anonymous game")
    observed = {str(row.get("observe", "none")).split(":")[0] for row in rows}
    assert observed >= {"none", "population", "sample"}, f"{module_name} covers only {observed}"
    accepted = []
    for mode in PAYOFF_MODES:  # the payoff modes this game's constructor accepts
        try:
            make({**rows[0], "payoff": mode})
        except (TypeError, ValueError):
            continue
        accepted.append(mode)
    if len(accepted) > 1:
        covered = {make(row).core.payoff for row in rows}
        assert covered >= set(accepted), f"{module_name} covers payoff modes {covered}"


# ----------------------------------------------------------------------------- PettingZoo
@pytest.mark.filterwarnings("ignore::UserWarning")  # "observation array is all zeros" notes
def test_parallel_api(case):
    parallel_api_test(case.parallel(), num_cycles=20)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_aec_api(case):
    api_test(case.module.env(**case.kwargs), num_cycles=20)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_max_cycles_and_state(case):
    bound = types.SimpleNamespace(
        parallel_env=partial(case.module.parallel_env, **case.kwargs),
        env=partial(case.module.env, **case.kwargs),
    )
    max_cycles_test(bound)
    state_test(case.module.env(**case.kwargs), case.parallel(), num_cycles=10)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pettingzoo_seed_tests(case):
    """PettingZoo's own seed tests (the parallel one checks a single step; see below for ours)."""
    parallel_seed_test(partial(case.module.parallel_env, **case.kwargs))
    seed_test(partial(case.module.env, **case.kwargs), num_cycles=20)


def test_pettingzoo_make(case):
    parallel = pettingzoo.make("parallel", case.pz_id, **case.kwargs)
    observations, infos = parallel.reset(seed=0)
    assert set(observations) == set(parallel.possible_agents) == set(infos)
    assert parallel.metadata["name"] == case.module_name
    aec = pettingzoo.make("aec", case.pz_id, **case.kwargs)
    aec.reset(seed=0)
    assert aec.agent_selection == parallel.possible_agents[0]


def test_spaces_are_cached_and_metadata_names_the_game(case):
    env = case.parallel()
    for agent in env.possible_agents[:3]:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
    assert env.metadata["name"] == case.module_name and env.metadata["is_parallelizable"]
    assert set(env.metadata["render_modes"]) == {"ansi", "rgb_array"}
    if case.single_group:
        assert gymnasium.make(case.gym_id, **case.kwargs).metadata["name"] == case.module_name
        num_envs, kw = case.vector_kw()
        vec = gymnasium.make_vec(
            case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kw
        )
        assert vec.metadata["name"] == case.module_name
        assert vec.action_space is vec.action_space


def rollout(case: Any, seed: int, action_seed: int, steps: int = STEPS) -> tuple[list, Any]:
    """Run the parallel face for ``steps`` seeded random joint actions, resetting (unseeded)
    at every episode end. Returns the trajectory and the core's generator state."""
    env = case.parallel(max_cycles=MAX_CYCLES)
    rng = np.random.default_rng(action_seed)
    observations, _ = env.reset(seed=seed)
    trajectory: list[Any] = [("reset", observations)]
    for _ in range(steps):
        if not env.agents:
            observations, _ = env.reset()
            trajectory.append(("reset", observations))
        actions = {a: case.sample(env.action_space(a), rng) for a in env.agents}
        trajectory.append(env.step(actions)[:4])
    return trajectory, env.core.np_random.bit_generator.state


def same(a: Any, b: Any) -> bool:
    """Exact equality of nested tuples/lists/dicts of arrays and scalars."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str):
        return a == b
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_multi_step_determinism(case):
    first, rng_state = rollout(case, seed=123, action_seed=5)
    second, _ = rollout(case, seed=123, action_seed=5)
    resets = sum(1 for step in first if step[0] == "reset")
    assert resets >= 3, "the rollout should cross episode boundaries"
    assert same(first, second), "same seed and actions gave different trajectories"
    # A game that draws random numbers (matching, sampling) must depend on the seed; with two
    # agents the draws cannot matter (the partner and every sample is the other agent).
    drew = rng_state != np.random.default_rng(123).bit_generator.state
    if drew and case.kwargs.get(case.population_keyword, 3) > 2:
        other, _ = rollout(case, seed=124, action_seed=5)
        assert not same(first, other), "a different seed gave the same trajectory"


# ----------------------------------------------------------------------------- Gymnasium
def test_gymnasium_check_env(case):
    if not case.single_group:
        pytest.skip("focal view of a multi-role game needs role_policies")
    env = gymnasium.make(case.gym_id, **case.kwargs)
    check_env(env.unwrapped)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    for _ in range(3):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        assert isinstance(reward, float)


def test_make_vec_and_autoreset(case):
    if not case.single_group:
        pytest.skip("population view of a multi-role game needs role_policies")
    num_envs, kw = case.vector_kw(max_cycles=3)
    vec = gymnasium.make_vec(
        case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kw
    )
    also = gymnasium.make_vec(  # the population size may also be given explicitly
        case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
        **{case.population_keyword: num_envs}, **kw,
    )
    assert vec.num_envs == also.num_envs == num_envs
    assert vec.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.NEXT_STEP
    rng = np.random.default_rng(0)
    observations, _ = vec.reset(seed=1)
    first_observations = observations.copy()
    assert vec.observation_space.contains(observations)
    for t in range(1, 4):
        observations, rewards, terminated, truncated, _ = vec.step(
            case.sample(vec.single_action_space, rng, size=num_envs)
        )
        assert vec.observation_space.contains(observations)
        assert rewards.shape == terminated.shape == truncated.shape == (num_envs,)
        assert not terminated.any()
        assert truncated.all() == (t == 3) and truncated.any() == (t == 3)
    # the step after the last one resets: first observations, zero reward, not done
    observations, rewards, terminated, truncated, _ = vec.step(
        case.sample(vec.single_action_space, rng, size=num_envs)
    )
    assert observations.shape == first_observations.shape  # (their values: face-vs-core test)
    assert vec.observation_space.contains(observations)
    assert np.array_equal(rewards, np.zeros(num_envs))
    assert not terminated.any() and not truncated.any()
    for t in range(1, 4):  # and a full new episode follows
        _, _, _, truncated, _ = vec.step(case.sample(vec.single_action_space, rng, size=num_envs))
        assert truncated.all() == (t == 3)


# ----------------------------------------------------------------------------- faces = core
def test_parallel_face_equals_core(case):
    env = case.parallel(max_cycles=MAX_CYCLES)
    core = case.core(max_cycles=MAX_CYCLES)
    rng = np.random.default_rng(11)
    observations, _ = env.reset(seed=3)
    core_observations = core.reset(seed=3)
    assert same(observations, case.to_dict(core, core_observations))
    for _ in range(2 * MAX_CYCLES + 3):
        if not env.agents:
            assert core.needs_reset
            assert same(env.reset()[0], case.to_dict(core, core.reset()))
        arrays = case.group_actions(core, rng)
        observations, rewards, terminations, truncations, _ = env.step(case.to_dict(core, arrays))
        result = core.step(arrays)
        assert same(observations, case.to_dict(core, result.observations))
        assert rewards == case.to_dict(core, result.rewards)  # exact floats
        assert set(terminations.values()) == {result.terminated}
        assert set(truncations.values()) == {result.truncated}


def test_vector_face_equals_core(case):
    if not case.single_group:
        pytest.skip("population view of a multi-role game needs role_policies")
    num_envs, kw = case.vector_kw(max_cycles=MAX_CYCLES)
    vec = gymnasium.make_vec(
        case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kw
    )
    core = case.core(max_cycles=MAX_CYCLES)
    group = core.groups[0].name
    rng = np.random.default_rng(12)
    observations, _ = vec.reset(seed=4)
    assert np.array_equal(observations, core.reset(seed=4)[group])
    for _ in range(2 * MAX_CYCLES + 3):
        actions = case.sample(vec.single_action_space, rng, size=num_envs)
        observations, rewards, terminated, truncated, _ = vec.step(actions)
        if core.needs_reset:  # the vector face autoresets on this step and ignores the actions
            assert np.array_equal(observations, core.reset()[group])
            assert not rewards.any()
            continue
        result = core.step({group: actions})
        assert np.array_equal(observations, result.observations[group])
        assert np.array_equal(rewards, result.rewards[group])
        assert (terminated == result.terminated).all() and (truncated == result.truncated).all()


def _uniform_policy(observations: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(n, size=len(observations))


@pytest.mark.parametrize("policy", ["default", "callable"])
def test_focal_face_equals_core(case, policy):
    if not case.single_group:
        pytest.skip("focal view of a multi-role game needs role_policies")
    core = case.core(max_cycles=MAX_CYCLES)
    group = core.groups[0]
    if policy == "callable" and not isinstance(group.action_space, gymnasium.spaces.Discrete):
        pytest.skip("the callable population policy here draws discrete actions")
    if policy == "default":
        population_policy = None
        others = as_policy(
            core.default_policy(group.name), group.action_space, group.size - 1, "policy"
        )
    else:
        population_policy = others = partial(_uniform_policy, n=int(group.action_space.n))
    env = gymnasium.make(case.gym_id, population_policy=population_policy, **core_kwargs(case))
    twin = gymnasium.make(case.gym_id, population_policy=population_policy, **core_kwargs(case))
    rng = np.random.default_rng(13)
    observation, _ = env.reset(seed=5)
    twin.reset(seed=5)
    core_observations = core.reset(seed=5)[group.name]
    assert np.array_equal(observation, core_observations[0])
    for _ in range(2 * MAX_CYCLES + 3):
        if core.needs_reset:
            observation, _ = env.reset()
            twin.reset()
            core_observations = core.reset()[group.name]
            assert np.array_equal(observation, core_observations[0])
        action = case.sample(group.action_space, rng)
        observation, reward, terminated, truncated, _ = env.step(action)
        assert same((observation, reward, terminated, truncated), twin.step(action)[:4])
        chosen = np.asarray(others(core_observations[1:], core.np_random))
        joint = np.empty((group.size, *chosen.shape[1:]), dtype=chosen.dtype)
        joint[1:] = chosen
        joint[0] = action
        result = core.step({group.name: joint})
        core_observations = result.observations[group.name]
        assert np.array_equal(observation, core_observations[0])
        assert reward == result.rewards[group.name][0]
        assert (terminated, truncated) == (result.terminated, result.truncated)


def core_kwargs(case: Any) -> dict[str, Any]:
    return case.kw(max_cycles=MAX_CYCLES)


# ----------------------------------------------------------------------------- render
@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_render(case, mode):
    def check(picture: Any) -> None:
        if mode == "ansi":
            assert isinstance(picture, str) and picture
        else:
            assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
            assert picture.ndim == 3 and picture.shape[2] == 3 and min(picture.shape[:2]) > 0

    env = case.parallel(render_mode=mode)
    env.reset(seed=0)
    check(env.render())
    rng = np.random.default_rng(0)
    env.step({a: case.sample(env.action_space(a), rng) for a in env.agents})
    check(env.render())
    assert case.parallel().render() is None  # render_mode=None draws nothing
    if case.single_group:
        focal = gymnasium.make(case.gym_id, render_mode=mode, **case.kwargs)
        focal.reset(seed=0)
        focal.step(focal.action_space.sample())
        check(focal.render())
        num_envs, kw = case.vector_kw(render_mode=mode)
        vec = gymnasium.make_vec(
            case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kw
        )
        vec.reset(seed=0)
        check(vec.render())


# ----------------------------------------------------------------------------- processes
FRESH_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    assert "populace" not in sys.modules
    import gymnasium
    env = gymnasium.make("populace:populace/Contribution-v0", n_agents=50, payoff="matching",
                         observe="sample:3", max_cycles=8)
    assert "populace" in sys.modules
    import pettingzoo
    digest = hashlib.sha256()
    rng = np.random.default_rng(7)
    observation, _ = env.reset(seed=2024)
    for _ in range(20):
        observation, reward, terminated, truncated, _ = env.step(int(rng.integers(20)))
        digest.update(np.asarray(observation).tobytes() + np.float64(reward).tobytes())
        if terminated or truncated:
            observation, _ = env.reset()
    parallel = pettingzoo.make("parallel", "populace/matrix_v0", game="rock_paper_scissors",
                               n_agents=9, observe="population", max_cycles=6)
    observations, _ = parallel.reset(seed=2024)
    for _ in range(20):
        if not parallel.agents:
            observations, _ = parallel.reset()
        step = parallel.step({a: int(rng.integers(3)) for a in parallel.agents})
        digest.update(repr(sorted(step[1].items())).encode())
        digest.update(np.stack(list(step[0].values())).tobytes())
    print(digest.hexdigest())
    """
)


def run_fresh(tmp_path: Any, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run(
        [sys.executable, "-c", FRESH_SCRIPT], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_make_in_fresh_interpreter_and_determinism_across_processes(tmp_path):
    """``gymnasium.make("populace:...")`` needs no prior import; the same seed gives the same
    20-step hash in two fresh processes (different hash seeds) and in this one."""
    first = run_fresh(tmp_path, "1")
    second = run_fresh(tmp_path, "2")
    assert len(first) == 64 and first == second
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # this process has imported populace already
        exec(FRESH_SCRIPT.replace('assert "populace" not in sys.modules', ""), {})
    assert printed.getvalue().strip() == first
