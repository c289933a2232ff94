"""Kash, Friedman & Halpern (2011), §4: learning in the contribution game.

* ``kash-fig1`` — average payoffs, stage learners (ε=0.05, τ=250) and regret matching for
  N ∈ {2, 10, 100, 1000} (plus our responsive regret variant at N=100): distance from
  equilibrium falls with N; N=100 gets near the exploration floor within a few thousand
  rounds; regret matching converges less tightly.
* ``kash-fig2`` — random matching, stage learners with ε=0.01, τ=2000: convergence takes about
  ten times longer (≈20,000 rounds).
* ``kash-statistics`` — random matching, but agents see the previous round's action histogram
  and evaluate actions by their expected payoff against it (KFH §4's closing remark): learning
  is several times faster than in ``kash-fig2``.

Distances are KFH's d(ρ) = Σ_a ρ(a)|a − 8| with ρ counted over each 250-round window and
averaged over runs. How fast a population converges is measured by when its curve *settles*
(:func:`~populace.train.reproduce.settling_round`): the first round after which it stays within
a tenth of its total drop from its final level.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from populace.envs.contribution_v0 import ContributionCore
from populace.train.reproduce import (
    Claim,
    Curve,
    Job,
    Report,
    Reproduction,
    mean_curves,
    plot_curves,
    rounds_to_reach,
    run_jobs,
    settling_round,
    write_curves_csv,
)

WINDOW = 250
FIG1_STAGE = {"epsilon": 0.05, "tau": 250}
# Our responsive variant of regret matching (a payoff baseline and a discount, see
# agents/regret.py): KFH's no-regret learners used unspecified improvements of Greenwald et al.
RESPONSIVE_REGRET = {"baseline": "running_mean", "mu": 1.0, "delta": 0.02, "discount": 0.002}
FIG2_STAGE = {"epsilon": 0.01, "tau": 2000}
STATISTICS_STAGE = {"epsilon": 0.01, "tau": 250, "use_statistics": True}


def floor(epsilon: float) -> float:
    return ContributionCore(n_agents=2).exploration_floor(epsilon)


def jobs_for(
    label: str, payoff: str, n_agents: int, learner: str, learner_kwargs: dict, rounds: int,
    runs: int, seed: int, observe: str = "none",
) -> list[Job]:
    base = Job(
        label=label, game="contribution_v0",
        game_kwargs={"n_agents": n_agents, "payoff": payoff, "observe": observe},
        learner=learner, learner_kwargs=learner_kwargs, rounds=rounds, window=WINDOW, seed=0,
    )
    return [replace(base, seed=seed * 1000 + n_agents * 10 + run) for run in range(runs)]


def late_distance(means: dict[str, tuple[np.ndarray, np.ndarray]], label: str) -> float:
    """Average distance over the second half of the run."""
    _, distance = means[label]
    return float(distance[len(distance) // 2 :].mean())


def _reach_text(reached: int | None) -> str:
    return "never" if reached is None else f"{reached:,} rounds"


def _save(curves: list[Curve], out_dir: Path, stem: str, title: str, eps: float) -> list[Path]:
    means = mean_curves(curves)
    return [
        write_curves_csv(curves, out_dir / f"{stem}.csv"),
        plot_curves(means, out_dir / f"{stem}.png", title, floor=floor(eps)),
    ]


def fig1(*, quick: bool, out_dir: Path, seed: int, workers: int | None) -> Report:
    sizes = [2, 10, 100] if quick else [2, 10, 100, 1000]
    runs, rounds = (3, 3000) if quick else (10, 5000)
    jobs = []
    for n in sizes:
        jobs += jobs_for(f"stage N={n}", "average", n, "stage", FIG1_STAGE, rounds, runs, seed)
        jobs += jobs_for(f"regret N={n}", "average", n, "regret", {}, rounds, runs, seed)
    jobs += jobs_for("responsive regret N=100", "average", 100, "regret", RESPONSIVE_REGRET,
                     rounds, runs, seed)
    curves = run_jobs(jobs, workers)
    means = mean_curves(curves)
    files = _save(curves, out_dir, "kash-fig1", "Contribution game, average payoff (KFH Fig. 1)",
                  FIG1_STAGE["epsilon"])
    late = {n: late_distance(means, f"stage N={n}") for n in sizes}
    near_floor = floor(FIG1_STAGE["epsilon"]) + 0.1
    reached = rounds_to_reach(*means["stage N=100"], threshold=near_floor)
    regret_late = late_distance(means, "regret N=100")
    responsive_late = late_distance(means, "responsive regret N=100")
    falls = all(late[a] > late[b] for a, b in zip(sizes[:3], sizes[1:3], strict=False))
    if 1000 in late:
        falls = falls and late[1000] <= late[100] * 1.2
    claims = [
        Claim(
            "stage learners: distance falls with N",
            "N=2 chaotic, N=10 learns with frequent mistakes, N=100 converges",
            ", ".join(f"N={n}: {late[n]:.2f}" for n in sizes) + " (2nd-half mean)",
            falls,
        ),
        Claim(
            f"N=100 within a few thousand rounds of the floor (≤ {near_floor:.2f})",
            "converges quickly; distance is almost all exploration",
            _reach_text(reached),
            reached is not None and reached <= 3000,
        ),
        Claim(
            "regret matching converges less tightly (N=100)",
            "no-regret converges quickly but not as close",
            f"regret {regret_late:.2f} (responsive variant {responsive_late:.2f}) "
            f"vs stage {late[100]:.2f}",
            min(regret_late, responsive_late) > late[100],
        ),
    ]
    return Report("kash-fig1", claims, files)


def fig2(*, quick: bool, out_dir: Path, seed: int, workers: int | None) -> Report:
    sizes = [100] if quick else [10, 100, 1000]
    runs, rounds = (3, 24000) if quick else (10, 30000)
    jobs = jobs_for("fig1 stage N=100", "average", 100, "stage", FIG1_STAGE, 5000, runs, seed)
    for n in sizes:
        jobs += jobs_for(f"stage N={n}", "matching", n, "stage", FIG2_STAGE, rounds, runs, seed)
    jobs += jobs_for("regret N=100", "matching", 100, "regret", {}, rounds, runs, seed)
    curves = run_jobs(jobs, workers)
    means = mean_curves(curves)
    matching = [c for c in curves if not c.job.label.startswith("fig1")]
    files = _save(matching, out_dir, "kash-fig2",
                  "Contribution game, random matching (KFH Fig. 2)", FIG2_STAGE["epsilon"])
    fig1_settle, fig1_level = settling_round(*means["fig1 stage N=100"])
    settle, level = settling_round(*means["stage N=100"])
    start = float(means["stage N=100"][1][0])
    ratio = settle / fig1_settle if settle and fig1_settle else None
    claims = [
        Claim(
            "stage learners converge under random matching (N=100)",
            "agents do successfully learn",
            f"settle at {level:.2f} (from {start:.2f}) after {_reach_text(settle)}",
            settle is not None and level < 0.5 * start,
        ),
        Claim(
            "convergence is not as tight as with average payoffs",
            "not as tight; mistakes are quite common",
            f"settled distance {level:.2f} vs {fig1_level:.2f}",
            level > 2 * fig1_level,
        ),
        Claim(
            "about ten times slower than with average payoffs",
            "on the order of ten times longer",
            "never" if ratio is None else f"{ratio:.0f}× ({settle:,} vs {fig1_settle:,} rounds)",
            ratio is not None and 3 <= ratio <= 40,
        ),
        Claim(
            "convergence takes ≈20,000 rounds",
            "approximately 20,000 rounds",
            _reach_text(settle),
            settle is not None and 7000 <= settle <= 40000,
        ),
    ]
    return Report("kash-fig2", claims, files)


def statistics(*, quick: bool, out_dir: Path, seed: int, workers: int | None) -> Report:
    runs, rounds = (2, 20000) if quick else (10, 30000)
    n = 100
    jobs = jobs_for("no statistics (fig2)", "matching", n, "stage", FIG2_STAGE, rounds, runs, seed)
    jobs += jobs_for("population histogram", "matching", n, "stage", STATISTICS_STAGE, rounds,
                     runs, seed, observe="population")
    jobs += jobs_for("histogram of 10 sampled", "matching", n, "stage", STATISTICS_STAGE, rounds,
                     runs, seed, observe="sample:10")
    curves = run_jobs(jobs, workers)
    means = mean_curves(curves)
    files = _save(curves, out_dir, "kash-statistics",
                  "Random matching with population statistics (N=100)", 0.01)
    without, without_level = settling_round(*means["no statistics (fig2)"])
    exact, exact_level = settling_round(*means["population histogram"])
    sampled, sampled_level = settling_round(*means["histogram of 10 sampled"])

    def faster(settle: int | None) -> str:
        if settle is None or without is None:
            return _reach_text(settle)
        return f"{settle:,} vs {without:,} rounds ({without / settle:.0f}×)"

    claims = [
        Claim(
            "statistics make learning several times faster",
            "could be done much faster with more information",
            faster(exact),
            exact is not None and (without is None or without >= 3 * exact),
        ),
        Claim(
            "even noisy statistics (10 sampled agents) speed learning",
            "even noisy statistical information can speed learning",
            faster(sampled),
            sampled is not None and (without is None or without >= 2 * sampled),
        ),
        Claim(
            "with statistics the population settles tighter",
            "(learn directly, as in Fig. 1)",
            f"{exact_level:.2f} / {sampled_level:.2f} (exact / sampled) vs {without_level:.2f}",
            max(exact_level, sampled_level) < without_level,
        ),
    ]
    return Report("kash-statistics", claims, files)


REPRODUCTIONS = {
    "kash-fig1": Reproduction("KFH Fig. 1: contribution game, average payoff", fig1),
    "kash-fig2": Reproduction("KFH Fig. 2: contribution game, random matching", fig2),
    "kash-statistics": Reproduction("KFH §4: random matching with population statistics",
                                    statistics),
}
