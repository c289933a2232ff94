"""The dict face's fast route for ``Box`` actions sent as per-agent arrays.

When every agent's action is a contiguous one-dimensional array of the space's length and one
numeric dtype, the face joins the rows' bytes instead of calling ``np.array``. These tests pin
that the route gives what ``np.array`` gives (values, dtype, a writable array), the same step
as the core, and that any other input still reaches the checks that name the agent at fault.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from populace.envs import spatial_congestion_v0, supply_demand_v0
from populace.envs.parallel import _stacked

N = 5


def started(module=supply_demand_v0, n: int = N):
    env = module.parallel_env(n_agents=n)
    env.reset(seed=3)
    return env


def rows(values: np.ndarray) -> dict[str, np.ndarray]:
    return {f"agent_{i}": row for i, row in enumerate(values)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int16])
def test_joined_rows_equal_np_array(dtype):
    group = started().core.groups[0]
    values = tuple(np.arange(2 * N).reshape(N, 2).astype(dtype) - 3)
    joined = _stacked(group, values, 2)
    expected = np.array(values)
    assert joined.dtype == expected.dtype
    np.testing.assert_array_equal(joined, expected)
    assert joined.flags.writeable and joined.shape == (N, 2)


@pytest.mark.parametrize("make_rows", [
    lambda a: [a[i] for i in range(N)],                       # views of one array
    lambda a: [a[i].copy() for i in range(N)],                # arrays of their own
    lambda a: [np.asfortranarray(np.stack([a, a], 1))[i, 0] for i in range(N)],  # strided
    lambda a: [a[i].astype(np.float32 if i % 2 else np.float64) for i in range(N)],  # mixed
    lambda a: [a[i].tolist() for i in range(N)],              # lists
])
@pytest.mark.parametrize("module", [spatial_congestion_v0, supply_demand_v0])
def test_every_kind_of_rows_steps_like_the_core(module, make_rows):
    face, core_env = started(module), started(module)
    actions = np.random.default_rng(1).uniform(-0.4, 0.4, size=(N, 2))
    sent = make_rows(actions)
    observations, rewards, *_ = face.step({f"agent_{i}": a for i, a in enumerate(sent)})
    step = core_env.core.step({"agent": np.array(sent)})
    assert list(rewards.values()) == step.rewards["agent"].tolist()
    np.testing.assert_array_equal(np.stack(list(observations.values())),
                                  step.observations["agent"])


@pytest.mark.parametrize("position", range(N))
@pytest.mark.parametrize("bad, said", [
    (np.zeros((2, 1)), "shape"),
    (np.zeros(3), "shape"),
    (np.zeros(2, dtype=bool), "bool"),
    (np.array(["a", "b"]), "<U1"),
])
def test_a_bad_row_is_named(position, bad, said):
    env = started()
    actions = rows(np.zeros((N, 2)))
    actions[f"agent_{position}"] = bad
    with pytest.raises(ValueError, match=re.escape(f"agent_{position}")) as caught:
        env.step(actions)
    assert said in str(caught.value)
    assert env.core.cycle == 0


def test_joined_actions_are_not_the_callers_memory():
    env = started()
    actions = np.full((N, 2), 0.1)
    env.step(rows(actions))
    assert np.all(actions == 0.1)
    stacked = env._to_arrays(rows(actions))["agent"]
    assert not np.shares_memory(stacked, actions)
