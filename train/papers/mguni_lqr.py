"""Mguni, Jennings & Munoz de Cote (AAMAS 2018), Experiment 3: the mean-field LQR.

D. Mguni, J. Jennings, E. Munoz de Cote, *Decentralised learning in systems with many, many
strategic agents*, AAMAS 2018; "MJM" below. Their actor-critic fictitious play
(:class:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay`, ``"ac_fp"``)
learns the stationary equilibrium of ``mf_lqr_v0``; MJM report the population's stationary
mean and variance after convergence, (0.50717, −0.50537) and 0.16100, against Bardi's
continuous-time (0.5, −0.5) and 0.1406.

``mguni-lqr`` trains 200 agents (MJM's number) in one long episode of ``mf_lqr_v0`` (so the
population is in its stationary regime, apart from the walk from its starting point at the
beginning) and measures each run's stationary mean and variance with the game's own metric
columns ``mean_x``, ``mean_y`` and ``variance``, averaged over the last quarter of the run's
windows.

**Two criteria, two exact equilibria.** Our learner uses the average-reward criterion; MJM
learned with a per-step discount γ = 0.99. MJM give no time step; at ours (Δt = 0.05) that
γ is a discount rate β = −ln γ/Δt ≈ 0.2 per unit time, and the exact equilibrium under it
(:func:`~populace.envs.mean_field_lqr.reference.stationary_equilibrium` with
``discount_rate=β``: the discounted Riccati gain) has the same mean (0.5, −0.5) but variance
0.1628 against the average criterion's 0.1552 (both → Bardi's 0.140625 only as Δt → 0 and
γ → 1). Each learner is compared with the equilibrium of the criterion it learned under:
MJM's 0.161 is 1.1 % *below* its own criterion's 0.1628; most of its "+14.5 % against Bardi"
is the criterion and the time step, not learning error. ``mguni-lqr-criteria.md`` (written
beside the figure) tabulates both, with every run's errors.

**Simple rules on the same seeds.** Two policies nobody trained run through the same game,
seeds and metric columns, as their own rows: **K = 1 toward h**, ``u = −(x − h)`` (it knows the
target, so its mean is exact; its gain is the wrong one), and **stand still**, ``u = 0``.

The claims, each checked on every seed of the run (per-seed verdicts in the table):

* **the stationary equilibrium is learned**: the mean within :data:`MEAN_TOLERANCE` of the
  exact (0.5, −0.5), coordinate by coordinate, *and* the variance within
  :data:`VARIANCE_TOLERANCE` of the exact 0.1552 — the mean alone is no test, since a rule
  that knows h gets it exactly;
* **closer than MJM, like for like**: the seed average of our runs is at least as close to
  the average-reward equilibrium (mean per coordinate, and variance) as MJM's numbers are to
  their own criterion's (1.43 %, 1.07 %, 1.12 %; the quick form allows
  :data:`CLOSER_FACTOR` times that). MJM report one number each, so this claim is decided on
  the seed average; the seeds column says on how many single runs it holds;
* **nearly unexploitable**: what one agent gains per unit time by best-responding (the game's
  ``exploitability``, exact for the learner's linear policy) is at most
  :data:`EXPLOITABILITY` on every seed (a fiftieth of the 0.5625 of the equilibrium gain
  steering to the origin; K = 1 toward h: 0.26).

The variance measured includes the agents' exploration noise (MJM's Gaussian output of
variance 0.1 adds about 1 %) and the finite population's (N − 1)/N. Every claim is a pure
function of the :class:`LQRSummary`; fed the rules' rows (or players moving at random), each
fails (``tests/papers/test_mguni_lqr.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from populace.train.papers.claims import Claim, holds_on_seeds
from populace.train.papers.figures import save_figure
from populace.train.papers.jobs import Curve, Job, write_columns_csv
from populace.train.papers.reproduction import Reproduction

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GAME = "mf_lqr_v0"
LEARNER = "ac_fp"
LEARNED = f"{LEARNER} N=200"
N_AGENTS = 200  # MJM Exp. 3
COLUMNS = ("mean_error", "mean_x", "mean_y", "variance", "variance_error", "exploitability")
QUICK = {"runs": 2, "rounds": 20_000, "window": 1000}
FULL = {"runs": 5, "rounds": 60_000, "window": 2000}
TAIL = 0.25  # the stationary values are averaged over this last fraction of the windows
PAPER_MEAN = (0.50717, -0.50537)  # MJM's table, column E3
PAPER_VARIANCE = 0.16100
BARDI_MEAN, BARDI_VARIANCE = (0.5, -0.5), 0.14060  # MJM's table, column B1
MJM_GAMMA = 0.99  # MJM's discount factor per step (supplementary material)
# The rules nobody trained: label -> gain K of u = −K(x − h).
RULES = {"K = 1 toward h": 1.0, "stand still": 0.0}
# Bounds per seed (relative errors per coordinate, exploitability per unit time), (quick, full).
MEAN_TOLERANCE = {True: 0.04, False: 0.02}
VARIANCE_TOLERANCE = {True: 0.10, False: 0.05}
EXPLOITABILITY = {True: 0.5625 / 20, False: 0.5625 / 50}
CLOSER_FACTOR = {True: 2.0, False: 1.0}  # ours may be this many times MJM's own errors


def lqr_jobs(quick: bool, seed: int) -> list[Job]:
    """Runs of ``ac_fp`` on one long episode of ``mf_lqr_v0`` with 200 agents, and the same
    runs (seeds) played by each of :data:`RULES`."""
    plan = QUICK if quick else FULL
    base = Job(LEARNED, GAME, {"n_agents": N_AGENTS, "max_cycles": plan["rounds"]}, LEARNER,
               {}, rounds=plan["rounds"], window=plan["window"], seed=0, columns=COLUMNS)
    seeds = [seed * 1000 + run for run in range(plan["runs"])]
    jobs = [replace(base, seed=s) for s in seeds]
    for name, gain in RULES.items():
        rule = replace(base, label=name, learner="rule", learner_kwargs={"gain": gain},
                       runner=play_rule)
        jobs += [replace(rule, seed=s) for s in seeds]
    return jobs


def play_rule(job: Job) -> Curve:
    """Play ``u = −K(x − h)`` (K = ``job.learner_kwargs["gain"]``) for ``job.rounds`` steps on
    the job's seeded game, recording the game's metric columns per window as the train loop
    does (the exploitability is the rule's own, exact)."""
    from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
    from populace.envs.mean_field_lqr.reference import LinearPolicy

    core = MFLQRCore(**job.game_kwargs)
    policy = LinearPolicy.of(job.learner_kwargs["gain"], core.lq.h)
    env_seed, _ = np.random.SeedSequence(job.seed).generate_state(2)
    group = core.agent_group
    observations = core.reset(seed=int(env_seed))[group]
    metrics = core.window_metrics()
    rows: dict[str, list[float]] = {name: [] for name in job.columns}
    for _ in range(job.rounds // job.window):
        for _ in range(job.window):
            actions = {group: policy.actions(observations[:, :2])}
            step = core.step(actions)
            metrics.record(actions, step)
            observations = step.observations[group]
        scores = metrics.scores({group: policy})
        for name in job.columns:
            rows[name].append(float(scores[name]))
        metrics.clear()
    columns = {name: np.array(values) for name, values in rows.items()}
    rounds = np.arange(job.window, job.rounds + 1, job.window)
    return Curve(job, rounds, columns[job.columns[0]], 0.0, columns)


def tail_mean(values: np.ndarray) -> float:
    """The average of the last :data:`TAIL` of a curve (at least one window).

    >>> tail_mean(np.arange(8.0))
    6.5
    """
    keep = max(int(len(values) * TAIL), 1)
    return float(np.mean(values[-keep:]))


def mjm_discount_rate(dt: float) -> float:
    """β with exp(−βΔt) = :data:`MJM_GAMMA`: MJM's per-step discount at our time step."""
    return float(-np.log(MJM_GAMMA) / dt)


def reference(game_kwargs: dict, *, discounted: bool = False) -> tuple[np.ndarray, float]:
    """The exact stationary equilibrium's mean and variance of the job's game: under the
    average-reward criterion (ours), or ``discounted`` with MJM's γ = 0.99 per step."""
    from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
    from populace.envs.mean_field_lqr.reference import stationary_equilibrium

    model = MFLQRCore(**game_kwargs).lq
    if discounted:
        model = replace(model, discount_rate=mjm_discount_rate(model.dt))
    equilibrium = stationary_equilibrium(model)
    return np.asarray(equilibrium.mean, dtype=np.float64), float(equilibrium.variance)


@dataclass(frozen=True)
class RunStats:
    """One policy's runs (a learner's or a rule's): per run the stationary mean ``(runs, 2)``,
    variance and exploitability (averages over the last :data:`TAIL` of the windows), and the
    seed-averaged curves for the figure."""

    label: str
    seeds: tuple[int, ...]
    means: np.ndarray
    variances: np.ndarray
    exploitability: np.ndarray
    curve_mean: np.ndarray  # (windows, 2)
    curve_variance: np.ndarray  # (windows,)

    @property
    def mean(self) -> np.ndarray:
        return cast(np.ndarray, self.means.mean(axis=0))

    @property
    def variance(self) -> float:
        return float(self.variances.mean())

    @classmethod
    def of(cls, runs: list[Curve]) -> RunStats:
        columns = [c.columns for c in runs]
        return cls(
            label=runs[0].job.label, seeds=tuple(c.job.seed for c in runs),
            means=np.array([[tail_mean(c["mean_x"]), tail_mean(c["mean_y"])] for c in columns]),
            variances=np.array([tail_mean(c["variance"]) for c in columns]),
            exploitability=np.array([tail_mean(c["exploitability"]) for c in columns]),
            curve_mean=np.mean([np.column_stack([c["mean_x"], c["mean_y"]]) for c in columns],
                               axis=0),
            curve_variance=np.mean([c["variance"] for c in columns], axis=0))


@dataclass(frozen=True)
class LQRSummary:
    """What the claims see: the learner's runs, each rule's runs on the same seeds, and the
    exact equilibria of both criteria (average reward: ours; discounted: MJM's)."""

    learned: RunStats
    rules: dict[str, RunStats]
    reference_mean: np.ndarray
    reference_variance: float
    mjm_reference_variance: float
    rounds: np.ndarray

    def playing(self, label: str) -> LQRSummary:
        """The same summary with the rule ``label`` in the learner's place (for the tests and
        the table's simple-rule column)."""
        return replace(self, learned=self.rules[label])


def summarize(curves: list[Curve]) -> LQRSummary:
    """Stationary values of every run, grouped by policy."""
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    stats = {label: RunStats.of(runs) for label, runs in grouped.items()}
    kwargs = curves[0].job.game_kwargs
    mean, variance = reference(kwargs)
    learned = next(s for s in stats.values() if s.label not in RULES)
    return LQRSummary(learned=learned,
                      rules={label: s for label, s in stats.items() if label in RULES},
                      reference_mean=mean, reference_variance=variance,
                      mjm_reference_variance=reference(kwargs, discounted=True)[1],
                      rounds=curves[0].rounds)


def mean_errors(means: np.ndarray, reference_mean: np.ndarray) -> np.ndarray:
    """Relative error per coordinate (any leading shape; NaN stays NaN)."""
    return cast(np.ndarray, np.abs(np.asarray(means) - reference_mean) / np.abs(reference_mean))


def mjm_errors(summary: LQRSummary) -> tuple[np.ndarray, float]:
    """MJM's relative errors against their own criterion's exact equilibrium."""
    return (mean_errors(np.array(PAPER_MEAN), summary.reference_mean),
            abs(PAPER_VARIANCE - summary.mjm_reference_variance) / summary.mjm_reference_variance)


def equilibrium_per_seed(summary: LQRSummary, quick: bool) -> list[bool]:
    """Per run: mean within :data:`MEAN_TOLERANCE` per coordinate and variance within
    :data:`VARIANCE_TOLERANCE` of the exact average-reward equilibrium (NaN fails)."""
    stats = summary.learned
    mean_ok = np.all(mean_errors(stats.means, summary.reference_mean) <= MEAN_TOLERANCE[quick],
                     axis=1)
    variance_error = np.abs(stats.variances - summary.reference_variance) \
        / summary.reference_variance
    return [bool(m and v <= VARIANCE_TOLERANCE[quick]) for m, v in zip(mean_ok, variance_error,
                                                                        strict=True)]


def closer_than_mjm(means: np.ndarray, variance: float, summary: LQRSummary,
                    quick: bool) -> bool:
    """Whether a mean and variance are, against the average-reward equilibrium, within
    :data:`CLOSER_FACTOR` of MJM's errors against their criterion's (NaN fails)."""
    paper_mean, paper_variance = mjm_errors(summary)
    factor = CLOSER_FACTOR[quick]
    ours = mean_errors(means, summary.reference_mean)
    variance_error = abs(variance - summary.reference_variance) / summary.reference_variance
    return bool(np.all(ours <= factor * paper_mean) and variance_error <= factor * paper_variance)


def describe(stats: RunStats, summary: LQRSummary) -> str:
    """Mean and variance of the seed average with their errors, and their standard errors."""
    error = mean_errors(stats.mean, summary.reference_mean)
    variance_error = (stats.variance - summary.reference_variance) / summary.reference_variance
    return (f"({stats.mean[0]:.4f}, {stats.mean[1]:.4f}) ± {standard_error(stats.means):.4f}: "
            f"{error[0]:.2%}, {error[1]:.2%} off; variance {stats.variance:.4f} ± "
            f"{standard_error(stats.variances):.4f} ({variance_error:+.2%})")


def standard_error(values: np.ndarray) -> float:
    """The standard error of the mean over runs (axis 0; the largest over coordinates; 0 for
    one run)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return 0.0
    return float(np.max(np.std(values, axis=0, ddof=1) / np.sqrt(len(values))))


def per_run(stats: RunStats, summary: LQRSummary) -> str:
    """Each run's mean errors and variance error, e.g. ``0.3/0.1/+0.9 %``."""
    errors = mean_errors(stats.means, summary.reference_mean) * 100
    variance = (stats.variances / summary.reference_variance - 1) * 100
    return ", ".join(f"{x:.2f}/{y:.2f}/{v:+.2f}" for (x, y), v in zip(errors, variance,
                                                                       strict=True))


def rules_text(summary: LQRSummary, text: Callable[[RunStats], str]) -> str:
    """``text`` of each rule's runs, labelled."""
    return "; ".join(f"{label}: {text(stats)}" for label, stats in summary.rules.items())


def lqr_claims(summary: LQRSummary, quick: bool) -> list[Claim]:
    """MJM Exp. 3's claims, checked on :func:`summarize`'s summary (NaN or inf fails)."""
    stats, ref = summary.learned, summary.reference_mean
    mean_bound, variance_bound = MEAN_TOLERANCE[quick], VARIANCE_TOLERANCE[quick]
    exploit_bound = EXPLOITABILITY[quick]
    paper_mean, paper_variance = mjm_errors(summary)
    equilibrium = equilibrium_per_seed(summary, quick)
    closer = [closer_than_mjm(m, v, summary, quick)
              for m, v in zip(stats.means, stats.variances, strict=True)]
    exploit = [bool(e <= exploit_bound) for e in stats.exploitability]
    factor = CLOSER_FACTOR[quick]
    return [
        Claim(
            f"every run learns the stationary equilibrium: mean within {mean_bound:.0%} of the "
            f"exact ({ref[0]:g}, {ref[1]:g}) per coordinate and variance within "
            f"{variance_bound:.0%} of the exact {summary.reference_variance:.4f} (average "
            "reward, Δt = 0.05)",
            f"({PAPER_MEAN[0]}, {PAPER_MEAN[1]}), {PAPER_VARIANCE} vs Bardi's "
            f"({BARDI_MEAN[0]}, {BARDI_MEAN[1]}), {BARDI_VARIANCE}",
            f"{describe(stats, summary)}; per run x/y/variance error %: "
            f"{per_run(stats, summary)}",
            holds_on_seeds(equilibrium),
            baseline=rules_text(summary, lambda s: describe(s, summary)),
            per_seed=tuple(equilibrium),
        ),
        Claim(
            "closer than MJM, each to the exact equilibrium of its own criterion: the seed "
            "average's errors (ours: average reward, 0.1552) at most "
            f"{'' if factor == 1 else f'{factor:g} × '}MJM's (γ = {MJM_GAMMA} per step, "
            f"{summary.mjm_reference_variance:.4f})",
            f"MJM vs their criterion's exact: {paper_mean[0]:.2%}, {paper_mean[1]:.2%}, "
            f"variance {PAPER_VARIANCE} vs {summary.mjm_reference_variance:.4f} "
            f"({PAPER_VARIANCE / summary.mjm_reference_variance - 1:+.2%}); vs Bardi's 0.1406: "
            f"{PAPER_VARIANCE / BARDI_VARIANCE - 1:+.1%}",
            f"{describe(stats, summary)} ({len(stats.seeds)} runs)",
            closer_than_mjm(stats.mean, stats.variance, summary, quick),
            baseline=rules_text(summary, lambda s: "closer" if closer_than_mjm(
                s.mean, s.variance, summary, quick) else "not closer"),
            per_seed=tuple(closer),
        ),
        Claim(
            f"the learned policy is nearly an equilibrium: exploitability ≤ {exploit_bound:.4f} "
            "per unit time on every run",
            "converges to the known M-NE policy",
            ", ".join(f"{value:.2g}" for value in stats.exploitability),
            holds_on_seeds(exploit),
            baseline=rules_text(summary, lambda s: f"{np.max(s.exploitability):.3g}"),
            per_seed=tuple(exploit),
        ),
    ]


def criteria_table(summary: LQRSummary) -> str:
    """Markdown: both criteria's exact equilibria, and who learned under which, with errors."""
    paper_mean, paper_variance = mjm_errors(summary)
    stats = summary.learned
    ours_mean = mean_errors(stats.mean, summary.reference_mean)
    ours_variance = stats.variance / summary.reference_variance - 1
    lines = [
        "## mguni-lqr: each learner against the exact equilibrium of its own criterion",
        "",
        "| criterion | exact mean | exact variance | learned by | learned mean | learned "
        "variance | errors (x, y, variance) |",
        "|---|---|---|---|---|---|---|",
        f"| average reward (ours), Δt = 0.05 | (0.5, −0.5) | {summary.reference_variance:.4f} "
        f"| ac_fp, {len(stats.seeds)} runs (mean ± SE) | ({stats.mean[0]:.4f}, "
        f"{stats.mean[1]:.4f}) ± {standard_error(stats.means):.4f} | {stats.variance:.4f} ± "
        f"{standard_error(stats.variances):.4f} | {ours_mean[0]:.2%}, {ours_mean[1]:.2%}, "
        f"{ours_variance:+.2%} |",
        f"| discounted, γ = {MJM_GAMMA} per step at Δt = 0.05 (MJM's) | (0.5, −0.5) | "
        f"{summary.mjm_reference_variance:.4f} | MJM (one reported number) | ({PAPER_MEAN[0]}, "
        f"{PAPER_MEAN[1]}) | {PAPER_VARIANCE} | {paper_mean[0]:.2%}, {paper_mean[1]:.2%}, "
        f"{PAPER_VARIANCE / summary.mjm_reference_variance - 1:+.2%} |",
        "| continuous time (Bardi), Δt → 0 | (0.5, −0.5) | 0.1406 | – | – | – | – |",
        "",
        "| run (seed) | mean x | mean y | variance | x error | y error | variance error "
        "| exploitability |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for policy in (stats, *summary.rules.values()):
        errors = mean_errors(policy.means, summary.reference_mean)
        for i, seed in enumerate(policy.seeds):
            lines.append(
                f"| {policy.label} ({seed}) | {policy.means[i, 0]:.4f} | {policy.means[i, 1]:.4f} "
                f"| {policy.variances[i]:.4f} | {errors[i, 0]:.2%} | {errors[i, 1]:.2%} | "
                f"{policy.variances[i] / summary.reference_variance - 1:+.2%} | "
                f"{policy.exploitability[i]:.3g} |")
    return "\n".join(lines) + "\n"


def save_lqr(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    """``mguni-lqr.csv`` (every run's columns per window, learner and rules),
    ``mguni-lqr-criteria.md`` (both criteria, per-run errors) and ``mguni-lqr.png``."""
    path = write_columns_csv(curves, out_dir / "mguni-lqr.csv", COLUMNS)
    summary = summarize(curves)
    criteria = out_dir / "mguni-lqr-criteria.md"
    criteria.write_text(criteria_table(summary), encoding="utf-8")
    return [path, criteria, save_figure(lambda: lqr_figure(summary), out_dir / "mguni-lqr.png")]


def lqr_figure(summary: LQRSummary) -> Figure:
    """The population's mean and variance per window (learner and the K = 1 rule) against
    both criteria's exact values and MJM's."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    stats = summary.learned
    for k, name in enumerate(("x", "y")):
        line = left.plot(summary.rounds, stats.curve_mean[:, k], label=f"mean {name} (ours)")
        colour = line[0].get_color()
        left.axhline(summary.reference_mean[k], color=colour, linestyle=":", linewidth=1)
        left.axhline(PAPER_MEAN[k], color=colour, linestyle="--", linewidth=0.8,
                     label=f"MJM: {PAPER_MEAN[k]}")
    left.set_ylim(-0.8, 0.8)
    left.set_title("population mean (dotted: exact)")
    right.plot(summary.rounds, stats.curve_variance, label="ours (average reward)")
    for label, rule in summary.rules.items():
        if np.all(np.isfinite(rule.curve_variance)) and rule.variance < 1.0:
            right.plot(summary.rounds, rule.curve_variance, linestyle="-.", label=label)
    right.axhline(summary.reference_variance, color="black", linestyle=":",
                  label=f"exact, average reward: {summary.reference_variance:.4f}")
    right.axhline(summary.mjm_reference_variance, color="tab:red", linestyle=":",
                  label=f"exact, γ = {MJM_GAMMA}/step: {summary.mjm_reference_variance:.4f}")
    right.axhline(PAPER_VARIANCE, color="tab:red", linestyle="--",
                  label=f"MJM (γ = {MJM_GAMMA}): {PAPER_VARIANCE}")
    right.axhline(BARDI_VARIANCE, color="grey", linestyle=":", label=f"Bardi: {BARDI_VARIANCE}")
    right.set_ylim(0.10, 0.32)
    right.set_title("variance per coordinate")
    for ax in (left, right):
        ax.set_xlabel("round")
        ax.legend(fontsize=7)
    figure.suptitle(f"MJM Exp. 3, mean-field LQR: actor-critic fictitious play, N={N_AGENTS}")
    return figure


REPRODUCTIONS = {
    "mguni-lqr": Reproduction(
        "mguni-lqr", "MJM Exp. 3: mean-field LQR, learned stationary mean and variance vs "
        "the exact equilibria of both criteria, beside two simple rules", lqr_jobs, lqr_claims,
        save_lqr, summarize=summarize),
}
