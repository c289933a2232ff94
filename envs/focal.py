"""Gymnasium focal face: one learning agent among the population (the representative agent).

The focal agent is member ``focal_index`` of group ``focal_group``; every other member of that
group follows ``population_policy`` and every other group follows ``role_policies[group]``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from populace.envs.core import Group, PopulationCore
from populace.envs.policies import OtherGroups, as_policy, role_policies_for
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
        population_policy: Any = None,
        *,
        group: str | None = None,
        focal_index: int = 0,
        role_policies: dict[str, Any] | None = None,
    ) -> None:
        self.core = core
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

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        # every check before the first draw, so that a refused step changes nothing
        self.core.require_running()
        checked = self._check_focal(action)
        full = checked
        if len(self._others):
            observations = self._observations[self.focal_group][self._others]
            chosen = np.asarray(self._population(observations, self.core.np_random))
            full = np.empty((len(self._others) + 1, *chosen.shape[1:]), dtype=checked.dtype)
            full[self._others] = chosen
            full[self.focal_index] = checked[0]
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

    def _focal(self, observations: dict[str, np.ndarray]) -> Any:
        """The focal agent's observation, as a copy the caller owns."""
        return observations[self.focal_group][self.focal_index].copy()

    def render(self) -> np.ndarray | str | None:
        return self.core.render()
