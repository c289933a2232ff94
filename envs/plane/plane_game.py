"""What the two plane games share (MJM 2018, Experiments 1 and 2).

Both games move a population of points in R² with moves from a box, score them against the
population's kernel density on a square grid, and start every agent at an i.i.d. Gaussian
point. :class:`PlaneGameCore` holds that common part: the checks of the common parameters,
the population's group and spaces, the density estimator, the start draw and the checkpointed
positions. Each game adds its own reward, observations and equilibrium.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from gymnasium import spaces

from populace.envs.clipped_box import check_strict, velocity_box
from populace.envs.core import Group, PopulationCore
from populace.envs.params import settle
from populace.envs.plane.density import DensityEstimator
from populace.envs.sizes import check_grid_cells, check_size
from populace.envs.validation import check_number, check_point

DIMENSION = 2


class PlaneParams(Protocol):
    """The parameters every plane game declares (see a game's Arguments table), read-only."""

    @property
    def n_agents(self) -> int: ...

    @property
    def alpha(self) -> float: ...

    @property
    def eta(self) -> float: ...

    @property
    def sigma(self) -> float: ...

    @property
    def start_mean(self) -> tuple[float, float]: ...

    @property
    def start_std(self) -> float: ...

    @property
    def bandwidth(self) -> float: ...

    @property
    def grid_cells(self) -> int: ...

    @property
    def grid_half_width(self) -> float: ...

    @property
    def action_bound(self) -> float: ...

    @property
    def strict(self) -> bool: ...

    @property
    def max_cycles(self) -> int: ...

    @property
    def render_mode(self) -> str | None: ...


def check_plane_params(params: PlaneParams) -> None:
    """Check (and normalize in place) the common parameters of a plane game's frozen params,
    from its ``__post_init__``."""
    settle(
        params,
        n_agents=check_size("n_agents", params.n_agents, minimum=1),
        alpha=check_number("alpha", params.alpha, low=0.0, low_open=True),
        eta=check_number("eta", params.eta, low=0.0),
        sigma=check_number("sigma", params.sigma, low=0.0),
        start_mean=check_point("start_mean", params.start_mean),
        start_std=check_number("start_std", params.start_std, low=0.0),
        grid_half_width=check_number("grid_half_width", params.grid_half_width, low=0.0,
                                     low_open=True),
        grid_cells=check_grid_cells(params.grid_cells),
        bandwidth=check_number("bandwidth", params.bandwidth, low=0.0, low_open=True),
        action_bound=check_number("action_bound", params.action_bound, low=0.0,
                                  low_open=True),
        strict=check_strict(params.strict),
    )


class PlaneGameCore(PopulationCore):
    """The common part of the plane games' cores (see the module doc)."""

    agent_group = "agent"

    def __init__(self, params: PlaneParams, observation_space: spaces.Box,
                 state_size: int) -> None:
        super().__init__(max_cycles=params.max_cycles, render_mode=params.render_mode)
        self.n_agents = params.n_agents
        self.alpha = params.alpha
        self.eta = params.eta
        self.sigma = params.sigma
        self.start_mean = np.array(params.start_mean)
        self.start_std = params.start_std
        self.density = DensityEstimator.on_square(params.grid_half_width, params.grid_cells,
                                                  params.bandwidth)
        self.grid = self.density.grid
        self.action_bound = params.action_bound
        self.strict = params.strict
        action_space = velocity_box(self.action_bound, DIMENSION, self.strict)
        self.groups = (Group(self.agent_group, self.n_agents, action_space, observation_space),)
        self.state_space = spaces.Box(-np.inf, np.inf, (state_size,), dtype=np.float64)

    def draw_positions(self) -> np.ndarray:
        """``(n_agents, 2)`` points i.i.d. N(start_mean, start_std²·I) from the core's
        generator."""
        positions = self.np_random.standard_normal((self.n_agents, DIMENSION))
        positions *= self.start_std
        positions += self.start_mean
        return positions

    def load_positions(self, state: dict[str, Any], key: str) -> np.ndarray:
        """The ``(n_agents, 2)`` array a checkpoint holds under ``key``, checked."""
        positions = np.array(state[key], dtype=np.float64)
        if positions.shape != (self.n_agents, DIMENSION):
            raise ValueError(f"checkpoint {key} have shape {positions.shape}, "
                             f"expected ({self.n_agents}, {DIMENSION})")
        return positions
