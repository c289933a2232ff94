"""Gymnasium focal face: one learning agent among the population (the representative agent).

The focal agent is member ``focal_index`` of group ``focal_group``; every other member of that
group follows ``population_policy`` and every other group follows ``role_policies[group]``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from populace.envs.core import Group, PopulationCore
from populace.envs.policies import OtherGroups, PolicySpec, as_policy, role_policies_for
from populace.envs.validation import check_actions, check_int


class FocalEnv(gym.Env):
    """A single-agent ``gymnasium.Env`` over a :class:`PopulationCore`.

    Args:
        core: the game.
        population_policy: what the other members of the focal group play (the forms
            :func:`~populace.envs.policies.as_policy` accepts; None: the game's default).
        group: the focal agent's group (default: the core's ``default_focal_group``, or its
            ``population_group`` when that is None).
        focal_index: which member of that group is the focal agent.
        role_policies: policies of the other groups, ``{group: spec}`` (default: the game's).
    """

    def __init__(
        self,
        core: PopulationCore,
        population_policy: PolicySpec = None,
        *,
        group: str | None = None,
        focal_index: int = 0,
        role_policies: dict[str, PolicySpec] | None = None,
    ) -> None:
        self.core = core
        self.__doc__ = type(core).__doc__  # the game's own docs, not the face's
        chosen = core.group(group or core.default_focal_group or core.population_group)
        focal_index = check_int("focal_index", focal_index, minimum=0)
        if focal_index >= chosen.size:
            raise ValueError(f"focal_index must be in [0, {chosen.size - 1}], got {focal_index}")
        self.focal_group, self.focal_index = chosen.name, focal_index
        self.metadata = {
            "render_modes": list(core.metadata["render_modes"]),
            "render_fps": core.metadata.get("render_fps", 4),
            "name": core.metadata["name"],
        }
        self.render_mode = core.render_mode
        self.action_space = chosen.action_space
        self.observation_space = chosen.observation_space
        self._others = np.delete(np.arange(chosen.size), focal_index)
        if population_policy is None:
            population_policy = core.default_policy(chosen.name)
        self._population = as_policy(
            population_policy, chosen.action_space, chosen.size - 1, "population_policy"
        )
        self.other_groups = OtherGroups(core, role_policies_for(core, chosen.name, role_policies))
        self._member = Group(chosen.name, 1, chosen.action_space, chosen.observation_space)
        self._observations: dict[str, np.ndarray] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._observations = self.core.reset(seed=seed)
        return self._focal(self._observations), {}

    def step(self, action: object) -> tuple[Any, float, bool, bool, dict]:
        # every check before the first draw, so that a refused step changes nothing
        self.core.require_running()
        checked = self._check_focal(action)
        full: Any = checked
        if len(self._others):
            observations = self._observations[self.focal_group][self._others]
            chosen = self._population(observations, self.core.np_random)
            full = self._whole_group(chosen, checked)
        # the whole group is checked there like any action, before anyone else draws
        result = self.other_groups.step({self.focal_group: full}, self._observations)
        self._observations = result.observations
        reward = float(result.rewards[self.focal_group][self.focal_index])
        return self._focal(result.observations), reward, result.terminated, result.truncated, {}

    def _check_focal(self, action: Any) -> np.ndarray:
        value = np.asarray(action)
        if value.shape != self.action_space.shape:
            raise ValueError(
                f"the focal action must have shape {self.action_space.shape} for "
                f"{self.action_space}, got {action!r}"
            )
        return check_actions(self._member, value[None], first_index=self.focal_index)

    def _whole_group(self, chosen: Any, checked: np.ndarray) -> Any:
        """The focal group's actions: the population policy's ``chosen`` with the focal action
        put in its place, unconverted, so that the group's check sees what the policy returned
        (a float, a bool or NaN is named as it is, and each member by its own index)."""
        others = len(self._others)
        if isinstance(chosen, list | tuple):
            if len(chosen) != others:
                raise self._wrong_count(f"{type(chosen).__name__} of {len(chosen)} actions")
            return [*chosen[: self.focal_index], checked[0], *chosen[self.focal_index:]]
        try:
            values = np.asarray(chosen)
        except (TypeError, ValueError):
            raise TypeError(
                f"population_policy returned {type(chosen).__name__}, not an array of actions"
            ) from None
        expected = (others, *(self.action_space.shape or ()))
        if values.shape != expected:
            raise self._wrong_count(f"{type(chosen).__name__} of shape {values.shape}")
        numeric = values.dtype.kind in "fiu"
        dtype = np.result_type(values.dtype, checked.dtype) if numeric else np.dtype(object)
        full = np.empty((others + 1, *values.shape[1:]), dtype=dtype)
        full[self._others] = values
        full[self.focal_index] = checked[0]
        return full

    def _wrong_count(self, got: str) -> ValueError:
        expected = (len(self._others), *(self.action_space.shape or ()))
        return ValueError(
            f"population_policy must return one action per other member of group "
            f"{self.focal_group!r}, shape {expected}; got {got}"
        )

    def _focal(self, observations: dict[str, np.ndarray]) -> Any:
        """The focal agent's observation, as a copy the caller owns."""
        return observations[self.focal_group][self.focal_index].copy()

    def render(self) -> np.ndarray | str | None:
        return self.core.render()
