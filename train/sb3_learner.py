"""PPO, A2C or DQN as a :class:`~populace.agents.base.Learner`: one network shared by every
agent of a group, scored by the same :func:`populace.train.train` loop as the paper learners.

How it fits an external act/update loop, and where that differs from SB3's own collection, is
described in :mod:`populace.train.sb3`. Follows SB3 2.9 (``on_policy_algorithm.py``,
``off_policy_algorithm.py``, ``dqn/dqn.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import TrainFrequencyUnit
from stable_baselines3.common.vec_env import VecEnv

from populace.agents.base import Learner, sample_actions
from populace.train.checkpoint import to_json
from populace.train.sb3_envs import PopulationVecEnv, ScaledRewards
from populace.train.sb3_state import load_model_arrays, model_arrays, sb3_random

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN}

# Defaults that differ from SB3's because one SB3 step here is a whole population of agents.
POPULATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 32},  # SB3's 2048 rounds would be 204,800 samples per update at N=100
    "a2c": {},
    "dqn": {"buffer_size": 100_000},
}


@dataclass
class _Acted:
    """What :meth:`SB3Learner.act` decided, kept for the matching :meth:`update`."""

    observations: np.ndarray
    actions: np.ndarray
    values: th.Tensor | None = None  # on-policy only
    log_probs: th.Tensor | None = None


@dataclass
class _Transition:
    """An on-policy transition waiting for the next observations (to detect a reset)."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    values: th.Tensor
    log_probs: th.Tensor
    next_observations: np.ndarray


class SB3Learner(Learner):
    """PPO, A2C or DQN with one network shared by every agent of a group.

    See :mod:`populace.train.sb3` for how it trains inside :func:`populace.train.train`.

    Args:
        env: the game (a core or a face); the learner controls its first group (or ``group``).
        algorithm: ``"ppo"``, ``"a2c"``, ``"dqn"`` (or the SB3 class).
        seed: seeds the network initialisation, action sampling and SB3's minibatches.
        total_rounds: planned length of act/update training, for SB3's schedules (learning
            rate, clip range, DQN's ε) — SB3 learns it from ``learn(total_timesteps)``.
        reward_scale: rewards are multiplied by this before SB3 sees them (act/update mode and
            ``learn``); a positive scale leaves the optimal policy unchanged and keeps value
            losses from swamping PPO/A2C's clipped gradients when payoffs are in the hundreds.
        policy: SB3 policy name or class.
        **algorithm_kwargs: passed to the SB3 algorithm (``gamma``, ``learning_rate``, ...),
            over :data:`POPULATION_DEFAULTS`. For PPO, ``batch_size`` defaults to a quarter of
            ``n_steps × n_agents``.
    """

    def __init__(
        self,
        env: Any,
        algorithm: str | type[BaseAlgorithm] = "ppo",
        *,
        seed: int | None = None,
        total_rounds: int = 10_000,
        reward_scale: float = 1.0,
        policy: str | type = "MlpPolicy",
        group: str | None = None,
        **algorithm_kwargs: Any,
    ) -> None:
        self.algorithm = _algorithm_name(algorithm)
        self.vec_env = PopulationVecEnv(env, group=group)
        space = self.vec_env.action_space
        if not isinstance(space, spaces.Discrete) or int(space.start) != 0:
            raise ValueError(f"SB3Learner needs Discrete(n) actions starting at 0, got {space}")
        super().__init__(self.vec_env.num_envs, int(space.n), seed=seed)
        if isinstance(total_rounds, bool) or not isinstance(total_rounds, int) or total_rounds < 1:
            raise ValueError(f"total_rounds must be a positive int, got {total_rounds!r}")
        if not np.isfinite(reward_scale) or reward_scale <= 0:
            raise ValueError(f"reward_scale must be a positive number, got {reward_scale!r}")
        self.total_rounds = total_rounds
        self.reward_scale = float(reward_scale)
        self.policy_name = policy if isinstance(policy, str) else policy.__name__
        self.algorithm_kwargs = {**POPULATION_DEFAULTS[self.algorithm], **algorithm_kwargs}
        kwargs = dict(self.algorithm_kwargs)
        kwargs.setdefault("device", "cpu")
        if self.algorithm == "ppo" and "batch_size" not in kwargs:
            samples = kwargs["n_steps"] * self.n_agents
            kwargs["batch_size"] = samples // 4 if samples % 4 == 0 and samples >= 8 else samples
        train_env: VecEnv = self.vec_env
        if self.reward_scale != 1.0:
            train_env = ScaledRewards(self.vec_env, self.reward_scale)
        with sb3_random(self.rng):
            self.model: BaseAlgorithm = ALGORITHMS[self.algorithm](policy, train_env, **kwargs)
        self.model.set_logger(Logger(folder=None, output_formats=[]))
        self.model._total_timesteps = total_rounds * self.n_agents
        self.on_policy = isinstance(self.model, OnPolicyAlgorithm)
        if not self.on_policy:
            dqn: Any = self.model
            dqn.exploration_rate = dqn.exploration_schedule(1.0)
        self._acted: _Acted | None = None
        self._pending: _Transition | None = None
        self._episode_starts = np.ones(self.n_agents, dtype=np.float32)
        self._last_observations: np.ndarray | None = None
        self._no_infos: list[dict[str, Any]] = [{} for _ in range(self.n_agents)]
        self._env_seeded = False

    # ----------------------------------------------------------------- SB3's own loop
    def learn(self, rounds: int, *, progress_bar: bool = False, callback: Any = None) -> SB3Learner:
        """Train with SB3's own ``learn`` for ``rounds`` population steps (× n_agents samples).

        Runs on this learner's :class:`PopulationVecEnv`; successive calls continue the same
        stream of episodes. The first call seeds the game from the learner's generator.
        """
        if not self._env_seeded:
            self.model.get_env().seed(int(self.rng.integers(2**31 - 1)))
            self.model.action_space.seed(int(self.rng.integers(2**31 - 1)))
            self._env_seeded = True
        with sb3_random(self.rng):
            self.model.learn(
                total_timesteps=rounds * self.n_agents, callback=callback,
                reset_num_timesteps=False, progress_bar=progress_bar,
            )
        self._last_observations = np.array(self.model._last_obs)
        return self

    # ----------------------------------------------------------------- Learner API
    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        obs = self._batch(observations)
        if self._pending is not None:
            self._close_pending(obs)
        self._last_observations = obs
        policy: Any = self.model.policy
        policy.set_training_mode(False)
        with th.no_grad():
            obs_tensor = self._tensor(obs)
            if self.on_policy:
                distribution = policy.get_distribution(obs_tensor)
                probabilities = _rows(distribution.distribution.probs)
                actions = sample_actions(probabilities, self.rng)
                action_tensor = th.as_tensor(actions, device=self.model.device)
                self._acted = _Acted(obs, actions, policy.predict_values(obs_tensor),
                                     distribution.log_prob(action_tensor))
                return actions
            greedy = policy.q_net(obs_tensor).argmax(dim=1).cpu().numpy()
        explore = self.rng.random(self.n_agents) < self._epsilon()
        random = self.rng.integers(self.n_actions, size=self.n_agents)
        actions = np.where(explore, random, greedy).astype(np.int64)
        self._acted = _Acted(obs, actions)
        return actions

    def update(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: np.ndarray | None = None,
        payoff_estimates: np.ndarray | None = None,
    ) -> None:
        acted = self._acted
        if acted is None:
            raise RuntimeError("SB3Learner.update() needs the act() of the same round first")
        self._acted = None
        actions = np.asarray(actions, dtype=np.int64).reshape(self.n_agents)
        rewards = np.asarray(rewards, dtype=np.float64).reshape(self.n_agents) * self.reward_scale
        next_obs = self._batch(next_observations)
        self._last_observations = next_obs
        model: Any = self.model
        model.num_timesteps += self.n_agents
        model._current_progress_remaining = max(
            0.0, 1.0 - model.num_timesteps / model._total_timesteps
        )
        if self.on_policy:
            values, log_probs = acted.values, acted.log_probs
            if not np.array_equal(actions, acted.actions):  # the loop played something else
                with th.no_grad():
                    values, log_probs, _ = model.policy.evaluate_actions(
                        self._tensor(acted.observations),
                        th.as_tensor(actions, device=model.device),
                    )
            assert values is not None and log_probs is not None
            self._pending = _Transition(acted.observations, actions, rewards,
                                        self._episode_starts, values, log_probs, next_obs)
            return
        model.replay_buffer.add(acted.observations, next_obs, actions, rewards,
                                np.zeros(self.n_agents), self._no_infos)
        model._on_step()  # target-network copy and ε schedule, as in DQN's own loop
        frequency = model.train_freq
        if frequency.unit != TrainFrequencyUnit.STEP:
            raise ValueError("act/update training needs DQN's train_freq in steps")
        if model._n_calls % frequency.frequency == 0 and model.num_timesteps > max(
            model.learning_starts, 0
        ):
            steps = model.gradient_steps
            if steps < 0:
                steps = frequency.frequency * self.n_agents
            if steps > 0:
                with sb3_random(self.rng):
                    model.train(gradient_steps=steps, batch_size=model.batch_size)

    def policy(self) -> np.ndarray:
        """Each agent's action probabilities at its last observation, ``(n_agents, n_actions)``.

        PPO/A2C: the shared actor's distribution. DQN: the ε-greedy mixture it samples from
        (uniform before ``learning_starts``). Before any observation, an all-zeros one is used.
        """
        obs = self._last_observations
        if obs is None:
            obs = self._batch(None)
        policy: Any = self.model.policy
        with th.no_grad():
            obs_tensor = self._tensor(obs)
            if self.on_policy:
                return _rows(policy.get_distribution(obs_tensor).distribution.probs)
            greedy = policy.q_net(obs_tensor).argmax(dim=1).cpu().numpy()
        epsilon = self._epsilon()
        probabilities = np.full((self.n_agents, self.n_actions), epsilon / self.n_actions)
        probabilities[np.arange(self.n_agents), greedy] += 1.0 - epsilon
        return probabilities

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "algorithm": self.algorithm,
            "policy": self.policy_name,
            "total_rounds": self.total_rounds,
            "reward_scale": self.reward_scale,
            "algorithm_kwargs": to_json(self.algorithm_kwargs),
        }

    # ----------------------------------------------------------------- on-policy collection
    def _close_pending(self, observations: np.ndarray) -> None:
        """Add the waiting transition to the rollout buffer; train when the buffer is full."""
        pending, self._pending = self._pending, None
        assert pending is not None
        model: Any = self.model
        rewards = pending.rewards
        continues = observations.shape == pending.next_observations.shape and np.array_equal(
            observations, pending.next_observations
        )
        if not continues:  # the loop reset the game: a time-limit truncation
            with th.no_grad():
                terminal = model.policy.predict_values(self._tensor(pending.next_observations))
            rewards = rewards + model.gamma * terminal.cpu().numpy().reshape(-1)
        buffer = model.rollout_buffer
        if buffer.full or buffer.generator_ready:  # left flattened by SB3's own learn()
            buffer.reset()
        buffer.add(pending.observations, pending.actions.reshape(-1, 1), rewards,
                   pending.episode_starts, pending.values, pending.log_probs)
        self._episode_starts = np.full(self.n_agents, float(not continues), dtype=np.float32)
        if buffer.full:
            with th.no_grad():
                last_values = model.policy.predict_values(self._tensor(observations))
            buffer.compute_returns_and_advantage(last_values=last_values,
                                                 dones=self._episode_starts)
            with sb3_random(self.rng):
                model.train()
            buffer.reset()

    # ----------------------------------------------------------------- helpers
    def _epsilon(self) -> float:
        model: Any = self.model
        if model.num_timesteps < model.learning_starts:
            return 1.0  # SB3's DQN plays uniformly at random before learning starts
        return float(model.exploration_rate)

    def _batch(self, observations: np.ndarray | None) -> np.ndarray:
        space = self.vec_env.observation_space
        if observations is None:
            return np.zeros((self.n_agents, *space.shape), dtype=space.dtype)
        return np.array(observations)

    def _tensor(self, observations: np.ndarray) -> th.Tensor:
        return self.model.policy.obs_to_tensor(observations)[0]

    # ----------------------------------------------------------------- checkpoints
    def _arrays(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            **model_arrays(self.model),
            "episode_starts": self._episode_starts.copy(),
            "last_observations": self._last_observations,
            "pending": None,
        }
        if self._pending is not None:
            state["pending"] = {
                name: value.cpu().numpy() if isinstance(value, th.Tensor) else value
                for name, value in vars(self._pending).items()
            }
        return state

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        load_model_arrays(self.model, arrays)
        self._episode_starts = np.asarray(arrays["episode_starts"], dtype=np.float32).copy()
        last = arrays["last_observations"]
        self._last_observations = None if last is None else np.array(last)
        self._acted = None
        self._pending = None
        saved = arrays["pending"]
        if saved is not None:
            self._pending = _Transition(**{
                name: th.as_tensor(np.asarray(value), device=self.model.device)
                if name in ("values", "log_probs") else np.array(value)
                for name, value in saved.items()
            })


def _rows(probabilities: th.Tensor) -> np.ndarray:
    """Float32 probabilities from torch as float64 rows that sum to 1."""
    rows = probabilities.cpu().numpy().astype(np.float64)
    return rows / rows.sum(axis=1, keepdims=True)


def _algorithm_name(algorithm: str | type[BaseAlgorithm]) -> str:
    if isinstance(algorithm, str):
        name = algorithm.lower()
    else:
        name = next((k for k, v in ALGORITHMS.items() if v is algorithm), "")
    if name not in ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {sorted(ALGORITHMS)} (or PPO/A2C/DQN), got {algorithm!r}"
        )
    return name

