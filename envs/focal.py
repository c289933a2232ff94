"""Gymnasium focal face: one learning agent among the population (the representative agent).

The focal agent is member ``focal_index`` of group ``focal_group``; every other member of that
group follows ``population_policy`` and every other group follows ``role_policies[group]``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from populace.envs.core import PopulationCore
from populace.envs.policies import PolicyFn, as_policy, role_policies_for


class FocalEnv(gym.Env):
    """A single-agent ``gymnasium.Env`` over a :class:`PopulationCore`."""

    def __init__(
        self,
        core: PopulationCore,
        population_policy: Any = None,
        *,
        focal_group: str | None = None,
        focal_index: int = 0,
        role_policies: dict[str, Any] | None = None,
    ) -> None:
        self.core = core
        group = core.group(focal_group) if focal_group else core.groups[0]
        if not 0 <= focal_index < group.size:
            raise ValueError(f"focal_index must be in [0, {group.size - 1}], got {focal_index}")
        self.focal_group, self.focal_index = group.name, focal_index
        self.metadata = {
            "render_modes": list(core.metadata["render_modes"]),
            "render_fps": core.metadata.get("render_fps", 4),
            "name": core.metadata["name"],
        }
        self.render_mode = core.render_mode
        self.action_space = group.action_space
        self.observation_space = group.observation_space
        self._others = np.delete(np.arange(group.size), focal_index)
        if population_policy is None:
            population_policy = core.default_population_policy()  # type: ignore[attr-defined]
        self._policies: dict[str, PolicyFn] = {
            group.name: as_policy(
                population_policy, group.action_space, group.size - 1, "population_policy"
            )
        }
        self._policies.update(role_policies_for(core, group.name, role_policies))
        self._observations: dict[str, np.ndarray] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._observations = self.core.reset(seed=seed)
        return self._focal(self._observations), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self.core.require_running()  # before any draw, so a refused step changes nothing
        action = _single(action, self.action_space)
        actions = {}
        rng = self.core.np_random
        for group in self.core.groups:
            observations = self._observations[group.name]
            if group.name == self.focal_group:
                chosen = self._policies[group.name](observations[self._others], rng)
                full = np.empty((group.size, *np.shape(chosen)[1:]), dtype=np.asarray(chosen).dtype)
                full[self._others] = chosen
                full[self.focal_index] = action
                actions[group.name] = full
            else:
                actions[group.name] = self._policies[group.name](observations, rng)
        result = self.core.step(actions)
        self._observations = result.observations
        reward = float(result.rewards[self.focal_group][self.focal_index])
        return self._focal(result.observations), reward, result.terminated, result.truncated, {}

    def _focal(self, observations: dict[str, np.ndarray]) -> Any:
        return observations[self.focal_group][self.focal_index]

    def render(self) -> np.ndarray | str | None:
        return self.core.render()


def _single(action: Any, space: gym.spaces.Space) -> Any:
    """Check the focal action here, before the population draws, naming it plainly."""
    if isinstance(space, gym.spaces.Discrete):
        value = np.asarray(action)
        if (
            value.shape != ()
            or value.dtype.kind not in "iu"
            or not space.start <= value < space.start + space.n
        ):
            raise ValueError(
                f"the focal action must be an integer in [{space.start}, "
                f"{space.start + space.n - 1}], got {action!r}"
            )
    return action
