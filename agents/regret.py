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
0 < γ < 1/4). Kash, Friedman & Halpern (AAMAS 2009, §4) use it as their no-regret baseline
("with improvements suggested by Greenwald et al.", which they do not spell out) and report
that it converges quickly but less tightly than stage learners. As written above it converges
less tightly and also slowly; the reproductions draw KFH's curve with the two options below
(docs/reproductions/index.md, "Note on regret matching", has the measurements).

Two options of ours, both off by default (the default is the procedure above, bit for bit):

* ``discount=λ`` — a responsive variant after Greenwald, Friedman & Shenker (2001): the
  regrets average the past with weights (1 − λ)^age, C_t = (1/Z_t)·Σ_τ (1 − λ)^{t−τ}·[terms]
  with Z_t = (1 − (1 − λ)^t)/λ the number of rounds remembered, which also replaces t in the
  exploration δ/t^γ (so exploration levels off at δ·λ^γ). λ → 0 is Hart & Mas-Colell.
* ``baseline="running_mean"`` — each agent replaces U_τ by U_τ − b_{τ−1}, its own average
  payoff so far (weighted like the regrets). b_{τ−1} is fixed before s_τ is drawn, so the
  regrets stay unbiased, but the importance weights p(j)/p(k), often in the hundreds, now
  multiply a gain over the usual payoff instead of the payoff itself, which removes most of
  the estimates' variance (the control-variate baseline of policy-gradient methods).

**Bookkeeping.** Per agent we keep W[k, j] = Σ_{τ≤t, s_τ=k} p_τ(j)/p_τ(k)·U_τ, an m×m table
whose diagonal W[j, j] = Σ_{s_τ=j} U_τ is kept exact, so that C_t(j, k) = (W[k, j] − W[j, j])/t.
A round adds to row s_t of W and then reads column s_t. Both live in caches that are contiguous
across agents (one row and one column per agent, for the action it played last, and W[s, s] on
its own); only agents that switch action touch the big (agents × m × m) table, and a round
runs over blocks of agents so that each block stays in the processor's cache. Nothing of that
size is allocated per round. With a discount the table holds W·(1 − λ)^−t (each round's terms
are scaled up instead of the whole table down) and is divided by 2^256 when that factor
passes 2^256: an exact operation, so results do not depend on when it happens. The arithmetic
is rearranged where that saves a pass over the arrays (U/p(k) is computed once per agent;
(1 − δ/t^γ) is applied inside the min); the results agree with the formulas above to rounding,
and tests compare them with a plain per-agent implementation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from populace.agents.base import (
    TabularLearner,
    Transition,
    check_round,
    checkpoint_array,
    discrete_actions,
    pick_group,
)
from populace.envs.core import PopulationCore
from populace.envs.validation import check_int, check_number

MU_RULES = ("range", "hart-mas-colell")
PAYOFF_BASELINES = ("none", "running_mean")  # see RegretMatching (baseline=)
MU_SCALE = 0.1  # the "range" rule: μ = MU_SCALE · (hi − lo), see mu_from_bounds
BLOCK = 8192  # agents per block of the per-action arithmetic in update
RESCALE_EXPONENT = 256  # with a discount, W's stored form is divided by 2^256 when it grows past it


def mu_from_bounds(bounds: tuple[float, float], n_actions: int, *, rule: str = "range") -> float:
    """Derive the normalization μ of :class:`RegretMatching` from payoff bounds (lo, hi).

    * ``"range"`` (default): μ = 0.1·(hi − lo), a tenth of the payoff range (*ours*: KFH do
      not say which μ they used). Measured on the contribution game with average payoffs
      (N = 10, 100, 1000; 6000 rounds): every μ between 0.001 and 0.3 times the range behaves
      alike (the distance from equilibrium falls from ≈ 4 to ≈ 2.5–3), μ = the range is
      clearly slower, and the theorem's bound below barely moves in that time. What limits
      this learner there is that its regrets average over the whole history, not μ. Stage
      learners reach ≈ 0.3 within 1000 rounds, so the baseline converges less tightly, as KFH
      report.
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
    elif rule == "range":
        mu = MU_SCALE * (hi - lo)
    else:
        raise ValueError(f"mu rule must be one of {list(MU_RULES)}, got {rule!r}")
    if not mu > 0:
        raise ValueError(f"payoff bounds {tuple(bounds)} give mu = {mu}; mu must be > 0")
    return float(mu)


class RegretMatching(TabularLearner):
    """Hart & Mas-Colell's payoff-based modified regret matching, vectorized over the agents.

    Args:
        n_agents: number of agents (≥ 1).
        n_actions: number of actions m (≥ 2).
        mu: normalization μ > 0 of the regrets; the larger, the more inertia. There is no
            game-free default: use :meth:`for_bounds` / :func:`mu_from_bounds` (or
            ``populace.agents.make_learner``), which derive it from the game's payoff bounds.
        delta: exploration weight δ in (0, 1]: every action keeps probability ≥ δ/(m·Z_t^γ).
        gamma: decay exponent γ ≥ 0 of the exploration δ/Z_t^γ (0 keeps it constant).
        discount: None (default) for Hart & Mas-Colell's time average; λ in (0, 1) for the
            responsive variant (*ours*, see the module docstring): the regrets average the
            past with weights (1 − λ)^age, and Z_t = (1 − (1 − λ)^t)/λ replaces t.
        baseline: ``"none"`` (default) uses the payoffs as they are; ``"running_mean"``
            (*ours*, see the module docstring) subtracts from each payoff the agent's own
            average payoff of the earlier rounds, weighted like the regrets. Unbiased, and much
            less noisy when payoffs are far from 0.
        seed: seed of the learner's own generator.

    Defaults δ = 0.1 and γ = 0.2 lie inside Hart & Mas-Colell's conditions (0 < δ < 1,
    0 < γ < 1/4): exploration starts at 10 % and decays slowly (≈ 1.6 % after 10⁴ rounds).
    (γ = 0.25 behaved the same in our contribution-game runs.)

    Memory: the m×m table is 8·m² bytes per agent; with the policy, caches and scratch the
    learner holds about 8·m + 27 bytes per agent and action (187 for m = 20 and 10⁵ agents, 194
    for 2000 agents), see :attr:`nbytes`.

    One agent, two actions, μ = 20. It first plays 1 and earns 10, then plays 0 and earns 0; it
    now regrets not having played 1 (C(0, 1) = 10/2), so it shifts probability back to 1:

    >>> learner = RegretMatching(1, 2, mu=20.0, seed=0)
    >>> learner.update(Transition.of_round([1], [10.0]))
    >>> learner.policy().round(3).tolist()  # no regret yet: stay with 1, explore a little
    [[0.05, 0.95]]
    >>> learner.update(Transition.of_round([0], [0.0]))
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
        discount: float | None = None,
        baseline: str = "none",
        seed: int | None = None,
    ) -> None:
        n_agents = check_int("n_agents", n_agents, minimum=1)
        n_actions = check_int("n_actions", n_actions, minimum=2)
        super().__init__(n_agents, n_actions, seed=seed)
        self.mu = check_number("mu", mu, low=0.0, low_open=True)
        self.delta = check_number("delta", delta, low=0.0, high=1.0, low_open=True)
        self.gamma = check_number("gamma", gamma, low=0.0)
        self.discount = None if discount is None else check_number(
            "discount", discount, low=0.0, high=1.0, low_open=True, high_open=True
        )
        if baseline not in PAYOFF_BASELINES:
            raise ValueError(f"baseline must be one of {list(PAYOFF_BASELINES)}, got {baseline!r}")
        self.baseline = baseline
        n, m = n_agents, n_actions
        self.t = 0
        # b_i: agent i's average realized payoff so far, weighted like the regrets (baseline only)
        self.baseline_values = np.zeros(n) if baseline == "running_mean" else None
        self.scale = 1.0  # W = weighted_sums / scale (1 without a discount)
        self.probabilities = np.full((m, n), 1.0 / m)  # action-major: [k, i] = p_i(k)
        self.last_actions = np.full(n, -1, dtype=np.int64)  # s_t (-1 before the first round)
        self.weighted_sums = np.zeros((n, m, m))  # [i, k, j] = W_i[k, j] (see _follow)
        self._agents = np.arange(n, dtype=np.int64)
        block = min(n, BLOCK)
        self._blocks = [slice(start, start + block) for start in range(0, n, block)]
        self._block_ends = np.minimum(np.arange(block, n + block, block), n)
        self._work = np.empty((m, block))
        self._weights = np.empty(block)
        # p_{t+1}(s_t) = probabilities[s_t, i], the chance to repeat (p_t(s_t) within update)
        self._stay = np.full(n, 1.0 / m)
        # Row s and column s of W_i for the action s each agent played last, contiguous across
        # agents, and W_i[s, s] on its own; while agent i repeats s, these live only here.
        self._cached = np.full(n, -1, dtype=np.int64)  # s per agent; -1: nothing cached
        self._row_cache = np.zeros((m, n))  # entry s is stale: W[s, s] is _diagonal
        self._column_cache = np.zeros((m, n))  # entry s is stale too
        self._diagonal = np.zeros(n)
        self._rescale_exponent = RESCALE_EXPONENT

    @classmethod
    def for_bounds(
        cls,
        n_agents: int,
        n_actions: int,
        bounds: tuple[float, float],
        *,
        mu_rule: str = "range",
        **kwargs: object,
    ) -> RegretMatching:
        """A learner whose μ comes from payoff bounds (lo, hi) by :func:`mu_from_bounds`;
        ``kwargs`` are the constructor's other keywords, checked there."""
        mu = mu_from_bounds(bounds, n_actions, rule=mu_rule)
        build: Callable[..., RegretMatching] = cls
        return build(n_agents, n_actions, mu=mu, **kwargs)

    # narrows Learner.for_game's keywords (mu_rule is a str); make_learner checks the names
    @classmethod
    def for_game(  # type: ignore[override]
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        mu_rule: str | None = None, **kwargs: object,
    ) -> RegretMatching:
        """A learner for ``group`` of ``core``; unless ``mu=`` is given, μ comes from the game's
        ``payoff_bounds()`` by :func:`mu_from_bounds` (rule ``mu_rule``)."""
        chosen = pick_group(core, group)
        n_actions = discrete_actions(chosen)
        if "mu" in kwargs and mu_rule is not None:
            raise ValueError("give mu or mu_rule, not both")
        if "mu" not in kwargs:
            bounds = getattr(core, "payoff_bounds", None)
            if not callable(bounds):
                raise ValueError(
                    f"{type(core).__name__} has no payoff_bounds(); pass mu= to the regret learner"
                )
            kwargs["mu"] = mu_from_bounds(bounds(), n_actions, rule=mu_rule or "range")
        build: Callable[..., RegretMatching] = cls  # its keywords (Learner.for_game)
        learner = build(chosen.size, n_actions, seed=seed, **kwargs)
        learner.group = chosen.name
        return learner

    def effective_rounds(self) -> float:
        """Z_t, the weight of the history the regrets average: t, or (1 − (1 − λ)^t)/λ."""
        if self.discount is None:
            return float(self.t)
        return -math.expm1(self.t * math.log1p(-self.discount)) / self.discount

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
            movers = np.flatnonzero(draws >= self._stay)
            actions = last.copy()
            mass = self.probabilities.take(movers, axis=1)
            mass[last[movers], np.arange(movers.size)] = 0.0  # choose among the others
        actions[movers] = _inverse_cdf(mass, self.rng)
        return actions

    def policy(self) -> np.ndarray:
        """Each agent's current mixed strategy p_{t+1}, ``(n_agents, n_actions)``."""
        return np.ascontiguousarray(self.probabilities.T)

    # ------------------------------------------------------------------ learning
    def update(self, transition: Transition) -> None:
        """Add round t's terms to W and compute p_{t+1}.

        One pass over blocks of agents: in each block, the agents whose cached action is not
        the one they just played swap their caches (:meth:`_follow`), then the block's
        per-action arithmetic runs (:meth:`_learn`) while its rows are still in cache.
        """
        played, payoffs = check_round(
            self.n_agents, self.n_actions, transition.actions, transition.rewards
        )
        self.t += 1
        rounds = self.effective_rounds()
        if self.baseline_values is not None:  # U − b_{t−1}, then b_t = b_{t−1} + (U − b_{t−1})/Z_t
            shifted = payoffs - self.baseline_values
            self.baseline_values += shifted / rounds
            payoffs = shifted
        if self.discount is not None:
            if self.scale > 2.0**self._rescale_exponent:
                self._rescale()
            self.scale /= 1.0 - self.discount  # (1 − λ)^−t, up to a power of 2
            payoffs = payoffs * self.scale
        own = played * self.n_agents + self._agents  # flat index of (s_i, i) in (m, n) arrays
        movers = np.flatnonzero(played != self._cached)
        if len(self._blocks) == 1:
            ends = [movers.size]
        else:
            ends = np.searchsorted(movers, self._block_ends).tolist()
        explore = self.delta / rounds**self.gamma
        keep = 1.0 - explore
        factor = keep / (rounds * self.mu * self.scale)  # keep·C_t/μ per stored difference
        start = 0
        for agents, end in zip(self._blocks, ends, strict=True):
            if end > start:
                self._follow(played, own, movers[start:end])
                start = end
            self._learn(agents, own[agents], payoffs[agents], factor, keep, explore)
        self.last_actions = played.copy()

    def _learn(
        self, agents: slice, own: np.ndarray, payoffs: np.ndarray, factor: float, keep: float,
        explore: float,
    ) -> None:
        """Round t for a block of agents whose caches hold the action s_t they played."""
        m = self.n_actions
        p = self.probabilities[:, agents]
        size = p.shape[1]
        # W[s, j] += p_t(j)·U/p_t(s) for j ≠ s and W[s, s] += U (U scaled with a discount)
        weights = np.divide(payoffs, self._stay[agents], out=self._weights[:size])
        terms = np.multiply(p, weights, out=self._work[:, :size])
        self._row_cache[:, agents] += terms  # stale at j = s: W[s, s] is _diagonal
        diagonal = self._diagonal[agents]
        diagonal += payoffs
        # p_{t+1} from column j = s_t of W: the regrets for having played j
        np.subtract(self._column_cache[:, agents], diagonal, out=p)  # Z_t·C_t(j, ·)·scale
        p *= factor
        np.clip(p, 0.0, keep / (m - 1), out=p)  # (1 − δ/Z_t^γ)·min{D_t(j, k)/μ, 1/(m − 1)}
        p += explore / m
        flat = self.probabilities.reshape(-1)
        flat[own] = 0.0
        stay = np.sum(p, axis=0, out=self._stay[agents])
        np.subtract(1.0, stay, out=stay)
        flat[own] = stay

    def _follow(self, played: np.ndarray, own: np.ndarray, movers: np.ndarray) -> None:
        """Point the caches of ``movers`` at the action s each of them just played.

        Each writes its cached row and diagonal back into W (unless nothing was cached), then
        loads row s, column s and W[s, s], and looks up p_t(s) (the others' p_t(s_t) is
        p_t(s_{t−1}), which ``_stay`` holds). Agents that repeat their action touch nothing.
        """
        n, m = self.n_agents, self.n_actions
        cells = self.weighted_sums.reshape(-1)
        rows = self.weighted_sums.reshape(n * m, m)
        previous = self._cached[movers]
        known = previous >= 0
        old, previous = movers[known], previous[known]
        leaving = self._row_cache[:, old]
        leaving[previous, np.arange(old.size)] = self._diagonal[old]
        rows[old * m + previous] = leaving.T  # write the cached row back, with its diagonal
        new = played[movers]
        entering = rows.take(movers * m + new, axis=0)  # W[i, s, :]
        self._row_cache[:, movers] = entering.T
        self._diagonal[movers] = entering[np.arange(movers.size), new]  # W[i, s, s]
        column = (movers * (m * m) + new)[:, None] + np.arange(m) * m  # W[i, :, s], agent by agent
        self._column_cache[:, movers] = cells.take(column).T
        self._cached[movers] = new
        self._stay[movers] = self.probabilities.reshape(-1).take(own[movers])  # p_t(s_t)

    def _rescale(self) -> None:
        """Divide W's stored form and its scale by 2^e: exact, so the results do not change."""
        factor = 2.0**-self._rescale_exponent
        for stored in (self.weighted_sums, self._row_cache, self._column_cache, self._diagonal):
            stored *= factor
        self.scale *= factor

    # ------------------------------------------------------------------ inspection
    def regret_table(self) -> np.ndarray:
        """W with the cached rows written in, ``(n_agents, m, m)``: ``[i, k, j]`` = W_i[k, j]."""
        table = self._stored_table()
        if self.scale != 1.0:
            table /= self.scale
        return table

    def _stored_table(self) -> np.ndarray:
        """scale·W with the cached rows and diagonals written in."""
        m = self.n_actions
        table = self.weighted_sums.copy()
        cached = np.flatnonzero(self._cached >= 0)
        action = self._cached[cached]
        at = cached * m + action
        table.reshape(-1, m)[at] = self._row_cache[:, cached].T
        table.reshape(-1)[at * m + action] = self._diagonal[cached]
        return table

    @property
    def nbytes(self) -> int:
        """Bytes held in the learner's arrays: state, caches and scratch."""
        return sum(
            value.nbytes for value in vars(self).values() if isinstance(value, np.ndarray)
        )

    # ------------------------------------------------------------------ state
    def config(self) -> dict[str, Any]:
        config = {
            **super().config(), "mu": self.mu, "delta": self.delta, "gamma": self.gamma,
            "discount": self.discount,
        }
        if self.baseline != "none":  # absent by default: older checkpoints still load
            config["baseline"] = self.baseline
        return config

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "t": np.array(self.t, dtype=np.int64),
            "last_actions": self.last_actions.copy(),
            "probabilities": self.probabilities.copy(),
            "weighted_sums": self._stored_table(),
        }
        if self.discount is not None:
            arrays["scale"] = np.array(self.scale)
        if self.baseline_values is not None:
            arrays["baseline_values"] = self.baseline_values.copy()
        return arrays

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        n, m = self.n_agents, self.n_actions
        t = int(checkpoint_array("t", arrays, (), np.int64))
        last = checkpoint_array("last_actions", arrays, (n,), np.int64)
        probabilities = checkpoint_array("probabilities", arrays, (m, n), np.float64)
        table = checkpoint_array("weighted_sums", arrays, (n, m, m), np.float64)
        scale = 1.0
        if self.discount is not None:
            scale = float(checkpoint_array("scale", arrays, (), np.float64))
        values = None
        if self.baseline_values is not None:
            values = checkpoint_array("baseline_values", arrays, (n,), np.float64)
            if not np.isfinite(values).all():
                raise ValueError("checkpoint 'baseline_values' must be finite")
        if t < 0:
            raise ValueError(f"checkpoint 't' must be >= 0, got {t}")
        low = 0 if t > 0 else -1
        if last.min() < low or last.max() >= m or (t == 0 and (last != -1).any()):
            raise ValueError(f"checkpoint 'last_actions' must lie in [{low}, {m - 1}]")
        if not np.isfinite(probabilities).all() or (probabilities < 0).any():
            raise ValueError("checkpoint 'probabilities' must be finite and non-negative")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"checkpoint 'scale' must be finite and positive, got {scale}")
        self.t, self.last_actions, self.probabilities = t, last, probabilities
        self.weighted_sums, self.scale = table, scale
        if values is not None:
            self.baseline_values = values.copy()
        self._cached.fill(-1)  # the caches refill from W on the next update
        if t > 0:
            self._stay = probabilities.reshape(-1).take(last * n + self._agents)
        else:
            self._stay.fill(1.0 / m)


def _inverse_cdf(mass: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per column of non-negative weights ``(m, k)`` (overwrites ``mass``).

    Cumulative sums down the actions, vectorized over the columns: whole-array calls for a few
    columns, a loop over the actions for many (faster there); both add in the same order.
    """
    m, k = mass.shape
    if k < 256:
        np.cumsum(mass, axis=0, out=mass)
    else:
        for a in range(1, m):
            mass[a] += mass[a - 1]
    targets = rng.random(k)
    targets *= mass[-1]
    if k < 256:
        return cast(np.ndarray, (mass[:-1] <= targets).sum(axis=0, dtype=np.int64))
    choice = np.zeros(k, dtype=np.int64)
    for a in range(m - 1):
        choice += mass[a] <= targets
    return choice
