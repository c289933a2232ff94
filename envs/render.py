"""Pictures of a population without a plotting dependency: action histograms as text or RGB."""

from __future__ import annotations

import numpy as np

BAR = (52, 101, 164)
EQUILIBRIUM = (204, 0, 0)
BACKGROUND = (255, 255, 255)


def histogram_text(counts: np.ndarray, labels: list[str], title: str, width: int = 40) -> str:
    """One line per action: label, a bar proportional to its share, and the share."""
    total = max(int(counts.sum()), 1)
    shares = counts / total
    label_width = max(len(label) for label in labels)
    lines = [title]
    for label, share in zip(labels, shares, strict=True):
        bar = "#" * int(round(share * width))
        lines.append(f"{label:>{label_width}} |{bar:<{width}}| {share:6.1%}")
    return "\n".join(lines) + "\n"


def histogram_image(
    counts: np.ndarray, marked: np.ndarray | None = None, height: int = 200, bar_width: int = 16
) -> np.ndarray:
    """An ``(height, n_actions * bar_width, 3)`` uint8 bar chart of action shares.

    Actions with positive mass in ``marked`` (e.g. the reference equilibrium) get a red strip
    along the bottom of their column.
    """
    n_actions = len(counts)
    image = np.empty((height, n_actions * bar_width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    shares = counts / max(int(counts.sum()), 1)
    bar_heights = np.round(shares * (height - 8)).astype(int)
    rows = np.arange(height)[:, None]
    columns = np.repeat(np.arange(n_actions), bar_width)
    gutter = (np.arange(n_actions * bar_width) % bar_width) >= bar_width - 2
    filled = (rows >= height - 4 - bar_heights[columns][None, :]) & (rows < height - 4) & ~gutter
    image[filled] = BAR
    if marked is not None:
        strip = np.repeat(np.asarray(marked) > 0, bar_width) & ~gutter
        image[height - 4 :, strip] = EQUILIBRIUM
    return image
