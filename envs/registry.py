"""The one table of Populace games; importing ``populace`` registers every row.

Each game is registered with PettingZoo (``populace/<module>``, parallel and AEC) and with
Gymnasium (``populace/<GymName>``: the focal view for ``make``, the population view for
``make_vec``). Entry points are strings, so registering imports no game module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import gymnasium
import pettingzoo

if TYPE_CHECKING:
    from collections.abc import Callable

    from populace.envs.core import PopulationCore

# module name -> Gymnasium name
GAMES: dict[str, str] = {
    "contribution_v0": "Contribution-v0",
    "congestion_v0": "Congestion-v0",
    "matrix_v0": "Matrix-v0",
    "zspg_network_v0": "ZSPGNetwork-v0",
    "mf_lqr_v0": "MFLQR-v0",
    "spatial_congestion_v0": "SpatialCongestion-v0",
    "supply_demand_v0": "SupplyDemand-v0",
    "warehouse_v0": "Warehouse-v0",
    "warehouse_continuous_v0": "WarehouseContinuous-v0",
}


def module_path(module: str) -> str:
    return f"populace.envs.{module}"


def core_class(module: str) -> type[PopulationCore]:
    """The array core class of a registered game, e.g. ``core_class("contribution_v0")``."""
    if module not in GAMES:
        raise ValueError(f"unknown game {module!r}; choose one of {sorted(GAMES)}")
    cls: type[PopulationCore] = importlib.import_module(module_path(module)).raw_env.core_class
    return cls


def make_core(module: str, /, **kwargs: object) -> PopulationCore:
    """Build a registered game's array core directly (no face around it); ``kwargs`` go to it
    (matrix_v0's own ``game=`` included). Which keywords a game takes is known only once
    ``module`` is, so the core's constructor checks them."""
    build: Callable[..., PopulationCore] = core_class(module)
    return build(**kwargs)


def register_all() -> None:
    for module, gym_name in GAMES.items():
        register_game(module_path(module), f"populace/{module}", f"populace/{gym_name}")


def register_game(path: str, pz_id: str, gym_id: str) -> None:
    """Register the faces of the game module at import ``path`` under the two ids."""
    if pz_id.replace("_v", "-v") not in pettingzoo.parallel_registry:
        pettingzoo.register("parallel", pz_id, entry_point=f"{path}:parallel_env")
        pettingzoo.register("aec", pz_id, entry_point=f"{path}:env")
    if gym_id not in gymnasium.registry:
        gymnasium.register(
            id=gym_id, entry_point=f"{path}:focal_env", vector_entry_point=f"{path}:vector_env"
        )
