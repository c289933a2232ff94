"""What ALT's two warehouse reproductions (``alt-warehouse``, ``alt-continuous``) share: one
job per (training seed, sample size k), each scored on the evaluation seeds of its training
seed, results stacked by k and seed, mean ± standard error over the training seeds, the CSV
and the axes of return against k.

A job's curve holds a single point, ``rounds == [k]``; its columns are what the job measured.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.train.papers.jobs import Curve, Job

if TYPE_CHECKING:
    from matplotlib.axes import Axes

EVALUATION_SEED_BASE = 10_000  # training seed s is scored on 10,000 (s + 1) + 0, 1, 2, ...


def evaluation_seeds(training_seed: int, count: int) -> list[int]:
    """The seeds of the evaluation rollouts of a run trained with ``training_seed``; the
    learner and the simple rule it is compared with are scored on the same ones.

    >>> evaluation_seeds(1, 3)
    [20000, 20001, 20002]
    """
    return [EVALUATION_SEED_BASE * (training_seed + 1) + s for s in range(count)]


def sweep_jobs(base: Job, ks: Sequence[int], seeds: int, first_seed: int,
               prefix: str = "") -> list[Job]:
    """One job per (training seed, k), seeds ``first_seed, first_seed + 1, ...``, labelled
    ``"{prefix}k={k}"``; ``base.game_kwargs`` gains the key ``k``."""
    return [replace(base, label=f"{prefix}k={k}", seed=first_seed + i,
                    game_kwargs={**base.game_kwargs, "k": k})
            for i in range(seeds) for k in ks]


def sweep_ks(curves: Iterable[Curve]) -> tuple[int, ...]:
    """The sample sizes the curves cover, sorted."""
    return tuple(sorted({int(c.rounds[0]) for c in curves}))


def stack(curves: Sequence[Curve], name: str) -> np.ndarray:
    """Column ``name`` of every curve, ``(len(ks), training seeds, *column shape)``: by k,
    then by training seed (every k must have run on the same seeds)."""
    ks = sweep_ks(curves)
    rows = []
    for k in ks:
        runs = sorted((c for c in curves if int(c.rounds[0]) == k), key=lambda c: c.job.seed)
        rows.append([np.asarray(c.columns[name], dtype=float) for c in runs])
    if len({len(row) for row in rows}) > 1:
        raise ValueError(f"the sample sizes {ks} did not all run on the same training seeds")
    return np.array(rows)


def of_setting(curves: Sequence[Curve], setting: str) -> list[Curve]:
    """The curves of the jobs whose ``game_kwargs["setting"]`` is ``setting``."""
    return [c for c in curves if c.job.game_kwargs.get("setting") == setting]


def mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of ``values`` (0 for a single value).

    >>> mean_se(np.array([1.0, 2.0, 3.0]))
    (2.0, 0.5773502691896258)
    """
    values = np.asarray(values, dtype=float).ravel()
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return float(values.mean()), se


def shown(values: np.ndarray, digits: int = 2) -> str:
    """``"mean ± SE"`` over the values, or the single value alone.

    >>> shown(np.array([85.0, 86.0])), shown(np.array([85.0]))
    ('85.50 ± 0.50', '85.00')
    """
    mean, se = mean_se(values)
    return f"{mean:.{digits}f} ± {se:.{digits}f}" if np.size(values) > 1 else f"{mean:.{digits}f}"


def plural(seeds: int) -> str:
    """``"1 training seed"``, ``"5 training seeds"``."""
    return f"{seeds} training seed{'' if seeds == 1 else 's'}"


def by_k(ks: Sequence[int], values: Sequence[str], limit: int | None = None) -> str:
    """``"k=1: a, k=2: b"``, the first ``limit`` pairs (all by default)."""
    pairs = [f"k={k}: {v}" for k, v in zip(ks, values, strict=True)]
    return ", ".join(pairs[:limit])


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A CSV with ``header`` and ``rows``."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def returns_axes(ax: Axes, ks: Sequence[int], series: dict[str, np.ndarray],
                 authors: dict[int, float], authors_label: str) -> None:
    """Return against k on a log k axis: per series ``(len(ks), training seeds)`` the mean
    over the training seeds with its standard error as the bar, and the authors' values."""
    for label, values in series.items():
        stats = np.array([mean_se(row) for row in values])
        ax.errorbar(ks, stats[:, 0], yerr=stats[:, 1], marker="o", capsize=3, label=label)
    reported = [k for k in ks if k in authors]
    ax.plot(reported, [authors[k] for k in reported], "s--", color="grey", label=authors_label)
    k_axis(ax, ks)
    ax.set_ylabel("discounted return")
    ax.legend(fontsize=8)


def k_axis(ax: Axes, ks: Sequence[int]) -> None:
    """A log axis of k labelled at the sample sizes run."""
    ax.set_xscale("log")
    ax.set_xticks(list(ks), [str(k) for k in ks])
    ax.minorticks_off()
    ax.set_xlabel("k (robots sampled)")
