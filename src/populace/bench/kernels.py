"""Bare numpy kernels: the rewards of ``contribution_v0`` with no validation and no Step.

They are the baseline :func:`populace.bench.measure.measure_core` holds ``core.step`` to; the
fastest kernel of a payoff mode is the one reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np

from populace.envs import contribution_v0
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.core import AnonymousGameCore

Kernel = Callable[[], np.ndarray]


def average_kernels(core: ContributionCore, actions: np.ndarray) -> dict[str, Kernel]:
    """Bare numpy versions of the ``"average"`` rewards (no validation, no Step)."""
    n, m = core.n_agents, core.n_actions
    matrix = core.payoff_matrix
    diagonal = np.diag(matrix).copy()
    cost = contribution_v0.contribution_cost(m, core.cost_offset)

    def histogram_table_gather() -> np.ndarray:
        counts = np.bincount(actions, minlength=m)
        return cast(np.ndarray, ((matrix @ counts - diagonal) / (n - 1)).take(actions))

    def direct_formula() -> np.ndarray:  # u = 2·x·(S − x)/(N − 1) − c[x]
        others = actions.sum() - actions
        return cast(np.ndarray, actions * (others * (2.0 / (n - 1))) - cost.take(actions))

    return {"bincount+table+gather": histogram_table_gather, "formula": direct_formula}


def matching_kernels(core: AnonymousGameCore, actions: np.ndarray, seed: int) -> dict[str, Kernel]:
    """Bare numpy versions of the ``"matching"`` rewards: permutation pairing + gather.

    Each kernel has its own generator and draws exactly what the core draws
    (``permutation(N)``, then ``integers(N - 1)`` for odd N), so with the same seed it pairs
    the same agents; the measurement checks that the rewards are identical.
    """
    n, m = core.n_agents, core.n_actions
    flat = core.payoff_matrix.ravel()
    half = n // 2
    rngs = {name: np.random.default_rng(seed) for name in ("partner", "sort", "buffers")}

    def leftover(rng: np.random.Generator, order: np.ndarray) -> tuple[int, int]:
        last = int(order[-1])
        other = int(rng.integers(n - 1))
        return last, other + (other >= last)

    def partner_index() -> np.ndarray:
        rng = rngs["partner"]
        order = rng.permutation(n)
        partner = np.empty(n, dtype=np.int64)
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            last, other = leftover(rng, order)
            partner[last] = other
        return cast(np.ndarray, flat.take(actions * m + actions.take(partner)))

    def sort_by_pair() -> np.ndarray:
        rng = rngs["sort"]
        order = rng.permutation(n)
        ordered = actions.take(order)
        first, second = ordered[:half], ordered[half : 2 * half]
        rewards = np.empty(n)
        rewards[order[:half]] = flat.take(first * m + second)
        rewards[order[half : 2 * half]] = flat.take(second * m + first)
        if n % 2:
            last, other = leftover(rng, order)
            rewards[last] = flat[actions[last] * m + actions[other]]
        return rewards

    identity = np.arange(n)
    order, partner, cells = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    compact = np.empty(n, np.uint8)

    def reused_buffers() -> np.ndarray:  # partner index with no per-call allocation but the output
        rng = rngs["buffers"]
        np.copyto(order, identity)
        rng.shuffle(order)  # = rng.permutation(n)
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            last, other = leftover(rng, order)
            partner[last] = other
        compact[...] = actions
        np.multiply(actions, m, out=cells)
        np.add(cells, compact.take(partner), out=cells)
        return cast(np.ndarray, flat.take(cells))

    return {"partner index": partner_index, "sort by pair": sort_by_pair,
            "partner index, reused buffers": reused_buffers}
