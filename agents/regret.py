"""Payoff-based regret matching (Hart & Mas-Colell 2001), KFH's no-regret baseline.

Hart & Mas-Colell, *A reinforcement procedure leading to correlated equilibrium* (2001), give a
"modified regret matching" that needs only the agent's own actions, mixed strategies and
realized payoffs. With j the action played at round t and m actions, the next mixed strategy is

    p_{t+1}(k) = (1 − δ/t^γ)·min{D_t(j, k)/μ, 1/(m − 1)} + (δ/t^γ)/m      for k ≠ j,
    p_{t+1}(j) = 1 − Σ_{k≠j} p_{t+1}(k),

with D_t = max(C_t, 0) and the importance-weighted regret estimate

    C_t(j, k) = (1/t)·Σ_{τ≤t} [p_τ(j)/p_τ(k)·U_τ·1{s_τ = k} − U_τ·1{s_τ = j}].

Play starts from the uniform strategy. In the long run the empirical distribution of play
approaches the set of correlated equilibria (for μ > 2·M·(m − 1), M a bound on |U|, and
0 < γ < 1/4). Kash, Friedman & Halpern (2011, §4) use it as their no-regret baseline ("with
improvements suggested by Greenwald et al.", which they do not spell out and we do not add) and
report that it converges quickly but less tightly than stage learners. Implemented as written
above, it converges less tightly and also more slowly: its regrets average over the whole
history, so it lags behind a population that is still moving (see :func:`mu_from_bounds`).

**Bookkeeping.** Per agent we keep W[k, j] = Σ_{τ≤t, s_τ=k} p_τ(j)/p_τ(k)·U_τ, an m×m table
whose diagonal W[j, j] = Σ_{s_τ=j} U_τ is kept exact, so that C_t(j, k) = (W[k, j] − W[j, j])/t.
A round adds to row s_t of W and then reads column s_t. Both live in caches that are contiguous
across agents (one row and one column per agent, for the action it played last); only agents
that switch action touch the big (agents × m × m) table. Nothing of that size is allocated per
round. The arithmetic is rearranged where that saves a pass over the arrays (U/p(k) is computed
once per agent; (1 − δ/t^γ) is applied inside the min); the results agree with the formulas above
to rounding, and tests compare them with a plain per-agent implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from populace.agents.base import (
    Learner,
    check_number,
    check_round,
    checkpoint_array,
)
from populace.envs.validation import check_int

MU_RULES = ("kfh", "hart-mas-colell")
MU_SCALE = 0.1  # the "kfh" rule: μ = MU_SCALE · (hi − lo), see mu_from_bounds


def mu_from_bounds(bounds: tuple[float, float], n_actions: int, *, rule: str = "kfh") -> float:
    """Derive the normalization μ of :class:`RegretMatching` from payoff bounds (lo, hi).

    * ``"kfh"`` (default): μ = 0.1·(hi − lo), a tenth of the payoff range (*ours*). Measured on
      the contribution game with average payoffs (N = 10, 100, 1000; 6000 rounds): every
      μ between 0.001 and 0.3 times the range behaves alike (the distance from equilibrium
      falls from ≈ 4 to ≈ 2.5–3), μ = the range is clearly slower, and the theorem's bound below
      barely moves in that time. What limits this learner there is that its regrets average
      over the whole history, not μ. Stage learners reach ≈ 0.3 within 1000 rounds, so the
      baseline converges less tightly, as KFH report.
    * ``"hart-mas-colell"``: μ = 2·M·m with M = max(|lo|, |hi|), which satisfies Hart &
      Mas-Colell's condition μ > 2·M·(m − 1) for their convergence theorem. An agent then
      moves to k with probability about D(j, k)/(2·M·m), and learning is very slow.

    In the contribution game the range grows with N (the cost offset 2N), and so does μ.
    """
    lo = check_number("lo (payoff lower bound)", bounds[0], low=-np.inf)
    hi = check_number("hi (payoff upper bound)", bounds[1], low=lo)
    n_actions = check_int("n_actions", n_actions, minimum=2)
    if rule == "hart-mas-colell":
        mu = 2.0 * max(abs(lo), abs(hi)) * n_actions
    elif rule == "kfh":
        mu = MU_SCALE * (hi - lo)
    else:
        raise ValueError(f"mu rule must be one of {list(MU_RULES)}, got {rule!r}")
    if not mu > 0:
        raise ValueError(f"payoff bounds {tuple(bounds)} give mu = {mu}; mu must be > 0")
    return float(mu)


class RegretMatching(Learner):
    """Hart & Mas-Colell's payoff-based modified regret matching, vectorized over the agents.

    Args:
        n_agents: number of agents (≥ 1).
        n_actions: number of actions m (≥ 2).
        mu: normalization μ > 0 of the regrets; the larger, the more inertia. There is no
            game-free default: use :meth:`for_bounds` / :func:`mu_from_bounds` (or
            ``populace.agents.make_learner``), which derive it from the game's payoff bounds.
        delta: exploration weight δ in (0, 1]: every action keeps probability ≥ δ/(m·t^γ).
        gamma: decay exponent γ ≥ 0 of the exploration δ/t^γ (0 keeps it constant).
        seed: seed of the learner's own generator.

    Defaults δ = 0.1 and γ = 0.2 lie inside Hart & Mas-Colell's conditions (0 < δ < 1,
    0 < γ < 1/4): exploration starts at 10 % and decays slowly (≈ 1.6 % after 10⁴ rounds).
    (γ = 0.25 behaved the same in our contribution-game runs.)

    Memory: the m×m table is 8·m² bytes per agent; with the policy, caches and scratch the
    learner holds about 8·m + 32 bytes per agent and action (192 for m = 20), see :attr:`nbytes`.

    One agent, two actions, μ = 20. It first plays 1 and earns 10, then plays 0 and earns 0; it
    now regrets not having played 1 (C(0, 1) = 10/2), so it shifts probability back to 1:

    >>> learner = RegretMatching(1, 2, mu=20.0, seed=0)
    >>> learner.update(np.array([1]), np.array([10.0]))
    >>> learner.policy().round(3).tolist()  # no regret yet: stay with 1, explore a little
    [[0.05, 0.95]]
    >>> learner.update(np.array([0]), np.array([0.0]))
    >>> learner.policy().round(3).tolist()
    [[0.728, 0.272]]
    """

    def __init__(
        self,
        n_agents: int,
        n_actions: int,
        *,
        mu: float,
        delta: float = 0.1,
        gamma: float = 0.2,
        seed: int | None = None,
    ) -> None:
        n_agents = check_int("n_agents", n_agents, minimum=1)
        n_actions = check_int("n_actions", n_actions, minimum=2)
        super().__init__(n_agents, n_actions, seed=seed)
        self.mu = check_number("mu", mu, low=0.0, low_open=True)
        self.delta = check_number("delta", delta, low=0.0, high=1.0, low_open=True)
        self.gamma = check_number("gamma", gamma, low=0.0)
        n, m = n_agents, n_actions
        self.t = 0
        self.probabilities = np.full((m, n), 1.0 / m)  # action-major: [k, i] = p_i(k)
        self.last_actions = np.full(n, -1, dtype=np.int64)  # s_t (-1 before the first round)
        self.weighted_sums = np.zeros((n, m, m))  # [i, k, j] = W_i[k, j] (see _follow)
        self._agents = np.arange(n, dtype=np.int64)
        self._work = np.empty((m, n))
        # Row s and column s of W_i for the action s each agent played last, contiguous across
        # agents; while agent i repeats s, row s of W_i lives only in _row_cache.
        self._cached = np.full(n, -1, dtype=np.int64)  # s per agent; -1: nothing cached
        self._row_cache = np.zeros((m, n))
        self._column_cache = np.zeros((m, n))

    @classmethod
    def for_bounds(
        cls,
        n_agents: int,
        n_actions: int,
        bounds: tuple[float, float],
        *,
        mu_rule: str = "kfh",
        **kwargs: Any,
    ) -> RegretMatching:
        """A learner whose μ comes from payoff bounds (lo, hi) by :func:`mu_from_bounds`."""
        mu = mu_from_bounds(bounds, n_actions, rule=mu_rule)
        return cls(n_agents, n_actions, mu=mu, **kwargs)

    # ------------------------------------------------------------------ playing
    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        """Draw one action per agent from its mixed strategy p_{t+1}.

        An agent repeats its last action j with probability p_{t+1}(j) (most agents, most of the
        time); the others draw among the remaining actions in proportion to their probabilities.
        Only those others need a pass over the actions.
        """
        n = self.n_agents
        draws = self.rng.random(n)
        if self.t == 0:
            movers = self._agents
            actions = np.zeros(n, dtype=np.int64)
            mass = self.probabilities.copy()
        else:
            last = self.last_actions
            repeat = self.probabilities.reshape(-1).take(last * n + self._agents)
            movers = np.flatnonzero(draws >= repeat)
            actions = last.copy()
            mass = self.probabilities[:, movers]
            mass[last[movers], np.arange(movers.size)] = 0.0  # choose among the others
        actions[movers] = _inverse_cdf(mass, self.rng)
        return actions

    def policy(self) -> np.ndarray:
        """Each agent's current mixed strategy p_{t+1}, ``(n_agents, n_actions)``."""
        return np.ascontiguousarray(self.probabilities.T)

    # ------------------------------------------------------------------ learning
    def update(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: np.ndarray | None = None,
        payoff_estimates: np.ndarray | None = None,
    ) -> None:
        """Add round t's terms to W and compute p_{t+1}."""
        played, payoffs = check_round(self.n_agents, self.n_actions, actions, rewards)
        self._follow(played)
        own = played * self.n_agents + self._agents  # flat index of (s_i, i) in (m, n) arrays
        self._add_round(own, payoffs)
        self.t += 1
        self._next_probabilities(own)
        self.last_actions = played.copy()

    def _follow(self, played: np.ndarray) -> None:
        """Point the row and column caches at the action s each agent just played.

        Agents whose cached action differs from s write their cached row back into W, then load
        row s and column s of W. Agents that repeat their action touch nothing here.
        """
        n, m = self.n_agents, self.n_actions
        movers = np.flatnonzero(played != self._cached)
        if movers.size == 0:
            return
        rows = self.weighted_sums.reshape(n * m, m)
        previous = self._cached[movers]
        known = previous >= 0
        old = movers[known]
        rows[old * m + previous[known]] = self._row_cache[:, old].T  # write the cached row back
        new = played[movers]
        self._row_cache[:, movers] = rows.take(movers * m + new, axis=0).T  # W[i, s, :]
        cells = (movers * (m * m) + new) + np.arange(m)[:, None] * m  # W[i, :, s]
        self._column_cache[:, movers] = self.weighted_sums.reshape(-1).take(cells)
        self._cached[movers] = new

    def _add_round(self, own: np.ndarray, payoffs: np.ndarray) -> None:
        """W[s, j] += p_t(j)·U/p_t(s) for every j (exactly U at j = s)."""
        weights = payoffs / self.probabilities.reshape(-1).take(own)
        terms = np.multiply(self.probabilities, weights, out=self._work)
        terms.reshape(-1)[own] = payoffs
        self._row_cache += terms
        self._column_cache.reshape(-1)[own] = self._row_cache.reshape(-1)[own]  # W[s, s]

    def _next_probabilities(self, own: np.ndarray) -> None:
        """p_{t+1} from column j = s_t of W: the regrets for having played j."""
        m, t = self.n_actions, self.t
        explore = self.delta / t**self.gamma
        keep = 1.0 - explore
        column = self._column_cache
        p = np.subtract(column, column.reshape(-1).take(own), out=self.probabilities)  # t·C_t
        p *= keep / (t * self.mu)
        np.clip(p, 0.0, keep / (m - 1), out=p)  # (1 − δ/t^γ)·min{D_t(j, k)/μ, 1/(m − 1)}
        p += explore / m
        flat = p.reshape(-1)
        flat[own] = 0.0
        flat[own] = 1.0 - p.sum(axis=0)

    # ------------------------------------------------------------------ inspection
    def regret_table(self) -> np.ndarray:
        """W with the cached rows written in, ``(n_agents, m, m)``: ``[i, k, j]`` = W_i[k, j]."""
        table = self.weighted_sums.copy()
        cached = np.flatnonzero(self._cached >= 0)
        rows = table.reshape(-1, self.n_actions)
        rows[cached * self.n_actions + self._cached[cached]] = self._row_cache[:, cached].T
        return table

    @property
    def nbytes(self) -> int:
        """Bytes held in the learner's arrays: state, caches and scratch."""
        return sum(
            value.nbytes for value in vars(self).values() if isinstance(value, np.ndarray)
        )

    # ------------------------------------------------------------------ state
    def config(self) -> dict[str, Any]:
        return {**super().config(), "mu": self.mu, "delta": self.delta, "gamma": self.gamma}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "t": np.array(self.t, dtype=np.int64),
            "last_actions": self.last_actions.copy(),
            "probabilities": self.probabilities.copy(),
            "weighted_sums": self.regret_table(),
        }

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        n, m = self.n_agents, self.n_actions
        t = int(checkpoint_array("t", arrays, (), np.int64))
        last = checkpoint_array("last_actions", arrays, (n,), np.int64)
        probabilities = checkpoint_array("probabilities", arrays, (m, n), np.float64)
        table = checkpoint_array("weighted_sums", arrays, (n, m, m), np.float64)
        if t < 0:
            raise ValueError(f"checkpoint 't' must be >= 0, got {t}")
        low = 0 if t > 0 else -1
        if last.min() < low or last.max() >= m or (t == 0 and (last != -1).any()):
            raise ValueError(f"checkpoint 'last_actions' must lie in [{low}, {m - 1}]")
        if not np.isfinite(probabilities).all() or (probabilities < 0).any():
            raise ValueError("checkpoint 'probabilities' must be finite and non-negative")
        self.t, self.last_actions, self.probabilities = t, last, probabilities
        self.weighted_sums = table
        self._cached.fill(-1)  # the caches refill from W on the next update


def _inverse_cdf(mass: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per column of non-negative weights ``(m, k)`` (overwrites ``mass``)."""
    m = mass.shape[0]
    for a in range(1, m):  # cumulative sums down the actions, vectorized over agents
        mass[a] += mass[a - 1]
    targets = rng.random(mass.shape[1])
    targets *= mass[-1]
    choice = np.zeros(mass.shape[1], dtype=np.int64)
    for a in range(m - 1):
        choice += mass[a] <= targets
    return choice
