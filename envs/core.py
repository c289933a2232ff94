"""The array core every Populace game is written against.

A game is implemented once, as a :class:`PopulationCore`: state lives in arrays whose leading
axis runs over the members of a *group* (a homogeneous role such as ``agent`` or ``robot``), and
``step`` takes one action array per group. The PettingZoo, Gymnasium focal and Gymnasium vector
faces are thin adapters over this class (see :mod:`populace.envs.faces`).

All episodes are synchronous: every agent starts, terminates and is truncated together.

Observation arrays: a core may return a read-only view for data every agent shares (a row
broadcast with stride 0, such as the population's action frequencies); a writable array it
returns is new and belongs to the caller. The train loop and learners keep the views (a
broadcast row is scored once, see ``learner_extra``); the faces hand the user writable copies
of them (:func:`owned`), so in-place edits work and libraries that wrap arrays as tensors do
not warn.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
from gymnasium import spaces
from numpy.typing import DTypeLike

from populace.envs.metrics import WindowMetrics
from populace.envs.policies import PolicyFn, PolicySpec
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

    What a game declares for the layers above it (each has a default here):

    * :attr:`params` — the constructor's keyword arguments with their defaults filled in, taken
      from the call itself (run configs and resume checks are built from it); the games declare
      these keywords once, as a frozen dataclass that checks them, kept as ``settings``
      (:mod:`populace.envs.params`);
    * :meth:`default_policy` — what a group plays when a face or the train loop is not told;
    * :meth:`window_metrics` — the game's metric columns and how a window is scored;
    * :meth:`learner_extra` — extra per-agent arrays (such as population statistics) for the
      learners that declare they use them;
    * :meth:`model` — the game's known dynamics, for learners that plan with them;
    * :meth:`finite_population_gap` — how exploitable its mean-field equilibrium is with N
      agents (mean-field games only).
    """

    metadata: dict[str, Any] = {
        "render_modes": ["rgb_array", "ansi", "human"], "name": "population", "render_fps": 4
    }
    groups: tuple[Group, ...]
    state_space: spaces.Space  # the space of :meth:`state`, where a game has one
    population_keyword = "n_agents"  # the keyword ``make_vec``'s ``num_envs`` sets ...
    population_group = "agent"  # ... the size of this group, the faces' default group
    default_focal_group: str | None = None  # the focal view's default group, if not the above
    _observation_dtype: np.dtype | None = None  # set by use_observation_dtype
    params: dict[str, Any]

    def __new__(cls, *args: object, **kwargs: object) -> PopulationCore:
        core = super().__new__(cls)
        signature = inspect.signature(cls.__init__)
        unknown = sorted(set(kwargs) - set(signature.parameters) - {"self"})
        if unknown and not any(
            p.kind is p.VAR_KEYWORD for p in signature.parameters.values()
        ):
            accepted = [name for name in signature.parameters if name != "self"]
            # Python's own phrase stays in the message: clients such as TorchRL's GymEnv look
            # for "unexpected keyword argument 'frameskip'" and retry without it
            python_phrase = ", ".join(f"unexpected keyword argument {k!r}" for k in unknown)
            raise TypeError(
                f"{cls.metadata['name']}: unknown keyword arguments {unknown}; "
                f"it accepts {accepted} (__init__() got an {python_phrase})"
            )
        try:
            bound = signature.bind(core, *args, **kwargs)
        except TypeError:
            core.params = {}  # __init__ raises the precise error
            return core
        bound.apply_defaults()
        core.params = {k: v for k, v in bound.arguments.items() if k != "self"}
        return core

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
        observations = self._cast_observations(self._reset())
        if self.render_mode == "human":
            self.render()
        return observations

    def step(self, actions: Arrays) -> Step:
        """Advance every agent one round. ``actions`` maps group name to a member-indexed array."""
        self.require_running()
        return self._advance(self.check_actions(actions))

    def step_checked(self, actions: Arrays) -> Step:
        """:meth:`step` for actions that :meth:`check_actions` has already returned."""
        self.require_running()
        return self._advance(actions)

    def _advance(self, actions: Arrays) -> Step:
        """One round of checked actions in a running episode, and its bookkeeping."""
        result = self._step(actions)
        if self._observation_dtype is not None:
            result.observations = self._cast_observations(result.observations)
        self.cycle += 1
        # an episode that ended by termination at the horizon is not also truncated there
        horizon = self.cycle >= self.max_cycles and not result.terminated
        result.truncated = result.truncated or horizon
        self.needs_reset = result.terminated or result.truncated
        if self.render_mode == "human":
            self.render()
        return result

    def use_observation_dtype(self, dtype: DTypeLike) -> None:
        """Hand out every float Box observation as ``dtype`` (float32 or float64), spaces too.

        The games that compute in float64 (positions, payoff vectors) observe in float64 by
        default, as their learners and references read them; a client whose network is float32
        (TorchRL, RLlib) asks for ``observation_dtype="float32"`` through any face instead of
        wrapping it. Observations already of ``dtype`` are handed out as they are.
        """
        wanted = np.dtype(dtype) if isinstance(dtype, str | type | np.dtype) else None
        if wanted not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"observation_dtype must be 'float32' or 'float64', got {dtype!r}")
        self.groups = tuple(replace(g, observation_space=_box_as(g.observation_space, wanted))
                            for g in self.groups)
        self._observation_dtype = wanted

    def _cast_observations(self, observations: Arrays) -> Arrays:
        wanted = self._observation_dtype
        if wanted is None:
            return observations
        return {name: o.astype(wanted, copy=False) if o.dtype.kind == "f" else o
                for name, o in observations.items()}

    def require_running(self) -> None:
        """Raise :class:`ResetNeededError` unless an episode is under way."""
        if self.needs_reset:
            raise ResetNeededError(
                f"{self.metadata['name']}: step() called before reset() or after the episode "
                "ended; call reset() first"
            )

    def check_actions(self, actions: Arrays) -> Arrays:
        """Validate one action array per group; raise a ValueError naming the first bad agent."""
        groups = self.groups
        if not (len(actions) == len(groups) and all(g.name in actions for g in groups)):
            expected = {g.name for g in groups}
            raise ValueError(
                f"actions must have exactly the groups {sorted(expected)}, got {sorted(actions)}"
            )
        return {g.name: check_actions(g, actions[g.name]) for g in groups}

    def check_group_actions(self, name: str, actions: object) -> np.ndarray:
        """Validate the action array of one group (see :meth:`check_actions`)."""
        return check_actions(self.group(name), actions)

    @abstractmethod
    def _reset(self) -> Arrays:
        """Draw the initial state from ``self.np_random``; return observations per group."""

    @abstractmethod
    def _step(self, actions: Arrays) -> Step:
        """Apply validated actions; return the step (truncation is added by :meth:`step`)."""

    # ----------------------------------------------------------------- declared hooks
    def default_policy(self, group: str) -> PolicySpec:
        """What ``group`` plays when nobody says otherwise (a policy spec, see
        :func:`populace.envs.policies.as_policy`): uniform over its action space here; games
        with a reference equilibrium return that."""
        return uniform_policy(self.group(group).action_space)

    def window_metrics(self) -> WindowMetrics:
        """A fresh tally of the game's metric columns over one window (none by default)."""
        return WindowMetrics()

    def learner_extras(self) -> tuple[str, ...]:
        """The names of the extras :meth:`learner_extra` can compute."""
        return ()

    def learner_extra(self, name: str, group: str, observations: np.ndarray | None
                      ) -> np.ndarray:
        """An extra per-agent array for learners that declare ``name`` in their ``extras``.

        ``observations`` are the group's observations after the step.
        """
        raise ValueError(
            f"{self.metadata['name']} provides no learner extra {name!r}; it provides "
            f"{list(self.learner_extras())}"
        )

    def own_state_size(self, group: str) -> int | None:
        """How many leading entries of an observation of ``group`` describe the agent itself
        (the rest: statistics of the population), for learners that treat the two apart;
        None when the game does not say."""
        return None

    def model(self) -> object:
        """The game's known dynamics, for learners that plan with them (none by default); a game
        that has one narrows the type (e.g. ``WarehouseCore.model() -> WarehouseModel``)."""
        raise NotImplementedError(f"{self.metadata['name']} offers no model to plan with")

    def finite_population_gap(self, n_agents: int) -> float:
        """The exploitability of the game's mean-field equilibrium policy when exactly
        ``n_agents`` agents play it (what one agent gains by deviating while the others keep
        playing it), in the units of the game's ``exploitability`` metric; ``populace
        finite-n`` tabulates it over N. Games without a mean-field equilibrium have none."""
        raise NotImplementedError(
            f"{self.metadata['name']} has no finite-population gap of a mean-field equilibrium"
        )

    # ----------------------------------------------------------------- rendering
    def render(self) -> np.ndarray | str | None:
        """The picture of :attr:`render_mode`: ``"ansi"`` text, an ``"rgb_array"`` frame, or
        for ``"human"`` the text printed to stdout (also after every ``reset`` and ``step``,
        as Gymnasium's human mode does) and None returned."""
        if self.render_mode is None:
            return None
        if self.render_mode == "human":
            print(self.render_ansi(), flush=True)
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


Owned = TypeVar("Owned")


def _box_as(space: spaces.Space, dtype: np.dtype) -> spaces.Space:
    """``space`` with ``dtype`` if it is a float Box (other spaces as they are)."""
    if not isinstance(space, spaces.Box) or space.dtype.kind != "f" or space.dtype == dtype:
        return space
    return spaces.Box(space.low.astype(dtype), space.high.astype(dtype), space.shape, dtype)


def owned(observations: Owned) -> Owned:
    """``observations`` as an array the caller may write to: read-only views (the cores'
    broadcast rows) are copied, a writable array (already the caller's) is returned as is.
    Numpy scalars and other values pass through."""
    if isinstance(observations, np.ndarray) and not observations.flags.writeable:
        return observations.copy()
    return observations


def uniform_policy(space: spaces.Space) -> np.ndarray | PolicyFn:
    """Uniform play over ``space``: a probability vector for ``Discrete``, else a callable."""
    if isinstance(space, spaces.Discrete):
        return np.full(int(space.n), 1.0 / int(space.n))
    if isinstance(space, spaces.Box) and space.is_bounded():
        low, high = space.low, space.high

        def uniform(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            size = (len(observations), *space.shape)
            return rng.uniform(low, high, size=size).astype(space.dtype)

        return uniform
    raise ValueError(f"no uniform policy over {space}; give the group a policy explicitly")
