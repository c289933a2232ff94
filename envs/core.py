"""The array core every Populace game is written against.

A game is implemented once, as a :class:`PopulationCore`: state lives in arrays whose leading
axis runs over the members of a *group* (a homogeneous role such as ``agent`` or ``robot``), and
``step`` takes one action array per group. The PettingZoo, Gymnasium focal and Gymnasium vector
faces are thin adapters over this class (see :mod:`populace.envs.faces`).

All episodes are synchronous: every agent starts, terminates and is truncated together.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from populace.envs.validation import check_actions

Arrays = dict[str, np.ndarray]


class ResetNeededError(RuntimeError, ValueError):
    """``step`` was called before ``reset`` or after the episode ended."""


@dataclass(frozen=True)
class Group:
    """A homogeneous role in a game: ``size`` agents named ``f"{name}_{i}"``."""

    name: str
    size: int
    action_space: spaces.Space
    observation_space: spaces.Space

    def agent_names(self) -> list[str]:
        return [f"{self.name}_{i}" for i in range(self.size)]


@dataclass
class Step:
    """What one synchronous step of the whole population returns (arrays per group)."""

    observations: Arrays
    rewards: Arrays
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)


class PopulationCore(ABC):
    """Base class of the vectorized game cores.

    Subclasses define :attr:`groups`, :meth:`_reset` and :meth:`_step`; this class owns seeding,
    the round counter, truncation at ``max_cycles``, action validation and checkpoint state.
    """

    metadata: dict[str, Any] = {
        "render_modes": ["rgb_array", "ansi"], "name": "population", "render_fps": 4
    }
    groups: tuple[Group, ...]
    population_keyword = "n_agents"  # the keyword ``make_vec``'s ``num_envs`` sets

    def __init__(self, *, max_cycles: int, render_mode: str | None = None) -> None:
        if isinstance(max_cycles, bool) or not isinstance(max_cycles, int | np.integer):
            raise TypeError(f"max_cycles must be an int, got {type(max_cycles).__name__}")
        if max_cycles < 1:
            raise ValueError(f"max_cycles must be >= 1, got {max_cycles}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.max_cycles = int(max_cycles)
        self.render_mode = render_mode
        self.np_random = np.random.default_rng()
        self.cycle = 0
        self.needs_reset = True

    # ----------------------------------------------------------------- episode API
    def reset(self, seed: int | None = None) -> Arrays:
        """Start an episode; with ``seed``, re-seed the core's own generator first."""
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
        self.cycle = 0
        self.needs_reset = False
        return self._reset()

    def step(self, actions: Arrays) -> Step:
        """Advance every agent one round. ``actions`` maps group name to a member-indexed array."""
        self.require_running()
        checked = self.check_actions(actions)
        result = self._step(checked)
        self.cycle += 1
        result.truncated = result.truncated or self.cycle >= self.max_cycles
        self.needs_reset = result.terminated or result.truncated
        return result

    def require_running(self) -> None:
        """Raise :class:`ResetNeededError` unless an episode is under way."""
        if self.needs_reset:
            raise ResetNeededError(
                f"{self.metadata['name']}: step() called before reset() or after the episode "
                "ended; call reset() first"
            )

    def check_actions(self, actions: Arrays) -> Arrays:
        """Validate one action array per group; raise a ValueError naming the first bad agent."""
        expected = {g.name for g in self.groups}
        if set(actions) != expected:
            raise ValueError(
                f"actions must have exactly the groups {sorted(expected)}, got {sorted(actions)}"
            )
        return {g.name: check_actions(g, actions[g.name]) for g in self.groups}

    @abstractmethod
    def _reset(self) -> Arrays:
        """Draw the initial state from ``self.np_random``; return observations per group."""

    @abstractmethod
    def _step(self, actions: Arrays) -> Step:
        """Apply validated actions; return the step (truncation is added by :meth:`step`)."""

    # ----------------------------------------------------------------- rendering
    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self.render_ansi()
        return self.render_rgb()

    def render_ansi(self) -> str:
        raise NotImplementedError

    def render_rgb(self) -> np.ndarray:
        raise NotImplementedError

    def state(self) -> np.ndarray:
        """The global state as one array (what PettingZoo's ``state()`` returns)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: JSON-able scalars and numpy arrays."""
        return {
            "rng": self.np_random.bit_generator.state,
            "cycle": self.cycle,
            "needs_reset": self.needs_reset,
            **self._state_arrays(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        self.np_random = rng
        self.cycle = int(state["cycle"])
        self.needs_reset = bool(state["needs_reset"])
        self._load_state_arrays(state)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        return None

    # ----------------------------------------------------------------- helpers
    @property
    def agent_names(self) -> list[str]:
        return [name for g in self.groups for name in g.agent_names()]

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(f"no group named {name!r}; groups are {[g.name for g in self.groups]}")
