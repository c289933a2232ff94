"""How far a mean-field equilibrium is from a Nash equilibrium of the game with N players.

``populace finite-n mf_lqr_v0 --sizes 2,10,100,1000,100000`` asks the game's core for
:meth:`~populace.envs.core.PopulationCore.finite_population_gap` at every N — the
exploitability of its mean-field equilibrium policy when exactly N agents play it — fits a
power law ``gap ≈ C·N^slope`` on log–log axes, writes ``finite_n.csv`` and ``finite_n.png``
(with the ``plot`` extra) and prints the table. Nothing here knows a game: any core that
implements the hook can be studied.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from populace.envs.registry import make_core
from populace.text import files_line
from populace.train.papers.figures import NO_FIGURES, have_matplotlib

DEFAULT_SIZES = (2, 5, 10, 20, 50, 100, 1000, 10**4, 10**5)
DEFAULT_FIT_FROM = 10  # small N bend away from the power law; fit from here on


@dataclass(frozen=True)
class PowerLaw:
    """``gap ≈ prefactor · N^slope``, fitted by least squares on log gap against log N."""

    slope: float
    prefactor: float
    sizes: tuple[int, ...]  # the N the fit used

    def __call__(self, n: ArrayLike) -> NDArray[np.float64]:
        return self.prefactor * np.asarray(n, dtype=np.float64) ** self.slope


@dataclass
class FiniteNStudy:
    """The gaps of one game over population sizes, and their power-law fit."""

    game: str
    game_kwargs: dict[str, Any]
    sizes: list[int]
    gaps: list[float]
    fit: PowerLaw | None
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = ["| N | gap | N × gap | power-law fit |", "|---|---|---|---|"]
        for n, gap in zip(self.sizes, self.gaps, strict=True):
            fitted = "" if self.fit is None else f"{float(self.fit(n)):.4g}"
            lines.append(f"| {n:,} | {gap:.6g} | {n * gap:.6g} | {fitted} |")
        return "\n".join(lines)

    def fit_line(self) -> str:
        if self.fit is None:
            return "power-law fit: not enough positive gaps to fit"
        used = self.fit.sizes
        return (f"power-law fit over N = {used[0]:,} … {used[-1]:,}: gap ≈ "
                f"{self.fit.prefactor:.4g} · N^{self.fit.slope:.4f}")

    def text(self, width: int = 100) -> str:
        title = f"{self.game}: exploitability of the mean-field equilibrium played by N agents"
        lines = [title, self.table(), self.fit_line(), files_line(self.files, width),
                 *self.notes]
        return "\n".join(line for line in lines if line)


def check_sizes(sizes: list[int]) -> list[int]:
    if not sizes:
        raise ValueError("--sizes needs at least one population size")
    bad = [n for n in sizes if isinstance(n, bool) or not isinstance(n, int) or n < 2]
    if bad:
        raise ValueError(f"--sizes must be integers >= 2, got {bad}")
    return sorted(set(sizes))


def fit_power_law(sizes: list[int], gaps: list[float], fit_from: int) -> PowerLaw | None:
    """Least squares of log gap on log N over the sizes ≥ ``fit_from`` with a positive, finite
    gap (all such sizes when fewer than two reach ``fit_from``); None without two points.

    >>> fit = fit_power_law([10, 100, 1000], [0.1, 0.01, 0.001], 10)
    >>> round(fit.slope, 6), round(fit.prefactor, 6)
    (-1.0, 1.0)
    """
    usable = [(n, g) for n, g in zip(sizes, gaps, strict=True) if np.isfinite(g) and g > 0]
    chosen = [(n, g) for n, g in usable if n >= fit_from]
    if len(chosen) < 2:
        chosen = usable
    if len(chosen) < 2:
        return None
    log_n = np.log([n for n, _ in chosen])
    log_gap = np.log([g for _, g in chosen])
    slope, intercept = np.polyfit(log_n, log_gap, 1)
    return PowerLaw(float(slope), float(np.exp(intercept)), tuple(n for n, _ in chosen))


def finite_n_study(
    game: str, sizes: list[int], *, game_kwargs: dict[str, Any] | None = None,
    fit_from: int = DEFAULT_FIT_FROM, out_dir: Path | None = None,
) -> FiniteNStudy:
    """The gap of ``game`` (built with ``game_kwargs``) at every size; CSV and figure in
    ``out_dir`` when given."""
    kwargs = dict(game_kwargs or {})
    core = make_core(game, **kwargs)
    sizes = check_sizes(list(sizes))
    gaps = [float(core.finite_population_gap(n)) for n in sizes]
    study = FiniteNStudy(game, kwargs, sizes, gaps, fit_power_law(sizes, gaps, fit_from))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        study.files.append(write_csv(study, out_dir / "finite_n.csv"))
        figure = plot(study, out_dir / "finite_n.png")
        if figure is None:
            study.notes.append(NO_FIGURES)
        else:
            study.files.append(figure)
    return study


def write_csv(study: FiniteNStudy, path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["game", "n_agents", "gap", "fitted"])
        for n, gap in zip(study.sizes, study.gaps, strict=True):
            fitted = "" if study.fit is None else f"{float(study.fit(n)):.9g}"
            writer.writerow([study.game, n, f"{gap:.9g}", fitted])
    return path


def plot(study: FiniteNStudy, path: Path) -> Path | None:
    """The gaps against N on log–log axes with the fitted line; None without matplotlib."""
    if not have_matplotlib():
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2))
    ax = figure.subplots()
    sizes = np.asarray(study.sizes, dtype=np.float64)
    gaps = np.asarray(study.gaps)
    shown = np.isfinite(gaps) & (gaps > 0)
    ax.loglog(sizes[shown], gaps[shown], "o", label="exact gap")
    if study.fit is not None:
        line = np.geomspace(sizes.min(), sizes.max(), 100)
        ax.loglog(line, study.fit(line), "--",
                  label=f"fit: {study.fit.prefactor:.3g}·N^{study.fit.slope:.3f}")
    ax.set_xlabel("number of agents N")
    ax.set_ylabel("exploitability of the mean-field equilibrium")
    ax.set_title(f"{study.game}: the mean-field equilibrium with N players")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path
