"""Every game against its floor, and every game's dict face against its core (issue 19).

:func:`measure_floor` times ``core.step`` of a registered game's default configuration and
the game's floor (:mod:`populace.bench.floors`), interleaved, in CPU time, after checking that
the floor returns what the core returns. :func:`measure_face` times the game's PettingZoo
``parallel_env.step`` (a dict of per-agent actions in, dicts out) against ``core.step`` with
the same actions as arrays, on the same core, and the face's own work alone: the same dict
step on a second env whose core answers every step with one stored result. The last is the
overhead the target is about; dict − core, a difference of two totals, is within noise of it
when the core step is long (the plane games' FFT at N = 100).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from populace.bench.floors import FOREVER, check_floor, floor_case
from populace.bench.rows import FaceRow, FloorRow
from populace.bench.timing import Timing, time_interleaved
from populace.envs import registry
from populace.envs.core import PopulationCore
from populace.envs.parallel import PopulationParallelEnv


def stepper(core: PopulationCore, joint: dict[str, np.ndarray]) -> Callable[[], None]:
    def step() -> None:
        if core.step(joint).truncated:
            core.reset()

    return step


def measure_floor(game: str, n_agents: int, timing: Timing, *, seed: int = 0) -> FloorRow:
    """``game``'s core step against its floor at ``n_agents`` (CPU time, interleaved)."""
    case = floor_case(game, n_agents, seed=seed)
    floor = check_floor(case)
    times = time_interleaved({"step": stepper(case.core, case.joint), "floor": floor}, timing)
    step, bare = times["step"], times["floor"]
    return FloorRow(game, n_agents, step.median, bare.median, step.best, bare.best, case.what)


def face_actions(env: PopulationParallelEnv, joint: dict[str, np.ndarray]) -> dict[str, Any]:
    """The joint action as a PettingZoo dict: Python ints for discrete actions, arrays for
    continuous ones (what a user's policy loop typically sends)."""
    by_agent: dict[str, Any] = {}
    for group in env.core.groups:
        values = joint[group.name]
        entries = values.tolist() if values.ndim == 1 else list(values)
        by_agent.update(zip(group.agent_names(), entries, strict=True))
    return by_agent


def measure_face(game: str, n_agents: int, timing: Timing, *, seed: int = 0) -> FaceRow:
    """``game``'s dict face against its core, same actions, same core, per agent-step."""
    case = floor_case(game, n_agents, seed=seed)
    kwargs: dict[str, int | str] = {"n_agents": n_agents, "max_cycles": FOREVER}
    if game in ("contribution_v0", "congestion_v0", "matrix_v0"):
        kwargs["observe"] = "none"
    env = _parallel_env(game, **kwargs)
    env.reset(seed=seed)
    by_agent = face_actions(env, case.joint)

    def dict_step() -> None:
        env.step(by_agent)
        if not env.agents:
            env.reset()

    adapter = _parallel_env(game, **kwargs)
    adapter.reset(seed=seed)
    stored = adapter.core.step(case.joint)
    adapter.core.step = lambda actions: stored  # type: ignore[method-assign]  # face alone

    times = time_interleaved(
        {"dict": dict_step, "core": stepper(env.core, case.joint),
         "face": lambda: adapter.step(by_agent)}, timing
    )
    agents = len(env.possible_agents)
    return FaceRow(game, agents, times["dict"].median, times["core"].median,
                   times["face"].median)


def _parallel_env(game: str, **kwargs: Any) -> PopulationParallelEnv:
    module = importlib.import_module(registry.module_path(game))
    return cast(PopulationParallelEnv, module.parallel_env(**kwargs))
