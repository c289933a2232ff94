"""Stable-Baselines3 baselines on Populace games, with one network shared by all agents.

Needs the ``baselines`` extra (``torch``, ``stable-baselines3``, ``supersuit``). Three pieces:

* :class:`PopulationVecEnv` — an SB3 ``VecEnv`` whose ``num_envs`` slots are the agents of one
  group of a :class:`~populace.envs.core.PopulationCore`. An SB3 algorithm trained on it learns
  one policy that every agent uses (parameter sharing). A step is one core step over the whole
  population; the only per-agent Python is the list of info dicts SB3 expects every step.
* :func:`supersuit_vec_env` — the usual PettingZoo route, SuperSuit's
  ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1(..., base_class="stable_baselines3")``,
  with two gaps of SuperSuit 3.11 under SB3 2.9 fixed (see :class:`SuperSuitVecEnv`). It works
  on any PettingZoo env whose agents share one observation and one action space; it is slower
  than :class:`PopulationVecEnv` because it goes through per-agent dicts.
* :class:`SB3Learner` — PPO, A2C or DQN as a :class:`~populace.agents.base.Learner`, so the
  same :func:`populace.train.train` loop and the same metrics score it and the paper learners.

How :class:`SB3Learner` fits an external act/update loop
----------------------------------------------------------
An SB3 algorithm owns its loop: ``learn()`` alternates ``collect_rollouts`` (step the env, fill
a buffer) and ``train()`` (gradient steps on the buffer). The learner offers both halves:

1. ``learner.learn(rounds)`` runs SB3's own ``learn`` on a :class:`PopulationVecEnv` over the
   learner's core — SB3's code path, untouched.
2. ``act``/``update`` (what :func:`populace.train.train` calls) do the collection half
   themselves: the transitions the train loop reports go into the algorithm's own buffer
   (``RolloutBuffer`` for PPO/A2C, ``ReplayBuffer`` for DQN), and the algorithm's ``train()``
   runs where SB3's ``learn`` would run it — after every ``n_steps`` rounds (PPO/A2C, with SB3's
   GAE on the filled buffer), every ``train_freq`` rounds once ``learning_starts`` agent-steps
   are collected (DQN, whose target-network copies and ε schedule come from ``DQN._on_step``).
   The network, optimizer and update rule are SB3's; only the data collection is ours.

Where the act/update mode differs from SB3's own collection (on purpose, and documented):

* Actions are drawn with the learner's numpy generator from the policy's probabilities, so a
  learner seed fixes a run. DQN explores independently per agent (SB3's ``DQN.predict`` flips
  one coin for the whole batch).
* Episode ends are told, not reported by a VecEnv: SB3 reads them from ``dones`` and
  ``infos``, the learner from the ``terminated``/``truncated`` flags of the
  :class:`~populace.agents.base.Transition`, whose ``next_observations`` are the true
  successor (what SB3 keeps in ``terminal_observation``), never the next episode's first
  observation. Nothing is inferred from the observations. Each ``update`` adds its row to the
  buffer at once and treats the flags as SB3 treats an episode end: on a truncation (a time
  limit such as ``max_cycles``) PPO/A2C add ``γ·V(next_observations)`` to the reward, because
  the episode was cut short, not finished; on a termination they add nothing. Either way the
  next row starts a new episode, so GAE never runs across the boundary. DQN stores
  ``done=True`` for both and marks a truncation as a time-out in the info, which SB3's replay
  buffer (``handle_timeout_termination``, on by default) leaves out of its targets: only a
  termination stops the bootstrap. Games that terminate train in this mode as well as with
  :meth:`SB3Learner.learn`.
* SB3 draws minibatches and exploration noise from numpy's and torch's *global* generators.
  Every call into SB3 that may draw random numbers runs inside a context that seeds both from
  the learner's generator and restores them afterwards, so runs are reproducible and the
  caller's global random state is left alone.

The pieces live in :mod:`populace.envs.sb3_vec_env` (the two VecEnvs),
:mod:`populace.agents.sb3_learner` (:class:`SB3Learner`) and :mod:`populace.agents.sb3_state`
(checkpoints and global random state); this module re-exports them and measures one baseline,
:func:`train_ppo_contribution`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from populace.agents.sb3_learner import ALGORITHMS, POPULATION_DEFAULTS, SB3Learner
from populace.envs.contribution_v0 import ContributionCore
from populace.envs.sb3_vec_env import PopulationVecEnv, SuperSuitVecEnv, supersuit_vec_env
from populace.train.loop import train

__all__ = [
    "ALGORITHMS",
    "POPULATION_DEFAULTS",
    "PPOContributionResult",
    "PopulationVecEnv",
    "SB3Learner",
    "SuperSuitVecEnv",
    "supersuit_vec_env",
    "train_ppo_contribution",
]


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
    **ppo_kwargs: Any,
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
    learner = SB3Learner(core, "ppo", seed=seed, total_rounds=rounds, gamma=gamma,
                         reward_scale=reward_scale, **ppo_kwargs)
    start = time.perf_counter()
    played = None
    if drive == "train":
        result = train(core, learner, rounds, seed=seed, window=min(100, rounds), progress=False)
        played = float(result.history.final("distance"))
    else:
        learner.learn(rounds)
    seconds = time.perf_counter() - start
    mean_policy = learner.policy().mean(axis=0)
    return PPOContributionResult(float(core.distance(mean_policy)), mean_policy,
                                 rounds * n_agents, seconds, learner, played)
