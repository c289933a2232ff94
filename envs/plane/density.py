"""The density of a whole population of points in the plane, in O(N + G log G).

Mean-field games on the plane (``spatial_congestion_v0``, ``supply_demand_v0``; Mguni,
Jennings & Munoz de Cote, AAMAS 2018, Experiments 1 and 2) charge every agent for the density
of agents where it stands. Summing a kernel over every pair of agents is O(N²); here the
estimate takes three vectorized passes instead:

1. **Linear binning** (cloud-in-cell): each point's unit mass is split between the four nodes
   of the :class:`Grid` cell it falls in, in proportion to its bilinear weights — O(N), by
   ``np.bincount``. Points outside the grid's window carry no mass onto the grid (they still
   count in the 1/N normalization).
2. **Gaussian smoothing by FFT**: the node masses are convolved with the Gaussian kernel
   ``K_h(z) = exp(−|z|²/(2h²)) / (2πh²)`` of bandwidth ``h`` sampled on the nodes (cut at
   ``TRUNCATION·h``), a linear (zero-padded, not circular) convolution — O(G log G) for G
   nodes, whatever N.
3. **Bilinear interpolation** of the smoothed node values back at any points — O(N).

The result estimates ``m(x) = (1/N) Σ_i K_h(x − x_i)``, a probability density (it integrates
to the share of agents inside the window). The estimate is second-order accurate in the node
spacing ``d``: measured against the direct O(N·G) sum (:func:`direct_density`,
``tests/plane/test_spatial.py``), the largest error is at most about ``0.15·(d/h)²`` of the peak
density at the nodes and ``0.35·(d/h)²`` at interpolated points — measured 2.1 % and 5.0 % at
``d = h/2``, the plane games' defaults (121 nodes over [−3, 3], h = 0.1); halving ``d``
divides them by four.

>>> grid = Grid(-1.0, 1.0, 41)
>>> estimator = DensityEstimator(grid, bandwidth=0.2)
>>> points = np.zeros((1000, 2))
>>> value = estimator(points)[0]       # all agents at the origin: K_h(0) = 1/(2π·0.04)
>>> bool(abs(value - 1 / (2 * np.pi * 0.04)) < 0.05 * value)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np

TRUNCATION = 5.0  # the sampled kernel is cut at this many bandwidths (mass lost < 4e-6)
# below this many points DensityEstimator(points) sums the kernel directly (O(N²)) instead of
# smoothing the whole grid by FFT; measured on the default 121² grid (populace bench)
DIRECT_BELOW = 64


@dataclass(frozen=True)
class Grid:
    """``cells`` × ``cells`` nodes spaced evenly over the square ``[low, high]²`` (both ends
    included): node ``(i, j)`` sits at ``(low + i·spacing, low + j·spacing)``; arrays over
    the grid are indexed ``[i, j]`` (first index along x)."""

    low: float
    high: float
    cells: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.high > self.low):
            raise ValueError(f"a grid needs finite low < high, got [{self.low}, {self.high}]")
        if isinstance(self.cells, bool) or not isinstance(self.cells, int | np.integer):
            raise TypeError(f"cells must be an int, got {type(self.cells).__name__}")
        if self.cells < 2:
            raise ValueError(f"cells must be >= 2, got {self.cells}")

    @property
    def spacing(self) -> float:
        return (self.high - self.low) / (self.cells - 1)

    @cached_property
    def axis(self) -> np.ndarray:
        """The nodes' coordinates along one axis."""
        return self.low + self.spacing * np.arange(self.cells)

    @cached_property
    def nodes(self) -> np.ndarray:
        """Every node as a point, ``(cells², 2)``, in the order of ``array.ravel()``."""
        x, y = np.meshgrid(self.axis, self.axis, indexing="ij")
        return np.stack([x.ravel(), y.ravel()], axis=1)

    def corners(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
        """``(flat index of the lower-left node, x weight, y weight, inside)`` of each point:
        the bilinear weights of the cell's upper nodes along x and y; ``inside`` is False for
        points outside the window (their index is 0 and weights are to be ignored)."""
        points = np.asarray(points, dtype=np.float64)
        scale = 1.0 / self.spacing
        top = self.cells - 1
        sx = points[:, 0] - self.low
        sx *= scale
        sy = points[:, 1] - self.low
        sy *= scale
        inside = (sx >= 0.0) & (sx <= top) & (sy >= 0.0) & (sy <= top)
        ix = np.clip(sx, 0, top - 1).astype(np.int64)  # truncation is floor on [0, top)
        iy = np.clip(sy, 0, top - 1).astype(np.int64)
        sx -= ix
        sy -= iy
        ix *= self.cells
        ix += iy
        ix[~inside] = 0
        return ix, sx, sy, inside


def bin_points(grid: Grid, points: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The ``(cells, cells)`` node masses of ``points`` by linear binning (each point's mass,
    1 or its ``weights`` entry, split over its cell's four nodes); points outside the window
    add nothing."""
    index, fx, fy, inside = grid.corners(points)
    mass = inside.astype(np.float64) if weights is None else np.where(inside, weights, 0.0)
    n = grid.cells
    size = n * n + n + 2  # room for the upper corners of the lowest-index points
    upper_x = fx * mass  # mass going to the upper node along x
    mass -= upper_x
    total = np.bincount(index, weights=mass - mass * fy, minlength=size)
    total[1:] += np.bincount(index, weights=mass * fy, minlength=size)[:-1]
    total[n:] += np.bincount(index, weights=upper_x - upper_x * fy, minlength=size)[:-n]
    total[n + 1:] += np.bincount(index, weights=upper_x * fy, minlength=size)[:-n - 1]
    return total[: n * n].reshape(n, n)


def interpolate(grid: Grid, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of node ``values`` at ``points`` (0 outside the window)."""
    index, fx, fy, inside = grid.corners(points)
    flat = values.ravel()
    n = grid.cells
    gx, gy = 1.0 - fx, 1.0 - fy
    out = gx * gy * flat[index]
    out += gx * fy * flat[index + 1]
    out += fx * gy * flat[index + n]
    out += fx * fy * flat[index + n + 1]
    out[~inside] = 0.0
    return cast(np.ndarray, out)


def fast_length(n: int) -> int:
    """The smallest integer ≥ n whose only prime factors are 2, 3 and 5 (a fast FFT size)."""
    best = 1 << max(int(n) - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            candidate = power35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best


class GaussianSmoother:
    """Convolution of node arrays of a :class:`Grid` with a sampled Gaussian of standard
    deviation ``scale`` per coordinate, by zero-padded real FFT (the kernel's transform is
    computed once). ``normalize=True`` rescales the sampled kernel to sum to 1 (a
    probability-preserving blur); otherwise it is the kernel density ``K(z)`` itself (node
    masses in, density values out)."""

    def __init__(self, grid: Grid, scale: float, *, normalize: bool = False) -> None:
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"the smoothing scale must be > 0, got {scale}")
        self.grid = grid
        d = grid.spacing
        self.radius = min(int(np.ceil(TRUNCATION * scale / d)), grid.cells - 1)
        offsets = d * np.arange(-self.radius, self.radius + 1)
        profile = np.exp(-0.5 * (offsets / scale) ** 2)
        if normalize:
            profile /= profile.sum()
        else:
            profile *= 1.0 / (np.sqrt(2.0 * np.pi) * scale)
        # the sampled kernel along one axis by |offset| in nodes, 0 past the radius
        self.by_offset = np.append(profile[self.radius:], 0.0)
        self.size = fast_length(grid.cells + 2 * self.radius)
        padded = np.zeros((self.size, self.size))
        kernel = np.outer(profile, profile)
        r = self.radius
        # offsets −r..r placed circularly around index 0, so that node i receives from i − k
        index = np.arange(-r, r + 1) % self.size
        padded[np.ix_(index, index)] = kernel
        self.transform = np.fft.rfft2(padded)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        n = self.grid.cells
        spectrum = np.fft.rfft2(values, s=(self.size, self.size))
        spectrum *= self.transform
        return np.fft.irfft2(spectrum, s=(self.size, self.size))[:n, :n]


class DensityEstimator:
    """The kernel density ``m(x) = (1/N) Σ_i K_h(x − x_i)`` of N points, by linear binning on
    ``grid``, FFT smoothing with bandwidth ``h`` and bilinear interpolation (module doc):
    O(N + G log G).

    ``on_grid(points)`` gives the density at the nodes, ``at(density, points)`` reads it at
    any points, ``estimator(points)`` does both for the points themselves (each point's own
    kernel included, as in the direct sum).
    """

    def __init__(self, grid: Grid, bandwidth: float) -> None:
        if not (isinstance(bandwidth, int | float) and np.isfinite(bandwidth) and bandwidth > 0):
            raise ValueError(f"bandwidth must be a finite number > 0, got {bandwidth!r}")
        self.grid = grid
        self.bandwidth = float(bandwidth)
        self.smoother = GaussianSmoother(grid, self.bandwidth)

    @classmethod
    def on_square(cls, half_width: float, cells: int, bandwidth: float) -> DensityEstimator:
        """The estimator on the ``cells × cells`` grid of [−half_width, half_width]², from a
        plane game's ``grid_half_width``, ``grid_cells`` and ``bandwidth`` (checked by its
        params: :func:`populace.envs.plane.plane_game.check_plane_params`)."""
        return cls(Grid(-half_width, half_width, cells), bandwidth)

    def on_grid(self, points: np.ndarray, total: int | None = None) -> np.ndarray:
        """The density at the nodes, ``(cells, cells)``; ``total`` is the N to divide by
        (default: the number of points)."""
        n = len(points) if total is None else total
        masses = bin_points(self.grid, points)
        density = self.smoother(masses)
        density *= 1.0 / max(n, 1)
        return density

    def at(self, density: np.ndarray, points: np.ndarray) -> np.ndarray:
        return interpolate(self.grid, density, points)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """The density at ``points`` themselves: by the direct sum below
        :data:`DIRECT_BELOW` points, by the grid (FFT) from there on; the two agree to
        floating-point rounding (see :func:`direct_at_points`)."""
        if len(points) < DIRECT_BELOW:
            return direct_at_points(self, points)
        return self.at(self.on_grid(points), points)


def direct_at_points(estimator: DensityEstimator, points: np.ndarray) -> np.ndarray:
    """``estimator(points)`` without the grid-wide FFT: the same binned masses and the same
    sampled, truncated kernel, summed directly at the (at most 4N) nodes the bilinear
    interpolation reads — O(N²) work instead of O(G log G), cheaper for a few points. The
    FFT computes this very sum (zero padding, no wrap-around), so the two agree up to the
    FFT's rounding, about 1e-16 of the largest node density (tests hold them to 1e-12)."""
    grid = estimator.grid
    n = grid.cells
    index, fx, fy, inside = grid.corners(points)
    mass = inside.astype(np.float64)
    upper_x = fx * mass  # the masses of bin_points, node by node
    mass -= upper_x
    weights = np.concatenate([mass - mass * fy, mass * fy, upper_x - upper_x * fy,
                              upper_x * fy])
    corners = np.concatenate([index, index + 1, index + n, index + n + 1])
    across, along = np.divmod(corners, n)
    table = estimator.smoother.by_offset
    far = len(table) - 1
    gap_x = np.minimum(np.abs(across[:, None] - across[None, :]), far)
    gap_y = np.minimum(np.abs(along[:, None] - along[None, :]), far)
    kernel = table.take(gap_x)
    kernel *= table.take(gap_y)
    at_nodes = kernel @ weights  # the density at every corner node, times N
    at_nodes *= 1.0 / max(len(points), 1)
    k = len(points)
    gx, gy = 1.0 - fx, 1.0 - fy
    out = gx * gy * at_nodes[:k]
    out += gx * fy * at_nodes[k:2 * k]
    out += fx * gy * at_nodes[2 * k:3 * k]
    out += fx * fy * at_nodes[3 * k:]
    out[~inside] = 0.0
    return cast(np.ndarray, out)


def direct_density(points: np.ndarray, at: np.ndarray, bandwidth: float) -> np.ndarray:
    """The exact ``(1/N) Σ_i K_h(a − x_i)`` at every point ``a`` of ``at``: O(N·len(at)), for
    tests and small checks only."""
    points = np.asarray(points, dtype=np.float64)
    at = np.asarray(at, dtype=np.float64)
    out = np.empty(len(at))
    norm = 1.0 / (2.0 * np.pi * bandwidth**2 * len(points))
    for start in range(0, len(at), 256):
        block = at[start:start + 256]
        squared = ((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        out[start:start + 256] = np.exp(-0.5 * squared / bandwidth**2).sum(axis=1) * norm
    return out
