"""ε-stage learners (Kash, Friedman & Halpern, AAMAS 2009, §3.3).

Play is cut into stages of ``tau`` rounds. During a stage an agent holds a *stage action* ``a``
and plays the mixed action a_ε: ``a`` with probability 1 − ε, otherwise one of the other
actions uniformly at random. When the stage ends, the agent adopts for the next stage the
action whose observed payoffs averaged highest during the stage just played. Because everybody
holds still for a whole stage, each stage is a stationary environment to learn in; KFH show
that in large anonymous games this makes the population follow approximate best-reply dynamics.
KFH take this way of exploring and averaging within a stage from earlier work (their
reference [9]); Greenwald, Friedman & Shenker (2001) saw stage learning converge in a variety
of simple games.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from populace.agents.base import (
    TabularLearner,
    Transition,
    check_payoff_estimates,
    check_round,
    checkpoint_array,
)
from populace.envs.validation import check_int, check_number


class StageLearner(TabularLearner):
    """A population of independent ε-stage learners (KFH §3.3), vectorized over the agents.

    Args:
        n_agents: number of agents (≥ 1).
        n_actions: number of actions (≥ 2).
        epsilon: exploration probability ε in [0, 1). An exploring agent plays one of the
            ``n_actions − 1`` actions other than its stage action, uniformly.
        tau: stage length τ in rounds (≥ 1). KFH's analysis uses τ = ⌈1/ε²⌉; their experiments
            use shorter stages that work better.
        use_statistics: if True, the value of an action in a stage is the average of the
            ``payoff_estimates`` extra the game computes each round from the agent's observation
            of population statistics (every action gets a value every round, so nothing is left
            unexplored), instead of the average of the payoffs the agent actually received. This
            is KFH's remark (§4) that agents who can turn statistics into expected payoffs learn
            as fast as under average payoffs, even when payoffs come from random matching.
        seed: seed of the learner's own generator.

    KFH §4 settings for the contribution game: ``payoff="average"``: ε = 0.05, τ = 250 (the
    defaults here); ``payoff="matching"``: ε = 0.01, τ = 2000.

    Rules at the end of a stage:

    * value of an action = average payoff over the rounds of the stage in which the agent played
      it; an action the agent did not play in the stage has value 0 (KFH's V(a, i, t)).
    * ties: the agent keeps its current stage action if that action is among the best;
      otherwise it takes the best action with the lowest index. (KFH leave ties open; keeping
      the current action avoids needless switching, which matters in games with flat payoffs.)

    Every agent starts with a stage action drawn uniformly at random, so the population starts
    from (nearly) uniform play, as in KFH's experiments. All agents' stages are synchronized.

    >>> learner = StageLearner(3, 3, epsilon=0.0, tau=2, seed=0)
    >>> learner.stage_actions = np.array([0, 1, 0])
    >>> bool((learner.act() == learner.stage_actions).all())  # ε = 0: always the stage action
    True
    >>> for _ in range(2):
    ...     learner.update(Transition.of_round([0, 1, 0], [1.0, 2.0, -1.0]))
    >>> learner.stage_actions.tolist()  # agent 2 earned −1 with 0; unplayed 1 and 2 count as 0
    [0, 1, 1]
    """

    def __init__(
        self,
        n_agents: int,
        n_actions: int,
        *,
        epsilon: float = 0.05,
        tau: int = 250,
        use_statistics: bool = False,
        seed: int | None = None,
    ) -> None:
        n_agents = check_int("n_agents", n_agents, minimum=1)
        n_actions = check_int("n_actions", n_actions, minimum=2)
        super().__init__(n_agents, n_actions, seed=seed)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, high=1.0, high_open=True)
        self.tau = check_int("tau", tau, minimum=1)
        if not isinstance(use_statistics, bool | np.bool_):
            raise TypeError(f"use_statistics must be True or False, got {use_statistics!r}")
        self.use_statistics = bool(use_statistics)
        self.extras = ("payoff_estimates",) if self.use_statistics else ()
        self.stage_actions = self.rng.integers(n_actions, size=n_agents, dtype=np.int64)
        self.payoff_sums = np.zeros((n_agents, n_actions))
        self.play_counts = np.zeros((n_agents, n_actions), dtype=np.int64)
        self.round_in_stage = 0
        self._row_starts = np.arange(n_agents, dtype=np.int64) * n_actions

    # ------------------------------------------------------------------ playing
    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        """Each agent plays its stage action w.p. 1 − ε, else a uniformly drawn other action.

        One uniform draw u per agent decides both: the agent explores when u < ε, and then
        ⌊u/ε·(m − 1)⌋ (uniform given u < ε) picks which of the m − 1 other actions.
        """
        actions = self.stage_actions.copy()
        if self.epsilon == 0.0:
            return actions
        m = self.n_actions
        draws = self.rng.random(self.n_agents)
        explorers = np.flatnonzero(draws < self.epsilon)
        scaled = draws[explorers] / self.epsilon  # uniform on [0, 1) given exploration
        other = np.minimum(scaled * (m - 1), m - 2).astype(np.int64)
        other += other >= actions[explorers]  # skip the stage action itself
        actions[explorers] = other
        return actions

    def policy(self) -> np.ndarray:
        """The mixed action a_ε of every agent, ``(n_agents, n_actions)``."""
        m = self.n_actions
        probabilities = np.full((self.n_agents, m), self.epsilon / (m - 1))
        probabilities[np.arange(self.n_agents), self.stage_actions] = 1.0 - self.epsilon
        return probabilities

    # ------------------------------------------------------------------ learning
    def update(self, transition: Transition) -> None:
        """Record one round; at the end of a stage, move every agent to its best action."""
        actions, rewards = check_round(
            self.n_agents, self.n_actions, transition.actions, transition.rewards
        )
        if self.use_statistics:
            estimates = check_payoff_estimates(
                self.n_agents, self.n_actions, transition.extras.get("payoff_estimates")
            )
            self.payoff_sums += estimates
        else:
            cells = self._row_starts + actions
            self.payoff_sums.reshape(-1)[cells] += rewards
            self.play_counts.reshape(-1)[cells] += 1
        self.round_in_stage += 1
        if self.round_in_stage == self.tau:
            self._end_stage()

    def stage_values(self) -> np.ndarray:
        """The value of every action in the current stage so far, ``(n_agents, n_actions)``."""
        if self.use_statistics:
            return self.payoff_sums / max(self.round_in_stage, 1)
        values = np.zeros_like(self.payoff_sums)
        np.divide(self.payoff_sums, self.play_counts, out=values, where=self.play_counts > 0)
        return values

    def _end_stage(self) -> None:
        values = self.stage_values()
        best = values.max(axis=1)
        current = values[np.arange(self.n_agents), self.stage_actions]
        keep = current >= best
        self.stage_actions = np.where(keep, self.stage_actions, values.argmax(axis=1))
        self.payoff_sums.fill(0.0)
        self.play_counts.fill(0)
        self.round_in_stage = 0

    # ------------------------------------------------------------------ state
    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "epsilon": self.epsilon, "tau": self.tau,
            "use_statistics": self.use_statistics,
        }

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "stage_actions": self.stage_actions.copy(),
            "payoff_sums": self.payoff_sums.copy(),
            "play_counts": self.play_counts.copy(),
            "round_in_stage": np.array(self.round_in_stage, dtype=np.int64),
        }

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        n, m = self.n_agents, self.n_actions
        stage_actions = checkpoint_array("stage_actions", arrays, (n,), np.int64)
        if stage_actions.size and (stage_actions.min() < 0 or stage_actions.max() >= m):
            raise ValueError(f"stage_actions must lie in [0, {m - 1}]")
        round_in_stage = int(checkpoint_array("round_in_stage", arrays, (), np.int64))
        if not 0 <= round_in_stage < self.tau:
            raise ValueError(f"round_in_stage must be in [0, {self.tau - 1}], got {round_in_stage}")
        self.stage_actions = stage_actions
        self.payoff_sums = checkpoint_array("payoff_sums", arrays, (n, m), np.float64)
        self.play_counts = checkpoint_array("play_counts", arrays, (n, m), np.int64)
        self.round_in_stage = round_in_stage

