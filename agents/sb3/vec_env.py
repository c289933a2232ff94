"""SB3 vector envs over Populace games: one slot per agent, so one SB3 policy is shared.

* :class:`PopulationVecEnv` steps a :class:`~populace.envs.core.PopulationCore` directly: a
  step is one core step over the whole population; the only per-agent Python is the list of
  info dicts SB3 expects every step.
* :func:`supersuit_vec_env` is the usual PettingZoo route through SuperSuit, with two gaps of
  SuperSuit 3.11 under SB3 2.9 fixed (see :class:`SuperSuitVecEnv`). It works on any PettingZoo
  env whose agents share one observation and one action space, but goes through per-agent dicts.

Follows SB3 2.9 (``common/vec_env/base_vec_env.py``, ``dummy_vec_env.py``) and SuperSuit 3.11
(``vector/vector_constructors.py``, ``markov_vector_wrapper.py``, ``concat_vec_env.py``,
``sb3_vector_wrapper.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from pettingzoo import ParallelEnv
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from populace.envs.core import PopulationCore
from populace.envs.faces import unwrap_core
from populace.envs.policies import OtherGroups, PolicySpec, role_policies_for


class PopulationVecEnv(VecEnv):
    """SB3 ``VecEnv`` with one slot per agent of a group of a :class:`PopulationCore`.

    Args:
        env: a core, or any Populace face (anything :func:`populace.envs.faces.unwrap_core`
            opens).
        group: the group whose agents are the slots (default: the core's ``population_group``).
        role_policies: fixed policies of the other groups, keyed by group name (the forms
            :func:`populace.envs.policies.as_policy` accepts); a group left out plays the
            game's :meth:`~populace.envs.core.PopulationCore.default_policy`.

    SB3 semantics: ``step`` returns ``(obs, rewards, dones, infos)``; when the episode ends
    (all slots at once) ``dones`` is True everywhere, the returned observations are those of
    the next episode's start, and every slot's info holds ``terminal_observation`` and
    ``TimeLimit.truncated`` (True when the core truncated rather than terminated). Rewards
    keep the core's dtype, so they equal the core's exactly. Actions are checked before any
    other group draws its own, so a refused step leaves the game as it was.

    Seeding: the slots share the core's one generator. ``seed(s)`` makes the next explicit
    ``reset()`` re-seed the core with ``s`` (as SB3's ``DummyVecEnv`` passes seeds at the next
    reset); automatic resets at episode ends never re-seed, so the generator carries on.
    ``seed(None)`` leaves the generator as it is.

    >>> from populace.envs.anonymous.contribution import ContributionCore
    >>> env = PopulationVecEnv(ContributionCore(n_agents=3, max_cycles=1, observe="population"))
    >>> env.seed(0)
    [0, 0, 0]
    >>> env.reset().shape
    (3, 20)
    >>> _, rewards, dones, infos = env.step(np.array([8, 8, 8]))
    >>> dones.tolist(), infos[0]["TimeLimit.truncated"]
    ([True, True, True], True)
    """

    def __init__(
        self, env: object, *, group: str | None = None,
        role_policies: Mapping[str, PolicySpec] | None = None,
    ) -> None:
        core = unwrap_core(env)
        chosen = core.group(group or core.population_group)
        self.core: PopulationCore = core
        self.group = chosen.name
        self.other_groups = OtherGroups(core, role_policies_for(core, chosen.name, role_policies))
        self._observations: dict[str, np.ndarray] = {}
        self._actions: Any = None
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
        # a list is kept as it is, so that a bool among integers is still seen (and refused)
        self._actions = actions if isinstance(actions, list | tuple) else np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        actions, self._actions = self._actions, None
        if actions is None:
            raise RuntimeError("step_wait() called without step_async(actions)")
        result = self.other_groups.step({self.group: actions}, self._observations)
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

    def set_attr(self, attr_name: str, value: object, indices: VecEnvIndices = None) -> None:
        chosen = set(self._get_indices(indices))
        if chosen != set(range(self.num_envs)):
            raise ValueError(
                "the slots of a PopulationVecEnv share one core; set_attr must address all of "
                f"them (indices=None), got {sorted(chosen)[:5]}..."
            )
        setattr(self.core, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: object, indices: VecEnvIndices = None,
        **method_kwargs: object,
    ) -> list[Any]:
        """Call ``method_name`` on the shared core once; the result is repeated per slot."""
        result = getattr(self.core, method_name)(*method_args, **method_kwargs)
        return [result] * len(list(self._get_indices(indices)))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))


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

    def __init__(self, venv: VecEnvWrapper, num_copies: int = 1) -> None:
        self._inner: Any = venv.venv  # SuperSuit's gymnasium-style ConcatVecEnv / ProcConcatVec
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
        return cast(np.ndarray, observations)

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, terminations, truncations, infos = self._inner.step_wait()
        terminations = np.asarray(terminations, dtype=bool)
        truncations = np.asarray(truncations, dtype=bool)
        dones = terminations | truncations
        for i in np.flatnonzero(dones):
            infos[i]["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
        return observations, rewards, dones, infos

    def render(self, mode: str | None = None) -> np.ndarray | None:
        return cast("np.ndarray | None", self._inner.render())

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

    def set_attr(self, attr_name: str, value: object, indices: VecEnvIndices = None) -> None:
        for env in {id(e): e for e in self._targets(indices)}.values():
            setattr(env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: object, indices: VecEnvIndices = None,
        **method_kwargs: object,
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
    parallel_env: ParallelEnv, *, num_vec_envs: int = 1, num_cpus: int = 0
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


class ScaledRewards(VecEnvWrapper):
    """Multiplies rewards by a constant (SB3's ``learn`` path of ``reward_scale``)."""

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = scale

    def reset(self) -> VecEnvObs:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, infos = self.venv.step_wait()
        return observations, rewards * self.scale, dones, infos
