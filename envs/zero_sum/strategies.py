"""Mixed strategies as actions: the simplex action spaces of expected feedback (single and
batched, so that a vector env's samples are valid) and the checks and normalization of rows
sent to them."""

from __future__ import annotations

import copy

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

SIMPLEX_ATOL = 1e-6


class Simplex(spaces.Box):
    """``Box(0, 1, (m,))`` whose points are mixed strategies: ``sample`` draws uniformly from
    the simplex (a flat Dirichlet) and ``contains`` also asks that the entries sum to 1
    within 1e-6."""

    def __init__(self, n: int, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(0.0, 1.0, shape=(n,), dtype=np.float64, seed=seed)

    def sample(self, mask: None = None, probability: None = None) -> NDArray[np.float64]:
        return self.np_random.dirichlet(np.ones(self.shape[0]))

    def contains(self, x: object) -> bool:
        return bool(super().contains(x)) and abs(float(np.sum(np.asarray(x))) - 1.0) <= SIMPLEX_ATOL

    def __repr__(self) -> str:
        return f"Simplex({self.shape[0]})"


class Simplices(spaces.Box):
    """``Box(0, 1, (n, m))`` whose rows are mixed strategies: what ``batch_space`` makes of a
    :class:`Simplex` (so that a vector env's ``action_space.sample()`` is a valid action)."""

    def __init__(self, n: int, m: int, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(0.0, 1.0, shape=(n, m), dtype=np.float64, seed=seed)

    def sample(self, mask: None = None, probability: None = None) -> NDArray[np.float64]:
        return self.np_random.dirichlet(np.ones(self.shape[1]), size=self.shape[0])

    def contains(self, x: object) -> bool:
        return bool(super().contains(x)) and bool(
            np.all(np.abs(np.sum(np.asarray(x), axis=1) - 1.0) <= SIMPLEX_ATOL))

    def __repr__(self) -> str:
        return f"Simplices({self.shape[0]}, {self.shape[1]})"


@batch_space.register(Simplex)
def _batch_simplex(space: Simplex, n: int = 1) -> Simplices:
    return Simplices(n, space.shape[0], seed=copy.deepcopy(space.np_random))


def normalized_strategies(points: np.ndarray) -> np.ndarray:
    """Rows of the box [0, 1]^m as mixed strategies: a row summing to 1 within 1e-6 is kept as
    it is (bit for bit), any other is divided by its sum, and a row of zeros is uniform.

    >>> normalized_strategies(np.array([[0.5, 0.5], [1.0, 1.0], [0.0, 0.0]])).tolist()
    [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    """
    sums = points.sum(axis=1)
    off = np.abs(sums - 1.0) > SIMPLEX_ATOL
    if not off.any():
        return points
    fixed = points.astype(np.float64, copy=True)
    scaled = off & (sums > 0)
    fixed[scaled] /= sums[scaled, None]
    fixed[off & (sums <= 0)] = 1.0 / points.shape[1]
    return fixed


def check_simplex(group: str, strategies: np.ndarray) -> None:
    """Raise a ValueError naming the first agent whose row does not sum to 1 within 1e-6
    (entries are already checked finite and inside [0, 1])."""
    off = np.abs(strategies @ np.ones(strategies.shape[1]) - 1.0) > SIMPLEX_ATOL
    if off.any():
        bad = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"{group}_{bad} sent {strategies[bad].tolist()}, which sums to "
            f"{float(strategies[bad].sum()):.9g}; a mixed strategy must sum to 1 within "
            f"{SIMPLEX_ATOL:g}"
        )
