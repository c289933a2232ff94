"""One measured baseline: SB3 PPO with a shared network on the contribution game
(see :mod:`populace.agents.sb3` for how the learner fits the loop)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from populace.agents.sb3.learner import SB3Learner
from populace.envs.anonymous.contribution import ContributionCore
from populace.train.loop import train

__all__ = ["PPOContributionResult", "train_ppo_contribution"]


@dataclass(frozen=True)
class PPOContributionResult:
    """What :func:`train_ppo_contribution` measured."""

    distance: float  # core.distance of the agents' average action distribution at the end
    mean_policy: np.ndarray  # that average distribution, (20,)
    agent_steps: int  # samples PPO trained on (rounds × n_agents)
    seconds: float
    learner: SB3Learner
    played_distance: float | None  # distance of the actions played in the last train() window


def train_ppo_contribution(
    agent_steps: int = 50_000,
    *,
    n_agents: int = 100,
    seed: int = 0,
    drive: str = "train",
    gamma: float = 0.0,
    reward_scale: float = 0.01,
    **ppo_kwargs: object,
) -> PPOContributionResult:
    """PPO with parameter sharing on ``contribution_v0`` (``payoff="average"``).

    ``drive="train"`` runs :func:`populace.train.train` (act/update), ``drive="learn"`` SB3's
    own ``learn``. Each round of the contribution game is a one-shot game whose payoff does not
    depend on earlier play, so ``gamma=0`` (a bandit target) is the faithful choice; payoffs
    reach the hundreds, so rewards are scaled by 0.01 (see :class:`SB3Learner`). Returns the
    distance from equilibrium, d(ρ) = Σ_a ρ(a)|a − 8|, of the agents' average policy.
    """
    if drive not in ("train", "learn"):
        raise ValueError(f"drive must be 'train' or 'learn', got {drive!r}")
    core = ContributionCore(n_agents=n_agents, payoff="average")
    rounds = max(1, agent_steps // n_agents)
    build: Callable[..., SB3Learner] = SB3Learner  # ``ppo_kwargs`` are PPO's to check
    learner = build(core, "ppo", seed=seed, total_rounds=rounds, gamma=gamma,
                    reward_scale=reward_scale, **ppo_kwargs)
    start = time.perf_counter()
    played = None
    if drive == "train":
        result = train(core, learner, rounds, seed=seed, window=min(100, rounds), progress=False)
        played = float(result.history.final("distance"))
    else:
        learner.learn(rounds)
    seconds = time.perf_counter() - start
    mean_policy = np.asarray(learner.policy()).mean(axis=0)  # PPO: a probability table
    return PPOContributionResult(float(core.distance(mean_policy)), mean_policy,
                                 rounds * n_agents, seconds, learner, played)
