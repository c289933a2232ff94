"""Symmetric two-player matrix games played by a population (Kash, Friedman & Halpern,
AAMAS 2009, §4).

| Import             | `from populace.envs import matrix_v0`                 |
|--------------------|-------------------------------------------------------|
| Actions            | Discrete(m), m = size of the game matrix              |
| Parallel API       | Yes                                                   |
| Manual Control     | No                                                    |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`     |
| Number of agents   | `n_agents` (default 100)                              |
| Action shape       | ()                                                    |
| Action values      | 0 ... m−1                                             |
| Observation shape  | (1,) with `observe="none"`, (m,) otherwise            |
| Observation values | constant 1, or action frequencies in [0, 1]           |
| Gymnasium ids      | `populace/Matrix-v0` (focal and vector views)         |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from populace.envs.anonymous.core import AnonymousGameCore, check_anonymous_params
from populace.envs.anonymous.equilibrium import best_reply_path, symmetric_equilibria
from populace.envs.faces import faces
from populace.envs.params import keywords_from, settle

CLIMBING = np.array([[11.0, -30.0, 0.0], [-30.0, 7.0, 6.0], [0.0, 0.0, 5.0]])


@dataclass(frozen=True)
class Preset:
    matrix: np.ndarray
    labels: tuple[str, ...]
    equilibrium: tuple[float, ...]  # the reference symmetric equilibrium (checked in tests)


PRESETS = {
    "prisoners_dilemma": Preset(
        np.array([[3.0, 0.0], [5.0, 1.0]]), ("cooperate", "defect"), (0.0, 1.0)
    ),
    # Claus & Boutilier's common-payoff game is not symmetric (6 vs 0 off the diagonal). Ours:
    # average it with its transpose, which keeps it common-payoff and makes it symmetric.
    "climbing": Preset((CLIMBING + CLIMBING.T) / 2, ("a", "b", "c"), (0.0, 0.0, 1.0)),
    "stag_hunt": Preset(np.array([[4.0, 0.0], [3.0, 3.0]]), ("stag", "hare"), (0.0, 1.0)),
    "rock_paper_scissors": Preset(
        np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]),
        ("rock", "paper", "scissors"), (1 / 3, 1 / 3, 1 / 3),
    ),
}


# Other names of the presets, accepted as they are ("rps" is zspg_network_v0's first name).
PRESET_ALIASES = {"rps": "rock_paper_scissors"}


def resolve_game(game: object) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """A preset name (or alias) or a square payoff matrix -> (matrix, labels, reference
    equilibrium)."""
    if isinstance(game, str):
        game = PRESET_ALIASES.get(game, game)
        if game not in PRESETS:
            raise ValueError(
                f"game must be one of {sorted(PRESETS)} or a square matrix, got {game!r}"
            )
        preset = PRESETS[game]
        return preset.matrix, preset.labels, np.array(preset.equilibrium)
    try:
        matrix = np.asarray(game, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"game must be one of {sorted(PRESETS)} or a square numeric matrix, got {game!r}"
        ) from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"game matrix must be square with at least 2 actions, got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        row, col = np.argwhere(~np.isfinite(matrix))[0]
        raise ValueError(
            f"game matrix must be finite, got {matrix[row, col]} at [{row}, {col}]"
        )
    labels = tuple(str(a) for a in range(matrix.shape[0]))
    return matrix, labels, reference_for(matrix)


def reference_for(matrix: np.ndarray) -> np.ndarray:
    """End point of best-reply dynamics from uniform play, else the first symmetric equilibrium."""
    n = matrix.shape[0]
    path = best_reply_path(lambda rho: matrix @ rho, np.full(n, 1.0 / n))
    if path.equilibrium is not None:
        return path.equilibrium
    return symmetric_equilibria(matrix)[0]


@dataclass(frozen=True, kw_only=True)
class MatrixParams:
    """The game's keywords and defaults, checked (see :class:`MatrixCore`'s Arguments table);
    ``resolved`` holds what ``game`` names: (matrix, action labels, reference equilibrium)."""

    game: Any = "prisoners_dilemma"
    n_agents: int = 100
    payoff: str = "matching"
    observe: str = "none"
    max_cycles: int = 1000
    render_mode: str | None = None
    resolved: tuple[np.ndarray, tuple[str, ...], np.ndarray] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        settle(self, resolved=resolve_game(self.game))
        check_anonymous_params(self)


class MatrixCore(AnonymousGameCore):
    """## Description

    A symmetric two-player game (row payoffs ``M[a, b]``; the column player gets ``M[b, a]``)
    played by a population of N agents, as in KFH's experiments with the prisoner's dilemma and
    the climbing game. Presets: `prisoners_dilemma` (C, D; [[3, 0], [5, 1]]), `climbing`
    (Claus & Boutilier's [[11, −30, 0], [−30, 7, 6], [0, 0, 5]], symmetrized by averaging with
    its transpose — *ours*, KFH only say payoffs "were adjusted"), `stag_hunt` ([[4, 0], [3, 3]])
    and `rock_paper_scissors`; or any square matrix.

    ## Action Space

    `Discrete(m)` for an m×m matrix.

    ## Observation Space

    As in `contribution_v0`: the constant `[1.0]` in `Box(0, 1, (1,), float32)`
    (`observe="none"`), or last round's action frequencies, exact (`"population"`) or from k
    sampled others (`"sample:k"`), in `Box(0, 1, (m,), float32)`.

    ## Rewards

    `payoff="matching"` (default): random pairs each round, realized payoff against the partner.
    `payoff="average"`: the expected payoff against a uniformly random other agent.

    ## Reference equilibrium

    The symmetric equilibrium reached by best-reply dynamics from uniform play (defect; c in the
    symmetrized climbing game; hare), or for cyclic games such as rock-paper-scissors the
    symmetric equilibrium found by support enumeration (uniform). Distance = total variation.

    ## Starting State

    No state carries over between rounds except the previous round's action frequencies.

    ## Episode End

    1. Truncation: after `max_cycles` rounds. The game never terminates.

    ## Arguments

    | Parameter     | Type       | Default               | Description                          |
    |---------------|------------|-----------------------|--------------------------------------|
    | `game`        | str, array | `"prisoners_dilemma"` | preset name or square payoff matrix  |
    | `n_agents`    | int        | 100                   | population size N (≥ 2)              |
    | `payoff`      | str        | `"matching"`          | `"matching"` or `"average"`          |
    | `observe`     | str        | `"none"`              | `"none"`, `"population"`, `"sample:k"` |
    | `max_cycles`  | int        | 1000                  | rounds per episode                   |
    | `render_mode` | str, None  | None                  | `"ansi"`, `"rgb_array"` or `"human"` |

    >>> from populace.envs import matrix_v0
    >>> env = matrix_v0.parallel_env(game="prisoners_dilemma", n_agents=2)
    >>> _ = env.reset(seed=0)
    >>> env.step({"agent_0": 0, "agent_1": 1})[1]
    {'agent_0': 0.0, 'agent_1': 5.0}

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "matrix_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4
    }

    @keywords_from(MatrixParams)
    def __init__(self, params: MatrixParams) -> None:
        self.matrix, self.labels, self._reference = params.resolved
        self.game = params.game
        super().__init__(params, n_actions=self.matrix.shape[0])
        self.settings = params

    def pair_payoffs(self) -> np.ndarray:
        return self.matrix

    def reference_equilibrium(self) -> np.ndarray:
        return self._reference

    def action_labels(self) -> list[str]:
        return list(self.labels)


raw_env, parallel_env, env, focal_env, vector_env = faces(MatrixCore)
