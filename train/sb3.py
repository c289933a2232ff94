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
* :meth:`Learner.update` is not told where episodes end. Populace's discrete games end
  episodes only by truncation (``max_cycles``), so the learner treats play as continuing: each
  transition's successor is the ``next_observations`` it was given. When the train loop resets
  the game, the next :meth:`act` sees observations that differ from those; the learner then
  closes the last transition as a time-limit truncation, adding ``γ·V(terminal observation)``
  to its reward (SB3's own treatment of ``TimeLimit.truncated``). If the reset observation
  equals the terminal one (e.g. ``observe="none"``) the chain just continues, which gives the
  same value targets. Episodes that *terminate* are therefore not supported in this mode; use
  :meth:`SB3Learner.learn` for such games. DQN stores the true successor of every transition,
  so it needs no such rule.
* SB3 draws minibatches and exploration noise from numpy's and torch's *global* generators.
  Every call into SB3 that may draw random numbers runs inside a context that seeds both from
  the learner's generator and restores them afterwards, so runs are reproducible and the
  caller's global random state is left alone.

APIs used here follow the SB3 2.9 sources (``common/vec_env/base_vec_env.py``,
``dummy_vec_env.py``, ``on_policy_algorithm.py``, ``off_policy_algorithm.py``, ``dqn/dqn.py``,
``common/buffers.py``) and SuperSuit 3.11 (``vector/vector_constructors.py``,
``markov_vector_wrapper.py``, ``concat_vec_env.py``, ``sb3_vector_wrapper.py``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from populace.agents.base import Learner, sample_actions
from populace.envs.core import PopulationCore
from populace.envs.policies import PolicyFn, as_policy
from populace.train.checkpoint import to_json
from populace.train.loop import unwrap_core

__all__ = [
    "ALGORITHMS",
    "PPOContributionResult",
    "PopulationVecEnv",
    "SB3Learner",
    "SuperSuitVecEnv",
    "supersuit_vec_env",
    "train_ppo_contribution",
]


# =========================================================================== PopulationVecEnv
class PopulationVecEnv(VecEnv):
    """SB3 ``VecEnv`` with one slot per agent of a group of a :class:`PopulationCore`.

    Args:
        env: a core, or any Populace face (anything :func:`populace.train.unwrap_core` opens).
        group: the group whose agents are the slots (default: the core's first group).
        role_policies: fixed policies of the other groups, keyed by group name (the forms
            :func:`populace.envs.policies.as_policy` accepts; default: each game's documented
            population policy).

    SB3 semantics: ``step`` returns ``(obs, rewards, dones, infos)``; when the episode ends
    (all slots at once) ``dones`` is True everywhere, the returned observations are those of
    the next episode's start, and every slot's info holds ``terminal_observation`` and
    ``TimeLimit.truncated`` (True when the core truncated rather than terminated). Rewards
    keep the core's dtype, so they equal the core's exactly.

    Seeding: the slots share the core's one generator. ``seed(s)`` makes the next explicit
    ``reset()`` re-seed the core with ``s`` (as SB3's ``DummyVecEnv`` passes seeds at the next
    reset); automatic resets at episode ends never re-seed, so the generator carries on.
    ``seed(None)`` leaves the generator as it is.
    """

    def __init__(
        self, env: Any, *, group: str | None = None, role_policies: dict[str, Any] | None = None
    ) -> None:
        core = unwrap_core(env)
        chosen = core.group(group) if group else core.groups[0]
        self.core: PopulationCore = core
        self.group = chosen.name
        others = dict(role_policies or {})
        self._policies: dict[str, PolicyFn] = {}
        for other in core.groups:
            if other.name != chosen.name:
                self._policies[other.name] = as_policy(
                    others.pop(other.name, None), other.action_space, other.size,
                    f"role_policies[{other.name!r}]",
                )
        if others:
            raise ValueError(f"role_policies names unknown groups {sorted(others)}")
        self._observations: dict[str, np.ndarray] = {}
        self._actions: np.ndarray | None = None
        super().__init__(chosen.size, chosen.observation_space, chosen.action_space)
        self.metadata = {
            **self.metadata,
            "name": core.metadata["name"],
            "render_fps": core.metadata.get("render_fps", 4),
        }

    # ----------------------------------------------------------------- episode API
    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Re-seed the core with ``seed`` at the next ``reset()``; one seed serves every slot."""
        self._seeds = [None if seed is None else int(seed)] * self.num_envs
        return list(self._seeds)

    def reset(self) -> np.ndarray:
        seed = self._seeds[0] if self._seeds else None
        self._reset_seeds()
        self._reset_options()  # the cores take no reset options
        return self._reset_core(seed)

    def _reset_core(self, seed: int | None) -> np.ndarray:
        self._observations = self.core.reset(seed=seed)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return np.array(self._observations[self.group])  # own, writable copy

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async(actions)")
        rng = self.core.np_random
        joint = {name: fn(self._observations[name], rng) for name, fn in self._policies.items()}
        joint[self.group] = self._actions
        self._actions = None
        result = self.core.step(joint)
        observations = np.array(result.observations[self.group])
        rewards = np.array(result.rewards[self.group])
        n = self.num_envs
        if not (result.terminated or result.truncated):
            self._observations = result.observations
            # SB3 indexes infos[i] for every slot every step, so it needs N dicts each time
            return observations, rewards, np.zeros(n, dtype=bool), [{} for _ in range(n)]
        time_limit = bool(result.truncated and not result.terminated)
        infos = [
            {"terminal_observation": terminal, "TimeLimit.truncated": time_limit}
            for terminal in observations
        ]
        return self._reset_core(None), rewards, np.ones(n, dtype=bool), infos

    def close(self) -> None:
        return None

    # ----------------------------------------------------------------- rendering
    def render(self, mode: str | None = None) -> np.ndarray | None:
        """One picture of the whole population (the core's render), not N tiled copies."""
        if mode is not None and mode != self.render_mode:
            warnings.warn(
                f"render mode is fixed when the game is built ({self.render_mode!r}); "
                f"ignoring mode={mode!r}",
                stacklevel=2,
            )
            return None
        return self.core.render()  # type: ignore[return-value]

    def get_images(self) -> Sequence[np.ndarray | None]:
        image = self.core.render() if self.render_mode == "rgb_array" else None
        return [image]  # type: ignore[list-item]

    # ----------------------------------------------------------------- attributes
    # Every slot's "environment" is the one shared core: reads return its value once per slot,
    # a method runs once, and writes must address all slots.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.core, attr_name)
        return [value] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        chosen = set(self._get_indices(indices))
        if chosen != set(range(self.num_envs)):
            raise ValueError(
                "the slots of a PopulationVecEnv share one core; set_attr must address all of "
                f"them (indices=None), got {sorted(chosen)[:5]}..."
            )
        setattr(self.core, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call ``method_name`` on the shared core once; the result is repeated per slot."""
        result = getattr(self.core, method_name)(*method_args, **method_kwargs)
        return [result] * len(list(self._get_indices(indices)))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))


# =========================================================================== SuperSuit route
class SuperSuitVecEnv(VecEnvWrapper):
    """SuperSuit's SB3 vector env with two gaps of SuperSuit 3.11 + SB3 2.9 fixed.

    SuperSuit's ``SB3VecEnvWrapper`` wraps a gymnasium-style vector env (its ``ConcatVecEnv``)
    and, under SB3 2.9:

    1. **crashes on seeding**: its ``seed()`` (SB3's ``VecEnvWrapper.seed``) forwards to the
       inner ``ConcatVecEnv``, which has no ``seed`` method, so ``venv.seed(0)``,
       ``venv.reset(seed=0)`` and ``PPO(..., seed=0)`` (which calls ``env.seed``) all raise
       ``AttributeError``. Here ``seed(s)`` is stored and handed to the inner env's
       gymnasium-style ``reset(seed=s)`` at the next ``reset()`` (SB3's seeding semantics;
       copy ``i`` of the game gets ``s + i``, as SuperSuit assigns them).
    2. **reports truncation as termination**: its ``step_wait`` merges terminations and
       truncations into ``dones`` and drops the distinction, so SB3 never sees
       ``TimeLimit.truncated`` and treats a time limit as a true end (no value bootstrap).
       Here ``step_wait`` reads both arrays from the inner env and sets
       ``info["TimeLimit.truncated"] = truncated and not terminated`` on every finished slot
       (``terminal_observation`` is already put there by SuperSuit's ``MarkovVectorEnv``).

    It also answers ``get_attr``/``set_attr``/``env_method`` from the in-process copies of the
    PettingZoo env (SuperSuit's wrapper raises for them), and ``render_mode``.
    """

    def __init__(self, venv: VecEnv, num_copies: int = 1) -> None:
        self._inner = venv.venv  # SuperSuit's gymnasium-style ConcatVecEnv / ProcConcatVec
        self._num_copies = num_copies
        self._pending_seed: int | None = None
        super().__init__(venv)

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        self._pending_seed = None if seed is None else int(seed)
        if seed is None:
            return [None] * self.num_envs
        per_copy = self.num_envs // self._num_copies
        return [int(seed) + i // per_copy for i in range(self.num_envs)]

    def reset(self) -> np.ndarray:
        seed, self._pending_seed = self._pending_seed, None
        observations, infos = self._inner.reset(seed=seed)
        self.venv.reset_infos = infos
        self.reset_infos = list(infos)
        return observations

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, infos = self._inner.step_wait()
        terminations = np.asarray(terminations, dtype=bool)
        truncations = np.asarray(truncations, dtype=bool)
        dones = terminations | truncations
        for i in np.flatnonzero(dones):
            infos[i]["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
        return observations, rewards, dones, infos

    def render(self, mode: str | None = None) -> np.ndarray | None:
        return self._inner.render()

    # ----------------------------------------------------------------- attributes
    def _parallel_envs(self) -> list[Any]:
        copies = getattr(self._inner, "vec_envs", None)
        if copies is None:
            raise AttributeError(
                "the PettingZoo envs run in worker processes (num_cpus > 1); their attributes "
                "are not reachable from here"
            )
        return [copy.par_env for copy in copies]

    def _targets(self, indices: VecEnvIndices) -> list[Any]:
        envs = self._parallel_envs()
        per_copy = self.num_envs // len(envs)
        return [envs[i // per_copy] for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode":
            return [self._inner.render_mode] * len(list(self._get_indices(indices)))
        return [getattr(env, attr_name) for env in self._targets(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for env in {id(e): e for e in self._targets(indices)}.values():
            setattr(env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call the method once per PettingZoo env copy; results are repeated per slot."""
        results: dict[int, Any] = {}
        out = []
        for env in self._targets(indices):
            if id(env) not in results:
                results[id(env)] = getattr(env, method_name)(*method_args, **method_kwargs)
            out.append(results[id(env)])
        return out


def supersuit_vec_env(
    parallel_env: Any, *, num_vec_envs: int = 1, num_cpus: int = 0
) -> SuperSuitVecEnv:
    """An SB3 ``VecEnv`` over a PettingZoo ``ParallelEnv`` through SuperSuit, gaps fixed.

    One slot per agent (times ``num_vec_envs`` copies of the game, which SuperSuit makes by
    pickling ``parallel_env``; the object passed in is not stepped). All agents must share one
    observation space and one action space; for a game with several roles use
    :class:`PopulationVecEnv` with ``group=`` instead.
    """
    import supersuit

    agents = list(parallel_env.possible_agents)
    observation = parallel_env.observation_space(agents[0])
    action = parallel_env.action_space(agents[0])
    for agent in agents:
        if parallel_env.observation_space(agent) != observation or (
            parallel_env.action_space(agent) != action
        ):
            raise ValueError(
                f"SuperSuit's vector route needs one observation and action space for all "
                f"agents; {agent!r} differs from {agents[0]!r}. Use PopulationVecEnv(env, "
                "group=...) to train one role of a multi-role game."
            )
    vec = supersuit.pettingzoo_env_to_vec_env_v1(parallel_env)
    sb3_env = supersuit.concat_vec_envs_v1(
        vec, num_vec_envs, num_cpus=num_cpus, base_class="stable_baselines3"
    )
    return SuperSuitVecEnv(sb3_env, num_copies=num_vec_envs)


# =========================================================================== SB3Learner
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
    """PPO, A2C or DQN with one network shared by every agent of a group (see module doc).

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
            train_env = _ScaledRewards(self.vec_env, self.reward_scale)
        with self._sb3_random():
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
        with self._sb3_random():
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
                with self._sb3_random():
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
            with self._sb3_random():
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

    @contextmanager
    def _sb3_random(self) -> Iterator[None]:
        """Seed numpy's and torch's global generators from ``self.rng``; restore them after."""
        seed = int(self.rng.integers(2**31 - 1))
        saved = np.random.get_state()
        with th.random.fork_rng(devices=[]):
            th.manual_seed(seed)
            np.random.seed(seed)
            try:
                yield
            finally:
                np.random.set_state(saved)

    # ----------------------------------------------------------------- checkpoints
    def _arrays(self) -> dict[str, Any]:
        model: Any = self.model
        state: dict[str, Any] = {
            "network": {k: v.detach().cpu().numpy() for k, v in model.policy.state_dict().items()},
            "optimizer": _optimizer_state(model.policy.optimizer),
            "counters": {
                "num_timesteps": int(model.num_timesteps),
                "n_updates": int(model._n_updates),
                "n_calls": int(getattr(model, "_n_calls", 0)),
                "exploration_rate": float(getattr(model, "exploration_rate", 0.0)),
                "progress": float(model._current_progress_remaining),
            },
            "episode_starts": self._episode_starts.copy(),
            "last_observations": self._last_observations,
            "buffer": _buffer_state(
                model.rollout_buffer if self.on_policy else model.replay_buffer
            ),
            "pending": None,
        }
        if self._pending is not None:
            p = self._pending
            state["pending"] = {
                "observations": p.observations, "actions": p.actions, "rewards": p.rewards,
                "episode_starts": p.episode_starts, "values": p.values.cpu().numpy(),
                "log_probs": p.log_probs.cpu().numpy(), "next_observations": p.next_observations,
            }
        return state

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        model: Any = self.model
        device = model.device
        model.policy.load_state_dict(
            {k: th.as_tensor(np.asarray(v), device=device) for k, v in arrays["network"].items()}
        )
        _load_optimizer(model.policy.optimizer, arrays["optimizer"], device)
        counters = arrays["counters"]
        model.num_timesteps = int(counters["num_timesteps"])
        model._n_updates = int(counters["n_updates"])
        if not self.on_policy:
            model._n_calls = int(counters["n_calls"])
            model.exploration_rate = float(counters["exploration_rate"])
        model._current_progress_remaining = float(counters["progress"])
        self._episode_starts = np.asarray(arrays["episode_starts"], dtype=np.float32).copy()
        last = arrays["last_observations"]
        self._last_observations = None if last is None else np.array(last)
        _load_buffer(model.rollout_buffer if self.on_policy else model.replay_buffer,
                     arrays["buffer"])
        self._acted = None
        self._pending = None
        saved = arrays["pending"]
        if saved is not None:
            self._pending = _Transition(
                np.array(saved["observations"]), np.array(saved["actions"]),
                np.array(saved["rewards"]), np.array(saved["episode_starts"]),
                th.as_tensor(np.asarray(saved["values"]), device=device),
                th.as_tensor(np.asarray(saved["log_probs"]), device=device),
                np.array(saved["next_observations"]),
            )


class _ScaledRewards(VecEnvWrapper):
    """Multiplies rewards by a constant (SB3's ``learn`` path of ``reward_scale``)."""

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = scale

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, infos = self.venv.step_wait()
        return observations, rewards * self.scale, dones, infos


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


_BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "advantages",
                  "returns", "episode_starts", "log_probs", "values", "dones", "timeouts")


def _buffer_state(buffer: Any) -> dict[str, Any]:
    """The filled part of an SB3 rollout or replay buffer, as arrays."""
    if getattr(buffer, "generator_ready", False):  # already trained on: nothing to keep
        return {"pos": 0, "full": False, "arrays": {}}
    filled = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {
        name: np.array(getattr(buffer, name)[:filled])
        for name in _BUFFER_ARRAYS
        if isinstance(getattr(buffer, name, None), np.ndarray)
    }
    return {"pos": int(buffer.pos), "full": bool(buffer.full), "arrays": arrays}


def _load_buffer(buffer: Any, state: dict[str, Any]) -> None:
    buffer.reset()
    for name, values in state["arrays"].items():
        values = np.asarray(values)
        getattr(buffer, name)[: len(values)] = values
    buffer.pos, buffer.full = int(state["pos"]), bool(state["full"])
    if hasattr(buffer, "generator_ready"):
        buffer.generator_ready = False


def _optimizer_state(optimizer: th.optim.Optimizer) -> dict[str, Any]:
    saved = optimizer.state_dict()
    state = {
        str(index): {
            name: value.detach().cpu().numpy() if isinstance(value, th.Tensor) else value
            for name, value in slots.items()
        }
        for index, slots in saved["state"].items()
    }
    return {"state": state, "param_groups": to_json(saved["param_groups"])}


def _load_optimizer(optimizer: th.optim.Optimizer, saved: dict[str, Any], device: Any) -> None:
    current = optimizer.state_dict()["param_groups"]
    groups = []
    for now, old in zip(current, saved["param_groups"], strict=True):
        group = dict(old)
        for key, value in now.items():  # JSON turned tuples (Adam's betas) into lists
            if isinstance(value, tuple) and key in group:
                group[key] = tuple(group[key])
        groups.append(group)
    state = {
        int(index): {
            name: th.as_tensor(np.asarray(value), device=device)
            if isinstance(value, np.ndarray) else value
            for name, value in slots.items()
        }
        for index, slots in saved["state"].items()
    }
    optimizer.load_state_dict({"state": state, "param_groups": groups})


# =========================================================================== a measured baseline
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
    from populace.envs.contribution_v0 import ContributionCore
    from populace.train.loop import train

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
