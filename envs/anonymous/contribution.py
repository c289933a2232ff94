"""Contribution game (Kash, Friedman & Halpern, AAMAS 2009, §4).

| Import             | `from populace.envs import contribution_v0`          |
|--------------------|------------------------------------------------------|
| Actions            | Discrete(20)                                         |
| Parallel API       | Yes                                                  |
| Manual Control     | No                                                   |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`    |
| Number of agents   | `n_agents` (default 100)                             |
| Action shape       | ()                                                   |
| Action values      | 0 ... 19                                             |
| Observation shape  | (1,) with `observe="none"`, (20,) otherwise          |
| Observation values | constant 1, or action frequencies in [0, 1]          |
| Gymnasium ids      | `populace/Contribution-v0` (focal and vector views)  |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from populace.envs.anonymous.core import AnonymousGameCore, check_anonymous_params
from populace.envs.anonymous.equilibrium import ordered_distance
from populace.envs.faces import faces
from populace.envs.params import keywords_from, settle
from populace.envs.validation import check_number

N_ACTIONS = 20
EQUILIBRIUM_ACTION = 8


def contribution_cost(n_actions: int, offset: float) -> np.ndarray:
    """c(0)=0, c(1)=1, c(x)=(x-1)^2 for 2<=x<=8, c(x)=x^2+offset for x>8 (KFH §4)."""
    x = np.arange(n_actions, dtype=np.float64)
    cost = np.where(x <= 8, np.maximum(x - 1, 0) ** 2, x**2 + offset)
    cost[1] = 1.0
    return cost


@dataclass(frozen=True, kw_only=True)
class ContributionParams:
    """The game's keywords and defaults, checked (see :class:`ContributionCore`'s Arguments
    table); ``cost_offset=None`` becomes 2·``n_agents``."""

    n_agents: int = 100
    payoff: str = "average"
    observe: str = "none"
    cost_offset: float | None = None
    max_cycles: int = 1000
    render_mode: str | None = None

    def __post_init__(self) -> None:
        check_anonymous_params(self)
        offset = 2.0 * self.n_agents if self.cost_offset is None else self.cost_offset
        settle(self, cost_offset=check_number("cost_offset", offset, low=-np.inf))


class ContributionCore(AnonymousGameCore):
    """## Description

    N agents each choose how much effort x ∈ {0, ..., 19} to contribute to a joint enterprise
    (Kash, Friedman & Halpern, *Multiagent learning in large anonymous games*, AAMAS 2009, §4;
    a Diamond-type search model). An agent contributing x when the others' contribution is y
    earns u(x, y) = 2·x·y − c(x) with c(0)=0, c(1)=1, c(x)=(x−1)² for 2 ≤ x ≤ 8 and
    c(x) = x² + 2n for x > 8 (n = number of agents, as printed in the paper). From uniform play
    the best-reply path leads to everyone contributing 8, the equilibrium KFH measure against.
    Everyone contributing 0 is an equilibrium too, and so, while the offset 2n is small
    (n < 54), is everyone contributing any y > 8 with y² − 2n ≥ 16y − 49 (y ≥ 14 at n = 10).

    ## Action Space

    `Discrete(20)`: the contribution x.

    ## Observation Space

    With `observe="none"` (default) the observation is the constant `[1.0]` in
    `Box(0, 1, (1,), float32)`: no information, in a shape every deep-RL library's default
    network accepts (a `Discrete(1)` space is refused by some), and the same input a one-hot
    `Discrete(1)` observation would give. With `observe="population"` it is
    `Box(0, 1, (20,), float32)`:

    | Num | Observation                                   | Min | Max |
    |-----|-----------------------------------------------|-----|-----|
    | a   | share of the population that played a last round | 0 | 1 |

    `observe="sample:k"` gives the same vector computed from k others sampled with replacement.
    Before the first round the vector is all zeros.

    ## Rewards

    `payoff="average"`: y is the mean contribution of the *other* agents, so the reward is
    u(x, mean of others). `payoff="matching"`: agents are paired uniformly at random every round
    (with odd N the leftover agent is matched with a random other) and y is the partner's
    contribution.

    ## Starting State

    No state carries over between rounds except the previous round's action frequencies.

    ## Episode End

    1. Truncation: after `max_cycles` rounds. The game never terminates.

    ## Arguments

    | Parameter     | Type        | Default     | Description                                    |
    |---------------|-------------|-------------|------------------------------------------------|
    | `n_agents`    | int         | 100         | population size N (≥ 2)                        |
    | `payoff`      | str         | `"average"` | `"average"` or `"matching"`                    |
    | `observe`     | str         | `"none"`    | `"none"`, `"population"` or `"sample:k"`       |
    | `cost_offset` | float, None | None        | the offset in c(x) for x > 8; None means 2·N   |
    | `max_cycles`  | int         | 1000        | rounds per episode                             |
    | `render_mode` | str, None   | None        | `"ansi"`, `"rgb_array"` or `"human"`           |

    >>> from populace.envs import contribution_v0
    >>> env = contribution_v0.parallel_env(n_agents=3)
    >>> observations, infos = env.reset(seed=0)
    >>> _, rewards, _, _, _ = env.step({"agent_0": 8, "agent_1": 8, "agent_2": 2})
    >>> rewards["agent_0"], rewards["agent_2"]
    (31.0, 31.0)

    The reference equilibrium and the paper's distance d(ρ) = Σ_a ρ(a)·|a − 8|:

    >>> core = contribution_v0.ContributionCore(n_agents=100)
    >>> int(core.reference_equilibrium().argmax()), float(core.distance(np.eye(20)[5]))
    (8, 3.0)

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "contribution_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4
    }

    @keywords_from(ContributionParams)
    def __init__(self, params: ContributionParams) -> None:
        super().__init__(params, n_actions=N_ACTIONS)
        self.settings = params
        self.cost_offset = cast(float, params.cost_offset)  # resolved by ContributionParams

    def pair_payoffs(self) -> np.ndarray:
        x = np.arange(self.n_actions, dtype=np.float64)
        payoffs: np.ndarray = 2.0 * np.outer(x, x)
        return cast(
            np.ndarray, payoffs - contribution_cost(self.n_actions, self.cost_offset)[:, None])

    def reference_equilibrium(self) -> np.ndarray:
        return cast(np.ndarray, np.eye(self.n_actions)[EQUILIBRIUM_ACTION])

    def distance(self, frequencies: np.ndarray) -> np.ndarray:
        """KFH's expected distance from equilibrium, Σ_a ρ(a)·|a − 8|."""
        return ordered_distance(frequencies, self.reference_equilibrium())

    def exploration_floor(self, epsilon: float) -> float:
        """The distance an ε-explorer keeps at equilibrium: ε·Σ_{a≠8}|a−8|/19 (≈ 5.37·ε)."""
        gaps = np.abs(np.arange(self.n_actions) - EQUILIBRIUM_ACTION)
        return float(epsilon * gaps.sum() / (self.n_actions - 1))


raw_env, parallel_env, env, focal_env, vector_env = faces(ContributionCore)
