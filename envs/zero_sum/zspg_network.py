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

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from populace.envs import render
from populace.envs.core import Group, PopulationCore, Step
from populace.envs.faces import faces
from populace.envs.metrics import WindowMetrics
from populace.envs.params import keywords_from, settle
from populace.envs.policies import PolicySpec
from populace.envs.sizes import check_size
from populace.envs.validation import check_choice
from populace.envs.zero_sum.polymatrix import PolymatrixGame, build_game
from populace.envs.zero_sum.solvers import as_temperatures, kl_divergence, nash_conv, qre

FEEDBACK_MODES = ("sampled", "expected")
STRATEGY_MODES = ("normalize", "strict")  # what expected feedback does with a row off the simplex
SIMPLEX_ATOL = 1e-6
KL_FLOOR = 1e-12  # empirical frequencies are floored here before KL (see ZSPGMetrics)


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


def row_dots(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """⟨x_k, y_k⟩ for every row (a column loop: m is small, n large)."""
    out = x[:, 0] * y[:, 0]
    for i in range(1, x.shape[1]):
        out += x[:, i] * y[:, i]
    return cast(np.ndarray, out)


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


class ZSPGMetrics(WindowMetrics):
    """``kl_to_qre`` and ``nash_conv`` of the learners' policies, or of the window's play.

    ``policies["agent"]``, when it is an ``(n, m)`` (or one shared ``(m,)``) array of mixed
    strategies, is scored; otherwise the window's empirical strategies are: each agent's
    action frequencies (sampled) or the mean of its submitted mixed strategies (expected).
    Empirical strategies can put 0 on an action, which would make the KL infinite: they are
    floored at 1e-12 and renormalized before the KL (NashConv uses them as they are).
    """

    columns = ("kl_to_qre", "nash_conv")

    def __init__(self, core: ZSPGNetworkCore) -> None:
        self.core = core
        self.totals = np.zeros((core.n_agents, core.n_actions))
        self.rounds = 0

    def record(self, actions: dict[str, np.ndarray], step: Step) -> None:
        played = np.asarray(actions[self.core.agent_group])
        if played.ndim == 1:
            np.add.at(self.totals.ravel(), played + self.core._rows, 1.0)
        else:
            self.totals += played
        self.rounds += 1

    def strategies(self, policies: Mapping[str, Any]) -> np.ndarray | None:
        """The profile to score: the learners' policies if usable, else the window's play."""
        policy = policies.get(self.core.agent_group)
        shape = (self.core.n_agents, self.core.n_actions)
        if isinstance(policy, np.ndarray) and policy.shape in (shape, shape[1:]):
            return np.broadcast_to(np.asarray(policy, dtype=np.float64), shape)
        if self.rounds == 0:
            return None
        return self.totals / self.rounds

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        x = self.strategies(policies)
        if x is None:
            return {"kl_to_qre": float("nan"), "nash_conv": float("nan")}
        floored = np.maximum(x, KL_FLOOR)
        floored = floored / floored.sum(axis=1, keepdims=True)
        return {"kl_to_qre": self.core.kl_to_qre(floored), "nash_conv": self.core.nash_conv(x)}

    def clear(self) -> None:
        self.totals = np.zeros_like(self.totals)
        self.rounds = 0

    def state_dict(self) -> dict[str, Any]:
        return {"totals": self.totals.copy(), "rounds": self.rounds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        totals = np.asarray(state["totals"], dtype=np.float64)
        if totals.shape != self.totals.shape:
            raise ValueError(f"checkpoint totals have shape {totals.shape}, "
                             f"expected {self.totals.shape}")
        self.totals = totals.copy()
        self.rounds = int(state["rounds"])


raw_env, parallel_env, env, focal_env, vector_env = faces(ZSPGNetworkCore)
