"""Mguni, Jennings & Munoz de Cote (AAMAS 2018), Experiment 3: the mean-field LQR.

D. Mguni, J. Jennings, E. Munoz de Cote, *Decentralised learning in systems with many, many
strategic agents*, AAMAS 2018; "MJM" below. Their actor-critic fictitious play
(:class:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay`, ``"ac_fp"``)
learns the
stationary equilibrium of ``mf_lqr_v0``; MJM report the population's stationary mean and
variance after convergence, (0.50717, −0.50537) and 0.16100, against Bardi's continuous-time
(0.5, −0.5) and 0.1406.

``mguni-lqr`` trains 200 agents (MJM's number) in one long episode of ``mf_lqr_v0`` (so the
population is in its stationary regime, apart from the walk from its starting point at the
beginning), and measures the stationary mean and variance with the game's own metric columns
``mean_x``, ``mean_y`` and ``variance``, averaged over the last quarter of the run's windows
and over the seeds. The reference is the exact equilibrium of the discretized game
(:meth:`~populace.envs.mean_field_lqr.mf_lqr.MFLQRCore.reference_equilibrium`: mean (0.5, −0.5),
variance
0.1552 at Δt = 0.05; 0.140625 only as Δt → 0). The claims:

* the mean is within :data:`MEAN_TOLERANCE` of the reference, coordinate by coordinate (1 %:
  closer than MJM's 1.4 % and 1.1 %);
* the variance is within :data:`VARIANCE_TOLERANCE` of the reference (5 %; MJM's is 14.5 %
  above Bardi's value);
* the learned policy is nearly unexploitable: what one agent gains per unit time by
  best-responding (the game's ``exploitability``, exact for the learner's linear policy) is at
  most :data:`EXPLOITABILITY` (a fiftieth of the 0.5625 of the equilibrium gain steering to
  the origin).

The quick form (CI) runs two shorter seeds and checks looser bounds. The variance measured
includes the agents' exploration noise (MJM's Gaussian output of variance 0.1 adds about 1 %)
and the finite population's (N − 1)/N.

Every claim is a pure function of the :class:`LQRSummary`; fed the summary of players that do
not learn (standing still, or moving at random), each fails (``tests/test_mguni_lqr.py``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from populace.train.papers.claims import Claim
from populace.train.papers.figures import have_matplotlib
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.reproduction import Reproduction

GAME = "mf_lqr_v0"
LEARNER = "ac_fp"
N_AGENTS = 200  # MJM Exp. 3
COLUMNS = ("mean_error", "mean_x", "mean_y", "variance", "variance_error", "exploitability")
QUICK = {"runs": 2, "rounds": 20_000, "window": 1000}
FULL = {"runs": 4, "rounds": 60_000, "window": 2000}
TAIL = 0.25  # the stationary values are averaged over this last fraction of the windows
PAPER_MEAN = (0.50717, -0.50537)  # MJM's table, column E3
PAPER_VARIANCE = 0.16100
BARDI_MEAN, BARDI_VARIANCE = (0.5, -0.5), 0.14060  # MJM's table, column B1
# Bounds (relative errors per coordinate, and exploitability per unit time), (quick, full).
MEAN_TOLERANCE = {True: 0.03, False: 0.01}
VARIANCE_TOLERANCE = {True: 0.10, False: 0.05}
EXPLOITABILITY = {True: 0.5625 / 20, False: 0.5625 / 50}


@dataclass(frozen=True)
class LQRSummary:
    """What the claims see: per run, the stationary mean ``(runs, 2)``, variance and
    exploitability (averages over the last :data:`TAIL` of the windows), the reference
    equilibrium's mean and variance, and the seed-averaged curves for the figure."""

    means: np.ndarray
    variances: np.ndarray
    exploitability: np.ndarray
    reference_mean: np.ndarray
    reference_variance: float
    rounds: np.ndarray
    curve_mean: np.ndarray  # (windows, 2)
    curve_variance: np.ndarray  # (windows,)

    @property
    def mean(self) -> np.ndarray:
        return self.means.mean(axis=0)

    @property
    def variance(self) -> float:
        return float(self.variances.mean())


def lqr_jobs(quick: bool, seed: int) -> list[Job]:
    """Runs of ``ac_fp`` on one long episode of ``mf_lqr_v0`` with 200 agents."""
    plan = QUICK if quick else FULL
    base = Job(f"{LEARNER} N={N_AGENTS}", GAME,
               {"n_agents": N_AGENTS, "max_cycles": plan["rounds"]}, LEARNER, {},
               rounds=plan["rounds"], window=plan["window"], seed=0, columns=COLUMNS)
    return [replace(base, seed=seed * 1000 + run) for run in range(plan["runs"])]


def tail_mean(values: np.ndarray) -> float:
    """The average of the last :data:`TAIL` of a curve (at least one window).

    >>> tail_mean(np.arange(8.0))
    6.5
    """
    keep = max(int(len(values) * TAIL), 1)
    return float(np.mean(values[-keep:]))


def reference(game_kwargs: dict) -> tuple[np.ndarray, float]:
    """The exact stationary equilibrium's mean and variance of the job's game."""
    from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore

    equilibrium = MFLQRCore(**game_kwargs).reference_equilibrium()
    return np.asarray(equilibrium.mean, dtype=np.float64), float(equilibrium.variance)


def summarize(curves: list[Curve]) -> LQRSummary:
    """Stationary values of every run, and the seed-averaged curves."""
    columns = [c.columns for c in curves]
    means = np.array([[tail_mean(c["mean_x"]), tail_mean(c["mean_y"])] for c in columns])
    mean, variance = reference(curves[0].job.game_kwargs)
    return LQRSummary(
        means=means,
        variances=np.array([tail_mean(c["variance"]) for c in columns]),
        exploitability=np.array([tail_mean(c["exploitability"]) for c in columns]),
        reference_mean=mean, reference_variance=variance, rounds=curves[0].rounds,
        curve_mean=np.mean([np.column_stack([c["mean_x"], c["mean_y"]]) for c in columns],
                           axis=0),
        curve_variance=np.mean([c["variance"] for c in columns], axis=0),
    )


def relative_errors(summary: LQRSummary) -> tuple[np.ndarray, float]:
    """Relative errors of the stationary mean (per coordinate) and of the variance."""
    mean_error = np.abs(summary.mean - summary.reference_mean) / np.abs(summary.reference_mean)
    variance_error = abs(summary.variance - summary.reference_variance)
    return mean_error, variance_error / summary.reference_variance


def lqr_claims(summary: LQRSummary, quick: bool) -> list[Claim]:
    """MJM Exp. 3's claims, checked on :func:`summarize`'s summary (NaN or inf fails)."""
    mean_error, variance_error = relative_errors(summary)
    mean, ref = summary.mean, summary.reference_mean
    exploit = float(np.max(summary.exploitability))
    mean_bound, variance_bound = MEAN_TOLERANCE[quick], VARIANCE_TOLERANCE[quick]
    exploit_bound = EXPLOITABILITY[quick]
    return [
        Claim(
            f"stationary mean within {mean_bound:.0%} of the exact ({ref[0]:g}, {ref[1]:g}), "
            "each coordinate",
            f"({PAPER_MEAN[0]}, {PAPER_MEAN[1]}) vs ({BARDI_MEAN[0]}, {BARDI_MEAN[1]})",
            f"({mean[0]:.4f}, {mean[1]:.4f}): {mean_error[0]:.2%}, {mean_error[1]:.2%} off "
            f"({len(summary.means)} runs)",
            bool(np.all(mean_error <= mean_bound)),
        ),
        Claim(
            f"stationary variance within {variance_bound:.0%} of the exact "
            f"{summary.reference_variance:.4f} (Δt = 0.05)",
            f"{PAPER_VARIANCE} vs {BARDI_VARIANCE} (continuous time: 0.140625)",
            f"{summary.variance:.4f}: {variance_error:.2%} off",
            bool(variance_error <= variance_bound),
        ),
        Claim(
            f"the learned policy is nearly an equilibrium: exploitability ≤ {exploit_bound:.4f} "
            "per unit time (every run)",
            "converges to the known M-NE policy",
            ", ".join(f"{value:.2g}" for value in summary.exploitability),
            bool(exploit <= exploit_bound),
        ),
    ]


def save_lqr(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    """``mguni-lqr.csv`` (every run's columns per window) and ``mguni-lqr.png``."""
    path = out_dir / "mguni-lqr.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "seed", "round", *COLUMNS])
        for curve in curves:
            for i, round_ in enumerate(curve.rounds):
                writer.writerow([curve.job.label, curve.job.seed, int(round_),
                                 *(f"{curve.columns[name][i]:.6g}" for name in COLUMNS)])
    return [path, plot_lqr(summarize(curves), out_dir / "mguni-lqr.png")]


def plot_lqr(summary: LQRSummary, path: Path) -> Path | None:
    """The population's mean and variance per window against the exact and MJM's values."""
    if not have_matplotlib():
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    for k, name in enumerate(("x", "y")):
        line = left.plot(summary.rounds, summary.curve_mean[:, k], label=f"mean {name} (ours)")
        colour = line[0].get_color()
        left.axhline(summary.reference_mean[k], color=colour, linestyle=":", linewidth=1)
        left.axhline(PAPER_MEAN[k], color=colour, linestyle="--", linewidth=0.8,
                     label=f"MJM: {PAPER_MEAN[k]}")
    left.set_ylim(-0.8, 0.8)
    left.set_title("population mean (dotted: exact)")
    right.plot(summary.rounds, summary.curve_variance, label="ours")
    right.axhline(summary.reference_variance, color="black", linestyle=":",
                  label=f"exact, Δt=0.05: {summary.reference_variance:.4f}")
    right.axhline(PAPER_VARIANCE, color="grey", linestyle="--", label=f"MJM: {PAPER_VARIANCE}")
    right.axhline(BARDI_VARIANCE, color="grey", linestyle=":", label=f"Bardi: {BARDI_VARIANCE}")
    right.set_ylim(0.10, 0.25)
    right.set_title("variance per coordinate")
    for ax in (left, right):
        ax.set_xlabel("round")
        ax.legend(fontsize=7)
    figure.suptitle(f"MJM Exp. 3, mean-field LQR: actor-critic fictitious play, N={N_AGENTS}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


REPRODUCTIONS = {
    "mguni-lqr": Reproduction(
        "mguni-lqr", "MJM Exp. 3: mean-field LQR, learned stationary mean and variance vs "
        "the exact equilibrium", lqr_jobs, lqr_claims, save_lqr, summarize=summarize),
}
