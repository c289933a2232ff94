"""The chain's payoff kernel (:class:`ChainPayoffs`) against the general edge arrays.

Both of its routes (the strided pair up to ``SMALL`` agents, the two columns above) must give
the edge sums' numbers bit for bit (zeros positive included), in C order, and a copied or
pickled core must rebuild the kernel's views rather than carry stale copies of them.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from populace.envs import zspg_network_v0
from populace.envs.zero_sum.chain import ChainPayoffs
from populace.envs.zero_sum.polymatrix import chain_game

SIZES = [1, 2, 7, ChainPayoffs.SMALL, ChainPayoffs.SMALL + 1, 1000]


@pytest.mark.parametrize("n", SIZES)
def test_both_routes_give_the_edge_sums_bit_for_bit(n):
    kernel, game = ChainPayoffs(n), chain_game(n)
    rng = np.random.default_rng(n)
    for played in (rng.integers(0, 2, n), np.zeros(n, np.int64), np.ones(n, np.int64)):
        vectors = kernel(played)
        expected = game.payoff_vectors_pure(played)
        assert vectors.flags.c_contiguous and vectors.shape == (n, 2)
        assert vectors.tobytes() == np.ascontiguousarray(expected, np.float64).tobytes()


@pytest.mark.parametrize("n", [5, ChainPayoffs.SMALL + 3])
@pytest.mark.parametrize("clone", [copy.deepcopy, lambda core: pickle.loads(pickle.dumps(core))])
def test_a_copied_core_steps_like_the_original(n, clone):
    core = zspg_network_v0.parallel_env(n_agents=n).core
    core.reset(seed=1)
    played = np.random.default_rng(2).integers(0, 2, (4, n))
    core.step({"agent": played[0]})  # the kernel exists before the copy
    twin = clone(core)
    for row in played[1:]:
        mine, theirs = core.step({"agent": row}), twin.step({"agent": row})
        np.testing.assert_array_equal(mine.rewards["agent"], theirs.rewards["agent"])
        np.testing.assert_array_equal(mine.observations["agent"],
                                      theirs.observations["agent"])
        np.testing.assert_array_equal(mine.observations["agent"],
                                      chain_game(n).payoff_vectors_pure(row))
