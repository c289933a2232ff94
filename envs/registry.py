"""The one table of Populace games; importing ``populace`` registers every row.

Each game is registered with PettingZoo (``populace/<module>``, parallel and AEC) and with
Gymnasium (``populace/<GymName>``: the focal view for ``make``, the population view for
``make_vec``). Entry points are strings, so registering imports no game module.
"""

from __future__ import annotations

import gymnasium
import pettingzoo

# module name -> Gymnasium name
GAMES: dict[str, str] = {
    "contribution_v0": "Contribution-v0",
    "congestion_v0": "Congestion-v0",
    "matrix_v0": "Matrix-v0",
}


def module_path(module: str) -> str:
    return f"populace.envs.{module}"


def register_all() -> None:
    for module, gym_name in GAMES.items():
        path = module_path(module)
        pz_id = f"populace/{module}"
        if pz_id.replace("_v", "-v") not in pettingzoo.parallel_registry:
            pettingzoo.register("parallel", pz_id, entry_point=f"{path}:parallel_env")
            pettingzoo.register("aec", pz_id, entry_point=f"{path}:env")
        gym_id = f"populace/{gym_name}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id,
                entry_point=f"{path}:focal_env",
                vector_entry_point=f"{path}:vector_env",
            )
