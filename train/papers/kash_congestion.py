"""KFH §4's congestion game with cost sharing: stage and regret learners under ACP and serial.

Kash, Friedman & Halpern, *Multiagent learning in large anonymous games*, AAMAS 2009 (JAIR
2011 extends it), tested their learners on the congestion game of Greenwald et al. with both
cost-sharing mechanisms and only report that the results were similar to the contribution
game's. ``kash-congestion`` trains stage learners (ε=0.05, τ=250, the average-payoff settings
of Fig. 1: congestion payoffs are deterministic given the population, like average payoffs)
and regret matching (our reading of KFH's, :data:`~populace.train.papers.kash.RESPONSIVE_REGRET`) on
``congestion_v0`` under both mechanisms for growing N, and measures the distance
Σ_a ρ(a)|a − q*| to each mechanism's reference equilibrium (serial q* = 6, ACP q* = 8 for
N ≥ 7). The claims check "similar to the contribution game", and record how ACP compares with
serial. :func:`congestion_claims` sees only the seed-averaged curves; fed those of players
that do not learn, or that play the reference equilibrium from the first round (the "simple
rule" column, :func:`~populace.train.papers.kash.with_equilibrium_rule`), every claim fails
(``tests/papers/test_reproductions.py``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from populace.envs.anonymous.congestion import CongestionCore
from populace.train.papers.claims import Claim, settling_round
from populace.train.papers.figures import plot_curves
from populace.train.papers.jobs import Curve, Job, Means, mean_curves, write_curves_csv
from populace.train.papers.kash import RESPONSIVE_REGRET, with_equilibrium_rule
from populace.train.papers.reproduction import Reproduction

MECHANISMS = ("acp", "serial")
STAGE = {"epsilon": 0.05, "tau": 250}
LEARNERS: dict[str, dict[str, Any]] = {"stage": STAGE, "regret": RESPONSIVE_REGRET}
QUICKLY = 2000  # stage learners at N=100 settle by then (runs: 3000 and 5000 rounds)
LESS_TIGHT = 1.1  # "less tightly": at least 10 % farther from equilibrium


def uniform_distance(mechanism: str) -> float:
    """Distance of uniform play, where every learner starts (5.1 for ACP, 5.6 for serial)."""
    core = CongestionCore(n_agents=100, mechanism=mechanism)
    return float(core.distance(np.full(core.n_actions, 1.0 / core.n_actions)))


def exploration_floor(mechanism: str, n_agents: int, epsilon: float) -> float:
    """Distance of a population at the equilibrium whose members explore with rate ε."""
    core = CongestionCore(n_agents=n_agents, mechanism=mechanism)
    target = core.reference_equilibrium()
    explorer = (1 - epsilon) * target + epsilon * (1 - target) / (core.n_actions - 1)
    return float(core.distance(explorer))


def congestion_sizes(quick: bool) -> list[int]:
    return [10, 100] if quick else [10, 100, 1000]


def congestion_jobs(quick: bool, seed: int) -> list[Job]:
    runs, rounds = (3, 3000) if quick else (10, 5000)
    jobs = []
    for mechanism in MECHANISMS:
        for n in congestion_sizes(quick):
            for learner, kwargs in LEARNERS.items():
                base = Job(f"{learner} {mechanism} N={n}", "congestion_v0",
                           {"n_agents": n, "mechanism": mechanism}, learner, kwargs, rounds,
                           250, 0)
                jobs += [replace(base, seed=seed * 1000 + n * 10 + run) for run in range(runs)]
    return jobs


def save_congestion(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    """The CSV of every run and one figure per mechanism."""
    means = mean_curves(curves)
    files: list[Path | None] = [write_curves_csv(curves, out_dir / "kash-congestion.csv")]
    for mechanism in MECHANISMS:
        picked = {k: v for k, v in means.items() if f" {mechanism} " in k}
        files.append(plot_curves(
            picked, out_dir / f"kash-congestion-{mechanism}.png",
            f"Congestion game, {mechanism.upper()} cost sharing (KFH §4)",
            floor=exploration_floor(mechanism, 100, STAGE["epsilon"]),
            ylabel="distance from equilibrium  Σ ρ(a)|a − q*|",
        ))
    return files


def congestion_claims(means: Means, quick: bool) -> list[Claim]:
    """The congestion claims, checked on the seed-averaged curves of :func:`congestion_jobs`."""
    sizes = congestion_sizes(quick)
    settled = {label: settling_round(*curve) for label, curve in means.items()}
    level = {label: lvl for label, (_, lvl) in settled.items()}
    claims = []
    for mechanism in MECHANISMS:
        uniform = uniform_distance(mechanism)
        floor = exploration_floor(mechanism, 100, STAGE["epsilon"])
        when, lvl = settled[f"stage {mechanism} N=100"]
        claims.append(Claim(
            f"{mechanism.upper()}: stage learners converge quickly (N=100): settle within "
            f"{QUICKLY:,} rounds, at most a fifth of uniform play's {uniform:.2f}",
            "similar to the contribution game",
            f"{lvl:.2f} (floor {floor:.2f}), "
            + ("never settles" if when is None else f"settled at round {when:,}"),
            when is not None and when <= QUICKLY and lvl <= 0.2 * uniform,
        ))
        labels = [f"stage {mechanism} N={n}" for n in sizes]
        by_size = [level[label] for label in labels]
        claims.append(Claim(
            f"{mechanism.upper()}: convergence tightens as N grows (never looser by more than "
            "0.02, 10 % tighter overall)",
            "distance falls with N (as in Fig. 1)",
            ", ".join(f"N={n}: {lvl:.2f}" for n, lvl in zip(sizes, by_size, strict=True)),
            all(settled[label][0] is not None for label in labels)
            and bool(np.all(np.diff(by_size) <= 0.02)) and by_size[-1] < 0.9 * by_size[0],
        ))
    regret = {m: level[f"regret {m} N=100"] for m in MECHANISMS}
    stage = {m: level[f"stage {m} N=100"] for m in MECHANISMS}
    claims.append(Claim(
        "regret matching learns (at most half of uniform play's distance), but less tightly "
        f"than stage learners (≥ {LESS_TIGHT}×, N=100)",
        "as in the contribution game",
        ", ".join(f"{m.upper()} {regret[m]:.2f} vs {stage[m]:.2f}" for m in MECHANISMS),
        all(regret[m] <= uniform_distance(m) / 2 and regret[m] >= LESS_TIGHT * stage[m]
            for m in MECHANISMS),
    ))
    small = sizes[0]
    acp, serial = settled[f"stage acp N={small}"], settled[f"stage serial N={small}"]
    claims.append(Claim(
        f"ACP settles less tightly than serial at small N (N={small}, ≥ {LESS_TIGHT}×)",
        "not reported (serial is dominance solvable, ACP is not)",
        f"ACP {acp[1]:.2f} vs serial {serial[1]:.2f}",
        acp[0] is not None and serial[0] is not None and acp[1] >= LESS_TIGHT * serial[1],
    ))
    return claims


REPRODUCTIONS = {
    "kash-congestion": Reproduction(
        "kash-congestion", "KFH §4: congestion game, ACP vs serial cost sharing",
        congestion_jobs, with_equilibrium_rule(congestion_claims, congestion_jobs),
        save_congestion, per_seed=True,
    ),
}
