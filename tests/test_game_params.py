"""Each game declares its parameters once, as a frozen dataclass (``core.settings``): its
docstring's Arguments table, its constructor's keywords and its run config all agree with it,
and the plane games key their equilibrium caches with it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re

import numpy as np
import pytest

from populace.envs.plane.spatial_congestion import SpatialCongestionParams
from populace.envs.plane.supply_demand import SupplyDemandParams
from populace.envs.registry import GAMES, core_class, make_core

ROW = re.compile(r"^\s*\|\s*`(?P<name>\w+)`\s*\|[^|]*\|\s*(?P<default>[^|]*?)\s*\|")


def params_class(module_name: str) -> type:
    return type(make_core(module_name, **small(module_name)).settings)


def small(module_name: str) -> dict[str, int]:
    """A population small enough to build every game quickly (where the game has one)."""
    return {} if module_name == "zspg_network_v0" else {"n_agents": 4}


def declared(cls: type) -> dict[str, object]:
    """The dataclass's keyword fields and their defaults, in order."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.init}


def arguments_table(core: type) -> dict[str, object]:
    """The ``## Arguments`` table of a core's docstring: parameter name -> default."""
    doc = inspect.getdoc(core) or ""
    assert "## Arguments" in doc, f"{core.__name__} has no Arguments table"
    section = doc.split("## Arguments", 1)[1].split("\n\n", 2)[1]
    rows = [ROW.match(line) for line in section.splitlines()]
    return {row["name"]: parse_default(row["default"]) for row in rows if row}


def parse_default(text: str) -> object:
    return ast.literal_eval(text.replace("`", "").replace("−", "-"))


def same(table: object, declared: object) -> bool:
    """Equal defaults: a table's 3 or (1, 0) stands for 3.0 or (1.0, 0.0), but a bool, a
    string or None only for itself."""
    if any(isinstance(x, bool | str) or x is None for x in (table, declared)):
        return type(table) is type(declared) and table == declared
    return np.shape(table) == np.shape(declared) and bool(np.array_equal(table, declared))


@pytest.mark.parametrize("module_name", sorted(GAMES))
def test_arguments_table_matches_the_declared_parameters(module_name):
    params = declared(params_class(module_name))
    table = arguments_table(core_class(module_name))
    assert list(table) == list(params), "names or order differ"
    wrong = {name: (table[name], default) for name, default in params.items()
             if not same(table[name], default)}
    assert not wrong, f"table default vs declared default: {wrong}"


@pytest.mark.parametrize("module_name", sorted(GAMES))
def test_the_constructor_takes_the_declared_keywords(module_name):
    cls, params = core_class(module_name), params_class(module_name)
    signature = inspect.signature(cls.__init__).parameters
    keywords = {name: p.default for name, p in signature.items() if name != "self"}
    assert keywords == declared(params)
    assert all(p.kind is p.KEYWORD_ONLY for name, p in signature.items() if name != "self")


@pytest.mark.parametrize("module_name", sorted(GAMES))
def test_settings_are_frozen_and_params_stay_as_given(module_name):
    core = make_core(module_name, **small(module_name), max_cycles=7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        core.settings.max_cycles = 8  # type: ignore[misc]
    assert core.settings.max_cycles == 7
    assert list(core.params) == list(declared(type(core.settings)))
    assert core.params["max_cycles"] == 7


@pytest.mark.parametrize(
    ("module_name", "cls", "keywords", "error", "message"),
    [
        ("spatial_congestion_v0", SpatialCongestionParams, {"alpha": 0}, ValueError,
         "alpha must be in (0, inf), got 0"),
        ("spatial_congestion_v0", SpatialCongestionParams, {"reward": "x"}, ValueError,
         "reward must be one of"),
        ("spatial_congestion_v0", SpatialCongestionParams, {"strict": 1}, TypeError,
         "strict must be a bool, got int 1"),
        ("supply_demand_v0", SupplyDemandParams, {"grid_cells": 7}, ValueError,
         "grid_cells must be >= 8, got 7"),
        ("supply_demand_v0", SupplyDemandParams, {"path_centre": (1.0,)}, ValueError,
         "path_centre must be a finite pair"),
    ],
)
def test_params_check_themselves_with_the_games_messages(module_name, cls, keywords, error,
                                                         message):
    with pytest.raises(error, match=re.escape(message)):
        cls(**keywords)
    with pytest.raises(error, match=re.escape(message)):
        make_core(module_name, **keywords)


def test_params_are_normalized_once():
    params = SpatialCongestionParams(alpha=2, start_mean=[1, 0], n_agents=np.int64(3))
    assert params.alpha == 2.0 and isinstance(params.alpha, float)
    assert params.start_mean == (1.0, 0.0) and isinstance(params.n_agents, int)
    core = make_core("spatial_congestion_v0", alpha=2, start_mean=[1, 0], n_agents=3)
    assert core.params["start_mean"] == [1, 0]  # what run folders record: the call's own values
    assert core.settings.start_mean == (1.0, 0.0)


def test_plane_equilibrium_keys_ignore_what_the_equilibrium_ignores():
    base = SpatialCongestionParams(grid_cells=31)
    same_game = SpatialCongestionParams(grid_cells=31, n_agents=5, action_bound=1.0,
                                        strict=True, max_cycles=9, render_mode="ansi")
    assert base.equilibrium_key() == same_game.equilibrium_key()
    assert hash(base.equilibrium_key()) == hash(same_game.equilibrium_key())
    for changed in ({"alpha": 2.0}, {"grid_cells": 41}, {"start_mean": (0.5, 0.0)}):
        assert SpatialCongestionParams(**{"grid_cells": 31, **changed}).equilibrium_key() \
            != base.equilibrium_key(), changed
    supply = SupplyDemandParams()
    assert supply.equilibrium_key() == SupplyDemandParams(n_agents=3, grid_cells=8,
                                                          grid_half_width=1.0).equilibrium_key()
    for changed in ({"action_bound": 0.25}, {"max_cycles": 10}, {"path_radius": 0.5}):
        assert SupplyDemandParams(**changed).equilibrium_key() != supply.equilibrium_key()


def test_games_with_one_key_share_one_solved_equilibrium():
    first = make_core("spatial_congestion_v0", n_agents=3, grid_cells=31, alpha=3.0)
    second = make_core("spatial_congestion_v0", n_agents=50, grid_cells=31, alpha=3.0,
                       action_bound=1.0)
    assert first.reference_equilibrium() is second.reference_equilibrium()
