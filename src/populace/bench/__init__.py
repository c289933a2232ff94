"""Benchmarks for SPEC §6: every game's core against its floor (the least numpy for the same
round, :mod:`populace.bench.floors`) and its dict face against its core, the array core
against a bare numpy kernel, a congestion step
against a sort, a network zero-sum polymatrix step, a mean-field LQR step and a spatial
congestion step against bare kernels, the PettingZoo dict face against the core, learners
running on the core, and PettingZoo peers.

This module is the suite and the ``populace bench`` command; the parts live beside it:
:mod:`populace.bench.timing` (interleaved samples, pinning), :mod:`populace.bench.rows` (result
rows and SPEC targets), :mod:`populace.bench.kernels` (bare numpy baselines),
:mod:`populace.bench.measure` (the ``contribution_v0`` measurements),
:mod:`populace.bench.congestion`, :mod:`populace.bench.zspg`, :mod:`populace.bench.lqr`,
:mod:`populace.bench.spatial` and :mod:`populace.bench.report` (markdown).
:func:`run` pins the process to one CPU (SPEC: "on one core") unless ``--no-pin``.

    python benchmarks/run.py --quick                  # a few seconds
    python benchmarks/run.py --out benchmarks/results # the full run, saved as .md and .json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from populace.bench.congestion import measure_congestion
from populace.bench.floors import GAMES as FLOOR_GAMES
from populace.bench.game_floors import measure_face, measure_floor
from populace.bench.lqr import measure_lqr
from populace.bench.measure import (
    measure_breakdown,
    measure_core,
    measure_dict,
    measure_learner,
    measure_peer,
)
from populace.bench.report import to_markdown
from populace.bench.rows import Skipped
from populace.bench.spatial import measure_spatial
from populace.bench.timing import Timing, machine_info, pin_to_one_cpu
from populace.bench.zspg import measure_zspg

SECTIONS = ("floors", "faces", "core", "congestion", "zspg", "lqr", "spatial", "dict",
            "learners", "breakdown", "peers")


@dataclass
class Plan:
    """What to measure at which sizes, and how long."""

    core_sizes: tuple[int, ...]
    congestion_sizes: tuple[int, ...]
    zspg_sizes: tuple[int, ...]
    dict_sizes: tuple[int, ...]
    learner_sizes: tuple[int, ...]
    breakdown_size: int
    peers: tuple[tuple[str, int], ...]
    timing: Timing
    lqr_sizes: tuple[int, ...] = ()  # mf_lqr_v0 steps against bare kernels
    spatial_sizes: tuple[int, ...] = ()  # spatial_congestion_v0 steps against a bare kernel
    whole_stage: bool = False  # stage learners run at least one whole stage
    settled_rounds: int = 0  # also time regret matching (largest N) after this many rounds
    floor_sizes: tuple[int, ...] = ()  # every game against its floor (issue 19)
    face_sizes: tuple[int, ...] = ()  # every game's dict face against its core

    @classmethod
    def full(cls, dict_max: int = 10**5) -> Plan:
        dict_sizes = tuple(n for n in (10, 100, 10**3, 10**5, 10**6) if n <= dict_max)
        peers = (("sisl/pursuit_v5", 10), ("sisl/pursuit_v5", 100),
                 ("mpe2/simple_spread_v3", 10), ("mpe2/simple_spread_v3", 100))
        return cls(core_sizes=(10, 10**3, 10**5, 10**6), congestion_sizes=(10**3, 10**5, 10**6),
                   zspg_sizes=(10**3, 10**5, 10**6), dict_sizes=dict_sizes,
                   learner_sizes=(10**3, 10**5), breakdown_size=10**6,
                   peers=peers, timing=Timing(), lqr_sizes=(10**3, 10**4, 10**5, 10**6),
                   spatial_sizes=(10**3, 10**4, 10**5, 10**6),
                   whole_stage=True, settled_rounds=1000,
                   floor_sizes=(10, 10**3, 10**6), face_sizes=(10, 100, 10**3))

    @classmethod
    def quick(cls) -> Plan:
        return cls(core_sizes=(10, 10**3, 10**5), congestion_sizes=(10**3, 10**5),
                   zspg_sizes=(10**3, 10**5), dict_sizes=(10, 10**3),
                   learner_sizes=(10**3,), breakdown_size=10**5,
                   peers=(("sisl/pursuit_v5", 10),), timing=Timing.quick(),
                   lqr_sizes=(10**3, 10**5), spatial_sizes=(10**3, 10**5),
                   floor_sizes=(10, 10**3), face_sizes=(10, 100))


def run_suite(
    plan: Plan, sections: set[str], *, seed: int = 0, log: Callable[[str], None] = print
) -> dict[str, list]:
    """Run the chosen sections of ``plan``; the rows by section (and what was skipped)."""
    results: dict[str, list] = {name: [] for name in (*SECTIONS, "skipped")}
    t = plan.timing
    if "floors" in sections:
        for game in FLOOR_GAMES:
            for n in plan.floor_sizes:
                log(f"floor {game} N={n}")
                results["floors"].append(measure_floor(game, n, t, seed=seed))
    if "faces" in sections:
        for game in FLOOR_GAMES:
            for n in plan.face_sizes:
                log(f"dict face {game} N={n}")
                results["faces"].append(measure_face(game, n, t, seed=seed))
    if "core" in sections:
        for payoff in ("average", "matching"):
            for n in plan.core_sizes:
                log(f"core {payoff} N={n}")
                results["core"].append(measure_core(payoff, n, t, seed=seed))
    if "congestion" in sections:
        for n in plan.congestion_sizes:
            log(f"congestion N={n}")
            results["congestion"] += measure_congestion(n, t, seed=seed)
    if "zspg" in sections:
        for n in plan.zspg_sizes:
            log(f"zspg N={n}")
            results["zspg"] += measure_zspg(n, t, seed=seed)
    if "lqr" in sections:
        for n in plan.lqr_sizes:
            log(f"lqr N={n}")
            results["lqr"].append(measure_lqr(n, t, seed=seed))
    if "spatial" in sections:
        for n in plan.spatial_sizes:
            log(f"spatial N={n}")
            results["spatial"].append(measure_spatial(n, t, seed=seed))
    if "dict" in sections:
        for n in plan.dict_sizes:
            log(f"dict face N={n}")
            results["dict"].append(measure_dict("average", n, t, seed=seed))
            if n == 1000:
                results["dict"].append(measure_dict("matching", n, t, seed=seed))
                results["dict"].append(
                    measure_dict("average", n, t, seed=seed, action_type="np.int64")
                )
    if "learners" in sections:
        for name in ("stage", "regret"):
            for payoff in ("average", "matching"):
                for n in plan.learner_sizes:
                    log(f"learner {name} {payoff} N={n}")
                    try:
                        results["learners"].append(measure_learner(
                            name, payoff, n, t, seed=seed, whole_stage=plan.whole_stage
                        ))
                        if name == "regret" and plan.settled_rounds and n == max(
                            plan.learner_sizes
                        ):
                            log(f"learner {name} {payoff} N={n}, after {plan.settled_rounds}")
                            results["learners"].append(measure_learner(
                                name, payoff, n, t, seed=seed, after_rounds=plan.settled_rounds
                            ))
                    except ImportError as error:
                        results["skipped"].append(Skipped(f"learner {name}", str(error)))
    if "learners" in sections:  # the two-action game the 10^7 target is measured on
        for name in ("stage", "regret", "smooth_q"):
            for n in plan.learner_sizes:
                log(f"learner {name} matrix_v0 N={n}")
                results["learners"].append(measure_learner(
                    name, "average", n, t, seed=seed, whole_stage=plan.whole_stage,
                    game="matrix_v0",
                ))
    if "breakdown" in sections:
        for payoff in ("average", "matching"):
            log(f"breakdown {payoff} N={plan.breakdown_size}")
            results["breakdown"] += measure_breakdown(payoff, plan.breakdown_size, t, seed=seed)
    if "peers" in sections:
        for name, n in plan.peers:
            log(f"peer {name} N={n}")
            row = measure_peer(name, n, t, seed=seed)
            results["skipped" if isinstance(row, Skipped) else "peers"].append(row)
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``populace bench``."""
    parser.add_argument("--quick", action="store_true", help="small sizes, few samples (seconds)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, from {','.join(SECTIONS)}")
    parser.add_argument("--dict-max-agents", type=int, default=10**5,
                        help="largest N of the dict face in the full run (10**6 is allowed)")
    parser.add_argument("--samples", type=int, default=None, help="samples per measurement")
    parser.add_argument("--seed", type=int, default=0, help="seed of actions and games")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for bench-<mode>.md and bench-<mode>.json")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a measured target is missed "
                        "(SPEC §6)")


def run(args: argparse.Namespace) -> int:
    """Run the benchmarks ``args`` ask for, print the tables, save them with ``--out``."""
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sorted(sections - set(SECTIONS))
    if unknown:
        raise ValueError(f"--only: unknown sections {unknown}; choose from {list(SECTIONS)}")
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples}")
    plan = Plan.quick() if args.quick else Plan.full(dict_max=args.dict_max_agents)
    if args.samples is not None:
        plan.timing = Timing(**{**asdict(plan.timing), "samples": args.samples})
    cpus = [] if args.no_pin else pin_to_one_cpu()
    meta = {"mode": "quick" if args.quick else "full", **machine_info(cpus),
            "timing": asdict(plan.timing), "seed": args.seed,
            "date": time.strftime("%Y-%m-%d %H:%M")}

    def log(text: str) -> None:
        print(f"  ... {text}", file=sys.stderr, flush=True)

    results = run_suite(plan, sections, seed=args.seed, log=log)
    report = to_markdown(results, meta)
    print(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"bench-{meta['mode']}"
        stem.with_suffix(".md").write_text(report + "\n")
        rows = {key: [asdict(row) for row in values] for key, values in results.items()}
        stem.with_suffix(".json").write_text(json.dumps({"meta": meta, **rows}, indent=1) + "\n")
        print(f"wrote {stem}.md and {stem}.json", file=sys.stderr)
    missed = [row for rows in results.values() for row in rows
              if getattr(row, "meets_target", None) is False]
    return 1 if args.check and missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="populace bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
