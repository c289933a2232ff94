"""Conformance of every game, driven by the tables in ``conftest.py``.

Every registered game, and every test-only game (``toy_v0``: two groups, one with Box actions,
and episodes that terminate), goes through PettingZoo's and Gymnasium's own checkers, our
multi-step determinism test (PettingZoo 1.27's ``parallel_seed_test`` stops after one step),
``make``/``make_vec`` through the registries with ``group=`` and ``role_policies=``, exact
agreement of every face with the array core across episode ends, and refused steps that change
nothing. The focal and vector faces are tested once per group (``face_case``); a conformance
test may not skip (``conftest.py`` turns a skip into a failure), and
:func:`test_every_game_and_group_meets_every_face` checks that no face test is left out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from functools import partial
from typing import Any

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

from populace.envs.anonymous.core import PAYOFF_MODES, AnonymousGameCore
from populace.envs.clipped_box import clips_actions
from populace.envs.policies import PolicyFn, as_policy
from populace.envs.registry import GAMES

MAX_CYCLES = 7  # short episodes, so ~50 steps cross several episode boundaries
STEPS = 50
FACE_STEPS = 10 * MAX_CYCLES  # faces against the core: about ten episode ends
REFUSAL_STEPS = 3 * MAX_CYCLES
SKIP_MARKS = {"skip", "skipif", "xfail"}


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


def test_the_population_group_is_the_faces_default(game_case):
    """``make_vec`` without ``group=`` shows the group ``num_envs`` sizes; ``make`` the
    core's ``default_focal_group`` (the warehouse's dispatcher), else that same group."""
    case = game_case
    core = case.core()
    num_envs, kw = case.vector_kw()
    vec = gymnasium.make_vec(
        case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kw
    )
    assert (vec.group, vec.num_envs) == (core.population_group, num_envs)
    focal = gymnasium.make(case.gym_id, **case.kwargs)
    assert focal.unwrapped.focal_group == (core.default_focal_group or core.population_group)


# ----------------------------------------------------------------------------- PettingZoo
def api_cycles(env: Any, small: int = 20) -> int:
    """Cycles for PettingZoo's API tests: ``small`` for the small rows, 2 at the defaults'
    populations of hundreds (the AEC test steps and checks every agent one by one)."""
    return small if len(env.possible_agents) <= 50 else 2


@pytest.mark.filterwarnings("ignore::UserWarning")  # "observation array is all zeros" notes
def test_parallel_api(game_case):
    env = game_case.parallel()
    parallel_api_test(env, num_cycles=api_cycles(env))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_aec_api(game_case):
    env = game_case.module.env(**game_case.kwargs)
    api_test(env, num_cycles=api_cycles(env))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_max_cycles_and_state(game_case):
    case = game_case
    bound = types.SimpleNamespace(  # max_cycles_test needs episodes that only truncate
        parallel_env=partial(case.module.parallel_env, **case.truncating_kw()),
        env=partial(case.module.env, **case.truncating_kw()),
    )
    max_cycles_test(bound)
    state_test(case.module.env(**case.kwargs), case.parallel(), num_cycles=10)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pettingzoo_seed_tests(game_case):
    """PettingZoo's own seed tests (the parallel one checks a single step; see below for ours)."""
    parallel_seed_test(partial(game_case.module.parallel_env, **game_case.kwargs))
    seed_test(partial(game_case.module.env, **game_case.kwargs), num_cycles=20)


def test_pettingzoo_make(game_case):
    case = game_case
    parallel = pettingzoo.make("parallel", case.pz_id, **case.kwargs)
    observations, infos = parallel.reset(seed=0)
    assert set(observations) == set(parallel.possible_agents) == set(infos)
    assert parallel.metadata["name"] == case.module_name
    aec = pettingzoo.make("aec", case.pz_id, **case.kwargs)
    aec.reset(seed=0)
    assert aec.agent_selection == parallel.possible_agents[0]


def test_spaces_are_cached_and_metadata_names_the_game(game_case):
    env = game_case.parallel()
    for agent in env.possible_agents[:3] + env.possible_agents[-2:]:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
    assert env.metadata["name"] == game_case.module_name and env.metadata["is_parallelizable"]
    assert set(env.metadata["render_modes"]) == {"ansi", "rgb_array", "human"}


class EpisodeEnds:
    """Counts how the episodes of a run ended, to check that a run crossed episode ends."""

    def __init__(self) -> None:
        self.terminated = self.truncated = 0

    def note(self, terminated: Any, truncated: Any) -> None:
        self.terminated += bool(np.any(terminated))
        self.truncated += bool(np.any(truncated) and not np.any(terminated))

    def check(self, case: Any) -> None:
        if case.horizon_terminates:
            assert self.terminated >= 1, "the run should cross an episode's end"
            return
        assert self.truncated >= 1, "the run should cross a truncation"
        if case.can_terminate:
            assert self.terminated >= 1, "the run should cross a termination"


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


def test_multi_step_determinism(game_case):
    case = game_case
    first, rng_state = rollout(case, seed=123, action_seed=5)
    second, _ = rollout(case, seed=123, action_seed=5)
    ends = EpisodeEnds()
    for step in first[1:]:
        if step[0] != "reset":
            ends.note(list(step[2].values()), list(step[3].values()))
    assert ends.terminated + ends.truncated >= 3, "the rollout should cross episode boundaries"
    ends.check(case)
    assert same(first, second), "same seed and actions gave different trajectories"
    # A game that draws random numbers (matching, sampling) must depend on the seed; with two
    # agents the draws cannot matter (the partner and every sample is the other agent).
    drew = rng_state != np.random.default_rng(123).bit_generator.state
    if drew and case.kwargs.get(case.population_keyword, 3) > 2:
        other, _ = rollout(case, seed=124, action_seed=5)
        assert not same(first, other), "a different seed gave the same trajectory"


# ----------------------------------------------------------------------------- Gymnasium
def make_focal(case: Any, **kwargs: Any) -> Any:
    """``gymnasium.make`` of the focal view of ``case.group`` (``kwargs``: faces' and core's)."""
    return gymnasium.make(case.gym_id, group=case.group, **{**case.kwargs, **kwargs})


def make_vector(
    case: Any, role_policies: Any = None, autoreset_mode: str | None = None, **overrides: Any
) -> Any:
    """``gymnasium.make_vec`` of the population view of ``case.group`` (``autoreset_mode``
    goes through ``make_vec``'s keywords, as a user would pass it)."""
    num_envs, kw = case.vector_kw(**overrides)
    if autoreset_mode is not None:
        kw["autoreset_mode"] = autoreset_mode
    return gymnasium.make_vec(
        case.gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
        group=case.group, role_policies=role_policies, **kw,
    )


def test_gymnasium_check_env(face_case):
    env = make_focal(face_case)
    assert env.unwrapped.focal_group == face_case.group
    assert env.metadata["name"] == face_case.module_name
    check_env(env.unwrapped)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    for _ in range(3):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        assert isinstance(reward, float)
        if terminated or truncated:
            env.reset()


def test_make_vec_and_autoreset(face_case):
    case = face_case
    vec = make_vector(case, **case.truncating_kw(max_cycles=3))
    num_envs = vec.num_envs
    assert vec.group == case.group and num_envs == case.core().group(case.group).size
    assert vec.metadata["name"] == case.module_name
    assert vec.action_space is vec.action_space
    if case.group == case.core_cls.population_group:  # the size may also be given explicitly
        also = make_vector(case, **case.truncating_kw(max_cycles=3, **{
            case.population_keyword: num_envs}))
        assert also.num_envs == num_envs
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
        ended, other = case.at_horizon(terminated, truncated)
        assert not other.any()
        assert ended.all() == (t == 3) and ended.any() == (t == 3)
    # the step after the last one resets: first observations, zero reward, not done
    observations, rewards, terminated, truncated, _ = vec.step(
        case.sample(vec.single_action_space, rng, size=num_envs)
    )
    assert observations.shape == first_observations.shape  # (their values: face-vs-core test)
    assert vec.observation_space.contains(observations)
    assert np.array_equal(rewards, np.zeros(num_envs))
    assert not terminated.any() and not truncated.any()
    for t in range(1, 4):  # and a full new episode follows
        step = vec.step(case.sample(vec.single_action_space, rng, size=num_envs))
        assert case.at_horizon(step[2], step[3])[0].all() == (t == 3)


# ----------------------------------------------------------------------------- faces = core
def test_parallel_face_equals_core(game_case):
    case = game_case
    env = case.parallel(max_cycles=MAX_CYCLES)
    core = case.core(max_cycles=MAX_CYCLES)
    rng = np.random.default_rng(11)
    observations, _ = env.reset(seed=3)
    core_observations = core.reset(seed=3)
    assert same(observations, case.to_dict(core, core_observations))
    ends = EpisodeEnds()
    for _ in range(FACE_STEPS):
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
        ends.note(result.terminated, result.truncated)
    ends.check(case)


def random_policy(case: Any, space: spaces.Space) -> PolicyFn:
    """A population policy drawing uniformly from ``space`` with the generator it is given."""

    def policy(observations: Any, rng: np.random.Generator) -> Any:
        return case.sample(space, rng, size=len(observations))

    return policy


def role_policies(case: Any, explicit: bool) -> dict[str, Any] | None:
    """``role_policies`` for the faces of ``case.group``: None (the game's defaults) or a
    random policy for every other group (``{}`` for a game with one group)."""
    if not explicit:
        return None
    core = case.core()
    return {g.name: random_policy(case, g.action_space) for g in core.groups
            if g.name != case.group}


def fixed_policies(core: Any, group: str, given: dict[str, Any] | None) -> dict[str, PolicyFn]:
    """The other groups' policies as the faces must apply them: in the core's group order,
    the given one or else the game's default."""
    given = given or {}
    return {
        g.name: as_policy(given.get(g.name, core.default_policy(g.name)), g.action_space, g.size,
                          g.name)
        for g in core.groups if g.name != group
    }


def play_fixed(core: Any, policies: dict[str, PolicyFn], observations: dict) -> dict:
    """What the fixed groups play, drawn from the core's generator in group order."""
    return {name: policy(observations[name], core.np_random) for name, policy in policies.items()}


@pytest.mark.parametrize("policies", ["default", "explicit"])
@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_vector_face_equals_core(face_case, policies, mode):
    """Both autoreset modes, chosen through ``make_vec(..., autoreset_mode=)``, against the
    core: ``NEXT_STEP`` resets on the step after an episode's end (ignoring its actions);
    ``SAME_STEP`` resets on the ending step and reports the final observations in
    ``infos["final_obs"]``, as Gymnasium's own vector envs do."""
    case, group = face_case, face_case.group
    roles = role_policies(case, policies == "explicit")
    vec = make_vector(case, role_policies=roles, autoreset_mode=mode, max_cycles=MAX_CYCLES)
    assert vec.autoreset_mode == AutoresetMode(mode) == vec.metadata["autoreset_mode"]
    core = case.core(max_cycles=MAX_CYCLES)
    fixed = fixed_policies(core, group, roles)
    rng = np.random.default_rng(12)
    observations, _ = vec.reset(seed=4)
    core_observations = core.reset(seed=4)
    assert same(observations, core_observations[group])
    ends = EpisodeEnds()
    for _ in range(FACE_STEPS):
        actions = case.sample(vec.single_action_space, rng, size=vec.num_envs)
        observations, rewards, terminated, truncated, infos = vec.step(actions)
        if core.needs_reset:  # NEXT_STEP autoresets on this step and ignores the actions
            assert mode == "NextStep"
            core_observations = core.reset()
            assert same(observations, core_observations[group])
            assert not rewards.any() and not terminated.any() and not truncated.any()
            continue
        result = core.step({group: actions, **play_fixed(core, fixed, core_observations)})
        core_observations = result.observations
        assert same(rewards, result.rewards[group])
        assert (terminated == result.terminated).all() and (truncated == result.truncated).all()
        ended = result.terminated or result.truncated
        ends.note(result.terminated, result.truncated)
        if mode == "SameStep" and ended:
            assert same(np.stack(list(infos["final_obs"])), result.observations[group])
            assert infos["_final_obs"].all() and infos["_final_info"].all()
            assert infos["final_info"] == {}
            core_observations = core.reset()
            assert same(observations, core_observations[group])
        else:
            assert same(observations, result.observations[group])
            assert "final_obs" not in infos
    ends.check(case)


@pytest.mark.parametrize("policies", ["default", "explicit"])
def test_focal_face_equals_core(face_case, policies):
    """The last member of the group is the focal agent; the other members follow the population
    policy, the other groups their role policies, all drawn from the core's generator."""
    case = face_case
    core = case.core(max_cycles=MAX_CYCLES)
    group = core.group(case.group)
    focal = group.size - 1
    explicit = policies == "explicit"
    population = random_policy(case, group.action_space) if explicit else None
    roles = role_policies(case, explicit)
    faces_kwargs = {"population_policy": population, "role_policies": roles,
                    "focal_index": focal, "max_cycles": MAX_CYCLES}
    env, twin = make_focal(case, **faces_kwargs), make_focal(case, **faces_kwargs)
    others = as_policy(population or core.default_policy(group.name), group.action_space,
                       group.size - 1, "population_policy")
    fixed = fixed_policies(core, group.name, roles)
    rng = np.random.default_rng(13)
    observation, _ = env.reset(seed=5)
    twin.reset(seed=5)
    core_observations = core.reset(seed=5)
    assert same(observation, core_observations[group.name][focal])
    ends = EpisodeEnds()
    for _ in range(FACE_STEPS):
        if core.needs_reset:
            observation, _ = env.reset()
            twin.reset()
            core_observations = core.reset()
            assert same(observation, core_observations[group.name][focal])
        action = case.sample(group.action_space, rng)
        observation, reward, terminated, truncated, _ = env.step(action)
        assert same((observation, reward, terminated, truncated), twin.step(action)[:4])
        joint = np.asarray([action] * group.size)
        if group.size > 1:
            joint[:focal] = others(core_observations[group.name][:focal], core.np_random)
        joint = {group.name: joint, **play_fixed(core, fixed, core_observations)}
        result = core.step(joint)
        core_observations = result.observations
        assert same(observation, core_observations[group.name][focal])
        assert reward == result.rewards[group.name][focal]
        assert (terminated, truncated) == (result.terminated, result.truncated)
        ends.note(terminated, truncated)
    ends.check(case)


# ----------------------------------------------------------------------------- owned observations
def scribble(observations: Any) -> Any:
    """Return a copy of ``observations`` (a dict of arrays or an array), then overwrite them in
    place: they must be writable arrays (the caller's, not views of the game's state)."""
    if isinstance(observations, dict):
        return {key: scribble(value) for key, value in observations.items()}
    assert isinstance(observations, np.ndarray) and observations.flags.writeable
    kept = observations.copy()
    observations[...] = 0
    return kept


def twin_trajectories(run: Callable[[bool], list]) -> None:
    """A run whose observations are overwritten in place equals one that leaves them alone."""
    assert same(run(False), run(True)), "editing an observation changed the game"


def test_observations_belong_to_the_caller(game_case):
    """Every face hands out writable observation arrays that the caller owns: editing them in
    place raises nothing and changes nothing in the game (the cores may share read-only
    broadcast rows, as ``observe="population"`` does; the faces copy those)."""
    case = game_case

    def parallel_run(edit: bool) -> list:
        env = case.parallel(max_cycles=3)
        rng = np.random.default_rng(0)
        keep = scribble if edit else (lambda o: {k: np.array(v) for k, v in o.items()})
        trajectory = [keep(env.reset(seed=1)[0])]
        for _ in range(7):
            if not env.agents:
                trajectory.append(keep(env.reset()[0]))
            step = env.step({a: case.sample(env.action_space(a), rng) for a in env.agents})
            trajectory += [keep(step[0]), step[1]]
        return trajectory

    twin_trajectories(parallel_run)
    for group in [g.name for g in case.core().groups]:
        face = dataclasses.replace(case, group=group)

        def focal_run(edit: bool, face: Any = face) -> list:
            env = make_focal(face, max_cycles=3)
            rng = np.random.default_rng(0)
            keep = scribble if edit else np.array
            trajectory = [keep(env.reset(seed=1)[0])]
            for _ in range(7):
                observation, reward, terminated, truncated, _ = env.step(
                    face.sample(env.action_space, rng))
                trajectory += [keep(observation), reward]
                if terminated or truncated:
                    trajectory.append(keep(env.reset()[0]))
            return trajectory

        def vector_run(edit: bool, face: Any = face) -> list:
            vec = make_vector(face, max_cycles=3)
            rng = np.random.default_rng(0)
            keep = scribble if edit else np.array
            trajectory = [keep(vec.reset(seed=1)[0])]
            for _ in range(7):
                step = vec.step(face.sample(vec.single_action_space, rng, size=vec.num_envs))
                trajectory += [keep(step[0]), step[1]]
            return trajectory

        twin_trajectories(focal_run)
        twin_trajectories(vector_run)


# ----------------------------------------------------------------------------- refused steps
def bad_actions(space: spaces.Space) -> list[tuple[str, Any]]:
    """``(kind, action)``: one agent's bad actions in ``space``; kind "value" or "shape"."""
    if isinstance(space, spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n - 1)
        return [("value", high + 1), ("value", low - 1), ("value", low + 0.5),
                ("shape", [low, low])]
    if isinstance(space, spaces.Box):
        not_a_number = np.zeros(space.shape, space.dtype)
        not_a_number.flat[0] = np.nan
        outside = space.high + 1  # clipped, not refused, by a documented ClippedBox
        clipped = clips_actions(space)
        return [("value", not_a_number), *([] if clipped else [("value", outside)]),
                ("shape", np.zeros((*space.shape, 2), space.dtype))]
    raise NotImplementedError(f"no bad actions for {space}")


def refuse_all(step: Callable[[Any], Any], inputs: list[tuple[str, Any]], agent: str) -> None:
    """``step`` refuses each of the ``(kind, input)`` with a ValueError that names ``agent``
    (or, for a wrong shape, says so)."""
    for kind, bad in inputs:
        expected = r"shape" if kind == "shape" else rf"\b{agent}\b"
        with pytest.raises(ValueError, match=expected):
            step(bad)


def last_agent(case: Any) -> tuple[str, spaces.Space, int]:
    """The name, action space and size of ``case.group``; its last member sends bad actions."""
    group = case.core().group(case.group)
    return f"{group.name}_{group.size - 1}", group.action_space, group.size


def twin_runs(run: Callable[[bool], tuple[list, Any]]) -> None:
    """A run that is sent bad actions before every step equals one that never is, and leaves
    the core's generator in the same state."""
    clean, noisy = run(False), run(True)
    assert same(clean[0], noisy[0]), "a refused step changed the trajectory"
    assert clean[1] == noisy[1], "a refused step advanced the core's generator"


def test_refused_parallel_steps_change_nothing(face_case):
    case = face_case
    agent, space, _ = last_agent(case)

    def run(noisy: bool) -> tuple[list, Any]:
        env = case.parallel(max_cycles=MAX_CYCLES)
        trajectory = [env.reset(seed=21)[0]]
        rng = np.random.default_rng(3)
        for _ in range(REFUSAL_STEPS):
            if not env.agents:
                trajectory.append(env.reset()[0])
            actions = {a: case.sample(env.action_space(a), rng) for a in env.agents}
            if noisy:
                bad = [(kind, {**actions, agent: action}) for kind, action in bad_actions(space)]
                refuse_all(env.step, bad, agent)
            trajectory.append(env.step(actions)[:4])
        return trajectory, env.core.np_random.bit_generator.state

    twin_runs(run)


def test_refused_focal_steps_change_nothing(face_case):
    case = face_case
    agent, space, size = last_agent(case)

    def run(noisy: bool) -> tuple[list, Any]:
        env = make_focal(case, focal_index=size - 1, max_cycles=MAX_CYCLES)
        trajectory = [env.reset(seed=21)[0]]
        rng = np.random.default_rng(3)
        for _ in range(REFUSAL_STEPS):
            action = case.sample(space, rng)
            if noisy:
                refuse_all(env.step, bad_actions(space), agent)
            step = env.step(action)
            trajectory.append(step[:4])
            if step[2] or step[3]:
                trajectory.append(env.reset()[0])
        return trajectory, env.unwrapped.core.np_random.bit_generator.state

    twin_runs(run)


def test_refused_vector_steps_change_nothing(face_case):
    case = face_case
    agent, space, size = last_agent(case)

    def bad_batches(actions: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """The last slot's bad actions among good ones; wrong shapes for every slot."""
        return [
            (kind, np.stack([np.asarray(bad)] * size) if kind == "shape"
             else np.concatenate([actions[:-1], np.asarray(bad)[None]]))
            for kind, bad in bad_actions(space)
        ]

    def run(noisy: bool) -> tuple[list, Any]:
        vec = make_vector(case, max_cycles=MAX_CYCLES)
        trajectory = [vec.reset(seed=21)[0]]
        rng = np.random.default_rng(3)
        resets_now = False  # the step after an episode's end only resets, ignoring actions
        for _ in range(REFUSAL_STEPS):
            actions = case.sample(space, rng, size=size)
            if noisy and not resets_now:
                refuse_all(vec.step, bad_batches(actions), agent)
            step = vec.step(actions)
            trajectory.append(step[:4])
            resets_now = bool(step[2].any() or step[3].any())
        return trajectory, vec.core.np_random.bit_generator.state

    twin_runs(run)


# ----------------------------------------------------------------------------- render
def check_picture(mode: str, picture: Any, printed: str = "") -> None:
    if mode == "human":  # printed as text, nothing returned
        assert picture is None and printed.strip()
    elif mode == "ansi":
        assert isinstance(picture, str) and picture
    else:
        assert isinstance(picture, np.ndarray) and picture.dtype == np.uint8
        assert picture.ndim == 3 and picture.shape[2] == 3 and min(picture.shape[:2]) > 0


@pytest.mark.parametrize("mode", ["ansi", "rgb_array", "human"])
def test_render(game_case, mode, capsys):
    case = game_case
    env = case.parallel(render_mode=mode)
    env.reset(seed=0)
    check_picture(mode, env.render(), capsys.readouterr().out)
    rng = np.random.default_rng(0)
    env.step({a: case.sample(env.action_space(a), rng) for a in env.agents})
    if mode == "human":  # human mode draws on every reset and step by itself
        assert capsys.readouterr().out.strip()
    check_picture(mode, env.render(), capsys.readouterr().out)
    assert case.parallel().render() is None  # render_mode=None draws nothing
    assert not capsys.readouterr().out


@pytest.mark.parametrize("mode", ["ansi", "rgb_array", "human"])
def test_face_render(face_case, mode, capsys):
    focal = make_focal(face_case, render_mode=mode)
    focal.reset(seed=0)
    focal.step(focal.action_space.sample())
    capsys.readouterr()
    check_picture(mode, focal.render(), capsys.readouterr().out)
    vec = make_vector(face_case, render_mode=mode)
    vec.reset(seed=0)
    capsys.readouterr()
    check_picture(mode, vec.render(), capsys.readouterr().out)


def test_pettingzoo_render_test(game_case, capsys):
    """PettingZoo's own render test, in every mode the game declares (human included)."""
    render_test(partial(game_case.module.env, **game_case.kwargs))
    assert capsys.readouterr().out  # human mode printed


# ----------------------------------------------------------------------------- coverage
GAME_TESTS = (
    test_the_population_group_is_the_faces_default, test_parallel_api, test_aec_api,
    test_max_cycles_and_state, test_pettingzoo_seed_tests, test_pettingzoo_make,
    test_spaces_are_cached_and_metadata_names_the_game, test_multi_step_determinism,
    test_parallel_face_equals_core, test_render, test_pettingzoo_render_test,
    test_observations_belong_to_the_caller,
)
FACE_TESTS = (
    test_gymnasium_check_env, test_make_vec_and_autoreset, test_vector_face_equals_core,
    test_focal_face_equals_core, test_refused_parallel_steps_change_nothing,
    test_refused_focal_steps_change_nothing, test_refused_vector_steps_change_nothing,
    test_face_render,
)


def test_every_game_and_group_meets_every_face(conformance_table):
    """Every game (registered and test-only) has rows, every group of every row gets the face
    tests, no conformance test is marked to skip, and the test-only games bring what the
    registered ones lack: two groups, Box actions, terminations."""
    table = conformance_table
    games = {case.module_name for case in table.game_cases}
    assert games >= set(GAMES) | set(table.test_games)
    for case in table.game_cases:
        groups = [c.group for c in table.face_cases if (c.module_name, c.index) == (
            case.module_name, case.index)]
        assert groups == [g.name for g in case.core().groups], case.id
    for tests, fixture in ((GAME_TESTS, "game_case"), (FACE_TESTS, "face_case")):
        for test in tests:
            assert fixture in inspect.signature(test).parameters, test.__name__
            marks = {mark.name for mark in getattr(test, "pytestmark", [])}
            assert not marks & SKIP_MARKS, f"{test.__name__} is marked {marks & SKIP_MARKS}"
    listed = {test.__name__ for test in GAME_TESTS + FACE_TESTS}
    for name, test in globals().items():
        if name.startswith("test_") and name not in listed:
            takes = set(inspect.signature(test).parameters) & {"case", "game_case", "face_case"}
            assert not takes, f"list {name} in GAME_TESTS or FACE_TESTS"
    test_cores = [c.core() for c in table.game_cases if c.module_name in table.test_games]
    assert any(len(core.groups) >= 2 for core in test_cores)
    assert any(isinstance(g.action_space, spaces.Box) for core in test_cores for g in core.groups)
    assert any(c.can_terminate for c in table.game_cases)


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
