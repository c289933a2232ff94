"""Populace: games with many, many agents, and the learners from the papers that introduced them.

Importing this package registers every game with PettingZoo and Gymnasium.
"""

from populace.envs.registry import register_all

__version__ = "0.1.0"

register_all()
