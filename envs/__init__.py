"""Populace games: each is an array core with PettingZoo and Gymnasium faces."""

from populace.envs.registry import GAMES

__all__ = sorted(GAMES)


def __getattr__(name: str):  # lazy: ``from populace.envs import contribution_v0`` imports one game
    if name in GAMES:
        import importlib

        return importlib.import_module(f"populace.envs.{name}")
    raise AttributeError(f"module 'populace.envs' has no attribute {name!r}")
