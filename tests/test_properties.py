"""Property tests (hypothesis): anonymity, faces agree with the core, observations in bounds.

Runs over every registered game through the ``case`` / ``average_case`` rows of
``conftest.ENV_CASES``; example counts are kept modest so the file stays fast.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.anonymous.equilibrium import exploitability, symmetric_equilibria
from populace.envs.anonymous.matrix import reference_for
from populace.envs.registry import GAMES

FAST = settings(
    max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def profiles(draw: Any, n_actions: int, max_agents: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """An action profile of 2..max_agents agents and a permutation of the agents."""
    n = draw(st.integers(2, max_agents))
    actions = np.array(draw(st.lists(st.integers(0, n_actions - 1), min_size=n, max_size=n)))
    permutation = np.array(draw(st.permutations(range(n))))
    return actions, permutation


def rewards_of(case: Any, actions: np.ndarray) -> np.ndarray:
    core = case.core(**{case.population_keyword: len(actions)})
    core.reset(seed=0)
    return core.step({core.groups[0].name: actions}).rewards[core.groups[0].name]


# ----------------------------------------------------------------------------- anonymity
@FAST
@given(data=st.data())
def test_permuting_agents_permutes_rewards(average_case, data):
    n_actions = int(average_case.core().groups[0].action_space.n)
    actions, permutation = data.draw(profiles(n_actions))
    rewards = rewards_of(average_case, actions)
    permuted = rewards_of(average_case, actions[permutation])
    assert np.array_equal(permuted, rewards[permutation])


@FAST
@given(data=st.data())
def test_reward_depends_only_on_own_action_and_histogram(average_case, data):
    """Agents playing the same action get the same reward, and that reward is the same in any
    profile with the same action histogram."""
    n_actions = int(average_case.core().groups[0].action_space.n)
    actions, permutation = data.draw(profiles(n_actions))
    table: dict[int, float] = {}
    for profile in (actions, actions[permutation]):
        for a, r in zip(profile.tolist(), rewards_of(average_case, profile).tolist(), strict=True):
            assert table.setdefault(a, r) == r, f"action {a} paid {r} and {table[a]}"


@FAST
@given(data=st.data())
def test_action_dtype_does_not_change_rewards(case, data):
    """int8/uint8/int32/int64 actions (SB3, torch, numpy defaults) give identical steps."""
    core = case.core()
    group = core.groups[0]
    if len(core.groups) != 1 or not isinstance(group.action_space, gymnasium.spaces.Discrete):
        pytest.skip("single-group discrete games only")
    n = group.size
    actions = np.array(data.draw(st.lists(st.integers(0, int(group.action_space.n) - 1),
                                          min_size=n, max_size=n)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    results = []
    for dtype in (np.int64, np.int32, np.uint8, np.int8):
        core.reset(seed=seed)
        results.append(core.step({group.name: actions.astype(dtype)}))
    for other in results[1:]:
        assert np.array_equal(other.rewards[group.name], results[0].rewards[group.name])
        assert np.array_equal(other.observations[group.name], results[0].observations[group.name])


# ----------------------------------------------------------------------------- faces = core
@FAST
@given(seed=st.integers(0, 2**32 - 1), action_seed=st.integers(0, 2**16), steps=st.integers(1, 9))
def test_parallel_and_vector_faces_equal_core(case, seed, action_seed, steps):
    max_cycles = 4
    core = case.core(max_cycles=max_cycles)
    parallel = case.parallel(max_cycles=max_cycles)
    num_envs, kw = case.vector_kw(max_cycles=max_cycles)
    vector = (
        gymnasium.make_vec(case.gym_id, num_envs=num_envs,
                           vectorization_mode="vector_entry_point", **kw)
        if len(core.groups) == 1 else None
    )
    group = core.groups[0].name
    rng = np.random.default_rng(action_seed)
    core_obs = core.reset(seed=seed)
    parallel.reset(seed=seed)
    if vector is not None:
        assert np.array_equal(vector.reset(seed=seed)[0], core_obs[group])
    for _ in range(steps):
        if core.needs_reset:
            core.reset()
            parallel.reset()
            if vector is not None:  # NEXT_STEP autoreset: this step only resets
                vector.step(case.group_actions(core, rng)[group])
        arrays = case.group_actions(core, rng)
        result = core.step(arrays)
        observations, rewards, terminations, truncations, _ = parallel.step(
            case.to_dict(core, arrays)
        )
        assert rewards == case.to_dict(core, result.rewards)
        for agent, observation in case.to_dict(core, result.observations).items():
            assert np.array_equal(observations[agent], observation)
        assert set(truncations.values()) == {result.truncated}
        assert set(terminations.values()) == {result.terminated}
        if vector is not None:
            v_obs, v_rewards, v_term, v_trunc, _ = vector.step(arrays[group])
            assert np.array_equal(v_obs, result.observations[group])
            assert np.array_equal(v_rewards, result.rewards[group])
            assert v_trunc.all() == result.truncated and v_term.all() == result.terminated


# ----------------------------------------------------------------------------- observations
@FAST
@given(seed=st.integers(0, 2**32 - 1), action_seed=st.integers(0, 2**16))
def test_observations_stay_in_their_space(case, seed, action_seed):
    env = case.parallel(max_cycles=50)
    rng = np.random.default_rng(action_seed)
    observations, _ = env.reset(seed=seed)
    for _ in range(5):
        for agent, observation in observations.items():
            assert env.observation_space(agent).contains(observation), (agent, observation)
        actions = {a: case.sample(env.action_space(a), rng) for a in env.agents}
        observations = env.step(actions)[0]
        for agent, observation in observations.items():
            space = env.observation_space(agent)
            assert space.contains(observation), (agent, observation)
            if isinstance(env.core, AnonymousGameCore) and isinstance(
                    space, gymnasium.spaces.Box) and space.shape == (space.shape[0],):
                # frequencies of last round's actions: non-negative, summing to 1
                assert observation.min() >= 0 and abs(float(observation.sum()) - 1) < 1e-5
    assert env.state_space.contains(env.state())


# ----------------------------------------------------------------------------- equilibria
@settings(max_examples=60, deadline=None, derandomize=True)
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=2, max_side=4)
                  .map(lambda s: (s[0], s[0])), elements=st.integers(-4, 4)))
def test_user_matrix_reference_is_an_equilibrium(matrix):
    matrix = matrix.astype(float)
    reference = reference_for(matrix)
    assert reference.min() >= 0 and reference.sum() == pytest.approx(1.0)
    assert exploitability(lambda rho: matrix @ rho, reference) <= 1e-9
    for eq in symmetric_equilibria(matrix):
        assert exploitability(lambda rho: matrix @ rho, eq) <= 1e-9


@pytest.mark.skipif("congestion_v0" not in GAMES, reason="congestion_v0 is not registered")
@settings(max_examples=40, deadline=None, derandomize=True)
@given(mechanism=st.sampled_from(["acp", "serial"]),
       demands=st.lists(st.integers(0, 19), min_size=2, max_size=12))
def test_congestion_cost_sharing_is_budget_balanced(mechanism, demands):
    """Σ_i x_i = C(s) = s²/N, with x_i = v(q_i) − reward_i and v(q) = 24q − q²."""
    from populace.envs import congestion_v0

    n = len(demands)
    env = congestion_v0.parallel_env(n_agents=n, mechanism=mechanism)
    env.reset(seed=0)
    rewards = env.step({f"agent_{i}": q for i, q in enumerate(demands)})[1]
    shares = [24 * q - q * q - rewards[f"agent_{i}"] for i, q in enumerate(demands)]
    s = sum(demands)
    assert sum(shares) == pytest.approx(s * s / n, rel=1e-9, abs=1e-9)
