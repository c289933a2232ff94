"""PettingZoo face: a ``ParallelEnv`` that turns agent-keyed dicts into the core's arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from populace.envs.core import Group, PopulationCore, ResetNeededError, owned
from populace.envs.validation import actions_from_sequence, check_actions


class PopulationParallelEnv(ParallelEnv):
    """Dicts keyed by agent name (``agent_0`` ...) over a :class:`PopulationCore`.

    The adapter only converts: dict -> array per group, array -> dict. Everything else,
    including validation and seeding, happens in the core, so this face and the core produce
    the same numbers for the same seed.
    """

    def __init__(self, core: PopulationCore) -> None:
        self.core = core
        self.metadata = {
            "name": core.metadata["name"],
            "render_modes": list(core.metadata["render_modes"]),
            "is_parallelizable": True,
        }
        self.render_mode = core.render_mode
        self._names = {g.name: g.agent_names() for g in core.groups}
        self.possible_agents = [name for names in self._names.values() for name in names]
        self.agents: list[str] = []
        self._group_of = {g.name: g for g in core.groups}
        self._live: frozenset[str] = frozenset()
        self._gather = {g.name: _gatherer(names) for g, names in zip(
            core.groups, self._names.values(), strict=True)}
        self._row_width = {g.name: _row_width(g.action_space) for g in core.groups}

    @property
    def max_cycles(self) -> int:
        return self.core.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.core.max_cycles = value

    def _group(self, agent: str) -> Group:
        prefix, _, index = agent.rpartition("_")
        group = self._group_of.get(prefix)
        if group is None or not index.isdigit() or int(index) >= group.size:
            raise KeyError(f"unknown agent {agent!r}")
        return group

    def observation_space(self, agent: str) -> spaces.Space:
        return self._group(agent).observation_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._group(agent).action_space

    @property
    def state_space(self) -> spaces.Space:
        return self.core.state_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict]]:
        observations = self.core.reset(seed=seed)
        self.agents = list(self.possible_agents)
        self._live = frozenset(self.agents)
        self._all_false = dict.fromkeys(self.agents, False)  # copied for each step's flags
        return self._by_agent(observations), {agent: {} for agent in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        self.core.require_running()
        result = self.core.step(self._to_arrays(actions))
        agents = self.agents
        observations = self._by_agent(result.observations)
        rewards = dict(zip(agents, self._in_order(result.rewards, np.ndarray.tolist), strict=True))
        # a dict copy is cheaper than dict.fromkeys per agent (every agent shares the flags)
        terminations = (dict.fromkeys(agents, True) if result.terminated
                        else self._all_false.copy())
        truncations = (dict.fromkeys(agents, True) if result.truncated
                       else self._all_false.copy())
        infos: dict[str, dict] = {agent: {} for agent in agents}
        if result.terminated or result.truncated:
            self.agents = []
            self._live = frozenset()
        return observations, rewards, terminations, truncations, infos

    def _to_arrays(self, actions: dict[str, Any]) -> dict[str, np.ndarray]:
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict keyed by agent, got {type(actions).__name__}")
        if len(actions) != len(self.agents) or actions.keys() != self._live:
            _raise_key_mismatch(actions, self.agents)
        return {
            g.name: _stacked(g, self._gather[g.name](actions), self._row_width[g.name])
            for g in self.core.groups
        }

    def _by_agent(self, observations: dict[str, np.ndarray]) -> dict[str, Any]:
        """One observation per agent: rows of a writable array that is the caller's (a core's
        read-only broadcast view is copied first)."""
        return dict(zip(self.possible_agents, self._in_order(observations, owned), strict=True))

    def _in_order(
        self, arrays: dict[str, np.ndarray], per_group: Callable[[np.ndarray], Any]
    ) -> Iterator[Any]:
        """The entries of ``per_group`` of each group's array, groups in agent order (one
        group, the common case, is passed through without chaining)."""
        if len(self._names) == 1:
            return iter(per_group(arrays[next(iter(self._names))]))
        return chain.from_iterable(per_group(arrays[name]) for name in self._names)

    def render(self) -> np.ndarray | str | None:
        return self.core.render()

    def state(self) -> np.ndarray:
        return self.core.state()

    def close(self) -> None:
        return None


class PopulationAECEnv(parallel_to_aec_wrapper):
    """PettingZoo's AEC view of a :class:`PopulationParallelEnv`, checking each action when it
    is given.

    PettingZoo's converter stores every agent's action and steps the parallel env at the last
    agent of the round, so a bad action used to surface one turn later, naming another
    agent's step, and stayed stored: every later step raised again until ``reset``. Here an
    action is checked (with the same messages as the other faces) before it is stored, so a
    refused action leaves the turn with the same agent, ready for a valid one. An action for
    an agent whose episode has ended must be None (PettingZoo's rule), which is said in words.
    """

    def step(self, action: object) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                raise ValueError(
                    f"{agent}'s episode has ended: step(None) for it (PettingZoo's rule for "
                    f"finished agents), got {action!r}; reset() starts the next episode"
                )
        else:
            self._check_one(agent, action)
        super().step(action)

    def _check_one(self, agent: str, action: Any) -> None:
        group = self.env._group(agent)
        index = int(agent.rpartition("_")[2])
        single = Group(group.name, 1, group.action_space, group.observation_space)
        if isinstance(action, list | tuple):
            check_actions(single, [action], first_index=index)
        else:
            check_actions(single, np.asarray(action)[None], first_index=index)


class StrictOrderWrapper(OrderEnforcingWrapper):
    """PettingZoo's order enforcing, except that a step after every agent has finished is an
    error (PettingZoo only warns, and the step does nothing)."""

    def step(self, action: object) -> None:
        if self._has_reset and not self.env.agents:
            raise ResetNeededError(
                f"{self.metadata.get('name', 'env')}: step() called after the episode ended "
                "(every agent has finished); call reset() first"
            )
        super().step(action)


def population_aec_env(par_env: PopulationParallelEnv) -> StrictOrderWrapper:
    """The AEC face of ``par_env`` (what each game's ``env(**kwargs)`` returns)."""
    return StrictOrderWrapper(PopulationAECEnv(par_env))


def _row_width(space: spaces.Space) -> int | None:
    """The length of a ``Box`` space's one-dimensional actions (None for any other space)."""
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return int(space.shape[0])
    return None


_ndim_of = attrgetter("ndim")
_dtype_of = attrgetter("dtype")


def _stacked(group: Group, values: Sequence[Any], width: int | None) -> np.ndarray:
    """The group's actions as one array: ``np.array(values)`` by a faster route when every
    value is a contiguous one-dimensional array of the row width and one numeric dtype (what
    a vectorized policy's rows are); anything else goes to
    :func:`~populace.envs.validation.actions_from_sequence`, which names a bad agent."""
    if width is not None and _same_rows(values, width):
        dtype = values[0].dtype
        try:
            joined = bytearray().join(values)  # one C pass; a non-contiguous row raises
        except TypeError:
            joined = None
        if joined is not None:
            return np.frombuffer(joined, dtype).reshape(len(values), width)
    return actions_from_sequence(group, values)


def _same_rows(values: Sequence[Any], width: int) -> bool:
    """Whether ``values`` are all ndarrays of shape ``(width,)`` and one numeric dtype (the
    checks stay in C: one set per attribute)."""
    if set(map(type, values)) != {np.ndarray} or set(map(_ndim_of, values)) != {1}:
        return False
    if set(map(len, values)) != {width}:
        return False
    dtypes = set(map(_dtype_of, values))
    return len(dtypes) == 1 and next(iter(dtypes)).kind in "fiu"


def _gatherer(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A C-level getter of the values of ``names`` from a dict, always as a tuple (and, like
    the env, picklable)."""
    if len(names) == 1:
        return partial(_one_value, names[0])
    return itemgetter(*names)


def _one_value(name: str, actions: dict[str, Any]) -> tuple[Any]:
    return (actions[name],)


def _raise_key_mismatch(actions: dict[str, Any], agents: list[str]) -> None:
    live = set(agents)
    missing = [a for a in agents if a not in actions]
    extra = [a for a in actions if a not in live]
    parts = []
    if missing:
        parts.append(f"missing actions for {_few(missing)}")
    if extra:
        parts.append(f"actions given for unknown or finished agents {_few(extra)}")
    raise ValueError("; ".join(parts))


def _few(names: list[Any], shown: int = 3) -> str:
    head = ", ".join(repr(n) for n in names[:shown])
    return head + (f" and {len(names) - shown} more" if len(names) > shown else "")
