"""Entry point of the game: ``from populace.envs import contribution_v0``; the game lives in
:mod:`populace.envs.anonymous.contribution`."""

from populace.envs.anonymous.contribution import (
    EQUILIBRIUM_ACTION,
    N_ACTIONS,
    ContributionCore,
    contribution_cost,
    env,
    focal_env,
    parallel_env,
    raw_env,
    vector_env,
)

__all__ = [
    "N_ACTIONS",
    "EQUILIBRIUM_ACTION",
    "contribution_cost",
    "ContributionCore",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
