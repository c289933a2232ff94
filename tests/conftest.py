"""Shared test tables: small keyword sets per game, and the test-only games.

``ENV_CASES`` is the data the conformance suite runs over (PettingZoo's ``[name, module,
kwargs]`` rows, VMAS's "every scenario is tested"). ``tests/test_conformance.py`` fails when a
module in :data:`populace.envs.registry.GAMES` has no row here, so a new game cannot go
untested. Rows for modules that are not registered (yet) are skipped, not failed.

``TEST_GAMES`` are games that live in this folder (``toy_v0``: a leader and its followers, with
Box actions and terminations). They are registered here, under ``populace_test/``, and only
the conformance suite and the train-loop tests run on them, through ``TEST_GAME_CASES``.

Test functions ask for these fixtures (parametrized in :func:`pytest_generate_tests`):

* ``case`` — every registered row, as a :class:`Case`;
* ``average_case`` — the rows of anonymous games whose rewards are deterministic given the
  action profile (``payoff="average"``, or a game without random matching such as congestion);
* ``module_name`` — every registered module name;
* ``game_case`` — every row of every game, registered or test-only;
* ``face_case`` — every ``game_case`` once per group of the game (``face_case.group``), for
  the faces that show one group (focal and vector). A test that asks for ``game_case`` or
  ``face_case`` fails instead of skipping: the conformance suite runs every face of every game.

With ``--import-mode=importlib`` test modules cannot ``import conftest``; helpers therefore
live on :class:`Case`. They can ``import toy_v0``: this folder is put on ``sys.path`` here.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

import populace  # noqa: F401 - registers every game
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.core import PopulationCore
from populace.envs.registry import GAMES, register_game
from populace.envs.zero_sum.strategies import Simplex

# Every game's first row is DEFAULTS: the game exactly as ``gymnasium.make(id)`` and
# ``parallel_env()`` give it, so the suite checks first what a user gets first (every default
# passes Gymnasium's and PettingZoo's checkers). Then small populations covering every payoff
# mode ("average", "matching") and every observe mode ("none", "population", "sample:3"); N odd
# and even, N = 2 (the smallest population).
DEFAULTS: dict[str, Any] = {}
ENV_CASES: dict[str, list[dict[str, Any]]] = {
    "contribution_v0": [
        DEFAULTS,
        {"n_agents": 3, "payoff": "average", "observe": "none"},
        {"n_agents": 4, "payoff": "average", "observe": "population"},
        {"n_agents": 5, "payoff": "average", "observe": "sample:3"},
        {"n_agents": 2, "payoff": "matching", "observe": "population"},
        {"n_agents": 5, "payoff": "matching", "observe": "sample:3"},
        {"n_agents": 6, "payoff": "matching", "observe": "none", "cost_offset": 3.5},
    ],
    "matrix_v0": [
        DEFAULTS,
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
        DEFAULTS,
        {"n_agents": 3, "mechanism": "acp", "observe": "none"},
        {"n_agents": 4, "mechanism": "serial", "observe": "population"},
        {"n_agents": 5, "mechanism": "acp", "observe": "sample:3"},
        {"n_agents": 2, "mechanism": "serial", "observe": "sample:3"},
    ],
    # the chain (odd and even lengths), the two-agent presets and a weighted user graph,
    # with both feedback modes (expected: mixed strategies drawn from the simplex)
    "zspg_network_v0": [
        DEFAULTS,
        {"n_agents": 5, "feedback": "sampled"},
        {"n_agents": 4, "feedback": "expected", "temperatures": [0.1, 0.2, 0.3, 0.4]},
        {"n_agents": 2, "game": "amps", "feedback": "sampled"},
        {"n_agents": 2, "game": "rps", "feedback": "expected"},
        {"n_agents": 3, "game": {"edges": [[0, 1], [1, 2], [0, 2]],
                                 "matrices": [[[1.0, -2.0], [0.5, 0.0]]] * 3,
                                 "weights": [1.0, 2.0, 0.5]}, "feedback": "sampled"},
    ],
    # continuous Box actions, float64 observations, multi-step episodes: the defaults, another
    # criterion and split (q2 = 0, discounted, small box), and a noiseless pair
    "mf_lqr_v0": [
        DEFAULTS,
        {"n_agents": 4},
        {"n_agents": 5, "dt": 0.01, "q1": 2.0, "q2": 0.0, "discount_rate": 0.1,
         "action_bound": 2.0, "init_mean": [1.0, -1.0]},
        {"n_agents": 2, "sigma": 0.0, "init_std": 0.0, "target": [1.0, 2.0]},
    ],
    # plane games with Box moves: clipped (default) and strict boxes, both desirabilities,
    # small density grids; N = 1 (an agent alone with its own density); episodes of one round
    # (the default: it ends by termination) and of several
    "spatial_congestion_v0": [
        DEFAULTS,
        {"n_agents": 4, "grid_cells": 24, "max_cycles": 2},
        {"n_agents": 3, "alpha": 3.0, "reward": "bimodal", "strict": True, "eta": 0.0,
         "grid_cells": 16, "max_cycles": 3},
        {"n_agents": 1, "sigma": 0.0, "grid_cells": 8, "action_bound": 1.0, "max_cycles": 5},
    ],
    # the moving demand: short horizons, strict and clipped boxes, no uncertainty, N = 1
    "supply_demand_v0": [
        DEFAULTS,
        {"n_agents": 4, "grid_cells": 24, "max_cycles": 5},
        {"n_agents": 3, "eta": 0.0, "strict": True, "grid_cells": 16, "offset_std": 0.0,
         "speed_spread": 0.0},
        {"n_agents": 1, "sigma": 0.0, "grid_cells": 8, "action_bound": 1.0, "max_cycles": 4},
    ],
    # a dispatcher (focal group of one) and robots with different observation spaces; small
    # and full-information samples, both pull orders, one robot
    "warehouse_v0": [
        DEFAULTS,
        {"n_agents": 6, "k": 3},
        {"n_agents": 4, "k": 4, "pull": "current"},
        {"n_agents": 1, "k": 1},
    ],
    "warehouse_continuous_v0": [
        DEFAULTS,
        {"n_agents": 6, "k": 3},
        {"n_agents": 2, "k": 2},
    ],
}


# Test-only games: module in this folder -> Gymnasium name. They are registered under
# ``populace_test/`` (``populace_test/toy_v0`` with PettingZoo, ``populace_test/Toy-v0`` with
# Gymnasium), never under ``populace/``.
TEST_GAMES: dict[str, str] = {"toy_v0": "Toy-v0"}
TEST_NAMESPACE = "populace_test"

# With boundary 2.2 about half the episodes of 7 rounds of random play terminate, so the face
# tests cross terminations and truncations; n_agents=1 leaves a focal follower no population.
TEST_GAME_CASES: dict[str, list[dict[str, Any]]] = {
    "toy_v0": [
        {"n_agents": 5, "boundary": 2.2},
        {"n_agents": 1, "boundary": 2.2},
    ],
}

# The games whose episodes can terminate, and keywords under which they do not within a few
# rounds: PettingZoo's ``max_cycles_test`` and the autoreset test expect every episode to last
# exactly ``max_cycles`` rounds. (The leader moves at most 1.25 a round; 8 is the arena's edge.)
TRUNCATION_ONLY: dict[str, dict[str, Any]] = {"toy_v0": {"boundary": 8.0}}

# The games whose episodes end at ``max_cycles`` by termination, not truncation: a fixed number
# of independent one-shot plays, after the last of which nothing follows.
HORIZON_TERMINATES = frozenset({"spatial_congestion_v0"})

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ``import toy_v0``
for _module, _gym_name in TEST_GAMES.items():
    register_game(_module, f"{TEST_NAMESPACE}/{_module}", f"{TEST_NAMESPACE}/{_gym_name}")


def load(module_name: str) -> ModuleType:
    if module_name in TEST_GAMES:
        return importlib.import_module(module_name)
    return importlib.import_module(f"populace.envs.{module_name}")


@dataclass(frozen=True)
class Case:
    """One row of :data:`ENV_CASES` or :data:`TEST_GAME_CASES`: a game module and the keywords
    to build it with; for a face test also the ``group`` the face shows."""

    module_name: str
    kwargs: dict[str, Any] = field(hash=False)
    index: int = 0
    group: str | None = None

    @property
    def id(self) -> str:
        short = ",".join(
            f"{k}={v}" if not isinstance(v, list | dict) else f"{k}=matrix"
            for k, v in self.kwargs.items()
        )
        shown = f"{self.module_name}[{self.index}]({short or 'defaults'})"
        return shown if self.group is None else f"{shown}-{self.group}"

    @property
    def registered(self) -> bool:
        """Registered with the package, or (a test-only game) by this file."""
        return self.module_name in GAMES or self.module_name in TEST_GAMES

    @property
    def module(self) -> ModuleType:
        return load(self.module_name)

    @property
    def namespace(self) -> str:
        return TEST_NAMESPACE if self.module_name in TEST_GAMES else "populace"

    @property
    def gym_id(self) -> str:
        gym_name = TEST_GAMES.get(self.module_name) or GAMES[self.module_name]
        return f"{self.namespace}/{gym_name}"

    @property
    def pz_id(self) -> str:
        return f"{self.namespace}/{self.module_name}"

    def kw(self, **overrides: Any) -> dict[str, Any]:
        return {**self.kwargs, **overrides}

    def truncating_kw(self, **overrides: Any) -> dict[str, Any]:
        """:meth:`kw` under which episodes end by truncation alone (:data:`TRUNCATION_ONLY`)."""
        return self.kw(**TRUNCATION_ONLY.get(self.module_name, {}), **overrides)

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
        """``(num_envs, kwargs)`` for ``make_vec`` of :attr:`group` (default: the population
        group): the population size moves to ``num_envs``; another group keeps its size."""
        kw = self.kw(**overrides)
        if self.group is None or self.group == self.core_cls.population_group:
            if self.population_keyword not in kw:  # the game's default size
                return self.core(**overrides).group(self.core_cls.population_group).size, kw
            return kw.pop(self.population_keyword), kw
        return self.core(**overrides).group(self.group).size, kw

    @property
    def single_group(self) -> bool:
        return len(self.core().groups) == 1

    @property
    def horizon_terminates(self) -> bool:
        """Whether episodes end at ``max_cycles`` by termination (:data:`HORIZON_TERMINATES`)."""
        return self.module_name in HORIZON_TERMINATES

    def at_horizon(self, terminated: Any, truncated: Any) -> tuple[Any, Any]:
        """``(the flag that marks the horizon, the other flag)`` for this game."""
        return (terminated, truncated) if self.horizon_terminates else (truncated, terminated)

    @property
    def can_terminate(self) -> bool:
        """Whether the game's episodes can end by termination (not only truncation)."""
        return self.module_name in TRUNCATION_ONLY

    # ------------------------------------------------------------- seeded random actions
    @staticmethod
    def sample(space: spaces.Space, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw actions from ``space`` with ``rng`` (not the space's own generator)."""
        if isinstance(space, spaces.Discrete):
            return rng.integers(space.start, space.start + space.n, size=size)
        if isinstance(space, Simplex):  # mixed strategies: uniform on the simplex
            return rng.dirichlet(np.ones(space.shape[0]), size=size)
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


def _cases(tables: dict[str, list[dict[str, Any]]]) -> list[Case]:
    return [Case(name, kwargs, i) for name, rows in tables.items() for i, kwargs in enumerate(rows)]


def _all_cases() -> list[Case]:
    return _cases(ENV_CASES)


def game_cases() -> list[Case]:
    """Every row of every game: the registered games', then the test-only games'."""
    return _cases({**ENV_CASES, **TEST_GAME_CASES})


def face_cases() -> list[Case]:
    """Every :func:`game_cases` row once per group of its game (the row of a module that is
    not registered once, to be shown as skipped)."""
    cases = []
    for case in game_cases():
        groups = [g.name for g in case.core().groups] if case.registered else [None]
        cases += [Case(case.module_name, case.kwargs, case.index, group) for group in groups]
    return cases


def _params(cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        marks = []
        if not case.registered:
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
    if "game_case" in wanted:
        metafunc.parametrize("game_case", _params(game_cases()))
    if "face_case" in wanted:
        metafunc.parametrize("face_case", _params(face_cases()))


NO_SKIPPING = ("game_case", "face_case")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A conformance test (one that asks for ``game_case`` or ``face_case``) that skips itself
    fails: every face of every game must run. (Rows of unregistered modules are still skipped,
    before the test is called.)"""
    report = yield
    fixtures = getattr(item, "fixturenames", ())
    if report.when == "call" and report.skipped and any(f in fixtures for f in NO_SKIPPING):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} skipped itself ({reason}); conformance tests run every face of "
            "every game and may not skip"
        )
    return report


@pytest.fixture(scope="session")
def env_cases() -> dict[str, list[dict[str, Any]]]:
    return ENV_CASES


@pytest.fixture(scope="session")
def conformance_table() -> SimpleNamespace:
    """The test-only games and the rows ``game_case`` and ``face_case`` run over."""
    return SimpleNamespace(
        test_games=dict(TEST_GAMES), game_cases=game_cases(), face_cases=face_cases()
    )
