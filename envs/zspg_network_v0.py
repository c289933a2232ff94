"""Entry point of the game: ``from populace.envs import zspg_network_v0``; the game lives in
:mod:`populace.envs.zero_sum.zspg_network`."""

from populace.envs.zero_sum.metrics import KL_FLOOR, ZSPGMetrics
from populace.envs.zero_sum.strategies import SIMPLEX_ATOL, Simplex, check_simplex
from populace.envs.zero_sum.zspg_network import (
    FEEDBACK_MODES,
    ZSPGNetworkCore,
    env,
    focal_env,
    parallel_env,
    raw_env,
    row_dots,
    vector_env,
)

__all__ = [
    "FEEDBACK_MODES",
    "SIMPLEX_ATOL",
    "KL_FLOOR",
    "Simplex",
    "ZSPGNetworkCore",
    "row_dots",
    "check_simplex",
    "ZSPGMetrics",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
