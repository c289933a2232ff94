"""The ``populace`` command: list, train, compare, reproduce, bench."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from populace.envs.registry import GAMES, make_core


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, TypeError, FileExistsError, FileNotFoundError) as error:
        print(f"populace {args.command}: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="populace", description="Games with many, many agents, and their learners."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="games, learners and reproductions")
    listing.set_defaults(handler=cmd_list)

    train = commands.add_parser("train", help="train a learner population on a game")
    train.add_argument("--learner", required=True, help="learner name (see `populace list`)")
    _add_game_run_arguments(train, rounds=5000)
    train.add_argument("--seed", type=int, default=0, help="seed for the game and learner")
    train.add_argument("--out", type=Path, default=None,
                       help="run folder: config, CSV, checkpoints")
    train.add_argument("--checkpoint-every", type=int, default=None,
                       help="rounds between checkpoints")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument(
        "--learner-kw", action="append", default=[], metavar="KEY=VALUE",
        help="extra learner keyword, e.g. --learner-kw epsilon=0.01 (repeatable)",
    )
    train.set_defaults(handler=cmd_train)

    compare = commands.add_parser("compare", help="several learners, several seeds, one table")
    compare.add_argument("--learners", required=True, help="comma-separated, e.g. stage,regret")
    _add_game_run_arguments(compare, rounds=3000)
    compare.add_argument("--seeds", type=int, default=3, help="runs per learner")
    compare.add_argument("--out", type=Path, default=None, help="folder for CSV and PNG")
    compare.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    compare.set_defaults(handler=cmd_compare)

    reproduce = commands.add_parser("reproduce", help="reproduce a paper's figure and claims")
    reproduce.add_argument("name", help="reproduction name (see `populace list`)")
    reproduce.add_argument("--quick", action="store_true", help="small CI-sized version")
    reproduce.add_argument("--out", type=Path, default=None, help="folder for PNG and CSV")
    reproduce.add_argument("--seed", type=int, default=0, help="base seed")
    reproduce.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    reproduce.set_defaults(handler=cmd_reproduce)

    bench = commands.add_parser("bench", help="throughput benchmarks (see benchmarks/)")
    from populace import bench as bench_module

    bench_module.add_arguments(bench)
    bench.set_defaults(handler=bench_module.run)
    return parser


def _add_game_run_arguments(parser: argparse.ArgumentParser, *, rounds: int) -> None:
    parser.add_argument("game", help="game module, e.g. contribution_v0 (see `populace list`)")
    parser.add_argument("--agents", type=int, default=100, help="population size N")
    parser.add_argument("--rounds", type=int, default=rounds, help="rounds per run")
    parser.add_argument("--window", type=int, default=250, help="rounds per metrics row")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE",
        help="extra game keyword, e.g. --env payoff=matching (repeatable; values are JSON or text)",
    )


def cmd_list(args: argparse.Namespace) -> int:
    from populace.agents import BASELINES, LEARNERS
    from populace.train.reproductions import REPRODUCTIONS

    print("games (PettingZoo id | Gymnasium id):")
    for module, gym_name in GAMES.items():
        print(f"  {module:24s} populace/{module:24s} populace/{gym_name}")
    print("learners:")
    for name, cls in LEARNERS.items():
        print(f"  {name:24s} {_summary(cls)}")
    for name in BASELINES:
        print(f"  {name:24s} Stable-Baselines3 {name.upper()}, one network shared by all agents "
              "(needs the baselines extra)")
    print("reproductions:")
    for name, reproduction in REPRODUCTIONS.items():
        print(f"  {name:24s} {reproduction.summary}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from populace.agents import make_learner
    from populace.train import train

    env_kwargs = {"n_agents": args.agents, **parse_keywords(args.env, "--env")}
    core = make_core(args.game, **env_kwargs)
    seeds = np.random.SeedSequence(args.seed).generate_state(2)
    learner = make_learner(
        args.learner, core, seed=int(seeds[1]), **parse_keywords(args.learner_kw, "--learner-kw")
    )
    result = train(
        core, learner, rounds=args.rounds, seed=int(seeds[0]), window=args.window,
        out_dir=args.out, checkpoint_every=args.checkpoint_every, resume=args.resume,
    )
    print(result.summary())
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from populace.train.compare import compare, comparison_table

    if args.game not in GAMES:
        raise ValueError(f"unknown game {args.game!r}; choose from {sorted(GAMES)}")
    learners = [name for name in args.learners.split(",") if name]
    rows = compare(
        args.game, learners, seeds=args.seeds, rounds=args.rounds, window=args.window,
        game_kwargs={"n_agents": args.agents, **parse_keywords(args.env, "--env")},
        out_dir=args.out or Path("runs") / f"compare-{args.game}", workers=args.workers,
    )
    print(comparison_table(rows))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from populace.train.reproductions import REPRODUCTIONS

    if args.name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {args.name!r}; choose from {sorted(REPRODUCTIONS)}")
    out = args.out or Path("runs") / (args.name + ("-quick" if args.quick else ""))
    report = REPRODUCTIONS[args.name].run(
        quick=args.quick, out_dir=out, seed=args.seed, workers=args.workers
    )
    print(report.table())
    return 0 if report.holds else 1


def parse_keywords(pairs: list[str], flag: str) -> dict[str, Any]:
    """``["payoff=matching", "epsilon=0.01"]`` -> ``{"payoff": "matching", "epsilon": 0.01}``."""
    keywords: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {pair!r}")
        try:
            keywords[key] = json.loads(text)
        except json.JSONDecodeError:
            keywords[key] = text
    return keywords


def _summary(obj: Any) -> str:
    doc = (obj.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


if __name__ == "__main__":
    sys.exit(main())
