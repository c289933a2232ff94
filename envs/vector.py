"""Gymnasium vector face: one slot per agent of a homogeneous group (parameter sharing).

Episodes end for every slot at once; with Gymnasium's ``NEXT_STEP`` autoreset the step after
the last one resets the core and returns the first observations with zero reward.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from populace.envs.core import PopulationCore
from populace.envs.policies import OtherGroups, role_policies_for


class PopulationVectorEnv(VectorEnv):
    """A ``gymnasium.vector.VectorEnv`` whose ``num_envs`` sub-environments are the agents.

    Args:
        core: the game.
        group: the group whose members are the slots (default: the core's ``population_group``).
        role_policies: policies of the other groups, ``{group: spec}`` (default: the game's).
    """

    def __init__(
        self,
        core: PopulationCore,
        *,
        group: str | None = None,
        role_policies: dict[str, Any] | None = None,
    ) -> None:
        self.core = core
        chosen = core.group(group or core.population_group)
        self.group = chosen.name
        self.num_envs = chosen.size
        self.metadata = {
            "render_modes": list(core.metadata["render_modes"]),
            "render_fps": core.metadata.get("render_fps", 4),
            "name": core.metadata["name"],
            "autoreset_mode": AutoresetMode.NEXT_STEP,
        }
        self.render_mode = core.render_mode
        self.single_action_space = chosen.action_space
        self.single_observation_space = chosen.observation_space
        self.other_groups = OtherGroups(core, role_policies_for(core, chosen.name, role_policies))
        self._observations: dict[str, np.ndarray] = {}
        self._autoreset = False

    @cached_property
    def action_space(self) -> spaces.Space:  # type: ignore[override]
        return batch_space(self.single_action_space, self.num_envs)

    @cached_property
    def observation_space(self) -> spaces.Space:  # type: ignore[override]
        return batch_space(self.single_observation_space, self.num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        self._observations = self.core.reset(seed=seed)
        self._autoreset = False
        return self._observations[self.group], {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        n = self.num_envs
        if self._autoreset:
            observations, _ = self.reset()
            done = np.zeros(n, dtype=bool)
            return observations, np.zeros(n), done, done.copy(), {}
        result = self.other_groups.step({self.group: actions}, self._observations)
        self._observations = result.observations
        self._autoreset = result.terminated or result.truncated
        observations, rewards = result.observations[self.group], result.rewards[self.group]
        terminations = np.full(n, result.terminated)
        truncations = np.full(n, result.truncated)
        return observations, rewards, terminations, truncations, {}

    def render(self) -> Any:
        return self.core.render()
