"""Entry point of the game: ``from populace.envs import spatial_congestion_v0``; the game lives in
:mod:`populace.envs.plane.spatial_congestion`."""

from populace.envs.plane.spatial_congestion import (
    CENTRES,
    DIMENSION,
    REWARDS,
    SpatialCongestionCore,
    env,
    focal_env,
    parallel_env,
    raw_env,
    vector_env,
)

__all__ = [
    "DIMENSION",
    "REWARDS",
    "CENTRES",
    "SpatialCongestionCore",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
