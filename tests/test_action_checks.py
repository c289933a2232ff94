"""The agent that sent a bad action is the one named, whatever the other agents sent.

numpy converts a mixed list by its most general member (``[5, "3", 1]`` becomes strings,
``[5, True, 1]`` integers), so a check on the converted array alone blames the wrong agent or
lets ``True`` through as 1. These tests put every kind of bad value at every position, on
every face, and refuse bools (Python and numpy) everywhere.
"""

from __future__ import annotations

import re

import gymnasium
import numpy as np
import pytest

from populace.envs import contribution_v0
from populace.envs.validation import actions_from_sequence, check_actions

N = 4
BAD_VALUES = {  # value -> what the error says it was
    "str": ("3", "'3' (<U1)"),
    "word": ("x", "'x' (<U1)"),
    "None": (None, "None (object)"),
    "float": (2.5, "2.5 (float64)"),
    "whole float": (3.0, "3.0 (float64)"),
    "bool": (True, "True (bool)"),
    "False": (False, "False (bool)"),
    "numpy bool": (np.True_, "True (bool)"),
    "numpy float": (np.float32(1.0), "1.0 (float32)"),
}
POSITIONS = range(N)


def good_actions(n: int = N) -> dict[str, int]:
    return {f"agent_{i}": 5 + i for i in range(n)}


def started_parallel(n: int = N):
    env = contribution_v0.parallel_env(n_agents=n)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_parallel_face_names_the_agent_that_sent_it(kind, position):
    value, shown = BAD_VALUES[kind]
    env = started_parallel()
    actions = {**good_actions(), f"agent_{position}": value}
    expected = f"agent_{position} played {shown}; expected an integer action in [0, 19]"
    with pytest.raises(ValueError, match=re.escape(expected)):
        env.step(actions)
    assert env.core.cycle == 0  # refused: nothing happened


@pytest.mark.parametrize("position", POSITIONS)
def test_a_list_is_named_by_its_shape(position):
    env = started_parallel()
    with pytest.raises(ValueError, match=re.escape(
            f"agent_{position} sent an action of shape (1,) ([2]); expected shape ()")):
        env.step({**good_actions(), f"agent_{position}": [2]})


def test_the_issue_example_blames_agent_1():
    env = started_parallel(3)
    with pytest.raises(ValueError, match=r"^agent_1 played '3' \(<U1\)"):
        env.step({"agent_0": 5, "agent_1": "3", "agent_2": 1})


def test_the_first_bad_agent_is_named_when_several_are_bad():
    env = started_parallel()
    with pytest.raises(ValueError, match=r"^agent_1 played True"):
        env.step({**good_actions(), "agent_1": True, "agent_3": "x"})


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("value", [True, np.False_])
def test_aec_face_refuses_bools(position, value):
    aec = contribution_v0.env(n_agents=N)
    aec.reset(seed=0)
    for _ in range(position):
        aec.step(1)
    with pytest.raises(ValueError, match=rf"^agent_{position} played {bool(value)} \(bool\)"):
        aec.step(value)  # refused at the agent's own turn


@pytest.mark.parametrize("value", [True, np.True_, np.array(True)])
def test_focal_face_refuses_bools(value):
    env = gymnasium.make("populace/Contribution-v0", n_agents=3, focal_index=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("agent_2 played True (bool)")):
        env.step(value)


@pytest.mark.parametrize("position", range(3))
@pytest.mark.parametrize("as_list", [False, True])
def test_vector_faces_refuse_bools(position, as_list):
    actions: list = [4, 5, 6]
    actions[position] = np.True_ if as_list else True
    batch = actions if as_list else np.array(actions, dtype=object)
    vec = gymnasium.make_vec("populace/Contribution-v0", num_envs=3,
                             vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    expected = re.escape(f"agent_{position} played True (bool)")
    with pytest.raises(ValueError, match=expected):
        vec.step(batch)
    with pytest.raises(ValueError, match=re.escape("agent_0 played True (bool)")):
        vec.step(np.array([True, False, True]))


@pytest.mark.parametrize("position", range(3))
def test_sb3_vec_env_refuses_bools(position):
    pytest.importorskip("stable_baselines3")
    from populace.agents.sb3.vec_env import PopulationVecEnv

    actions: list = [4, 5, 6]
    actions[position] = True
    sb3 = PopulationVecEnv(contribution_v0.ContributionCore(n_agents=3))
    sb3.reset()
    for batch in (actions, np.array(actions, dtype=object)):
        with pytest.raises(ValueError, match=re.escape(f"agent_{position} played True (bool)")):
            sb3.step(batch)


def test_box_actions_refuse_bools_and_name_the_agent():
    import toy_v0  # tests/ is on sys.path (conftest.py)

    env = toy_v0.parallel_env(n_agents=3)
    env.reset(seed=0)
    moves = {f"follower_{i}": np.zeros(2, np.float32) for i in range(3)}
    for bad in (np.array([True, False]), [True, 0.5], [np.False_, 0.0]):
        with pytest.raises(ValueError, match=r"^follower_1 sent .* \(bool\); expected numbers"):
            env.step({**moves, "follower_1": bad, "leader_0": 1})
    with pytest.raises(ValueError, match=r"^leader_0 played True \(bool\)"):
        env.step({**moves, "leader_0": True})
    with pytest.raises(ValueError, match=r"^follower_0 sent \[False, False\] \(bool\)"):
        env.core.step({"follower": np.zeros((3, 2), bool), "leader": np.array([1])})
    lists = {f"follower_{i}": [0.25, -0.5] for i in range(3)}  # plain lists are fine
    env.step({**lists, "leader_0": np.int64(1)})


def test_plain_integer_actions_take_the_fast_path():
    """Integers of any width convert in one ``np.array`` call, keeping their dtype; the slow
    path (one check per agent) is only taken for input that needs it."""
    group = contribution_v0.ContributionCore(n_agents=3).group("agent")
    for values in ([1, 2, 3], (np.int64(1), np.int8(2), 3), [np.uint16(4)] * 3):
        arr = actions_from_sequence(group, values)
        assert arr.tolist() == [int(v) for v in values] and arr.dtype.kind in "iu"
    arr = actions_from_sequence(group, [np.array(1), 2, 3])  # 0-d arrays: slow path, accepted
    assert arr.tolist() == [1, 2, 3]
    assert check_actions(group, (1, 2, 3)).tolist() == [1, 2, 3]
