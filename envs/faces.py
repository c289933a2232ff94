"""Build the familiar per-game entry points from one core class.

Every game module ends with ``raw_env, parallel_env, env, focal_env, vector_env =
faces(GameCore)``:

* ``raw_env(**kwargs)`` / ``parallel_env(**kwargs)`` — the PettingZoo ``ParallelEnv``;
* ``env(**kwargs)`` — the AEC env, through PettingZoo's ``parallel_to_aec``;
* ``focal_env(population_policy=None, **kwargs)`` — Gymnasium single-agent focal view
  (the ``gymnasium.make`` entry point);
* ``vector_env(num_envs, **kwargs)`` — Gymnasium population ``VectorEnv`` with one slot per
  agent (the ``gymnasium.make_vec`` entry point; ``num_envs`` is the population size).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pettingzoo.utils.conversions import parallel_to_aec

from populace.envs.core import PopulationCore
from populace.envs.focal import FocalEnv
from populace.envs.parallel import PopulationParallelEnv
from populace.envs.vector import PopulationVectorEnv


def faces(core_cls: type[PopulationCore]) -> tuple[Callable[..., Any], ...]:
    """Return ``(raw_env, parallel_env, env, focal_env, vector_env)`` for ``core_cls``."""

    class raw_env(PopulationParallelEnv):  # noqa: N801 - PettingZoo's naming convention
        __doc__ = core_cls.__doc__
        metadata = {"name": core_cls.metadata["name"], "is_parallelizable": True,
                    "render_modes": list(core_cls.metadata["render_modes"])}

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(core_cls(**kwargs))

    raw_env.__qualname__ = raw_env.__name__ = "raw_env"

    def parallel_env(**kwargs: Any) -> PopulationParallelEnv:
        return raw_env(**kwargs)

    def env(**kwargs: Any) -> Any:
        return parallel_to_aec(raw_env(**kwargs))

    def focal_env(population_policy: Any = None, **kwargs: Any) -> FocalEnv:
        return FocalEnv(core_cls(**kwargs), population_policy)

    def vector_env(num_envs: int | None = None, **kwargs: Any) -> PopulationVectorEnv:
        size_keyword = core_cls.population_keyword  # type: ignore[attr-defined]
        if num_envs == 1 and size_keyword in kwargs:
            num_envs = None  # Gymnasium's default num_envs; the explicit population size wins
        if num_envs is not None:
            if kwargs.get(size_keyword, num_envs) != num_envs:
                raise ValueError(
                    f"num_envs ({num_envs}) is the population size; it conflicts with "
                    f"{size_keyword}={kwargs[size_keyword]}"
                )
            kwargs[size_keyword] = num_envs
        return PopulationVectorEnv(core_cls(**kwargs))

    return raw_env, parallel_env, env, focal_env, vector_env
