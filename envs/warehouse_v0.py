"""Entry point of the game: ``from populace.envs import warehouse_v0``; the game lives in
:mod:`populace.envs.warehouse.warehouse`."""

from populace.envs.warehouse.fleet import DEFAULT_K
from populace.envs.warehouse.warehouse import (
    NASH_ROLLOUTS,
    SAMPLED_K,
    WarehouseCore,
    WarehouseMetrics,
    check_rows,
    draw,
    env,
    focal_env,
    parallel_env,
    raw_env,
    robot_observations,
    table_of,
    vector_env,
)

__all__ = [
    "DEFAULT_K",
    "NASH_ROLLOUTS",
    "SAMPLED_K",
    "WarehouseCore",
    "draw",
    "WarehouseMetrics",
    "table_of",
    "robot_observations",
    "check_rows",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
