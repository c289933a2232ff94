"""A congestion core's share row keeps views of its own buffers: a copied or pickled core must
rebuild them (a stale copy of a view would freeze the shares)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from populace.envs import congestion_v0
from populace.envs.anonymous.congestion import share_table


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda core: pickle.loads(pickle.dumps(core))])
def test_a_copied_core_shares_like_share_table(clone):
    core = congestion_v0.parallel_env(n_agents=10, mechanism="serial").core
    core.reset(seed=0)
    played = np.random.default_rng(1).integers(0, core.n_actions, (5, 10))
    core.step({"agent": played[0]})  # the share row exists before the copy
    twin = clone(core)
    for row in played[1:]:
        counts = np.bincount(row, minlength=core.n_actions)
        expected = (core.values - share_table(counts, "serial")).take(row)
        for c in (core, twin):
            assert c.step({"agent": row}).rewards["agent"].tobytes() == expected.tobytes()
