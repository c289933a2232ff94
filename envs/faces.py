"""Build the familiar per-game entry points from one core class.

Every game module ends with ``raw_env, parallel_env, env, focal_env, vector_env =
faces(GameCore)``:

* ``raw_env(**kwargs)`` / ``parallel_env(**kwargs)`` — the PettingZoo ``ParallelEnv``;
* ``env(**kwargs)`` — the AEC env: PettingZoo's ``parallel_to_aec`` conversion, checking each action
  as it is given (:class:`~populace.envs.parallel.PopulationAECEnv`);
* ``focal_env(population_policy=None, *, group=None, focal_index=0, role_policies=None,
  **kwargs)`` — Gymnasium single-agent focal view (the ``gymnasium.make`` entry point);
* ``vector_env(num_envs, *, group=None, role_policies=None, autoreset_mode=NEXT_STEP,
  **kwargs)`` — Gymnasium population ``VectorEnv`` with one slot per member of ``group`` (the
  ``gymnasium.make_vec`` entry point, which passes ``autoreset_mode=`` through; ``num_envs``
  is that group's size, so ``make_vec``'s default ``num_envs=1`` is a population of one where
  the game allows it, and refused, naming ``num_envs``, where it needs two).

The remaining keywords go to the core, except ``observation_dtype`` (``"float32"`` or
``"float64"``), which every face takes: the core then hands out its float observations in that
dtype (:meth:`~populace.envs.core.PopulationCore.use_observation_dtype`). ``raw_env.core_class``
is the core class itself. Every
face carries the game's own docstring (the core's, in Gymnasium's format): the PettingZoo
class and the entry functions as their ``__doc__``, and each focal or vector env built over a
core as its instance's ``__doc__``, so ``gymnasium.make(id).unwrapped.__doc__`` describes the
game rather than the face.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gymnasium.vector import AutoresetMode

from populace.envs.core import PopulationCore
from populace.envs.focal import FocalEnv
from populace.envs.parallel import PopulationParallelEnv, population_aec_env
from populace.envs.policies import PolicySpec
from populace.envs.vector import PopulationVectorEnv


def faces(core_cls: type[PopulationCore]) -> tuple[Callable[..., Any], ...]:
    """Return ``(raw_env, parallel_env, env, focal_env, vector_env)`` for ``core_cls``."""

    class raw_env(PopulationParallelEnv):  # noqa: N801 - PettingZoo's naming convention
        __doc__ = core_cls.__doc__
        core_class = core_cls
        metadata = {"name": core_cls.metadata["name"], "is_parallelizable": True,
                    "render_modes": list(core_cls.metadata["render_modes"])}

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(build_core(core_cls, kwargs))

    raw_env.__qualname__ = raw_env.__name__ = "raw_env"

    def parallel_env(**kwargs: Any) -> PopulationParallelEnv:
        return raw_env(**kwargs)

    def env(**kwargs: Any) -> Any:
        return population_aec_env(raw_env(**kwargs))

    def focal_env(
        population_policy: PolicySpec = None, *, group: str | None = None,
        focal_index: int = 0, role_policies: dict[str, PolicySpec] | None = None, **kwargs: Any,
    ) -> FocalEnv:
        return FocalEnv(build_core(core_cls, kwargs), population_policy, group=group,
                        focal_index=focal_index, role_policies=role_policies)

    def vector_env(
        num_envs: int | None = None, *, group: str | None = None,
        role_policies: dict[str, PolicySpec] | None = None,
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
            core = _sized_by_num_envs(core_cls, num_envs, kwargs)
        else:
            core = build_core(core_cls, kwargs)
        vector = PopulationVectorEnv(core, group=group, role_policies=role_policies,
                                     autoreset_mode=autoreset_mode)
        if num_envs is not None and vector.num_envs != num_envs:
            raise ValueError(
                f"num_envs ({num_envs}) must equal the size of group {vector.group!r} "
                f"({vector.num_envs})"
            )
        return vector

    for face in (parallel_env, env, focal_env, vector_env):
        face.__doc__ = core_cls.__doc__
    return raw_env, parallel_env, env, focal_env, vector_env


def build_core(core_cls: type[PopulationCore], kwargs: dict[str, Any]) -> PopulationCore:
    """``core_cls(**kwargs)``, after taking out the faces' own ``observation_dtype`` keyword
    (:meth:`PopulationCore.use_observation_dtype`: e.g. ``"float32"`` for a float32 network
    on a game that observes in float64)."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("observation_dtype", None)
    core = core_cls(**kwargs)
    if dtype is not None:
        core.use_observation_dtype(dtype)
    return core


def _sized_by_num_envs(
    core_cls: type[PopulationCore], num_envs: int, kwargs: dict[str, Any]
) -> PopulationCore:
    """``core_cls(**kwargs)`` whose population size came from ``num_envs``; a refused size is
    reported as ``num_envs``, which is what the user typed (or ``make_vec``'s default of 1)."""
    keyword = core_cls.population_keyword
    try:
        return build_core(core_cls, kwargs)
    except (TypeError, ValueError) as error:
        if keyword not in str(error):
            raise
        raise type(error)(
            f"{error} (num_envs={num_envs!r} is the population size {keyword}: one slot per "
            "agent; gymnasium.make_vec's default num_envs is 1, so pass num_envs=N)"
        ) from None


def unwrap_core(env: object) -> PopulationCore:
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
