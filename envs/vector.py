"""Gymnasium vector face: one slot per agent of a homogeneous group (parameter sharing).

Episodes end for every slot at once. Two of Gymnasium's autoreset modes are offered
(``autoreset_mode=``, also through ``gymnasium.make_vec``):

* ``NEXT_STEP`` (default, what ``SyncVectorEnv`` does by default): the step after the last one
  resets the core, ignores its actions and returns the first observations with zero reward;
* ``SAME_STEP`` (what TorchRL's ``GymWrapper`` expects): the last step itself returns the next
  episode's first observations, with the last step's rewards, terminations and truncations,
  and puts the true final observations in ``infos["final_obs"]`` (an object array, one
  observation per slot) and the final infos in ``infos["final_info"]``, each with its
  ``"_final_obs"``/``"_final_info"`` mask, as Gymnasium's own vector envs do.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from populace.envs.core import PopulationCore, owned
from populace.envs.policies import OtherGroups, role_policies_for

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


class PopulationVectorEnv(VectorEnv):
    """A ``gymnasium.vector.VectorEnv`` whose ``num_envs`` sub-environments are the agents.

    Args:
        core: the game.
        group: the group whose members are the slots (default: the core's ``population_group``).
        role_policies: policies of the other groups, ``{group: spec}`` (default: the game's).
        autoreset_mode: ``AutoresetMode.NEXT_STEP`` (default) or ``AutoresetMode.SAME_STEP``,
            or their values ``"NextStep"``/``"SameStep"``; also ``self.autoreset_mode`` and
            ``metadata["autoreset_mode"]``.

    Observations are arrays the caller owns (a core's read-only broadcast view is copied).
    """

    def __init__(
        self,
        core: PopulationCore,
        *,
        group: str | None = None,
        role_policies: dict[str, Any] | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.core = core
        self.__doc__ = type(core).__doc__  # the game's own docs, not the face's
        chosen = core.group(group or core.population_group)
        self.group = chosen.name
        self.num_envs = chosen.size
        self.autoreset_mode = check_autoreset_mode(autoreset_mode)
        self.metadata = {
            "render_modes": list(core.metadata["render_modes"]),
            "render_fps": core.metadata.get("render_fps", 4),
            "name": core.metadata["name"],
            "autoreset_mode": self.autoreset_mode,
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
        return owned(self._observations[self.group]), {}

    def step(self, actions: object
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        n = self.num_envs
        if self._autoreset:  # NEXT_STEP: this step only resets
            observations, _ = self.reset()
            done = np.zeros(n, dtype=bool)
            return observations, np.zeros(n), done, done.copy(), {}
        result = self.other_groups.step({self.group: actions}, self._observations)
        self._observations = result.observations
        observations = owned(result.observations[self.group])
        rewards = result.rewards[self.group]
        terminations = np.full(n, result.terminated)
        truncations = np.full(n, result.truncated)
        infos: dict[str, Any] = {}
        if result.terminated or result.truncated:
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                infos = self._final_infos(observations)
                observations, _ = self.reset()
            else:
                self._autoreset = True
        return observations, rewards, terminations, truncations, infos

    def _final_infos(self, observations: np.ndarray) -> dict[str, Any]:
        """Gymnasium's ``SAME_STEP`` infos when every slot ends: the final observation of each
        slot in an object array, the (empty) final infos, and both masks all True."""
        every = np.ones(self.num_envs, dtype=bool)
        final = np.fromiter(observations, dtype=object, count=self.num_envs)
        return {"final_obs": final, "_final_obs": every, "final_info": {},
                "_final_info": every.copy()}

    # one picture of the whole population (the core's), not Gymnasium's tuple of one frame per
    # sub-environment: the slots share a single core
    def render(self) -> np.ndarray | str | None:  # type: ignore[override]
        return self.core.render()


def check_autoreset_mode(mode: object) -> AutoresetMode:
    """``mode`` as one of the :data:`AUTORESET_MODES` (an ``AutoresetMode`` or its value)."""
    offered = {m.value: m for m in AUTORESET_MODES}
    value = mode.value if isinstance(mode, AutoresetMode) else mode
    if not isinstance(value, str) or value not in offered:
        raise ValueError(
            f"autoreset_mode must be one of {list(offered)} (or gymnasium.vector.AutoresetMode "
            f"members), got {mode!r}"
        )
    return offered[value]
