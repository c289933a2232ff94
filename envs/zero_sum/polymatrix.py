"""Weighted zero-sum polymatrix games as edge arrays (the structure behind ``zspg_network_v0``).

n agents with m actions each sit on the nodes of a graph. Every undirected edge {k, l} is stored
twice, once per direction: ``src[e] = k``, ``dst[e] = l`` and ``matrices[e] = A^{kl}``, whose
entry ``[i, j]`` is what k earns on that edge playing i against l playing j. Fixed players (the
chain's two dummies) are folded into ``bias``: ``bias[k, i]`` is what agent k earns from its
fixed neighbours when it plays i. So the payoff vector of agent k against mixed strategies x is

    r_k(x_−k) = Σ_{e: src[e]=k} A^{e} x_{dst[e]} + bias_k,

computed for every agent at once with one gather over the edges and one ``bincount`` per action
(no loop over agents or edges).

The game is *weighted zero-sum* (pairwise, as Leonardos, Piliouras & Spendlove assume) when
there are positive weights w with w_k·A^{kl} + w_l·(A^{lk})ᵀ = 0 on every edge; then
Σ_k w_k·u_k = 0 for every joint action, counting each dummy as a player of weight 1 that gets
the negative of what its edge pays the agent (:func:`check_weighted_zero_sum`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

ZERO_SUM_ATOL = 1e-9

# The two-agent presets (agent 0 is LPS's x, agent 1 their y).
AMPS = np.array([[3.0, -1.0], [-1.0, 1.0]])  # asymmetric matching pennies, ours
RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
MATCH = np.array([[1.0, -1.0], [-1.0, 1.0]])  # the chain's edge matrix for the predecessor
H, T = 0, 1  # the chain's actions


@dataclass(frozen=True, eq=False)
class PolymatrixGame:
    """A polymatrix game on edge arrays (see the module docstring for the layout)."""

    n_agents: int
    n_actions: int
    src: np.ndarray  # (E,) int64
    dst: np.ndarray  # (E,) int64
    matrices: np.ndarray  # (E, m, m) float64: matrices[e][i, j] pays src[e]
    weights: np.ndarray  # (n,) positive
    bias: np.ndarray  # (n, m): payoff from fixed neighbours (dummies)
    # derived, for 1-D gathers: entries[i, j] = matrices[:, i, j]; columns[i] = matrices[:, i, :]
    entries: np.ndarray = field(init=False, repr=False)
    columns: np.ndarray = field(init=False, repr=False)
    edge_rows: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        mats = np.asarray(self.matrices, dtype=np.float64)
        object.__setattr__(self, "entries", np.ascontiguousarray(mats.transpose(1, 2, 0)))
        object.__setattr__(self, "columns",
                           np.ascontiguousarray(mats.transpose(1, 0, 2)).reshape(
                               self.n_actions, -1))
        object.__setattr__(self, "edge_rows",
                           np.arange(len(self.src), dtype=np.int64) * self.n_actions)

    def payoff_vectors(self, strategies: np.ndarray) -> np.ndarray:
        """r_k(x_−k) for every agent, ``(n, m)``, against mixed strategies ``(n, m)``."""
        x = np.asarray(strategies, dtype=np.float64)
        partner = [x[:, j].take(self.dst) for j in range(self.n_actions)]
        out = self.bias.copy()
        for i in range(self.n_actions):  # m is small; agents and edges stay vectorized
            per_edge = self.entries[i, 0] * partner[0]
            for j in range(1, self.n_actions):
                per_edge += self.entries[i, j] * partner[j]
            out[:, i] += self._by_agent(per_edge)
        return out

    def payoff_columns(self, columns: np.ndarray) -> np.ndarray:
        """:meth:`payoff_vectors` with both profiles transposed, ``(m, n)`` → ``(m, n)``: the
        layout the QRE solver iterates in (each action's column contiguous, so reductions
        over the m actions run across all agents at once)."""
        partner = [columns[j].take(self.dst) for j in range(self.n_actions)]
        out = self.bias.T.copy()
        for i in range(self.n_actions):
            per_edge = self.entries[i, 0] * partner[0]
            for j in range(1, self.n_actions):
                per_edge += self.entries[i, j] * partner[j]
            out[i] += self._by_agent(per_edge)
        return out

    def payoff_vectors_pure(self, actions: np.ndarray) -> np.ndarray:
        """r_k against the others' realized actions ``(n,)`` (integers), ``(n, m)``."""
        cells = np.asarray(actions).take(self.dst)
        cells += self.edge_rows
        out = self.bias.copy()
        for i in range(self.n_actions):
            out[:, i] += self._by_agent(self.columns[i].take(cells))
        return out

    def payoffs(self, actions: np.ndarray) -> np.ndarray:
        """Realized payoff of every agent for one joint pure action ``(n,)``."""
        a = np.asarray(actions)
        return cast(np.ndarray, self.payoff_vectors_pure(a).ravel().take(a + self._agent_rows))

    def expected_payoffs(self, strategies: np.ndarray) -> np.ndarray:
        """Expected payoff ⟨x_k, r_k(x_−k)⟩ of every agent for mixed strategies ``(n, m)``."""
        x = np.asarray(strategies, dtype=np.float64)
        return cast(np.ndarray, np.einsum("ki,ki->k", x, self.payoff_vectors(x)))

    def payoff_bounds(self) -> tuple[float, float]:
        """The smallest and largest entry any agent's payoff vector can take."""
        low = self.bias + np.stack([self._by_agent(self.entries[i].min(axis=0))
                                    for i in range(self.n_actions)], axis=1)
        high = self.bias + np.stack([self._by_agent(self.entries[i].max(axis=0))
                                     for i in range(self.n_actions)], axis=1)
        return float(low.min()), float(high.max())

    def lipschitz(self) -> float:
        """max_k Σ_{e: src=k} max|A^e|: how fast r_k moves with the others' strategies."""
        per_edge = np.abs(self.entries).max(axis=(0, 1))
        return float(self._by_agent(per_edge).max())

    @property
    def _agent_rows(self) -> np.ndarray:
        return np.arange(self.n_agents, dtype=np.int64) * self.n_actions

    def _by_agent(self, per_edge: np.ndarray) -> np.ndarray:
        """Sum one value per edge into its source agent: ``(n,)``."""
        return np.bincount(self.src, weights=per_edge, minlength=self.n_agents)


# ---------------------------------------------------------------------- building games
def chain_game(n_agents: int) -> PolymatrixGame:
    """LPS §5's match–mismatch chain (orientation ours): agents 1..n (array rows 0..n−1),
    dummy 0 always plays T and dummy n+1 always H. On edge (k, k+1) agent k earns +1 if it
    matches k+1 and −1 otherwise; k+1 earns the negative. The dummies' edges become ``bias``:
    agent 1 earns [+1, −1] (H, T) from dummy 0 and agent n the same from dummy n+1."""
    n = n_agents
    left = np.arange(n - 1, dtype=np.int64)
    src = np.concatenate([left, left + 1])
    dst = np.concatenate([left + 1, left])
    matrices = np.concatenate([np.broadcast_to(MATCH, (n - 1, 2, 2)),
                               np.broadcast_to(-MATCH.T, (n - 1, 2, 2))])
    bias = np.zeros((n, 2))
    bias[0] += (-MATCH.T)[:, T]  # agent 1 against dummy 0 playing T (agent 1 is the successor)
    bias[-1] += MATCH[:, H]  # agent n against dummy n+1 playing H (agent n is the predecessor)
    return PolymatrixGame(n, 2, src, dst, np.ascontiguousarray(matrices), np.ones(n), bias)


def two_agent_game(matrix: np.ndarray) -> PolymatrixGame:
    """Agent 0 earns ``matrix``, agent 1 earns −matrixᵀ (its own action first)."""
    a = np.asarray(matrix, dtype=np.float64)
    return PolymatrixGame(2, a.shape[0], np.array([0, 1]), np.array([1, 0]),
                          np.stack([a, -a.T]), np.ones(2), np.zeros((2, a.shape[0])))


def game_from_spec(spec: Mapping[str, Any], n_agents: int | None = None) -> PolymatrixGame:
    """A weighted zero-sum polymatrix game from a user's description (validated).

    ``spec`` keys: ``"edges"`` — pairs (k, l) of agent indices, each undirected edge once;
    ``"matrices"`` — A^{kl} per edge (m × m, what k earns); optional ``"reverse"`` — A^{lk} per
    edge (default −(w_k/w_l)·(A^{kl})ᵀ, zero-sum by construction); optional ``"weights"`` — one
    positive weight per agent (default all 1). The number of agents is ``n_agents`` if given,
    else one more than the largest index. Every agent has the same m actions.
    """
    unknown = sorted(set(spec) - {"edges", "matrices", "reverse", "weights"})
    if unknown:
        raise ValueError(f"game: unknown keys {unknown}; expected edges, matrices, "
                         "reverse (optional), weights (optional)")
    if "edges" not in spec or "matrices" not in spec:
        raise ValueError("game: a user game needs 'edges' and 'matrices'")
    edges = _edge_array(spec["edges"])
    forward = _matrix_stack("matrices", spec["matrices"], len(edges))
    n = int(edges.max()) + 1 if n_agents is None else n_agents
    if edges.min() < 0 or edges.max() >= n:
        raise ValueError(f"game: edge indices must lie in [0, {n - 1}], got {edges.tolist()}")
    if np.any(edges[:, 0] == edges[:, 1]):
        loop = edges[edges[:, 0] == edges[:, 1]][0].tolist()
        raise ValueError(f"game: edge {tuple(loop)} joins an agent to itself")
    weights = _weights(spec.get("weights"), n)
    if spec.get("reverse") is None:
        scale = (weights[edges[:, 0]] / weights[edges[:, 1]])[:, None, None]
        backward = -scale * forward.transpose(0, 2, 1)
    else:
        backward = _matrix_stack("reverse", spec["reverse"], len(edges))
        if backward.shape != forward.shape:
            raise ValueError(f"game: reverse matrices have shape {backward.shape[1:]}, "
                             f"matrices {forward.shape[1:]}")
    game = PolymatrixGame(
        n, forward.shape[1], np.concatenate([edges[:, 0], edges[:, 1]]),
        np.concatenate([edges[:, 1], edges[:, 0]]), np.concatenate([forward, backward]),
        weights, np.zeros((n, forward.shape[1])),
    )
    check_weighted_zero_sum(game)
    return game


def check_weighted_zero_sum(game: PolymatrixGame, atol: float = ZERO_SUM_ATOL) -> None:
    """Raise a ValueError naming the first edge (k, l) and the weights where
    w_k·A^{kl} + w_l·(A^{lk})ᵀ ≠ 0 (all edges checked at once)."""
    half = len(game.src) // 2
    first, second = game.src[:half], game.dst[:half]
    w = game.weights
    gap = (w[first][:, None, None] * game.matrices[:half]
           + w[second][:, None, None] * game.matrices[half:].transpose(0, 2, 1))
    worst = np.abs(gap).max(axis=(1, 2)) if half else np.zeros(0)
    bad = np.flatnonzero(worst > atol * max(1.0, float(np.abs(game.matrices).max(initial=0))))
    if len(bad):
        e = int(bad[0])
        k, l_ = int(first[e]), int(second[e])
        raise ValueError(
            f"game is not weighted zero-sum on edge ({k}, {l_}) with weights "
            f"w_{k}={w[k]:g}, w_{l_}={w[l_]:g}: "
            f"w_k·A^kl + w_l·(A^lk)ᵀ has an entry {worst[e]:.3g} away from 0"
        )


def _edge_array(edges: Any) -> np.ndarray:
    try:
        arr = np.asarray(edges)
    except (TypeError, ValueError):
        raise ValueError(f"game: edges must be pairs of agent indices, got {edges!r}") from None
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"game: edges must be a non-empty list of (k, l) integer pairs, "
                         f"got {edges!r}")
    return arr.astype(np.int64)


def _matrix_stack(name: str, matrices: Any, n_edges: int) -> np.ndarray:
    try:
        arr = np.asarray(matrices, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"game: {name} must be numeric m × m matrices, one per edge") from None
    if arr.ndim != 3 or arr.shape[0] != n_edges or arr.shape[1] != arr.shape[2] \
            or arr.shape[1] < 2:
        raise ValueError(f"game: {name} must be {n_edges} square matrices of one size m ≥ 2 "
                         f"(one per edge), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"game: {name} must be finite")
    return arr


def _weights(weights: Any, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"game: weights must be {n} positive finite numbers, got {weights!r}")
    return w


PRESETS = ("chain", "amps", "rock_paper_scissors")
# Other names of the presets, accepted as they are (matrix_v0 spells its presets out, so
# "rock_paper_scissors" is the name both games share; "rps" was zspg's first name for it).
PRESET_ALIASES = {"rps": "rock_paper_scissors"}


def build_game(game: object, n_agents: int | None) -> PolymatrixGame:
    """``game=``: ``"chain"`` (``n_agents`` long, default 7), ``"amps"``,
    ``"rock_paper_scissors"`` (alias ``"rps"``) (two agents), a :class:`PolymatrixGame`, or a
    mapping for :func:`game_from_spec`."""
    if isinstance(game, str):
        if game == "chain":
            return chain_game(7 if n_agents is None else n_agents)
        if PRESET_ALIASES.get(game, game) in ("amps", "rock_paper_scissors"):
            if n_agents not in (None, 2):
                raise ValueError(f"game={game!r} has 2 agents; got n_agents={n_agents}")
            return two_agent_game(AMPS if game == "amps" else RPS)
        raise ValueError(f"game must be one of {list(PRESETS)} or a mapping with edges and "
                         f"matrices, got {game!r}")
    if isinstance(game, PolymatrixGame):
        check_weighted_zero_sum(game)
        built = game
    elif isinstance(game, Mapping):
        built = game_from_spec(game, n_agents)
    else:
        raise TypeError(f"game must be a preset name, a mapping or a PolymatrixGame, "
                        f"got {type(game).__name__}")
    if n_agents is not None and built.n_agents != n_agents:
        raise ValueError(f"n_agents={n_agents} but the game has {built.n_agents} agents")
    return built


