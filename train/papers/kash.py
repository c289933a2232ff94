"""Kash, Friedman & Halpern (AAMAS 2009), §4: learning in the contribution game.

I. Kash, E. Friedman, J. Halpern, *Multiagent learning in large anonymous games*, AAMAS 2009
(JAIR 2011 extends it); "KFH" below.

* ``kash-fig1`` — average payoffs: stage learners (ε=0.05, τ=250) for N ∈ {2, 10, 100, 1000}
  and regret matching at N=100. Distance from equilibrium falls with N; N=100 gets near the
  exploration floor within a few thousand rounds; regret matching converges quickly, but less
  tightly.
* ``kash-fig2`` — random matching, stage learners with ε=0.01, τ=2000: convergence is less
  tight and takes about ten times longer (≈20,000 rounds).
* ``kash-statistics`` — random matching, but agents see the previous round's action histogram
  (of everyone, or of 10 sampled agents) and score each action by its expected payoff against
  it (KFH §4's closing remark). Against the same stage learners (ε=0.01, τ=250) without
  statistics, and against ``kash-fig2``'s: learning is several times faster, and tighter.

**Regret matching: our reading.** KFH build their no-regret learners on Hart & Mas-Colell
"with improvements suggested by Greenwald et al." and see them converge quickly. They do not
say what the improvements are; Hart & Mas-Colell's procedure as written converges slowly here.
Greenwald et al.'s responsive learners discount old observations exponentially, the remedy
KFH's discussion cites them for, so the curve we draw for KFH is :data:`RESPONSIVE_REGRET`:
regrets discounted by 0.2 % a round and measured against each agent's running-mean payoff
(options of :class:`~populace.agents.regret.RegretMatching`). The plain procedure is drawn
beside it.

Distances are KFH's d(ρ) = Σ_a ρ(a)|a − 8| with ρ counted over each 250-round window and
averaged over runs. How fast a population converges is measured by when its curve *settles*
(:func:`~populace.train.papers.claims.settling_round`). Each ``*_claims`` function sees only the
seed-averaged curves; fed those of players that do not learn, every claim fails
(``tests/papers/test_reproductions.py``).

**The strongest simple rule.** Nobody needs to learn the contribution game's equilibrium to
play it: a population that plays action 8 (also the best reply to uniform play) from the first
round, exploring at the learner's rate, sits at the exploration floor, the lowest distance any
explorer reaches. The table's "simple rule" column checks every claim on that rule
(:func:`with_equilibrium_rule`: its exact expected distance, flat over the same windows), and
every claim must fail for it: the claims are about how a population gets there. The claims are
also checked on each run alone (the "seeds" column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np

from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.registry import make_core
from populace.train.papers.claims import Claim, beside_rule, rounds_to_reach, settling_round
from populace.train.papers.figures import plot_curves
from populace.train.papers.jobs import Curve, Job, Means, mean_curves, write_curves_csv
from populace.train.papers.reproduction import Reproduction

WINDOW = 250
FIG1_STAGE = {"epsilon": 0.05, "tau": 250}
# KFH's regret curve in our reading (see the module docstring): a running-mean payoff baseline
# and a discount of old regrets, both options of agents/regret.py
RESPONSIVE_REGRET = {"baseline": "running_mean", "mu": 1.0, "delta": 0.02, "discount": 0.002}
FIG2_STAGE = {"epsilon": 0.01, "tau": 2000}
MATCHING_STAGE = {"epsilon": 0.01, "tau": 250}  # the statistics runs' τ, without statistics
STATISTICS_STAGE = {**MATCHING_STAGE, "use_statistics": True}

# Bounds of the claims, in rounds; each lies inside the shortest run that checks it.
FEW_THOUSAND = 2500  # fig1: N=100 is near the exploration floor by then (runs: 3000, 5000)
REGRET_QUICKLY = 1500  # fig1: regret matching has halved uniform play's distance by then
FIG2_EARLIEST = 7000  # fig2: "≈20,000 rounds" means it settles no sooner than this
FIG2_RATIO = (3.0, 40.0)  # fig2: "on the order of ten times longer"
FIG2_PAPER = 20000  # fig2: KFH's "approximately 20,000 rounds", drawn in the figure
SEVERAL = 3.0  # statistics: "several times faster"

DISTANCE_LABEL = "distance from equilibrium  Σ ρ(a)|a − 8|"


def uniform_distance() -> float:
    """Distance of uniform play, where every learner starts: Σ_a |a − 8| / 20 = 5.1."""
    core = ContributionCore(n_agents=2)
    return float(core.distance(np.full(core.n_actions, 1.0 / core.n_actions)))


def floor(epsilon: float) -> float:
    """Distance of a population at equilibrium whose members explore with rate ε."""
    return ContributionCore(n_agents=2).exploration_floor(epsilon)


def jobs_for(
    label: str, payoff: str, n_agents: int, learner: str, learner_kwargs: dict, rounds: int,
    runs: int, seed: int, observe: str = "none",
) -> list[Job]:
    """``runs`` seeded runs of one learner on the contribution game, all labelled ``label``."""
    base = Job(
        label=label, game="contribution_v0",
        game_kwargs={"n_agents": n_agents, "payoff": payoff, "observe": observe},
        learner=learner, learner_kwargs=learner_kwargs, rounds=rounds, window=WINDOW, seed=0,
    )
    return [replace(base, seed=seed * 1000 + n_agents * 10 + run) for run in range(runs)]


def late_distance(curve: tuple[np.ndarray, np.ndarray]) -> float:
    """Average distance over the second half of a curve."""
    _, distance = curve
    return float(distance[len(distance) // 2 :].mean())


def equilibrium_rule_distance(job: Job) -> float:
    """Expected distance of a population that plays ``job``'s game's reference equilibrium
    from the first round and explores uniformly over the other actions at the job's learner's
    rate (stage learners' ε, regret matching's δ; none given: 0) — nothing learned."""
    core = cast(AnonymousGameCore, make_core(job.game, **job.game_kwargs))  # kash's games
    kwargs = job.learner_kwargs
    epsilon = float(kwargs.get("epsilon", kwargs.get("delta", 0.0)))
    target = core.reference_equilibrium()
    rule = (1 - epsilon) * target + epsilon * (1 - target) / (core.n_actions - 1)
    return float(core.distance(rule))


def with_equilibrium_rule(
    check: Callable[[Means, bool], list[Claim]], jobs: Callable[[bool, int], list[Job]],
) -> Callable[[Means, bool], list[Claim]]:
    """``check`` with its "simple rule" column: the same claims checked on curves flat at
    :func:`equilibrium_rule_distance` for every label of ``jobs``, over the same windows."""

    def claims(means: Means, quick: bool) -> list[Claim]:
        level = {job.label: equilibrium_rule_distance(job) for job in jobs(quick, 0)}
        rule = {label: (rounds, np.full(len(rounds), level[label]))
                for label, (rounds, _) in means.items()}
        return beside_rule(check(means, quick), check(rule, quick), "equilibrium rule")

    return claims


def _reach_text(reached: int | None) -> str:
    return "never" if reached is None else f"{reached:,} rounds"


def falls_to(curve: tuple[np.ndarray, np.ndarray], threshold: float) -> int | None:
    """The round a curve falls to ``threshold`` and stays (:func:`rounds_to_reach`), or None
    if it never does, or if its first window already was there: a population that plays the
    equilibrium from the first round has learned nothing (the strongest simple rule)."""
    rounds, distance = curve
    if distance[0] <= threshold:
        return None
    return rounds_to_reach(rounds, distance, threshold)


def _saver(
    stem: str, title: str, epsilon: float, skip: str = "", marks: dict[str, float] | None = None
) -> Callable[[list[Curve], Path], list[Path | None]]:
    """A ``save`` writing ``stem``.csv and ``stem``.png (with the exploration floor and the
    paper's reference rounds ``marks``), without labels that start with ``skip``."""

    def save(curves: list[Curve], out_dir: Path) -> list[Path | None]:
        kept = [c for c in curves if not (skip and c.job.label.startswith(skip))]
        return [
            write_curves_csv(kept, out_dir / f"{stem}.csv"),
            plot_curves(mean_curves(kept), out_dir / f"{stem}.png", title, ylabel=DISTANCE_LABEL,
                        floor=floor(epsilon), marks=marks),
        ]

    return save


# ---------------------------------------------------------------------------- kash-fig1
def fig1_sizes(quick: bool) -> list[int]:
    return [2, 10, 100] if quick else [2, 10, 100, 1000]


def fig1_jobs(quick: bool, seed: int) -> list[Job]:
    runs, rounds = (3, 3000) if quick else (10, 5000)
    jobs = []
    for n in fig1_sizes(quick):
        jobs += jobs_for(f"stage N={n}", "average", n, "stage", FIG1_STAGE, rounds, runs, seed)
    jobs += jobs_for("responsive regret N=100", "average", 100, "regret", RESPONSIVE_REGRET,
                     rounds, runs, seed)
    jobs += jobs_for("plain regret N=100", "average", 100, "regret", {}, rounds, runs, seed)
    return jobs


def fig1_claims(means: Means, quick: bool) -> list[Claim]:
    """KFH Fig. 1's claims, checked on the seed-averaged curves of :func:`fig1_jobs`."""
    sizes = fig1_sizes(quick)
    uniform = uniform_distance()
    late = {n: late_distance(means[f"stage N={n}"]) for n in sizes}
    # strictly lower (by 10 %) from N=2 to 10 to 100; N=1000 at least as tight as N=100
    falls = all(late[b] < 0.9 * late[a] for a, b in zip(sizes[:2], sizes[1:3], strict=True))
    if 1000 in late:
        falls = falls and late[1000] <= late[100] * 1.1
    near_floor = floor(FIG1_STAGE["epsilon"]) + 0.1
    reached = falls_to(means["stage N=100"], near_floor)
    regret = means["responsive regret N=100"]
    regret_late = late_distance(regret)
    plain_late = late_distance(means["plain regret N=100"])
    halved = falls_to(regret, uniform / 2)
    return [
        Claim(
            "stage learners: distance falls with N",
            "N=2 chaotic, N=10 learns with frequent mistakes, N=100 converges",
            ", ".join(f"N={n}: {late[n]:.2f}" for n in sizes) + " (2nd-half mean)",
            falls,
        ),
        Claim(
            f"N=100 falls to near the floor (≤ {near_floor:.2f}) within {FEW_THOUSAND:,} rounds",
            "converges quickly; distance is almost all exploration",
            _reach_text(reached),
            reached is not None and reached <= FEW_THOUSAND,
        ),
        Claim(
            "regret matching learns, but less tightly (N=100): at most half of uniform play's "
            f"{uniform:.2f}, at least twice the stage learners'",
            "no-regret converges, but not as close",
            f"{regret_late:.2f} vs stage {late[100]:.2f} (2nd-half mean; "
            f"Hart & Mas-Colell as written: {plain_late:.2f})",
            regret_late <= uniform / 2 and regret_late >= 2 * late[100],
        ),
        Claim(
            f"regret matching converges quickly: falls below {uniform / 2:.2f} within "
            f"{REGRET_QUICKLY:,} rounds (N=100)",
            "no-regret learning also converges quickly",
            _reach_text(halved),
            halved is not None and halved <= REGRET_QUICKLY,
        ),
    ]


# ---------------------------------------------------------------------------- kash-fig2
def fig2_jobs(quick: bool, seed: int) -> list[Job]:
    sizes = [100] if quick else [10, 100, 1000]
    runs, rounds = (3, 30000) if quick else (10, 30000)
    jobs = jobs_for("fig1 stage N=100", "average", 100, "stage", FIG1_STAGE, 5000, runs, seed)
    for n in sizes:
        jobs += jobs_for(f"stage N={n}", "matching", n, "stage", FIG2_STAGE, rounds, runs, seed)
    if not quick:  # drawn, not checked
        jobs += jobs_for("responsive regret N=100", "matching", 100, "regret",
                         RESPONSIVE_REGRET, rounds, runs, seed)
    return jobs


def fig2_claims(means: Means, quick: bool) -> list[Claim]:
    """KFH Fig. 2's claims, checked on the seed-averaged curves of :func:`fig2_jobs`."""
    fig1_settle, fig1_level = settling_round(*means["fig1 stage N=100"])
    rounds, distance = means["stage N=100"]
    settle, level = settling_round(rounds, distance)
    both = settle is not None and fig1_settle is not None
    ratio = settle / fig1_settle if settle is not None and fig1_settle is not None else None
    latest = int(rounds[-max(len(rounds) // 4, 1) - 1])  # settling_round's latest answer
    return [
        Claim(
            "stage learners converge under random matching (N=100)",
            "agents do successfully learn",
            f"settle at {level:.2f} (from {distance[0]:.2f}) after {_reach_text(settle)}",
            settle is not None,
        ),
        Claim(
            "convergence is not as tight as with average payoffs (twice the distance)",
            "not as tight; mistakes are quite common",
            f"settled distance {level:.2f} vs {fig1_level:.2f}",
            both and level > 2 * fig1_level,
        ),
        Claim(
            "about ten times slower than with average payoffs "
            f"({FIG2_RATIO[0]:.0f}× to {FIG2_RATIO[1]:.0f}×)",
            "on the order of ten times longer",
            "never" if ratio is None else f"{ratio:.0f}× ({settle:,} vs {fig1_settle:,} rounds)",
            ratio is not None and FIG2_RATIO[0] <= ratio <= FIG2_RATIO[1],
        ),
        Claim(
            f"convergence takes ≈20,000 rounds (settles in {FIG2_EARLIEST:,}–{latest:,})",
            "approximately 20,000 rounds",
            _reach_text(settle),
            settle is not None and FIG2_EARLIEST <= settle <= latest,
        ),
    ]


# ---------------------------------------------------------------------------- kash-statistics
WITHOUT = "no statistics, τ=250"
FIG2_BASELINE = "no statistics, τ=2000 (fig2)"
EXACT = "population histogram, τ=250"
SAMPLED = "histogram of 10 sampled, τ=250"


def statistics_jobs(quick: bool, seed: int) -> list[Job]:
    n = 100
    # quick: the τ=250 curves settle within a few thousand rounds; kash-fig2's needs ≈20,000
    runs, short, long = (2, 10000, 24000) if quick else (10, 10000, 30000)
    jobs = jobs_for(WITHOUT, "matching", n, "stage", MATCHING_STAGE, short, runs, seed)
    jobs += jobs_for(FIG2_BASELINE, "matching", n, "stage", FIG2_STAGE, long, runs, seed)
    jobs += jobs_for(EXACT, "matching", n, "stage", STATISTICS_STAGE, short, runs, seed,
                     observe="population")
    jobs += jobs_for(SAMPLED, "matching", n, "stage", STATISTICS_STAGE, short, runs, seed,
                     observe="sample:10")
    return jobs


def statistics_claims(means: Means, quick: bool) -> list[Claim]:
    """KFH §4's claims on statistics, checked on the curves of :func:`statistics_jobs`."""
    settled = {label: settling_round(*curve) for label, curve in means.items()}
    without, without_level = settled[WITHOUT]
    fig2, _ = settled[FIG2_BASELINE]
    exact, exact_level = settled[EXACT]
    sampled, sampled_level = settled[SAMPLED]

    def faster(settle: int | None, baseline: int | None, factor: float) -> tuple[str, bool]:
        if settle is None or baseline is None:
            return f"{_reach_text(settle)} vs {_reach_text(baseline)}", False
        text = f"{settle:,} vs {baseline:,} rounds ({baseline / settle:.0f}×)"
        return text, baseline >= factor * settle

    same_tau = faster(exact, without, SEVERAL)
    noisy = faster(sampled, without, 2.0)
    than_fig2 = faster(exact, fig2, SEVERAL)
    tighter = exact is not None and sampled is not None and without is not None
    return [
        Claim(f"statistics make learning several (≥ {SEVERAL:.0f}) times faster, same τ=250",
              "could be done much faster with more information", *same_tau),
        Claim("even noisy statistics (10 sampled agents) speed learning (≥ 2×, same τ)",
              "even noisy statistical information can speed learning", *noisy),
        Claim(f"with statistics, several (≥ {SEVERAL:.0f}) times faster than kash-fig2 (τ=2000)",
              "Fig. 2 takes ≈20,000 rounds; with statistics, learn as in Fig. 1", *than_fig2),
        Claim(
            "with statistics the population settles tighter (half the distance, same τ)",
            "(learn directly, as in Fig. 1)",
            f"{exact_level:.2f} / {sampled_level:.2f} (exact / sampled) vs {without_level:.2f}",
            tighter and max(exact_level, sampled_level) <= 0.5 * without_level,
        ),
    ]


REPRODUCTIONS = {
    r.name: r for r in (
        Reproduction(
            "kash-fig1", "KFH Fig. 1: contribution game, average payoff", fig1_jobs,
            with_equilibrium_rule(fig1_claims, fig1_jobs),
            _saver("kash-fig1", "Contribution game, average payoff (KFH Fig. 1)",
                   FIG1_STAGE["epsilon"]),
            per_seed=True,
        ),
        Reproduction(
            "kash-fig2", "KFH Fig. 2: contribution game, random matching", fig2_jobs,
            with_equilibrium_rule(fig2_claims, fig2_jobs),
            _saver("kash-fig2", "Contribution game, random matching (KFH Fig. 2)",
                   FIG2_STAGE["epsilon"], skip="fig1",
                   marks={"KFH: converges in ≈20,000 rounds": FIG2_PAPER}),
            per_seed=True,
        ),
        Reproduction(
            "kash-statistics", "KFH §4: random matching with population statistics",
            statistics_jobs, with_equilibrium_rule(statistics_claims, statistics_jobs),
            _saver("kash-statistics", "Random matching with population statistics (N=100)",
                   MATCHING_STAGE["epsilon"]),
            per_seed=True,
        ),
    )
}
