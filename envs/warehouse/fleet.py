"""What the two warehouse games share (ALT App. G): a dispatcher and a fleet of robots.

In both games one dispatcher sees `k` sampled robots and steers a global state s_g, and every
robot sees its own state and s_g. :class:`FleetCore` holds that common part: the checks of
the common parameters, the population keywords, the robots' observations, the picture (robots
per zone or bin, s_g's marked) and the checkpointed robots. :class:`DiscountedReturns` is the
metric both report. Each game adds its own dynamics, dispatcher observation and model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np

from populace.envs import render
from populace.envs.core import PopulationCore, Step
from populace.envs.metrics import WindowMetrics
from populace.envs.params import settle
from populace.envs.sizes import check_size
from populace.envs.validation import check_int, check_number

DEFAULT_K = 10  # the sample size when k is not given (capped at n_agents)


class FleetParams(Protocol):
    """The parameters both warehouse games declare (see a game's Arguments table),
    read-only."""

    @property
    def n_agents(self) -> int: ...

    @property
    def k(self) -> int | None: ...

    @property
    def gamma(self) -> float: ...

    @property
    def max_cycles(self) -> int: ...

    @property
    def render_mode(self) -> str | None: ...


def check_fleet_params(params: FleetParams) -> None:
    """Check (and normalize in place) the common parameters of a warehouse game's frozen
    params, from its ``__post_init__``: ``k=None`` becomes min(:data:`DEFAULT_K`, n)."""
    n_agents = check_size("n_agents", params.n_agents, minimum=1)
    k = min(DEFAULT_K, n_agents) if params.k is None else check_int("k", params.k, minimum=1)
    if k > n_agents:
        raise ValueError(f"k must be <= n_agents ({n_agents}), got {k}")
    settle(params, n_agents=n_agents, k=k,
           gamma=check_number("gamma", params.gamma, low=0.0, high=1.0, high_open=True))


@dataclass(frozen=True)
class FleetPicture:
    """What a warehouse game draws: robots per zone (or bin), the one marked as s_g's."""

    counts: np.ndarray
    labels: list[str]
    marked: np.ndarray
    details: str  # the title's game-specific part


class FleetCore(PopulationCore):
    """The common part of the warehouse games' cores (see the module doc)."""

    population_keyword = "n_agents"
    population_group = "robot"
    default_focal_group = "dispatcher"

    def __init__(self, params: FleetParams) -> None:
        super().__init__(max_cycles=params.max_cycles, render_mode=params.render_mode)
        self.n_agents = params.n_agents
        self.k = cast(int, params.k)  # resolved by check_fleet_params
        self.gamma = params.gamma

    def robot_observations(self, robots: np.ndarray, reference: float) -> np.ndarray:
        """``(n_agents, 2)`` float32: every robot's own state, then s_g."""
        observations = np.empty((self.n_agents, 2), dtype=np.float32)
        observations[:, 0] = robots
        observations[:, 1] = reference
        return observations

    def load_robots(self, state: dict[str, Any], dtype: type) -> np.ndarray:
        """The ``(n_agents,)`` robots a checkpoint holds, checked."""
        robots: np.ndarray = np.array(state["robots"], dtype=dtype)
        if robots.shape != (self.n_agents,):
            raise ValueError(
                f"checkpoint robots have shape {robots.shape}, expected ({self.n_agents},)"
            )
        return robots

    def picture(self) -> FleetPicture:
        """What :meth:`render_ansi` and :meth:`render_rgb` draw now."""
        raise NotImplementedError

    def render_ansi(self) -> str:
        shown = self.picture()
        title = f"{self.metadata['name']}  round {self.cycle}  {shown.details}"
        return render.histogram_text(shown.counts, shown.labels, title, marked=shown.marked)

    def render_rgb(self) -> np.ndarray:
        """Robots per zone (or bin); s_g's marked red under its bar."""
        shown = self.picture()
        return render.histogram_image(shown.counts, marked=shown.marked,
                                      title=f"round {self.cycle}")


class DiscountedReturns(WindowMetrics):
    """``discounted_return``: the mean over the episodes that ended in the window of
    Σ_t γ^t (system reward) (an episode under way when a window closes carries over; NaN if
    none ended). Subclasses add their columns to :meth:`record`, :meth:`clear` and the
    state."""

    columns: tuple[str, ...] = ("discounted_return",)

    def __init__(self, gamma: float) -> None:
        self.gamma = gamma
        self.running = 0.0  # the current episode's discounted sum so far
        self.clear()

    def record(self, actions: Mapping[str, np.ndarray], step: Step) -> None:
        self.running += self.gamma ** step.info["round"] * step.info["system_reward"]
        if step.terminated or step.truncated:
            self.returns.append(self.running)
            self.running = 0.0

    def discounted_return(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")

    def clear(self) -> None:
        self.returns: list[float] = []

    def state_dict(self) -> dict[str, Any]:
        return {"running": self.running, "returns": np.array(self.returns)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.running = float(state["running"])
        self.returns = [float(x) for x in np.asarray(state["returns"]).ravel()]
