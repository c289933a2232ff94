"""Entry point of the game: ``from populace.envs import matrix_v0``; the game lives in
:mod:`populace.envs.anonymous.matrix`."""

from populace.envs.anonymous.matrix import (
    CLIMBING,
    PRESETS,
    MatrixCore,
    Preset,
    env,
    focal_env,
    parallel_env,
    raw_env,
    reference_for,
    resolve_game,
    vector_env,
)

__all__ = [
    "CLIMBING",
    "Preset",
    "PRESETS",
    "resolve_game",
    "reference_for",
    "MatrixCore",
    "raw_env",
    "parallel_env",
    "env",
    "focal_env",
    "vector_env",
]
