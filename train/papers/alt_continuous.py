"""ALT App. G.2: ALTERNATING-MARL with neural policies in the continuous warehouse, beside the
modal rule.

``alt-continuous``: n = 500 robots; for each sample size k and each training seed the learner
(:class:`~populace.agents.alternating_marl_continuous.ContinuousAlternatingMARL`: the
dispatcher by cross-entropy to the fleet's mode, the robots by TRPO) is trained for T = 30
alternations, then scored over evaluation seeds of 50 episodes, over our horizon of 100 steps
and over the authors' 50 — their values are compared with ours over 50 steps only.

**The modal rule** (:func:`modal_rule_returns`), nobody's training: the dispatcher targets the
modal bin of its k-robot sample (ties to the lowest bin) and every robot steps toward the
dispatcher's point s_g (staying within half a step of it). Every job scores it on the
learner's own evaluation seeds. The claims, each checked on every training seed:

* the value rises with k (from k_min to k_max by at least :data:`RISE`, horizon 50);
* with diminishing returns: the value gained per added sampled robot over the small k
  (k_min to :data:`MIDDLE`) exceeds that over the large k (:data:`MIDDLE` to k_max), and is
  itself at least :data:`MIN_SLOPE` per robot;
* far above uniform play (:data:`RANDOM_VALUE`, measured) at every k, and at k_max above a
  dispatcher that never moves from the centre while the robots stay (:data:`FIXED_VALUE`,
  measured), both over 100 steps;
* the dispatcher finds the fleet's modal bin more often as k grows.

The modal rule passes these too (the table's simple-rule column says so): in this game
learning only matches it. Each k also reports how far the learned joint policy is from a Nash
equilibrium (:func:`~populace.envs.warehouse.continuous_nash.continuous_gains`); ALT states no
value for it in G.2, so it is a reported number, not a claim.

Claims are pure functions of :class:`ContinuousSummary`; ``tests/papers/test_alt.py`` feeds them
players that do not learn. ``--quick``: one training seed, k ∈ {1, 10, 75}, 8 alternations,
fewer episodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from populace.train.papers.alt_sweep import (
    by_k,
    evaluation_seeds,
    mean_se,
    plural,
    returns_axes,
    shown,
    stack,
    sweep_jobs,
    sweep_ks,
    write_rows,
)
from populace.train.papers.claims import Claim, holds_on_seeds
from populace.train.papers.figures import save_figure
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.reproduction import Reproduction

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from populace.envs.warehouse.warehouse_continuous import ContinuousModel

N_ROBOTS = 500
HORIZON, AUTHORS_HORIZON = 100, 50
FULL_KS, QUICK_KS = (1, 3, 5, 10, 20, 35, 50, 75), (1, 10, 75)
FULL_SEEDS, QUICK_SEEDS = 5, 1  # training seeds
MIDDLE = 10
FULL_EVAL, QUICK_EVAL = (15, 50), (3, 40)  # (evaluation seeds, episodes per seed)
FULL_NASH_EPISODES, QUICK_NASH_EPISODES = 64, 24  # behind each k's ε estimate
QUICK_LEARNER = {"alternations": 8, "g_samples": 1500, "g_epochs": 10, "l_episodes": 60}
FULL_LEARNER = {"alternations": 30}
# The authors' hard-coded TRPO results (ALT G.2 figure, horizon 50; SPEC §3), by k.
AUTHORS = {1: 127.8, 3: 133.4, 5: 133.6, 10: 135.5, 20: 140.2, 35: 145.4, 50: 151.3, 75: 152.0}
RANDOM_VALUE = 40.3  # uniform play by both roles, 100 steps (authors: 37.8 ± 10.9 over 50)
FIXED_VALUE = 116.3  # the dispatcher always at bin 2 (s_g → 0), robots staying: r_g ≈ 5 a step
RISE = 5.0
MIN_SLOPE = 0.2  # value per added sampled robot between k_min and MIDDLE
ABOVE_RANDOM = 50.0
ABOVE_FIXED = 10.0
DEAD_BAND = 0.025  # the modal rule's robots stay within half a step (0.05) of s_g


@dataclass(frozen=True)
class ContinuousSummary:
    """By k (sorted) and training seed.

    Attributes:
        returns, returns50: ``(k, seeds, evaluation seeds)`` the learner's mean discounted
            return over 100 and over 50 steps; rule, rule50: the modal rule's, same episodes.
        accuracy, rule_accuracy: ``(k, seeds)`` the share of steps on which the dispatcher
            chose the fleet's modal bin (100 steps).
        train_seconds: ``(k, seeds)``.
        gains: ``(k, seeds, 2)`` the estimated unilateral gains of the dispatcher and of a
            robot; gains_se: their standard errors.
    """

    ks: tuple[int, ...]
    returns: np.ndarray
    returns50: np.ndarray
    rule: np.ndarray
    rule50: np.ndarray
    accuracy: np.ndarray
    rule_accuracy: np.ndarray
    train_seconds: np.ndarray
    gains: np.ndarray
    gains_se: np.ndarray

    @property
    def epsilon(self) -> np.ndarray:
        """``(k, seeds)``: the larger gain, floored at 0."""
        return cast(np.ndarray, np.maximum(self.gains.max(axis=-1), 0.0))

    def rule_as_learner(self) -> ContinuousSummary:
        """The modal rule's results in the learner's place (no training, no gains measured)."""
        unknown = np.full(self.gains.shape, np.nan)
        return replace(self, returns=self.rule, returns50=self.rule50,
                       accuracy=self.rule_accuracy, train_seconds=np.zeros_like(
                           self.train_seconds), gains=unknown, gains_se=unknown)


# ----------------------------------------------------------------------------- the runs
def continuous_jobs(quick: bool, seed: int) -> list[Job]:
    evals, episodes = QUICK_EVAL if quick else FULL_EVAL
    base = Job("k=1", "warehouse_continuous_v0",
               {"n_agents": N_ROBOTS, "eval_seeds": evals, "eval_episodes": episodes,
                "nash_episodes": QUICK_NASH_EPISODES if quick else FULL_NASH_EPISODES},
               "alternating_marl_continuous", dict(QUICK_LEARNER if quick else FULL_LEARNER),
               rounds=0, window=1, seed=seed, runner=run_continuous, columns=("return",))
    return sweep_jobs(base, QUICK_KS if quick else FULL_KS,
                      QUICK_SEEDS if quick else FULL_SEEDS, seed)


def modal_rule_returns(model: ContinuousModel, episodes: int, horizon: int,
                       seed: int) -> tuple[np.ndarray, float]:
    """Discounted system returns of ``episodes`` episodes of the modal rule, and its mode
    accuracy; ``seed`` draws the same starts and samples as the learner's evaluation."""
    from populace.envs.warehouse.warehouse_continuous import bin_shares

    rng = np.random.default_rng(seed)
    reference, robots = model.reset(episodes, rng)
    total, discount, hits = np.zeros(episodes), 1.0, 0
    for _ in range(horizon):
        targets = model.histograms(robots, rng).argmax(axis=1)
        hits += int((targets == bin_shares(robots).argmax(axis=1)).sum())
        gap = reference[:, None] - robots
        moves = np.where(gap > DEAD_BAND, 1, np.where(gap < -DEAD_BAND, 2, 0))
        reference, robots, earned_g, earned_l = model.step(reference, robots, targets, moves,
                                                           rng)
        total += discount * (earned_g + earned_l.mean(axis=1))
        discount *= model.gamma
    return total, hits / (episodes * horizon)


def run_continuous(job: Job) -> Curve:
    """Train at the job's k, score the learner and the modal rule on the same evaluation
    seeds over 100 and 50 steps, and estimate the learner's unilateral gains."""
    from populace.agents.alternating_marl_continuous import ContinuousAlternatingMARL
    from populace.envs.warehouse.continuous_nash import continuous_gains
    from populace.envs.warehouse.warehouse_continuous import ContinuousModel

    kwargs = job.game_kwargs
    model = ContinuousModel(kwargs["n_agents"], kwargs["k"], 0.95)
    learner = ContinuousAlternatingMARL(model, seed=job.seed, **job.learner_kwargs)
    started = time.perf_counter()
    learner.fit()
    trained = time.perf_counter() - started
    seeds, episodes = evaluation_seeds(job.seed, kwargs["eval_seeds"]), kwargs["eval_episodes"]
    learned = [learner.evaluate(episodes, HORIZON, s) for s in seeds]
    learned50 = [learner.evaluate(episodes, AUTHORS_HORIZON, s)[0] for s in seeds]
    rule = [modal_rule_returns(model, episodes, HORIZON, s) for s in seeds]
    rule50 = [modal_rule_returns(model, episodes, AUTHORS_HORIZON, s)[0] for s in seeds]
    played = learner.policy()
    gains = continuous_gains(model, played["dispatcher"], played["robot"],
                             episodes=kwargs["nash_episodes"], horizon=HORIZON, seed=job.seed)
    columns = {"return": np.array([r.mean() for r, _ in learned]),
               "return50": np.array([r.mean() for r in learned50]),
               "rule": np.array([r.mean() for r, _ in rule]),
               "rule50": np.array([r.mean() for r in rule50]),
               "accuracy": np.array(np.mean([a for _, a in learned])),
               "rule_accuracy": np.array(np.mean([a for _, a in rule])),
               "train_seconds": np.array(trained),
               "gains": np.array([gains.dispatcher, gains.robot]),
               "gains_se": np.array([gains.dispatcher_se, gains.robot_se])}
    return Curve(job, np.array([kwargs["k"]]), np.array([columns["return"].mean()]), trained,
                 columns)


def summarize(curves: list[Curve]) -> ContinuousSummary:
    return ContinuousSummary(sweep_ks(curves), *(stack(curves, name) for name in (
        "return", "return50", "rule", "rule50", "accuracy", "rule_accuracy", "train_seconds",
        "gains", "gains_se")))


# ----------------------------------------------------------------------------- the claims
def rises(summary: ContinuousSummary) -> tuple[tuple[bool, ...], str]:
    means = summary.returns50.mean(axis=2)  # (k, seeds)
    return (tuple(bool(r >= RISE) for r in means[-1] - means[0]),
            by_k(summary.ks, [shown(m, 1) for m in means]))


def diminishing(summary: ContinuousSummary) -> tuple[tuple[bool, ...], str]:
    ks, means = np.array(summary.ks), summary.returns50.mean(axis=2)
    middle = int(np.flatnonzero(ks == MIDDLE)[0]) if MIDDLE in ks else len(ks) // 2
    low = (means[middle] - means[0]) / max(ks[middle] - ks[0], 1)
    high = (means[-1] - means[middle]) / max(ks[-1] - ks[middle], 1)
    return (tuple(bool(a >= MIN_SLOPE and a > b) for a, b in zip(low, high, strict=True)),
            f"per added robot {shown(low)} (k ≤ {ks[middle]}) vs {shown(high)} (beyond)")


def above_fixed_players(summary: ContinuousSummary) -> tuple[tuple[bool, ...], str]:
    means = summary.returns.mean(axis=2)
    per_seed = (means.min(axis=0) >= RANDOM_VALUE + ABOVE_RANDOM) & (
        means[-1] >= FIXED_VALUE + ABOVE_FIXED)
    return (tuple(bool(ok) for ok in per_seed),
            f"lowest {means.min():.1f}; at k={summary.ks[-1]}: {shown(means[-1], 1)}")


def finds_mode(summary: ContinuousSummary) -> tuple[tuple[bool, ...], str]:
    accuracy = summary.accuracy
    mean = accuracy.mean(axis=1)
    return (tuple(bool(ok) for ok in accuracy[-1] > accuracy[0] + 0.02),
            f"{mean[0]:.0%} → {mean[-1]:.0%}")


def continuous_claims(summary: ContinuousSummary, quick: bool) -> list[Claim]:
    rule = summary.rule_as_learner()
    rows = [
        ("the value rises with k (horizon 50)",
         "G.2 (horizon 50): " + by_k(list(AUTHORS), [f"{v}" for v in AUTHORS.values()]),
         rises),
        ("with diminishing returns (horizon 50)", "gains flatten (k=50 → 75: +0.7)",
         diminishing),
        ("far above uniform play at every k, and above a fixed dispatcher at k_max "
         "(horizon 100)",
         f"ours: random play {RANDOM_VALUE}, fixed at the centre {FIXED_VALUE} (the authors' "
         "random 37.8 ± 10.9 is over 50 steps)", above_fixed_players),
        ("the dispatcher finds the fleet's mode more often as k grows",
         "mode accuracy 54 % at k=1 → 81 % at k=75 (authors' code)", finds_mode),
    ]
    claims = []
    for text, says, check in rows:
        per_seed, measured = check(summary)
        rule_seeds, rule_measured = check(rule)
        verdict = "passes too" if holds_on_seeds(rule_seeds) else "fails"
        claims.append(Claim(text, says, measured, holds_on_seeds(per_seed),
                            f"modal rule: {rule_measured} — {verdict}", per_seed))
    return claims


# ----------------------------------------------------------------------------- the files
def save_continuous(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    summary = summarize(curves)
    header = ["k", "training_seed", "player", "return_h100", "return_h50", "return_h100_se",
              "mode_accuracy", "train_seconds", "gain_dispatcher", "gain_robot", "epsilon"]
    rows = []
    for i, k in enumerate(summary.ks):
        for s in range(summary.returns.shape[1]):
            gains = (*summary.gains[i, s], summary.epsilon[i, s])
            rows.append([k, s, "ALTERNATING-MARL", f"{summary.returns[i, s].mean():.4f}",
                         f"{summary.returns50[i, s].mean():.4f}",
                         f"{mean_se(summary.returns[i, s])[1]:.4f}",
                         f"{summary.accuracy[i, s]:.4f}", f"{summary.train_seconds[i, s]:.2f}",
                         *(f"{gain:.4f}" for gain in gains)])
            rows.append([k, s, "modal rule", f"{summary.rule[i, s].mean():.4f}",
                         f"{summary.rule50[i, s].mean():.4f}",
                         f"{mean_se(summary.rule[i, s])[1]:.4f}",
                         f"{summary.rule_accuracy[i, s]:.4f}", "0.00", "", "", ""])
    path = write_rows(out_dir / "alt-continuous.csv", header, rows)
    return [path, save_figure(lambda: continuous_figure(summary),
                              out_dir / "alt-continuous.png")]


def continuous_figure(summary: ContinuousSummary) -> Figure:
    """Return against k over the authors' 50 steps: ours, the modal rule's and the authors'."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 4))
    ax = figure.subplots()
    returns_axes(ax, summary.ks, {
        "ALTERNATING-MARL (TRPO robots)": summary.returns50.mean(axis=2),
        "modal rule": summary.rule50.mean(axis=2)}, AUTHORS, "authors' TRPO")
    seeds = summary.returns.shape[1]
    ax.set_title(f"ALT G.2 continuous warehouse, n = {N_ROBOTS}, horizon 50 "
                 f"({plural(seeds)})", fontsize=10)
    return figure


def run_summary_text(summary: ContinuousSummary) -> str:
    """A Markdown table of the results (its reproduction page's): mean ± SE over the seeds."""
    lines = ["| k | ALTERNATING-MARL h=50 | modal rule h=50 | authors' TRPO h=50 | "
             "ALTERNATING-MARL h=100 | modal rule h=100 | mode accuracy (rule) | ε |",
             "|---|---|---|---|---|---|---|---|"]
    for i, k in enumerate(summary.ks):
        lines.append(
            f"| {k} | {shown(summary.returns50[i].mean(axis=1), 1)} | "
            f"{shown(summary.rule50[i].mean(axis=1), 1)} | {AUTHORS.get(k, '—')} | "
            f"{shown(summary.returns[i].mean(axis=1), 1)} | "
            f"{shown(summary.rule[i].mean(axis=1), 1)} | {summary.accuracy[i].mean():.0%} "
            f"({summary.rule_accuracy[i].mean():.0%}) | {shown(summary.epsilon[i], 1)} |")
    return "\n".join(lines)


REPRODUCTIONS = {
    "alt-continuous": Reproduction(
        "alt-continuous", "ALT G.2: continuous warehouse, neural policies; value rises with k "
        "with diminishing returns; beside the modal rule", continuous_jobs, continuous_claims,
        save_continuous, summarize=summarize),
}
