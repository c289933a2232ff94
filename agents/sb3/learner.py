"""PPO, A2C, DQN (discrete actions) or SAC (Box actions) as a
:class:`~populace.agents.base.Learner`: one network shared by every agent of a group, scored by
the same :func:`populace.train.train` loop as the paper learners.

How it fits an external act/update loop, and where that differs from SB3's own collection, is
described in :mod:`populace.agents.sb3.ppo_contribution`. Follows SB3 2.9
(``on_policy_algorithm.py``,
``off_policy_algorithm.py``, ``dqn/dqn.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import MaybeCallback, TrainFrequencyUnit
from stable_baselines3.common.vec_env import VecEnv

from populace.agents.base import Learner, Transition, check_round, pick_group
from populace.agents.sb3.state import load_model_arrays, model_arrays, sb3_random
from populace.agents.sb3.vec_env import PopulationVecEnv, ScaledRewards
from populace.envs.core import PopulationCore
from populace.envs.faces import unwrap_core
from populace.envs.policies import ActionFunction, sample_actions
from populace.envs.validation import check_choice, check_int, check_number
from populace.jsonable import to_json

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN, "sac": SAC}
CONTINUOUS = ("sac",)  # the algorithms for Box actions; the others take Discrete(n)
CHUNK = 65_536  # observations per forward pass when action probabilities are tabulated

# Defaults that differ from SB3's because one SB3 step here is a whole population of agents.
POPULATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {"n_steps": 32},  # SB3's 2048 rounds would be 204,800 samples per update at N=100
    "a2c": {},
    "dqn": {"buffer_size": 100_000},
    "sac": {"buffer_size": 100_000},
}


@dataclass
class _Acted:
    """What :meth:`SB3Learner.act` decided, kept for the matching :meth:`update`."""

    observations: np.ndarray
    actions: np.ndarray
    values: th.Tensor | None = None  # on-policy only
    log_probs: th.Tensor | None = None


class SB3Learner(Learner):
    """PPO, A2C or DQN with one network shared by every agent of a group.

    See :mod:`populace.agents.sb3.ppo_contribution` for how it trains inside
    :func:`populace.train.train`.

    Args:
        env: the game (a core or a face); the learner controls its first group (or ``group``),
            which must have ``Discrete(n)`` actions starting at 0.
        algorithm: ``"ppo"``, ``"a2c"``, ``"dqn"`` (or the SB3 class).
        seed: seeds the network initialisation, action sampling and SB3's minibatches.
        total_rounds: planned length of act/update training, for SB3's schedules (learning
            rate, clip range, DQN's ε) — SB3 learns it from ``learn(total_timesteps)``.
        reward_scale: rewards are multiplied by this before SB3 sees them (act/update mode and
            ``learn``); a positive scale leaves the optimal policy unchanged and keeps value
            losses from swamping PPO/A2C's clipped gradients when payoffs are in the hundreds.
        policy: SB3 policy name or class.
        group: the group to control (default: the first).
        **algorithm_kwargs: passed to the SB3 algorithm (``gamma``, ``learning_rate``, ...),
            over :data:`POPULATION_DEFAULTS`. For PPO, ``batch_size`` defaults to a quarter of
            ``n_steps × n_agents``.

    One round of the act/update protocol, as the train loop plays it:

    >>> from populace.envs.anonymous.contribution import ContributionCore
    >>> core = ContributionCore(n_agents=4, observe="population")
    >>> learner = SB3Learner.for_game(core, seed=0, algorithm="ppo", n_steps=8)
    >>> observations = core.reset(seed=0)[learner.group]
    >>> actions = learner.act(observations)
    >>> step = core.step({learner.group: actions})
    >>> learner.update(Transition(observations, actions, step.rewards["agent"],
    ...                           step.observations["agent"], step.terminated, step.truncated))
    >>> learner.policy().shape
    (4, 20)
    """

    def __init__(
        self,
        env: object,
        algorithm: str | type[BaseAlgorithm] = "ppo",
        *,
        seed: int | None = None,
        total_rounds: int = 10_000,
        reward_scale: float = 1.0,
        policy: str | type = "MlpPolicy",
        group: str | None = None,
        **algorithm_kwargs: object,
    ) -> None:
        self.algorithm = _algorithm_name(algorithm)
        self.vec_env = PopulationVecEnv(env, group=group)
        space = self.vec_env.action_space
        self.continuous = self.algorithm in CONTINUOUS
        if self.continuous and not (isinstance(space, spaces.Box) and len(space.shape) == 1):
            raise ValueError(f"{self.algorithm} needs Box actions with one axis, got {space}")
        if not self.continuous and (not isinstance(space, spaces.Discrete)
                                    or int(space.start) != 0):
            raise ValueError(f"{self.algorithm} needs Discrete(n) actions starting at 0, got "
                             f"{space}")
        super().__init__(self.vec_env.num_envs, space, seed=seed)
        self.group = self.vec_env.group
        # Box: the number of action coordinates
        self.n_actions = int(space.n) if isinstance(space, spaces.Discrete) else int(
            (space.shape or (0,))[0])
        self.total_rounds = check_int("total_rounds", total_rounds, minimum=1)
        self.reward_scale = check_number("reward_scale", reward_scale, low=0.0, low_open=True)
        self.policy_name = policy if isinstance(policy, str) else policy.__name__
        # the SB3 algorithm's own keywords, which its constructor checks
        self.algorithm_kwargs: dict[str, Any] = {**POPULATION_DEFAULTS[self.algorithm],
                                                 **algorithm_kwargs}
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
        self.model._total_timesteps = self.total_rounds * self.n_agents
        self.on_policy = isinstance(self.model, OnPolicyAlgorithm)
        if self.algorithm == "dqn":
            dqn: Any = self.model
            dqn.exploration_rate = dqn.exploration_schedule(1.0)
        self._acted: _Acted | None = None
        # 1 where the observations the next act() sees open an episode (SB3's episode_starts)
        self._episode_starts = np.ones(self.n_agents, dtype=np.float32)
        self._last_observations: np.ndarray | None = None
        self._env_seeded = False

    # narrows Learner.for_game's keywords (``algorithm`` names an SB3 algorithm)
    @classmethod
    def for_game(  # type: ignore[override]
        cls,
        core: PopulationCore,
        group: str | None = None,
        *,
        seed: int | None = None,
        algorithm: str | type[BaseAlgorithm] = "ppo",
        **kwargs: object,
    ) -> SB3Learner:
        """An SB3 learner for ``group`` of ``core`` (default: its only group).

        ``kwargs`` are the constructor's (``total_rounds``, ``reward_scale``, SB3 arguments).
        """
        chosen = pick_group(unwrap_core(core), group)
        build: Callable[..., SB3Learner] = cls  # the constructor's and SB3's keywords
        return build(core, algorithm, seed=seed, group=chosen.name, **kwargs)

    # ----------------------------------------------------------------- SB3's own loop
    def learn(self, rounds: int, *, progress_bar: bool = False, callback: MaybeCallback = None
              ) -> SB3Learner:
        """Train with SB3's own ``learn`` for ``rounds`` population steps (× n_agents samples).

        Runs on this learner's :class:`PopulationVecEnv`; successive calls continue the same
        stream of episodes. The first call seeds the game from the learner's generator.
        """
        rounds = check_int("rounds", rounds, minimum=1)
        if not self._env_seeded:
            self.vec_env.seed(int(self.rng.integers(2**31 - 1)))  # wrappers forward seeds
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
        self._last_observations = obs
        policy: Any = self.model.policy
        policy.set_training_mode(False)
        if self.continuous:
            return self._act_continuous(obs)
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

    def update(self, transition: Transition) -> None:
        """Store the round in SB3's buffer and train where SB3's ``learn`` would.

        Needs the :meth:`act` of the same round. ``transition.terminated`` and ``truncated``
        close the episode: on truncation the reward is bootstrapped with γ·V(next
        observations) (PPO/A2C) or stored as a time-out (DQN); on termination it is not.
        """
        acted = self._acted
        if acted is None:
            raise RuntimeError("SB3Learner.update() needs the act() of the same round first")
        if self.continuous:
            actions, rewards = self._check_box_round(transition.actions, transition.rewards)
        else:
            actions, rewards = check_round(
                self.n_agents, self.n_actions, transition.actions, transition.rewards
            )
        self._acted = None  # only once the round is accepted
        rewards = rewards * self.reward_scale
        obs = acted.observations
        if transition.observations is not None:
            obs = self._batch(transition.observations)
        next_obs = self._batch(transition.next_observations)
        self._last_observations = next_obs
        terminated, truncated = bool(transition.terminated), bool(transition.truncated)
        model: Any = self.model
        model.num_timesteps += self.n_agents
        model._current_progress_remaining = max(
            0.0, 1.0 - model.num_timesteps / model._total_timesteps
        )
        if self.on_policy:
            self._add_rollout(acted, obs, actions, rewards, next_obs, terminated, truncated)
        else:
            self._add_replay(obs, actions, rewards, next_obs, terminated, truncated)

    def policy(self) -> np.ndarray | ActionFunction:
        """Each agent's action probabilities at its last observation, ``(n_agents, n_actions)``
        (:meth:`action_probabilities` there; before any observation, an all-zeros one is used).
        SAC (Box actions): :meth:`mean_action`, the deterministic policy, as an
        :class:`~populace.envs.policies.ActionFunction` (games that score linear policies fit
        one to the window's play instead).
        """
        if self.continuous:
            return ActionFunction(self.mean_action)
        obs = self._last_observations
        return self.action_probabilities(self._batch(None) if obs is None else obs)

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        """``(rows, n_actions)``: the probabilities :meth:`act` samples from at each of
        ``observations`` — the *stochastic* policy played, not SB3's deterministic
        ``predict``. PPO/A2C: the shared actor's distribution; DQN: the ε-greedy mixture
        (uniform before ``learning_starts``). Evaluated in chunks of :data:`CHUNK` rows, so a
        game may tabulate the policy over a large observation set. Discrete actions only."""
        if self.continuous:
            raise ValueError(f"{self.algorithm} acts in a Box: it has no action probabilities")
        obs = np.asarray(observations)
        return np.concatenate([self._probabilities(obs[i:i + CHUNK])
                               for i in range(0, len(obs), CHUNK)] or
                              [np.zeros((0, self.n_actions))])

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        policy: Any = self.model.policy
        with th.no_grad():
            obs_tensor = self._tensor(obs)
            if self.on_policy:
                return _rows(policy.get_distribution(obs_tensor).distribution.probs)
            greedy = policy.q_net(obs_tensor).argmax(dim=1).cpu().numpy()
        epsilon = self._epsilon()
        probabilities = np.full((len(obs), self.n_actions), epsilon / self.n_actions)
        probabilities[np.arange(len(obs)), greedy] += 1.0 - epsilon
        return probabilities

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "n_actions": self.n_actions,
            "algorithm": self.algorithm,
            "policy": self.policy_name,
            "total_rounds": self.total_rounds,
            "reward_scale": self.reward_scale,
            "algorithm_kwargs": to_json(self.algorithm_kwargs),
        }

    # ----------------------------------------------------------------- Box actions (SAC)
    def _act_continuous(self, obs: np.ndarray) -> np.ndarray:
        """SAC's exploration, as its ``_sample_action``: uniform over the box before
        ``learning_starts``, then a draw of the squashed Gaussian actor."""
        model: Any = self.model
        if model.num_timesteps < model.learning_starts:
            scaled = self.rng.uniform(-1.0, 1.0, (self.n_agents, self.n_actions))
        else:
            with sb3_random(self.rng), th.no_grad():
                scaled = model.policy.actor(self._tensor(obs), deterministic=False).cpu().numpy()
        actions = self._unscaled(scaled)
        self._acted = _Acted(obs, actions)
        return actions

    def mean_action(self, observations: np.ndarray) -> np.ndarray:
        """SAC's deterministic action for each agent's observation (no exploration)."""
        policy: Any = self.model.policy
        with th.no_grad():
            scaled = policy.actor(self._tensor(self._batch(observations)),
                                  deterministic=True).cpu().numpy()
        return self._unscaled(scaled)

    def _unscaled(self, scaled: np.ndarray) -> np.ndarray:
        """Actions in [-1, 1] (what SAC's actor and buffer use) mapped onto the action box."""
        space: Any = self.action_space
        actions = self.model.policy.unscale_action(np.asarray(scaled, dtype=np.float64))
        return cast(np.ndarray, np.clip(actions, space.low, space.high).astype(space.dtype))

    def _check_box_round(self, actions: Any, rewards: Any) -> tuple[np.ndarray, np.ndarray]:
        """Box actions of shape (n_agents, dim), finite, and finite rewards; the actions come
        back scaled to [-1, 1] for SAC's replay buffer."""
        acts = np.asarray(actions, dtype=np.float64)
        if acts.shape != (self.n_agents, self.n_actions):
            raise ValueError(f"actions must have shape ({self.n_agents}, {self.n_actions}), got "
                             f"{acts.shape}")
        finite = np.isfinite(acts).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"agent {bad} played a non-finite action {acts[bad]}")
        pay = np.asarray(rewards, dtype=np.float64)
        if pay.shape != (self.n_agents,) or not np.isfinite(pay).all():
            raise ValueError(f"rewards must be {self.n_agents} finite numbers, got {pay!r}")
        return self.model.policy.scale_action(acts), pay

    # ----------------------------------------------------------------- collection
    def _add_rollout(
        self, acted: _Acted, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
        next_obs: np.ndarray, terminated: bool, truncated: bool,
    ) -> None:
        """One row of the rollout buffer (as ``collect_rollouts``); train when it is full."""
        model: Any = self.model
        values, log_probs = acted.values, acted.log_probs
        if not (np.array_equal(actions, acted.actions) and np.array_equal(obs, acted.observations)):
            with th.no_grad():  # the loop played or observed something other than act() saw
                values, log_probs, _ = model.policy.evaluate_actions(
                    self._tensor(obs), th.as_tensor(actions, device=model.device)
                )
        if truncated and not terminated:  # a time limit: bootstrap from the last observation
            with th.no_grad():
                terminal = model.policy.predict_values(self._tensor(next_obs))
            rewards = rewards + model.gamma * terminal.cpu().numpy().reshape(-1)
        buffer = model.rollout_buffer
        if buffer.full or buffer.generator_ready:  # left flattened by SB3's own learn()
            buffer.reset()
        buffer.add(obs, actions.reshape(-1, 1), rewards, self._episode_starts, values, log_probs)
        self._episode_starts = np.full(self.n_agents, terminated or truncated, dtype=np.float32)
        if buffer.full:
            with th.no_grad():
                last_values = model.policy.predict_values(self._tensor(next_obs))
            buffer.compute_returns_and_advantage(last_values=last_values,
                                                 dones=self._episode_starts)
            with sb3_random(self.rng):
                model.train()
            buffer.reset()

    def _add_replay(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
        terminated: bool, truncated: bool,
    ) -> None:
        """One row of the replay buffer (as ``_store_transition``); train as DQN's ``learn``."""
        model: Any = self.model
        done = terminated or truncated
        # SB3's convention: an episode end is done=True, and a time-out is marked in the info,
        # so the buffer's targets treat only a termination as terminal (timeouts excluded).
        infos = [{"TimeLimit.truncated": truncated and not terminated} if done else {}]
        model.replay_buffer.add(obs, next_obs, actions, rewards,
                                np.full(self.n_agents, done), infos * self.n_agents)
        model._on_step()  # target-network copy and ε schedule, as in DQN's own loop
        if self.algorithm != "dqn":  # DQN's _on_step counts its calls; SAC's does not
            model._n_calls = getattr(model, "_n_calls", 0) + 1
        frequency = model.train_freq
        if frequency.unit != TrainFrequencyUnit.STEP:
            raise ValueError("act/update training needs a train_freq in steps")
        if model._n_calls % frequency.frequency == 0 and model.num_timesteps > max(
            model.learning_starts, 0
        ):
            steps = model.gradient_steps
            if steps < 0:
                steps = frequency.frequency * self.n_agents
            if steps > 0:
                with sb3_random(self.rng):
                    model.train(gradient_steps=steps, batch_size=model.batch_size)

    # ----------------------------------------------------------------- helpers
    def _epsilon(self) -> float:
        model: Any = self.model
        if model.num_timesteps < model.learning_starts:
            return 1.0  # SB3's DQN plays uniformly at random before learning starts
        return float(model.exploration_rate)

    def _batch(self, observations: np.ndarray | None) -> np.ndarray:
        space = self.vec_env.observation_space
        if observations is None:
            return np.zeros((self.n_agents, *(space.shape or ())), dtype=space.dtype)
        return np.array(observations)

    def _tensor(self, observations: np.ndarray) -> th.Tensor:
        return cast(th.Tensor, self.model.policy.obs_to_tensor(observations)[0])

    # ----------------------------------------------------------------- checkpoints
    def _arrays(self) -> dict[str, Any]:
        return {
            **model_arrays(self.model),
            "episode_starts": self._episode_starts.copy(),
            "last_observations": self._last_observations,
        }

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        load_model_arrays(self.model, arrays)
        self._episode_starts = np.asarray(arrays["episode_starts"], dtype=np.float32).copy()
        last = arrays["last_observations"]
        self._last_observations = None if last is None else np.array(last)
        self._acted = None


def _rows(probabilities: th.Tensor) -> np.ndarray:
    """Float32 probabilities from torch as float64 rows that sum to 1."""
    rows = probabilities.cpu().numpy().astype(np.float64)
    return cast(np.ndarray, rows / rows.sum(axis=1, keepdims=True))


def _algorithm_name(algorithm: str | type[BaseAlgorithm]) -> str:
    if isinstance(algorithm, str):
        algorithm = algorithm.lower()
    else:
        algorithm = next((k for k, v in ALGORITHMS.items() if v is algorithm), algorithm)
    return check_choice("algorithm", algorithm, tuple(ALGORITHMS))
