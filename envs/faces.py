"""Build the familiar per-game entry points from one core class.

Every game module ends with ``raw_env, parallel_env, env, focal_env, vector_env =
faces(GameCore)``:

* ``raw_env(**kwargs)`` / ``parallel_env(**kwargs)`` — the PettingZoo ``ParallelEnv``;
* ``env(**kwargs)`` — the AEC env, through PettingZoo's ``parallel_to_aec``;
* ``focal_env(population_policy=None, *, group=None, focal_index=0, role_policies=None,
  **kwargs)`` — Gymnasium single-agent focal view (the ``gymnasium.make`` entry point);
* ``vector_env(num_envs, *, group=None, role_policies=None, autoreset_mode=NEXT_STEP,
  **kwargs)`` — Gymnasium population ``VectorEnv`` with one slot per member of ``group`` (the
  ``gymnasium.make_vec`` entry point, which passes ``autoreset_mode=`` through; ``num_envs``
  is that group's size).

The remaining keywords go to the core; ``raw_env.core_class`` is the core class itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gymnasium.vector import AutoresetMode
from pettingzoo.utils.conversions import parallel_to_aec

from populace.envs.core import PopulationCore
from populace.envs.focal import FocalEnv
from populace.envs.parallel import PopulationParallelEnv
from populace.envs.vector import PopulationVectorEnv


def faces(core_cls: type[PopulationCore]) -> tuple[Callable[..., Any], ...]:
    """Return ``(raw_env, parallel_env, env, focal_env, vector_env)`` for ``core_cls``."""

    class raw_env(PopulationParallelEnv):  # noqa: N801 - PettingZoo's naming convention
        __doc__ = core_cls.__doc__
        core_class = core_cls
        metadata = {"name": core_cls.metadata["name"], "is_parallelizable": True,
                    "render_modes": list(core_cls.metadata["render_modes"])}

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(core_cls(**kwargs))

    raw_env.__qualname__ = raw_env.__name__ = "raw_env"

    def parallel_env(**kwargs: Any) -> PopulationParallelEnv:
        return raw_env(**kwargs)

    def env(**kwargs: Any) -> Any:
        return parallel_to_aec(raw_env(**kwargs))

    def focal_env(
        population_policy: Any = None, *, group: str | None = None, focal_index: int = 0,
        role_policies: dict[str, Any] | None = None, **kwargs: Any,
    ) -> FocalEnv:
        return FocalEnv(core_cls(**kwargs), population_policy, group=group,
                        focal_index=focal_index, role_policies=role_policies)

    def vector_env(
        num_envs: int | None = None, *, group: str | None = None,
        role_policies: dict[str, Any] | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP, **kwargs: Any,
    ) -> PopulationVectorEnv:
        size_keyword = core_cls.population_keyword
        sized_by_keyword = group is None or group == core_cls.population_group
        if num_envs == 1 and (size_keyword in kwargs or not sized_by_keyword):
            num_envs = None  # Gymnasium's default num_envs; the explicit size wins
        if num_envs is not None and sized_by_keyword:
            if kwargs.get(size_keyword, num_envs) != num_envs:
                raise ValueError(
                    f"num_envs ({num_envs}) is the population size; it conflicts with "
                    f"{size_keyword}={kwargs[size_keyword]}"
                )
            kwargs[size_keyword] = num_envs
        vector = PopulationVectorEnv(core_cls(**kwargs), group=group, role_policies=role_policies,
                                     autoreset_mode=autoreset_mode)
        if num_envs is not None and vector.num_envs != num_envs:
            raise ValueError(
                f"num_envs ({num_envs}) must equal the size of group {vector.group!r} "
                f"({vector.num_envs})"
            )
        return vector

    return raw_env, parallel_env, env, focal_env, vector_env


def unwrap_core(env: Any) -> PopulationCore:
    """The :class:`PopulationCore` inside ``env``: itself, or behind ``.core`` and the usual
    wrapper attributes (Gymnasium's ``unwrapped``/``env``, PettingZoo's ``env``/``par_env``/
    ``aec_env``)."""
    current = env
    for _ in range(32):
        if isinstance(current, PopulationCore):
            return current
        inner = None
        for attribute in ("core", "unwrapped", "env", "par_env", "aec_env"):
            candidate = getattr(current, attribute, None)
            if candidate is not None and candidate is not current:
                inner = candidate
                break
        if inner is None:
            break
        current = inner
    raise TypeError(
        "env must be a PopulationCore or a Populace env (PettingZoo, focal or vector face) "
        f"with a .core attribute; got {type(env).__name__}"
    )
