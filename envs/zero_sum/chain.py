"""LPS's chain stepped without its edge arrays: the payoff vectors from the neighbours' signs."""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.lib.stride_tricks import as_strided


class ChainPayoffs:
    """Payoff vectors of LPS's chain against pure actions, ``(n, 2)``, from the neighbours'
    signs: H pays +1 per neighbour it matches on the right (the successor's sign) and per
    mismatch on the left, T the negative. The same numbers, bit for bit, as the edge arrays of
    :func:`~populace.envs.zero_sum.polymatrix.chain_game` (sums of ±1, zeros positive as the
    edge sums give them).

    The signs (+1 for H, −1 for T) live in a buffer padded with the chain's dummies (0 plays T,
    n + 1 plays H). Up to :attr:`SMALL` agents, two fixed strided views of it pair each agent's
    neighbours as (right, left) and (left, right), so one subtraction gives both columns (right
    − left for H, left − right for T); above it, where a two-wide inner loop is slower than
    two contiguous ones, the columns are computed one at a time (T's as ``0 − H``). The views
    alias the buffer, so a copy or pickle rebuilds them from ``n_agents``.
    """

    SMALL = 256  # measured: the strided pair wins below ~300 agents, the columns above

    def __init__(self, n_agents: int) -> None:
        self.n_agents = n_agents
        padded = np.empty(n_agents + 2)
        padded[0], padded[-1] = -1.0, 1.0
        self._signs = padded[1:-1]
        self._right, self._left = padded[2:], padded[:-2]
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None
        if n_agents <= self.SMALL:
            step = padded.strides[0]
            right_left = as_strided(padded[2:], shape=(n_agents, 2), strides=(step, -2 * step),
                                    writeable=False)
            left_right = as_strided(padded, shape=(n_agents, 2), strides=(step, 2 * step),
                                    writeable=False)
            self._pairs = (right_left, left_right)

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return ChainPayoffs, (self.n_agents,)

    def __call__(self, played: np.ndarray) -> np.ndarray:
        np.subtract(1.0, 2.0 * played, out=self._signs)  # H = 0 → +1, T = 1 → −1
        if self._pairs is not None:
            return cast(np.ndarray, np.subtract(*self._pairs, order="C"))
        vectors = np.empty((self.n_agents, 2))
        np.subtract(self._right, self._left, out=vectors[:, 0])
        np.subtract(0.0, vectors[:, 0], out=vectors[:, 1])
        return vectors
