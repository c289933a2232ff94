"""Shared test table: one row of small keyword sets per registered game.

``ENV_CASES`` is the data the conformance suite runs over (PettingZoo's ``[name, module,
kwargs]`` rows, VMAS's "every scenario is tested"). ``tests/test_conformance.py`` fails when a
module in :data:`populace.envs.registry.GAMES` has no row here, so a new game cannot go
untested. Rows for modules that are not registered (yet) are skipped, not failed.

Test functions ask for these fixtures (parametrized in :func:`pytest_generate_tests`):

* ``case`` — every registered row, as a :class:`Case`;
* ``average_case`` — the rows of anonymous games whose rewards are deterministic given the
  action profile (``payoff="average"``, or a game without random matching such as congestion);
* ``module_name`` — every registered module name.

With ``--import-mode=importlib`` test modules cannot ``import conftest``; helpers therefore
live on :class:`Case`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

import populace  # noqa: F401 - registers every game
from populace.envs.anonymous import AnonymousGameCore
from populace.envs.core import PopulationCore
from populace.envs.registry import GAMES

# Small populations covering every payoff mode ("average", "matching") and every observe mode
# ("none", "population", "sample:3"); N odd and even, N = 2 (the smallest population).
ENV_CASES: dict[str, list[dict[str, Any]]] = {
    "contribution_v0": [
        {"n_agents": 3, "payoff": "average", "observe": "none"},
        {"n_agents": 4, "payoff": "average", "observe": "population"},
        {"n_agents": 5, "payoff": "average", "observe": "sample:3"},
        {"n_agents": 2, "payoff": "matching", "observe": "population"},
        {"n_agents": 5, "payoff": "matching", "observe": "sample:3"},
        {"n_agents": 6, "payoff": "matching", "observe": "none", "cost_offset": 3.5},
    ],
    "matrix_v0": [
        {"game": "prisoners_dilemma", "n_agents": 4, "payoff": "matching", "observe": "none"},
        {"game": "climbing", "n_agents": 5, "payoff": "average", "observe": "sample:3"},
        {"game": "stag_hunt", "n_agents": 3, "payoff": "matching", "observe": "population"},
        {"game": "rock_paper_scissors", "n_agents": 4, "payoff": "average",
         "observe": "population"},
        {"game": [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 1.0, 0.0]], "n_agents": 2,
         "payoff": "average", "observe": "none"},
        {"game": "rock_paper_scissors", "n_agents": 5, "payoff": "matching",
         "observe": "sample:3"},
    ],
    "congestion_v0": [
        {"n_agents": 3, "mechanism": "acp", "observe": "none"},
        {"n_agents": 4, "mechanism": "serial", "observe": "population"},
        {"n_agents": 5, "mechanism": "acp", "observe": "sample:3"},
        {"n_agents": 2, "mechanism": "serial", "observe": "sample:3"},
    ],
}


def load(module_name: str) -> ModuleType:
    return importlib.import_module(f"populace.envs.{module_name}")


@dataclass(frozen=True)
class Case:
    """One row of :data:`ENV_CASES`: a game module and the keywords to build it with."""

    module_name: str
    kwargs: dict[str, Any] = field(hash=False)
    index: int = 0

    @property
    def id(self) -> str:
        short = ",".join(
            f"{k}={v}" if not isinstance(v, list) else f"{k}=matrix" for k, v in self.kwargs.items()
        )
        return f"{self.module_name}[{self.index}]({short})"

    @property
    def module(self) -> ModuleType:
        return load(self.module_name)

    @property
    def gym_id(self) -> str:
        return f"populace/{GAMES[self.module_name]}"

    @property
    def pz_id(self) -> str:
        return f"populace/{self.module_name}"

    def kw(self, **overrides: Any) -> dict[str, Any]:
        return {**self.kwargs, **overrides}

    def parallel(self, **overrides: Any) -> Any:
        return self.module.parallel_env(**self.kw(**overrides))

    @cached_property
    def core_cls(self) -> type[PopulationCore]:
        return type(self.module.parallel_env(**self.kwargs).core)

    def core(self, **overrides: Any) -> PopulationCore:
        return self.core_cls(**self.kw(**overrides))

    @property
    def population_keyword(self) -> str:
        return self.core_cls.population_keyword

    def vector_kw(self, **overrides: Any) -> tuple[int, dict[str, Any]]:
        """``(num_envs, kwargs)`` for ``make_vec``: the population size moves to ``num_envs``."""
        kw = self.kw(**overrides)
        return kw.pop(self.population_keyword), kw

    @property
    def single_group(self) -> bool:
        return len(self.core().groups) == 1

    # ------------------------------------------------------------- seeded random actions
    @staticmethod
    def sample(space: spaces.Space, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw actions from ``space`` with ``rng`` (not the space's own generator)."""
        if isinstance(space, spaces.Discrete):
            return rng.integers(space.start, space.start + space.n, size=size)
        if isinstance(space, spaces.Box):
            shape = space.shape if size is None else (size, *space.shape)
            return rng.uniform(space.low, space.high, size=shape).astype(space.dtype)
        raise NotImplementedError(f"no sampler for {space}")

    def group_actions(self, core: PopulationCore, rng: np.random.Generator) -> dict[str, Any]:
        """One action array per group of ``core``."""
        return {g.name: self.sample(g.action_space, rng, size=g.size) for g in core.groups}

    @staticmethod
    def to_dict(core: PopulationCore, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """The same joint action as a PettingZoo dict (Python scalars where discrete)."""
        out: dict[str, Any] = {}
        for g in core.groups:
            values = arrays[g.name]
            items = values.tolist() if values.ndim == 1 else list(values)
            out.update(zip(g.agent_names(), items, strict=True))
        return out


def _all_cases() -> list[Case]:
    return [
        Case(name, kwargs, i) for name, rows in ENV_CASES.items() for i, kwargs in enumerate(rows)
    ]


def _params(cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        marks = []
        if case.module_name not in GAMES:
            marks.append(pytest.mark.skip(reason=f"{case.module_name} is not registered yet"))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _deterministic_anonymous(case: Case) -> bool:
    """An anonymous game whose rewards depend on the action profile alone (no random matching:
    ``payoff="average"``, or a game such as congestion where everyone shares one outcome)."""
    if case.module_name not in GAMES:
        return True  # shown as skipped
    core = case.core()
    return isinstance(core, AnonymousGameCore) and getattr(core, "payoff", None) != "matching"


def _explicitly_parametrized(metafunc: pytest.Metafunc) -> set[str]:
    names: set[str] = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(argnames, str):
            argnames = [name.strip() for name in argnames.split(",")]
        names.update(argnames)
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = set(metafunc.fixturenames) - _explicitly_parametrized(metafunc)  # theirs win
    cases = _all_cases()
    if "case" in wanted:
        metafunc.parametrize("case", _params(cases))
    if "average_case" in wanted:
        chosen = [c for c in cases if _deterministic_anonymous(c)]
        metafunc.parametrize("average_case", _params(chosen))
    if "module_name" in wanted:
        metafunc.parametrize("module_name", sorted(GAMES))


@pytest.fixture(scope="session")
def env_cases() -> dict[str, list[dict[str, Any]]]:
    return ENV_CASES
