"""KFH §4's congestion game with cost sharing: stage and regret learners under ACP and serial.

``kash-congestion`` trains stage learners (ε=0.05, τ=250, the average-payoff settings of
Fig. 1: congestion payoffs are deterministic given the population, like average payoffs) and
regret matching on ``congestion_v0`` under both mechanisms for growing N, and measures the
distance Σ_a ρ(a)|a − q*| to each mechanism's reference equilibrium (serial q* = 6, ACP q* = 8
for N ≥ 7). KFH only report that results were similar to the contribution game; the claims
below check that, and record how ACP compares with serial.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from populace.envs.congestion_v0 import CongestionCore
from populace.train.reproduce import (
    Claim,
    Job,
    Report,
    Reproduction,
    mean_curves,
    plot_curves,
    run_jobs,
    settling_round,
    write_curves_csv,
)

MECHANISMS = ("acp", "serial")
STAGE = {"epsilon": 0.05, "tau": 250}


def exploration_floor(mechanism: str, n_agents: int, epsilon: float) -> float:
    """Distance of a population at the equilibrium whose members explore with rate ε."""
    core = CongestionCore(n_agents=n_agents, mechanism=mechanism)
    target = core.reference_equilibrium()
    explorer = (1 - epsilon) * target + epsilon * (1 - target) / (core.n_actions - 1)
    return float(core.distance(explorer))


def congestion_jobs(sizes: list[int], runs: int, rounds: int, seed: int) -> list[Job]:
    jobs = []
    for mechanism in MECHANISMS:
        for n in sizes:
            for learner, kwargs in (("stage", STAGE), ("regret", {})):
                base = Job(f"{learner} {mechanism} N={n}", "congestion_v0",
                           {"n_agents": n, "mechanism": mechanism}, learner, kwargs, rounds,
                           250, 0)
                jobs += [replace(base, seed=seed * 1000 + n * 10 + run) for run in range(runs)]
    return jobs


def congestion(*, quick: bool, out_dir: Path, seed: int, workers: int | None) -> Report:
    sizes = [10, 100] if quick else [10, 100, 1000]
    runs, rounds = (3, 3000) if quick else (10, 5000)
    curves = run_jobs(congestion_jobs(sizes, runs, rounds, seed), workers)
    means = mean_curves(curves)
    files = [write_curves_csv(curves, out_dir / "kash-congestion.csv")]
    for mechanism in MECHANISMS:
        picked = {k: v for k, v in means.items() if f" {mechanism} " in k}
        files.append(plot_curves(
            picked, out_dir / f"kash-congestion-{mechanism}.png",
            f"Congestion game, {mechanism.upper()} cost sharing",
            floor=exploration_floor(mechanism, 100, STAGE["epsilon"]),
            ylabel="distance from equilibrium  Σ ρ(a)|a − q*|",
        ))
    settled = {label: settling_round(*curve) for label, curve in means.items()}
    level = {label: lvl for label, (_, lvl) in settled.items()}
    claims = []
    for mechanism in MECHANISMS:
        floor = exploration_floor(mechanism, 100, STAGE["epsilon"])
        when, lvl = settled[f"stage {mechanism} N=100"]
        start = float(means[f"stage {mechanism} N=100"][1][0])
        claims.append(Claim(
            f"{mechanism.upper()}: stage learners converge quickly (N=100)",
            "similar to the contribution game",
            f"from {start:.2f} to {lvl:.2f} (floor {floor:.2f}) in {when} rounds",
            when is not None and when <= 2000 and lvl <= 0.2 * start,
        ))
        by_size = [level[f"stage {mechanism} N={n}"] for n in sizes]
        claims.append(Claim(
            f"{mechanism.upper()}: convergence tightens as N grows",
            "distance falls with N (as in Fig. 1)",
            ", ".join(f"N={n}: {lvl:.2f}" for n, lvl in zip(sizes, by_size, strict=True)),
            bool(np.all(np.diff(by_size) <= 0.02)),
        ))
    regret_gap = [level[f"regret {m} N=100"] - level[f"stage {m} N=100"] for m in MECHANISMS]
    claims.append(Claim(
        "regret matching converges less tightly than stage learners (N=100)",
        "as in the contribution game",
        ", ".join(f"{m.upper()} +{gap:.2f}" for m, gap in zip(MECHANISMS, regret_gap, strict=True)),
        min(regret_gap) > 0,
    ))
    small = sizes[0]
    acp, serial = level[f"stage acp N={small}"], level[f"stage serial N={small}"]
    claims.append(Claim(
        f"ACP settles less tightly than serial at small N (N={small})",
        "not reported (serial is dominance solvable, ACP is not)",
        f"ACP {acp:.2f} vs serial {serial:.2f}",
        acp > serial,
    ))
    return Report("kash-congestion", claims, files)


REPRODUCTIONS = {
    "kash-congestion": Reproduction("KFH §4: congestion game, ACP vs serial cost sharing",
                                    congestion),
}
