"""Network zero-sum polymatrix game (Leonardos, Piliouras & Spendlove, NeurIPS 2021, §5).

| Import             | `from populace.envs import zspg_network_v0`                      |
|--------------------|------------------------------------------------------------------|
| Actions            | Discrete(m) (`feedback="sampled"`) or a simplex point (`"expected"`) |
| Parallel API       | Yes                                                              |
| Manual Control     | No                                                               |
| Agents             | `agents = ['agent_0', ..., 'agent_{n_agents-1}']`                |
| Number of agents   | `n_agents` (default 7: the chain; 2 for the two-agent presets)   |
| Action shape       | () sampled, (m,) expected                                        |
| Action values      | 0 = H, 1 = T (chain, AMPs); mixed strategies in expected mode    |
| Observation shape  | (m,)                                                             |
| Observation values | the agent's payoff vector r_k (zeros before the first round)     |
| Gymnasium ids      | `populace/ZSPGNetwork-v0` (focal and vector views)               |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
from gymnasium import spaces

from populace.envs import render
from populace.envs.core import Group, PopulationCore, Step
from populace.envs.faces import faces
from populace.envs.params import keywords_from, settle
from populace.envs.policies import PolicySpec
from populace.envs.sizes import check_size
from populace.envs.validation import check_choice
from populace.envs.zero_sum.chain import ChainPayoffs
from populace.envs.zero_sum.metrics import ZSPGMetrics
from populace.envs.zero_sum.polymatrix import PolymatrixGame, build_game
from populace.envs.zero_sum.solvers import as_temperatures, kl_divergence, nash_conv, qre
from populace.envs.zero_sum.strategies import (
    Simplex,
    check_simplex,
    normalized_strategies,
)

FEEDBACK_MODES = ("sampled", "expected")
STRATEGY_MODES = ("normalize", "strict")  # what expected feedback does with a row off the simplex


@dataclass(frozen=True, kw_only=True)
class ZSPGNetworkParams:
    """The game's keywords and defaults, checked (see :class:`ZSPGNetworkCore`'s Arguments
    table); ``network`` is the game ``game`` and ``n_agents`` build, ``temperature_per_agent``
    the temperatures as one per agent."""

    n_agents: int | None = None
    game: Any = "chain"
    feedback: str = "sampled"
    strategies: str = "normalize"
    temperatures: Any = 0.1
    max_cycles: int = 1000
    render_mode: str | None = None
    network: PolymatrixGame = field(init=False, repr=False, compare=False)
    temperature_per_agent: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_agents is not None:
            check_size("n_agents", self.n_agents, minimum=1 if self.game == "chain" else 2)
        network = build_game(self.game, self.n_agents)
        settle(self, network=network,
               feedback=check_choice("feedback", self.feedback, FEEDBACK_MODES),
               strategies=check_choice("strategies", self.strategies, STRATEGY_MODES),
               temperature_per_agent=as_temperatures(self.temperatures, network.n_agents))


class ZSPGNetworkCore(PopulationCore):
    """## Description

    A network of agents plays a weighted zero-sum polymatrix game (Leonardos, Piliouras &
    Spendlove, *Exploration-exploitation in multi-agent competition*, NeurIPS 2021): agent k
    earns Σ_l (A^{kl} x_l)_{a_k} over its neighbours l. The default `game="chain"` is their
    §5 match–mismatch chain of `n_agents` agents (numbered 1..n in the paper, `agent_0` ..
    `agent_{n-1}` here) between two dummies (orientation ours): on edge (k, k+1) agent k earns
    +1 if it matches k+1 and −1 otherwise, and k+1 earns the negative; dummy 0 always plays T
    and dummy n+1 always H. The dummies are part of the payoff, not agents. With n odd the
    Nash equilibria are: odd agents play H, the even agents' P(H) non-decreasing along the
    chain (:func:`populace.envs.zero_sum.solvers.is_chain_nash`).

    `game="amps"`: asymmetric matching pennies (ours): agent 0 earns A = [[3, −1], [−1, 1]],
    agent 1 earns −Aᵀ; the unique equilibrium is both playing (1/3, 2/3).
    `game="rock_paper_scissors"` (alias `"rps"`, as in matrix_v0): rock–paper–scissors between
    two agents. Any weighted zero-sum polymatrix game: a mapping
    `{"edges": [(k, l), ...], "matrices": [A^{kl}, ...], "reverse": [A^{lk}, ...] (optional,
    default −(w_k/w_l)·(A^{kl})ᵀ), "weights": [w_0, ...] (optional, default 1)}`, validated
    edge by edge (w_k·A^{kl} + w_l·(A^{lk})ᵀ = 0; a ValueError names the edge and weights),
    or a :class:`populace.envs.zero_sum.polymatrix.PolymatrixGame`.

    ## Action Space

    `feedback="sampled"`: `Discrete(m)`, the action played (0 = H, 1 = T in the chain).
    `feedback="expected"`: a mixed strategy, a `Simplex(m)` (a `Box(0, 1, (m,), float64)`
    whose `sample` draws uniformly from the simplex). With `strategies="normalize"` (the
    default) a point of the box whose entries do not sum to 1 within 1e-6 is divided by its
    sum (all zeros: the uniform strategy), so that generic clients which output a plain box of
    actions (Gymnasium's `ClipAction`, SB3's SAC, SuperSuit, TorchRL, RLlib, `make_vec`'s
    batched space) can play; a point on the simplex is used exactly as given.
    `strategies="strict"` refuses a point off the simplex, naming the agent.

    ## Observation Space

    `Box(low, high, (m,), float64)`: the agent's payoff vector r_k — the payoff each of its
    actions would have earned this round — against the others' realized actions (sampled) or
    their mixed strategies (expected: r_k(x_−k) = Σ_l A^{kl} x_l). All zeros after reset.

    ## Rewards

    Sampled: the realized payoff of the joint action. Expected: ⟨x_k, r_k(x_−k)⟩.

    ## Starting State

    Nothing carries over between rounds (each round is one play of the stage game).

    ## Episode End

    1. Truncation: after `max_cycles` rounds. The game never terminates.

    ## Metrics

    `kl_to_qre` (Σ_k KL(x*_k ‖ x_k) to the QRE at `temperatures`) and `nash_conv` (Σ_k of the
    best-response gains), of the learners' policies (`(n, m)` mixed strategies) when given,
    else of the window's empirical strategies (action frequencies, or the mean of the
    submitted mixed strategies; floored at 1e-12 and renormalized for the KL).

    ## Arguments

    | Parameter      | Type            | Default     | Description                              |
    |----------------|-----------------|-------------|------------------------------------------|
    | `n_agents`     | int, None       | None        | chain length (7 if None); 2 for presets  |
    | `game`         | str, mapping    | `"chain"`   | a preset (above) or a graph              |
    | `feedback`     | str             | `"sampled"` | `"sampled"` or `"expected"`              |
    | `strategies`   | str             | `"normalize"` | `"normalize"` or `"strict"` (expected)  |
    | `temperatures` | float, sequence | 0.1         | the QRE's T_k for `kl_to_qre`            |
    | `max_cycles`   | int             | 1000        | rounds per episode                       |
    | `render_mode`  | str, None       | None        | `"ansi"`, `"rgb_array"` or `"human"`     |

    >>> from populace.envs import zspg_network_v0
    >>> env = zspg_network_v0.parallel_env(n_agents=3)
    >>> _ = env.reset(seed=0)
    >>> _, rewards, _, _, _ = env.step({"agent_0": 0, "agent_1": 0, "agent_2": 0})
    >>> [rewards[a] for a in env.agents]
    [2.0, 0.0, 0.0]

    Everyone plays H: agent 1 mismatches dummy 0 (+1) and matches agent 2 (+1); agent 2 is
    matched by 1 (−1) and matches 3 (+1); agent 3 is matched by 2 (−1) and matches dummy 4
    (+1). In expected mode, AMPs:

    >>> core = zspg_network_v0.ZSPGNetworkCore(game="amps", feedback="expected")
    >>> _ = core.reset(seed=0)
    >>> step = core.step({"agent": np.array([[1 / 3, 2 / 3], [0.5, 0.5]])})
    >>> step.observations["agent"][0].tolist(), round(float(step.rewards["agent"][1]), 6)
    ([1.0, 0.0], -0.333333)

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "zspg_network_v0", "render_modes": ["rgb_array", "ansi", "human"],
        "render_fps": 4,
    }
    agent_group = "agent"

    @keywords_from(ZSPGNetworkParams)
    def __init__(self, params: ZSPGNetworkParams) -> None:
        super().__init__(max_cycles=params.max_cycles, render_mode=params.render_mode)
        self.settings = params
        self.game: PolymatrixGame = params.network
        self.n_agents = self.game.n_agents
        self.n_actions = self.game.n_actions
        self.feedback = params.feedback
        self.strategies = params.strategies
        self.temperatures = params.temperature_per_agent
        low, high = self.game.payoff_bounds()
        observation_space = spaces.Box(min(low, 0.0), max(high, 0.0), shape=(self.n_actions,),
                                       dtype=np.float64)
        action_space: spaces.Space = (spaces.Discrete(self.n_actions) if self.feedback == "sampled"
                                      else Simplex(self.n_actions))
        self.groups = (Group(self.agent_group, self.n_agents, action_space, observation_space),)
        self.state_space = spaces.Box(0.0, 1.0, shape=(self.n_agents, self.n_actions),
                                      dtype=np.float64)
        self.last_strategies = np.zeros((self.n_agents, self.n_actions))

    # ----------------------------------------------------------------- actions
    def check_actions(self, actions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The base checks (shape, type, finite, inside [0, 1]) and, in expected mode, the
        mixed strategies: rows off the simplex normalized, or refused (``strategies``)."""
        checked = super().check_actions(actions)
        if self.feedback == "expected":
            checked[self.agent_group] = self._on_simplex(self.agent_group,
                                                         checked[self.agent_group])
        return checked

    def check_group_actions(self, name: str, actions: object) -> np.ndarray:
        checked = super().check_group_actions(name, actions)
        if self.feedback == "expected":
            checked = self._on_simplex(name, checked)
        return checked

    def _on_simplex(self, group: str, strategies: np.ndarray) -> np.ndarray:
        if self.strategies == "strict":
            check_simplex(group, strategies)
            return strategies
        return normalized_strategies(strategies)

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        self.last_strategies = np.zeros((self.n_agents, self.n_actions))
        return {self.agent_group: np.zeros((self.n_agents, self.n_actions))}

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        played = actions[self.agent_group]
        if self.feedback == "sampled":
            cells = played + self._rows
            vectors = (self._chain_payoffs(played) if self._is_chain
                       else self.game.payoff_vectors_pure(played))
            rewards = vectors.take(cells)  # flat indices (axis=None)
            self._last_cells = cells  # last_strategies is built from these when asked for
        else:
            strategies = np.asarray(played, dtype=np.float64)
            vectors = self.game.payoff_vectors(strategies)
            rewards = row_dots(strategies, vectors)
            self.last_strategies = strategies.copy()
        return Step(observations={self.agent_group: vectors},
                    rewards={self.agent_group: rewards}, terminated=False, truncated=False)

    @cached_property
    def _rows(self) -> np.ndarray:
        return np.arange(self.n_agents, dtype=np.int64) * self.n_actions

    @cached_property
    def _is_chain(self) -> bool:
        """Whether the network is LPS's default chain, stepped by :class:`ChainPayoffs`."""
        game = self.settings.game
        return isinstance(game, str) and game == "chain"

    @cached_property
    def _chain_payoffs(self) -> ChainPayoffs:
        return ChainPayoffs(self.n_agents)

    @property
    def last_strategies(self) -> np.ndarray:
        """Last round's strategies ``(n, m)`` (one-hot actions in sampled mode, built on first
        use after a step rather than in every step)."""
        if self._last_cells is not None:
            onehot = np.zeros((self.n_agents, self.n_actions))
            onehot.ravel()[self._last_cells] = 1.0
            self._last_strategies, self._last_cells = onehot, None
        return self._last_strategies

    @last_strategies.setter
    def last_strategies(self, value: np.ndarray) -> None:
        self._last_strategies, self._last_cells = value, None

    # ----------------------------------------------------------------- equilibria
    @cached_property
    def quantal_response_equilibrium(self) -> np.ndarray:
        """The QRE at :attr:`temperatures`, ``(n, m)`` (solved once, then cached)."""
        return qre(self.game, self.temperatures).strategies

    def payoff_bounds(self) -> tuple[float, float]:
        """Smallest and largest payoff any agent can receive (for learners that scale by it)."""
        return self.game.payoff_bounds()

    def reference_equilibrium(self) -> np.ndarray:
        """The equilibrium the metrics measure against: the QRE at :attr:`temperatures`
        (unique for positive temperatures; the Nash set itself is a continuum in the chain)."""
        return self.quantal_response_equilibrium

    def nash_conv(self, strategies: np.ndarray) -> float:
        return nash_conv(self.game, strategies)

    def kl_to_qre(self, strategies: np.ndarray) -> float:
        return kl_divergence(self.quantal_response_equilibrium, strategies)

    # ----------------------------------------------------------------- declared hooks
    def default_policy(self, group: str) -> PolicySpec:
        """Uniform play: the probability vector (sampled) or every agent submitting the
        uniform mixed strategy (expected)."""
        self.group(group)
        uniform = np.full(self.n_actions, 1.0 / self.n_actions)
        if self.feedback == "sampled":
            return uniform

        def play_uniform(observations: Any, rng: np.random.Generator) -> np.ndarray:
            return np.tile(uniform, (len(observations), 1))

        return play_uniform

    def window_metrics(self) -> ZSPGMetrics:
        return ZSPGMetrics(self)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """Last round's strategies, ``(n, m)``: one-hot actions (sampled) or the submitted
        mixed strategies (expected); zeros before the first round."""
        return self.last_strategies.copy()

    def render_ansi(self) -> str:
        """Last round's play summed over agents, one bar per action."""
        title = (f"{self.metadata['name']}  round {self.cycle}  n={self.n_agents}  "
                 f"{self.feedback}")
        return render.histogram_text(self._histogram(), self._labels(), title)

    def render_rgb(self) -> np.ndarray:
        return render.histogram_image(self._histogram(), labels=self._labels(),
                                      title=f"round {self.cycle}  n={self.n_agents}")

    def _histogram(self) -> np.ndarray:
        return cast(np.ndarray, np.rint(self.last_strategies.sum(axis=0)).astype(np.int64))

    def _labels(self) -> list[str]:
        return ["H", "T"] if self.n_actions == 2 else [str(a) for a in range(self.n_actions)]

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"last_strategies": self.last_strategies.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        self.last_strategies = np.asarray(state["last_strategies"], dtype=np.float64).copy()


def row_dots(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """⟨x_k, y_k⟩ for every row (a column loop: m is small, n large)."""
    out = x[:, 0] * y[:, 0]
    for i in range(1, x.shape[1]):
        out += x[:, i] * y[:, i]
    return cast(np.ndarray, out)


raw_env, parallel_env, env, focal_env, vector_env = faces(ZSPGNetworkCore)
