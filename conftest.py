"""Collection rules for the whole repository (the test fixtures live in ``tests/conftest.py``).

``--doctest-modules`` imports every module under the test paths. The Stable-Baselines3 modules
import torch and stable-baselines3 at the top, which only the ``baselines`` extra installs, so
without them they are left out of collection instead of failing it. Whether they are installed
is asked with ``find_spec``, which does not import them: importing torch here would slow every
test run by seconds.
"""

from __future__ import annotations

from importlib.util import find_spec

SB3_MODULES = [
    "agents/sb3/learner.py",
    "agents/sb3/state.py",
    "agents/sb3/vec_env.py",
    "agents/sb3/ppo_contribution.py",
]

collect_ignore: list[str] = []
if any(find_spec(package) is None for package in ("torch", "stable_baselines3")):
    collect_ignore += SB3_MODULES
