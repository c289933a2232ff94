"""A network zero-sum polymatrix step against bare numpy kernels (SPEC §6: a 10⁵-agent ZSPG
network steps within 3× of a bare kernel).

:func:`measure_zspg` times, interleaved in one run on the ``zspg_network_v0`` chain,

* ``ZSPGNetworkCore.step`` (validation included) in each feedback mode,
* the *edge kernel*: the same arithmetic on the same edge arrays without the core — gather
  the partners' actions (or strategies) per edge, sum the edges into their agents with one
  ``bincount`` per action, read off (or average) the rewards — the yardstick of the target,
* the *chain kernel*: what a hand-written chain needs (two shifted comparisons), shown
  beside it to say what the generality of edge arrays costs,

after checking that the core's payoff vectors and rewards equal both kernels'.
"""

from __future__ import annotations

import numpy as np

from populace.bench.measure import FOREVER, stepper
from populace.bench.rows import ZSPGRow
from populace.bench.timing import Timing, time_interleaved
from populace.envs.zero_sum.polymatrix import PolymatrixGame
from populace.envs.zero_sum.zspg_network import FEEDBACK_MODES, ZSPGNetworkCore


def edge_kernel(game: PolymatrixGame, played: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Payoff vectors and rewards from the edge arrays, written out once without the core."""
    n, src = game.n_agents, game.src
    vectors = np.empty((n, 2))
    if played.ndim == 1:
        cells = played.take(game.dst) + game.edge_rows
        for i in range(2):
            vectors[:, i] = np.bincount(src, weights=game.columns[i].take(cells), minlength=n)
        vectors += game.bias
        return vectors, vectors.ravel().take(played + 2 * np.arange(n))
    partner = [played[:, j].take(game.dst) for j in range(2)]
    for i in range(2):
        per_edge = game.entries[i, 0] * partner[0] + game.entries[i, 1] * partner[1]
        vectors[:, i] = np.bincount(src, weights=per_edge, minlength=n)
    vectors += game.bias
    return vectors, played[:, 0] * vectors[:, 0] + played[:, 1] * vectors[:, 1]


def chain_kernel(played: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chain by hand: P(H) of both neighbours (dummies 0 = T, n+1 = H), payoff of H."""
    heads = (played == 0).astype(np.float64) if played.ndim == 1 else played[:, 0]
    padded = np.concatenate([[0.0], heads, [1.0]])
    h = (2.0 * padded[2:] - 1.0) + (1.0 - 2.0 * padded[:-2])  # match right, mismatch left
    vectors = np.stack([h, -h], axis=1)
    return vectors, (2.0 * heads - 1.0) * h


def measure_zspg(n_agents: int, timing: Timing, *, seed: int = 0) -> list[ZSPGRow]:
    """One row per feedback mode: the chain's core step against the two kernels."""
    rng = np.random.default_rng(seed)
    inputs = {"sampled": rng.integers(2, size=n_agents),
              "expected": rng.dirichlet(np.ones(2), size=n_agents)}
    rows = []
    for feedback in FEEDBACK_MODES:
        core = ZSPGNetworkCore(n_agents=n_agents, feedback=feedback, max_cycles=FOREVER)
        core.reset(seed=seed)
        played = inputs[feedback]
        step = core.step({"agent": played})
        for name, (vectors, rewards) in (("edge", edge_kernel(core.game, played)),
                                         ("chain", chain_kernel(played))):
            if not (np.allclose(step.observations["agent"], vectors)
                    and np.allclose(step.rewards["agent"], rewards)):
                raise AssertionError(f"zspg {feedback} step disagrees with the {name} kernel")

        def edge(game: PolymatrixGame = core.game, played: np.ndarray = played) -> object:
            return edge_kernel(game, played)

        def chain(played: np.ndarray = played) -> object:
            return chain_kernel(played)

        times = time_interleaved({
            "step": stepper(core, {"agent": played}), "edge": edge, "chain": chain,
        }, timing)
        rows.append(ZSPGRow(feedback, n_agents, times["step"].median, times["edge"].median,
                            times["chain"].median, times["step"].best, times["edge"].best))
    return rows
