"""A spatial congestion step against a bare numpy kernel (SPEC §6: a mean-field game steps at
N = 10⁶ within 3× of a bare kernel, the density in O(N + G log G)).

:func:`measure_spatial` times, interleaved in one run on the default
``spatial_congestion_v0`` (121² density nodes, bandwidth 0.1),

* ``SpatialCongestionCore.step`` (validation and clipping of the Box actions, landing, the
  population density, rewards, the next round's starts and the Step),
* the *bare kernel*: the same arithmetic written out once on plain arrays — land, bin the
  landing points onto the grid (four ``bincount``s), smooth by one real FFT against the
  kernel's precomputed transform, interpolate back bilinearly, desirability / (1 + m)^α
  minus the movement cost, draw the next starts,

after checking that the kernel reproduces the core's rewards and next starts (it draws its
noise from a generator in the core's state).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from populace.bench.measure import FOREVER, stepper
from populace.bench.rows import SpatialRow
from populace.bench.timing import Timing, time_interleaved
from populace.envs.plane.spatial_congestion import SpatialCongestionCore

Kernel = Callable[[], tuple[np.ndarray, np.ndarray]]


def spatial_kernel(core: SpatialCongestionCore, u: np.ndarray) -> Kernel:
    """A bare numpy round of the default game from the core's current starts."""
    starts = core.starts.copy()
    n = len(starts)
    grid, smoother = core.grid, core.density.smoother
    cells, low, inverse = grid.cells, grid.low, 1.0 / grid.spacing
    size, transform = smoother.size, smoother.transform
    (cx, cy), = core.centres
    variance, alpha, eta, sigma = core.bump_variance, core.alpha, core.eta, core.sigma
    mean, std = core.start_mean, core.start_std
    rng = np.random.default_rng()
    rng.bit_generator.state = core.np_random.bit_generator.state

    def cell(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        sx = (points[:, 0] - low) * inverse
        sy = (points[:, 1] - low) * inverse
        inside = (sx >= 0) & (sx <= cells - 1) & (sy >= 0) & (sy <= cells - 1)
        ix = np.clip(sx, 0, cells - 2).astype(np.int64)
        iy = np.clip(sy, 0, cells - 2).astype(np.int64)
        return ix * cells + iy, sx - ix, sy - iy, inside

    def round_() -> tuple[np.ndarray, np.ndarray]:
        x = starts + u + sigma * rng.standard_normal((n, 2))
        index, fx, fy, inside = cell(x)
        w = inside.astype(np.float64)
        length = cells * cells + cells + 2
        mass = np.bincount(index, (1 - fx) * (1 - fy) * w, length)
        mass[1:] += np.bincount(index, (1 - fx) * fy * w, length)[:-1]
        mass[cells:] += np.bincount(index, fx * (1 - fy) * w, length)[:-cells]
        mass[cells + 1:] += np.bincount(index, fx * fy * w, length)[:-cells - 1]
        spectrum = np.fft.rfft2(mass[:cells * cells].reshape(cells, cells), s=(size, size))
        density = np.fft.irfft2(spectrum * transform, s=(size, size))[:cells, :cells].ravel() / n
        m = ((1 - fx) * (1 - fy) * density[index] + (1 - fx) * fy * density[index + 1]
             + fx * (1 - fy) * density[index + cells] + fx * fy * density[index + cells + 1])
        m[~inside] = 0.0
        squared = (x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2
        value = np.exp(-squared / variance) / (2 * np.pi * variance) / (1 + m) ** alpha
        rewards = value - 0.5 * eta * (u[:, 0] ** 2 + u[:, 1] ** 2)
        return rewards, mean + std * rng.standard_normal((n, 2))

    return round_


def measure_spatial(n_agents: int, timing: Timing, *, seed: int = 0) -> SpatialRow:
    """The default game's step against the bare kernel, at ``n_agents``."""
    core = SpatialCongestionCore(n_agents=n_agents, max_cycles=FOREVER)
    core.reset(seed=seed)
    u = np.random.default_rng(seed).normal(-0.8, 0.3, size=(n_agents, 2)) * [1.0, 0.5]
    kernel = spatial_kernel(core, u)
    rewards, starts = kernel()
    step = core.step({"agent": u})
    if not (np.allclose(rewards, step.rewards["agent"], rtol=1e-9, atol=1e-12)
            and np.array_equal(starts, core.starts)):
        raise AssertionError("spatial_congestion step disagrees with the bare kernel")
    kernel = spatial_kernel(core, u)
    times = time_interleaved({"step": stepper(core, {"agent": u}), "kernel": kernel}, timing)
    return SpatialRow(n_agents, times["step"].median, times["kernel"].median, "binned FFT",
                      times["step"].best, times["kernel"].best)
