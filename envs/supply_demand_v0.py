"""Entry point of the game: ``from populace.envs import supply_demand_v0``; the game lives in
:mod:`populace.envs.plane.supply_demand`."""

from populace.envs.plane.supply_demand import (
    DIMENSION,
    SupplyDemandCore,
    SupplyDemandMetrics,
    env,
    focal_env,
    parallel_env,
    raw_env,
    vector_env,
)

__all__ = [
    "DIMENSION",
    "SupplyDemandCore",
    "SupplyDemandMetrics",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
