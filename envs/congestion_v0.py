"""Entry point of the game: ``from populace.envs import congestion_v0``; the game lives in
:mod:`populace.envs.anonymous.congestion`."""

from populace.envs.anonymous.congestion import (
    DEFAULT_ALPHA,
    MECHANISMS,
    N_ACTIONS,
    PAYOFF_MODES,
    CongestionCore,
    Cost,
    acp_cost_shares,
    env,
    focal_env,
    parallel_env,
    payoff_matrix,
    quadratic_cost,
    raw_env,
    serial_cost_shares,
    share_table,
    symmetric_equilibrium,
    vector_env,
)

__all__ = [
    "N_ACTIONS",
    "DEFAULT_ALPHA",
    "MECHANISMS",
    "PAYOFF_MODES",
    "Cost",
    "quadratic_cost",
    "acp_cost_shares",
    "serial_cost_shares",
    "share_table",
    "payoff_matrix",
    "symmetric_equilibrium",
    "CongestionCore",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
