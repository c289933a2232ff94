"""Figures of the reproductions and studies: matplotlib (the ``plot`` extra) is optional, so
every figure goes through :func:`save_figure`, which writes nothing without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.train.papers.jobs import Means

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NO_FIGURES = "figures skipped: matplotlib is not installed (pip install 'populace[plot]')"


def save_figure(draw: Callable[[], Figure], path: Path, *, dpi: int = 110) -> Path | None:
    """Draw a figure, lay it out and save it to ``path``; None, and nothing drawn or written,
    without matplotlib."""
    if not have_matplotlib():
        return None
    figure = draw()
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path


def plot_curves(
    means: Means, path: Path, title: str, *, ylabel: str, floor: float | None = None,
    marks: dict[str, float] | None = None,
) -> Path | None:
    """Save :func:`curves_figure` to ``path``; None, and nothing written, without matplotlib."""
    return save_figure(
        lambda: curves_figure(means, title, ylabel=ylabel, floor=floor, marks=marks), path, dpi=120
    )


def have_matplotlib() -> bool:
    """Whether figures can be drawn (matplotlib is the ``plot`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def curves_figure(
    means: Means, title: str, *, ylabel: str, floor: float | None = None,
    marks: dict[str, float] | None = None,
) -> Figure:
    """Distance from equilibrium against rounds, one line per label, with plain tick labels:
    on a log scale (0.1, 0.2, 0.3, 0.5, 1, ...) when the values span a factor of 4 or more.

    Args:
        floor: the exploration floor, drawn as a dotted horizontal line.
        marks: ``{label: round}``, the paper's reference rounds, drawn as dashed vertical lines.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.2))
    ax = figure.subplots()
    for label, (rounds, distance) in means.items():
        ax.plot(rounds, distance, label=label, linewidth=1.4)
    if floor is not None:
        ax.axhline(floor, color="grey", linestyle=":", linewidth=1,
                   label=f"exploration floor ({floor:.2f})")
    for label, round_ in (marks or {}).items():
        ax.axvline(round_, color="black", linestyle="--", linewidth=0.8, label=label)
    ax.set_title(title)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    plain_axes(ax, np.concatenate([d for _, d in means.values()]
                                  + [np.atleast_1d(floor or [])]))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def plain_axes(ax: Axes, values: np.ndarray) -> None:
    """Plain tick labels on a rounds axis and a y axis: the y axis on a log scale (0.1, 0.2,
    0.3, 0.5, 1, ...) when the positive ``values`` span a factor of 4 or more, else linear
    without offset or exponent."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    values = values[values > 0]
    if len(values) and values.max() >= 4 * values.min():
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_log_label))
        ax.yaxis.set_minor_formatter(FuncFormatter(_plain_log_label))
    else:
        plain = ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.yaxis.set_major_formatter(plain)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.set_xlim(left=0)


def _plain_log_label(value: float, _: Any = None) -> str:
    """Label the log-scale ticks 1, 2, 3 and 5 times a power of ten, as plain numbers.

    >>> [_plain_log_label(v) for v in (0.05, 0.07, 0.3, 1.0, 20.0)]
    ['0.05', '', '0.3', '1', '20']
    """
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value))
    if not any(np.isclose(mantissa, m) for m in (1, 2, 3, 5)):
        return ""
    return f"{value:g}"
