"""Pictures of agents in the plane over their density: text shades and an RGB heat map.

Both show the square [−``HALF_WIDTH``, ``HALF_WIDTH``]² around the origin: the density (node
values of a :class:`~populace.envs.plane.density.Grid`, resampled to the picture) as shading, the
agents as dots (RGB) and the desirability peaks as ``+``; agents outside the frame are drawn
on its edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from populace.envs.plane.density import Grid, interpolate
from populace.envs.render import BACKGROUND, BAR, EQUILIBRIUM, draw_text

HALF_WIDTH = 2.0
SHADES = " .:-=+*#%@"
TEXT_ROWS, TEXT_COLUMNS = 17, 49
PICTURE = 200


def _centres_of_cells(rows: int, columns: int) -> np.ndarray:
    """The plane point at the centre of every picture cell, row-major, y up."""
    x = -HALF_WIDTH + (np.arange(columns) + 0.5) * (2 * HALF_WIDTH / columns)
    y = HALF_WIDTH - (np.arange(rows) + 0.5) * (2 * HALF_WIDTH / rows)
    xx, yy = np.meshgrid(x, y)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def _cells(points: np.ndarray, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    scaled = (np.atleast_2d(points) + HALF_WIDTH) / (2 * HALF_WIDTH)
    column = np.clip(np.floor(scaled[:, 0] * columns), 0, columns - 1).astype(np.int64)
    row = np.clip(np.floor((1.0 - scaled[:, 1]) * rows), 0, rows - 1).astype(np.int64)
    return row, column


def _resampled(grid: Grid, density: np.ndarray, rows: int, columns: int) -> np.ndarray:
    values = interpolate(grid, density, _centres_of_cells(rows, columns))
    return values.reshape(rows, columns)


def density_text(grid: Grid, density: np.ndarray, points: np.ndarray,
                 peaks: Sequence[tuple[float, float]], title: str) -> str:
    """The density as shades (darker = denser), peaks as ``+``, under a summary line."""
    values = _resampled(grid, density, TEXT_ROWS, TEXT_COLUMNS)
    top = float(values.max())
    levels = np.rint(values / top * (len(SHADES) - 1)).astype(np.int64) if top > 0 else \
        np.zeros(values.shape, dtype=np.int64)
    picture = np.array(list(SHADES))[np.clip(levels, 0, len(SHADES) - 1)]
    for peak in peaks:
        r, c = _cells(np.asarray(peak), TEXT_ROWS, TEXT_COLUMNS)
        picture[r[0], c[0]] = "+"
    mean = points.mean(axis=0) if len(points) else np.zeros(2)
    spread = float(points.var(axis=0).sum()) if len(points) else 0.0
    summary = (f"mean ({mean[0]:+.3f}, {mean[1]:+.3f})  spread {spread:.4f}  "
               f"peak density {top:.3f}")
    border = "+" + "-" * TEXT_COLUMNS + "+"
    lines = [title, summary, border, *("|" + "".join(r) + "|" for r in picture), border,
             f"frame: [-{HALF_WIDTH:g}, {HALF_WIDTH:g}]²; + = desirability peak"]
    return "\n".join(lines) + "\n"


def density_image(grid: Grid, density: np.ndarray, points: np.ndarray,
                  peaks: Sequence[tuple[float, float]], title: str) -> np.ndarray:
    """A ``PICTURE × PICTURE`` RGB heat map of the density (white → orange), the agents as
    blue dots and the peaks as red crosses, with ``title`` at the top."""
    values = _resampled(grid, density, PICTURE, PICTURE)
    top = float(values.max())
    weight = (values / top if top > 0 else values)[:, :, None]
    heat = np.array([255.0, 170.0, 60.0])
    image = (np.asarray(BACKGROUND, dtype=np.float64) * (1 - weight) + heat * weight)
    image = image.astype(np.uint8)
    row, column = _cells(points, PICTURE, PICTURE)
    image[row, column] = BAR
    for peak in peaks:
        r, c = (int(v[0]) for v in _cells(np.asarray(peak), PICTURE, PICTURE))
        image[max(r - 4, 0): r + 5, c] = EQUILIBRIUM
        image[r, max(c - 4, 0): c + 5] = EQUILIBRIUM
    draw_text(image, title, 2, 2)
    return cast(np.ndarray, image)
