"""Entry point of the game: ``from populace.envs import mf_lqr_v0``; the game lives in
:mod:`populace.envs.mean_field_lqr.mf_lqr`."""

from populace.envs.mean_field_lqr.mf_lqr import (
    DIMENSION,
    MFLQRCore,
    as_plane,
    env,
    focal_env,
    parallel_env,
    plane_mean,
    raw_env,
    squared_norms,
    vector_env,
)
from populace.envs.validation import check_point

__all__ = [
    "DIMENSION",
    "check_point",
    "as_plane",
    "plane_mean",
    "squared_norms",
    "MFLQRCore",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
