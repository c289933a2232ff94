"""Pictures of a population of points in the plane: a density grid as text, a scatter as RGB.

Both frame the square of half-width :data:`HALF_WIDTH` around the target h and mark the
population mean (``M``, red) and the target (``h``, green); agents outside the frame are
drawn on its edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from populace.envs.render import BACKGROUND, BAR, EQUILIBRIUM, draw_text

if TYPE_CHECKING:
    from populace.envs.mean_field_lqr.reference import StationaryEquilibrium

HALF_WIDTH = 2.0  # the frame: h ± 2 in each coordinate
TARGET = (0, 140, 70)
SHADES = " .:-=+*#%@"
TEXT_ROWS, TEXT_COLUMNS = 15, 41
PICTURE = 200


def _cells(points: np.ndarray, centre: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Row and column of each point in a ``rows × columns`` grid over the frame (y up)."""
    scaled = (np.atleast_2d(points) - centre + HALF_WIDTH) / (2 * HALF_WIDTH)
    column = np.clip(np.floor(scaled[:, 0] * columns), 0, columns - 1).astype(np.int64)
    row = np.clip(np.floor((1.0 - scaled[:, 1]) * rows), 0, rows - 1).astype(np.int64)
    return np.stack([row, column])


def positions_text(
    positions: np.ndarray, mean: np.ndarray, target: np.ndarray, title: str,
    reference: StationaryEquilibrium | None = None,
) -> str:
    """A density grid of the positions (darker = more agents), the mean ``M`` and the target
    ``h``, under a line with the mean and variance (and the reference's, when given)."""
    row, column = _cells(positions, target, TEXT_ROWS, TEXT_COLUMNS)
    counts = np.zeros((TEXT_ROWS, TEXT_COLUMNS), dtype=np.int64)
    np.add.at(counts, (row, column), 1)
    levels = np.ceil(counts / max(int(counts.max()), 1) * (len(SHADES) - 1)).astype(np.int64)
    grid = np.array(list(SHADES))[levels]
    for point, mark in ((target, "h"), (mean, "M")):
        r, c = _cells(np.asarray(point), target, TEXT_ROWS, TEXT_COLUMNS)[:, 0]
        grid[r, c] = mark
    variance = float(positions.var(axis=0).mean()) if len(positions) else 0.0
    summary = f"mean ({mean[0]:+.3f}, {mean[1]:+.3f})  variance {variance:.4f}"
    if reference is not None:
        summary += (f"  [equilibrium ({reference.mean[0]:+.3f}, {reference.mean[1]:+.3f}), "
                    f"{reference.variance:.4f}]")
    border = "+" + "-" * TEXT_COLUMNS + "+"
    lines = [title, summary, border, *("|" + "".join(r) + "|" for r in grid), border,
             f"frame: h ± {HALF_WIDTH:g}; M = population mean, h = target"]
    return "\n".join(lines) + "\n"


def positions_image(
    positions: np.ndarray, mean: np.ndarray, target: np.ndarray, title: str
) -> np.ndarray:
    """A ``PICTURE × PICTURE`` RGB scatter of the positions (blue), the mean (red square) and
    the target (green cross), with ``title`` at the top."""
    image = np.empty((PICTURE, PICTURE, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    row, column = _cells(positions, target, PICTURE, PICTURE)
    image[row, column] = BAR
    r, c = _cells(np.asarray(target), target, PICTURE, PICTURE)[:, 0]
    image[max(r - 5, 0): r + 6, c] = TARGET
    image[r, max(c - 5, 0): c + 6] = TARGET
    r, c = _cells(np.asarray(mean), target, PICTURE, PICTURE)[:, 0]
    image[max(r - 2, 0): r + 3, max(c - 2, 0): c + 3] = EQUILIBRIUM
    draw_text(image, title, 2, 2)
    return image
