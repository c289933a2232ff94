"""The count vectors of k agents over a few states, enumerated once and ranked by formula.

A count vector c = (c_0, …, c_{Z−1}) with Σ c = k is a stars-and-bars word: k stars and Z − 1
bars, the j-th bar at position b_j = c_0 + … + c_j + j. Ranking the set of bar positions in
the combinatorial number system, rank(c) = Σ_j C(b_j, j + 1), numbers the C(k + Z − 1, Z − 1)
vectors 0, 1, … without gaps, so a planner indexes its tables by that rank: no dictionary, no
search, and no dense (k + 1)^Z table (the ALT authors' code keeps one: 1.4 GB at k = 50, where
there are only 316,251 vectors).

>>> space = CountVectors(k=2, states=3)
>>> space.size, space.vectors.tolist()
(6, [[0, 0, 2], [0, 1, 1], [1, 0, 1], [0, 2, 0], [1, 1, 0], [2, 0, 0]])
>>> space.rank(np.array([[0, 1, 1], [2, 0, 0]])).tolist()
[1, 5]
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import cast

import numpy as np


class CountVectors:
    """All vectors of ``states`` non-negative integers summing to ``k``, by rank.

    Attributes:
        k, states: the total and the number of states.
        size: C(k + states − 1, states − 1).
        vectors: ``(size, states)`` int64, row ``r`` the vector of rank ``r``.
    """

    def __init__(self, k: int, states: int = 5) -> None:
        if k < 0 or states < 1:
            raise ValueError(f"need k >= 0 and states >= 1, got k={k}, states={states}")
        self.k, self.states = int(k), int(states)
        self.size = comb(self.k + self.states - 1, self.states - 1)
        positions = self.k + self.states - 1
        # binomial[b, j] = C(b, j) for the ranks; exact in int64 for every size we can enumerate
        self._binomial = np.array(
            [[comb(b, j) for j in range(self.states)] for b in range(positions + 1)], np.int64
        )
        self.vectors = self._enumerate()

    def _enumerate(self) -> np.ndarray:
        bars = np.array(list(combinations(range(self.k + self.states - 1), self.states - 1)),
                        dtype=np.int64).reshape(-1, self.states - 1)
        edges = np.concatenate([np.full((len(bars), 1), -1), bars,
                                np.full((len(bars), 1), self.k + self.states - 1)], axis=1)
        counts = np.diff(edges, axis=1) - 1
        out = np.empty_like(counts)
        out[self.rank(counts)] = counts
        return out

    def rank(self, counts: np.ndarray) -> np.ndarray:
        """The rank of each count vector along the last axis (shape ``counts.shape[:-1]``)."""
        counts = np.asarray(counts, dtype=np.int64)
        bars = np.cumsum(counts[..., :-1], axis=-1) + np.arange(self.states - 1)
        rank = np.zeros(counts.shape[:-1], dtype=np.int64)
        for j in range(self.states - 1):
            rank += self._binomial[bars[..., j], j + 1]
        return rank

    def binomial(self, b: np.ndarray, j: int) -> np.ndarray:
        """C(b, j) for an array of ``b`` (at most k + states − 1) and ``j < states``."""
        return cast(np.ndarray, self._binomial[b, j])

    def agents(self) -> np.ndarray:
        """``(size, k)``: each vector written out as the sorted states of its k agents."""
        return np.stack([np.repeat(np.arange(self.states), row) for row in self.vectors]
                        ) if self.k else np.zeros((self.size, 0), dtype=np.int64)
