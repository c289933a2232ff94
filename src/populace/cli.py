"""The ``populace`` command: list, train, compare, sweep, reproduce, finite-n, bench.

Every command that trains keeps its files under ``runs/`` unless told otherwise: ``train`` in
``runs/train-<game>-<learner>-seed<seed>``, ``compare`` in ``runs/compare-<game>``, ``sweep``
in ``runs/sweep-<config name>``, ``reproduce`` in ``runs/<name>`` (``runs/<name>-quick``).
Errors are one line, ``populace <command>: error: ...``, with exit status 2, reported in the
order a user needs them: an unknown game or learner first, then the numbers (budgets, seeds),
then what the game and the learner say of their keywords, then a budget shorter than a window
(``compare`` and ``sweep`` exit with 1 if a run or cell failed; what finished is written).

Every command keeps torch to one thread per run (``--torch-threads`` to change it), in this
process and in its workers (:func:`populace.train.pool.torch_threads`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from populace.envs.registry import GAMES, make_core

# What `populace train` starts a run with when not told; a resumed run keeps its own.
# (agents None: the game's own population size.)
TRAIN_DEFAULTS: dict[str, Any] = {
    "agents": None, "rounds": 5000, "window": 250, "seed": 0, "env": {}, "learner_kw": {},
    "checkpoint_every": None, "group": None,
}
# Settings a run keeps for life (--rounds and --checkpoint-every may change on --resume).
RUN_SETTINGS = {"game": "GAME", "learner": "--learner", "agents": "--agents", "env": "--env",
                "learner_kw": "--learner-kw", "seed": "--seed", "window": "--window",
                "group": "--group"}
NOTES_KEY = "populace train"  # where config.json's notes keep the settings of a CLI run


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _torch_threads(getattr(args, "torch_threads", None)):
            return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"populace {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, ImportError, FileExistsError, FileNotFoundError) as error:
        print(f"populace {args.command}: error: {error}", file=sys.stderr)
        return 2


def _torch_threads(threads: int | None) -> Any:
    """The block of a command that trains keeps torch to ``threads`` threads (None: a command
    that trains nothing leaves torch alone)."""
    from contextlib import nullcontext

    if threads is None:
        return nullcontext()
    if threads < 1:
        raise ValueError(f"--torch-threads must be >= 1, got {threads}")
    from populace.train.pool import torch_threads

    return torch_threads(threads)


def add_torch_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--torch-threads", metavar="N", type=int, default=1,
                        help="torch threads per run, here and in each worker process (torch's "
                        "own default, one per core, is many times slower for these small "
                        "networks)")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to the help of every option whose default says something."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="populace", description="Games with many, many agents, and their learners."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary,
                                   formatter_class=HelpFormatter)

    listing = command("list", "games, learners and reproductions")
    listing.set_defaults(handler=cmd_list)

    train = command("train", "train a learner population on a game")
    defaults = TRAIN_DEFAULTS
    train.add_argument("game", nargs="?",
                       help="game module, e.g. contribution_v0 (see `populace list`)")
    train.add_argument("--learner", metavar="NAME", help="learner name (see `populace list`)")
    train.add_argument("--agents", metavar="N", type=int,
                       help="population size N (default: the game's own)")
    train.add_argument("--rounds", metavar="N", type=int,
                       help=f"rounds to reach (default: {defaults['rounds']}; with --resume: the "
                       "run's, or more to extend it)")
    train.add_argument("--window", metavar="N", type=int,
                       help=f"rounds per metrics row (default: {defaults['window']})")
    train.add_argument("--env", action="append", metavar="KEY=VALUE",
                       help="extra game keyword, e.g. --env payoff=matching (repeatable; values "
                       "are JSON or text)")
    train.add_argument("--learner-kw", action="append", metavar="KEY=VALUE",
                       help="extra learner keyword, e.g. --learner-kw epsilon=0.01 (repeatable)")
    train.add_argument("--group", metavar="NAME",
                       help="the group the learner controls, in a game of several groups (e.g. "
                       "robot in warehouse_v0; see `populace list`); the others play the "
                       "game's default policy")
    train.add_argument("--seed", metavar="N", type=int,
                       help=f"seed of the game and the learner (default: {defaults['seed']})")
    train.add_argument("--out", metavar="DIR", type=Path,
                       help="run folder: config.json, metrics.csv, checkpoints (default: "
                       "runs/train-GAME-LEARNER-seedSEED)")
    train.add_argument("--checkpoint-every", metavar="N", type=int,
                       help="rounds between checkpoints (one is always written at the end and "
                       "on Ctrl-C)")
    again = train.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run in --out with the settings it was started with "
                       "(from its config.json); give --rounds to extend it")
    again.add_argument("--overwrite", action="store_true",
                       help="replace the run already in --out")
    add_torch_threads(train)
    train.set_defaults(handler=cmd_train)

    compare = command("compare", "several learners, several seeds, one table")
    compare.add_argument("game", help="game module, e.g. contribution_v0 (see `populace list`)")
    compare.add_argument("--learners", metavar="NAMES", required=True,
                         help="comma-separated, e.g. stage,regret")
    compare.add_argument("--agents", metavar="N", type=int,
                         help="population size N (default: the game's own)")
    compare.add_argument("--rounds", metavar="N", type=int, default=3000, help="rounds per run")
    compare.add_argument("--window", metavar="N", type=int, default=250,
                         help="rounds per metrics row")
    compare.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                         help="extra game keyword, e.g. --env payoff=matching (repeatable)")
    compare.add_argument("--learner-kw", action="append", default=[],
                         metavar="[LEARNER:]KEY=VALUE",
                         help="extra learner keyword, for every learner or, with LEARNER:, for "
                         "one, e.g. --learner-kw regret:mu=50 (repeatable)")
    compare.add_argument("--group", metavar="NAME",
                         help="the group the learners control, in a game of several groups")
    compare.add_argument("--metric", metavar="COLUMN",
                         help="the metric column to report and plot (default: the game's "
                         "headline, e.g. distance, kl_to_qre, exploitability; every column "
                         "goes to compare.csv)")
    compare.add_argument("--seeds", metavar="N", type=int, default=3, help="runs per learner")
    compare.add_argument("--out", metavar="DIR", type=Path,
                         help="folder for compare.csv and compare.png (default: "
                         "runs/compare-GAME)")
    compare.add_argument("--workers", metavar="N", type=int,
                         help="processes (default: one per core)")
    add_torch_threads(compare)
    compare.set_defaults(handler=cmd_compare)

    reproduce = command("reproduce", "reproduce a paper's figure and claims")
    reproduce.add_argument("name", help="reproduction name (see `populace list`)")
    reproduce.add_argument("--quick", action="store_true", help="small CI-sized version")
    reproduce.add_argument("--out", metavar="DIR", type=Path,
                           help="folder for the CSV, figures and NAME-claims.md (default: "
                           "runs/NAME, or runs/NAME-quick with --quick)")
    reproduce.add_argument("--seed", metavar="N", type=int, default=0, help="base seed")
    reproduce.add_argument("--workers", metavar="N", type=int,
                           help="processes (default: one per core)")
    add_torch_threads(reproduce)
    reproduce.set_defaults(handler=cmd_reproduce)

    sweep = command("sweep", "a grid of games, learners, sizes and seeds from a TOML file")
    sweep.add_argument("config", type=Path, help="sweep config, e.g. sweeps/smoke.toml (the "
                       "format: populace.train.studies.sweep)")
    sweep.add_argument("--out", metavar="DIR", type=Path,
                       help="folder for the cells' run folders, sweep.csv, sweep.md and "
                       "sweep.png (default: runs/sweep-CONFIG); rerun to resume")
    sweep.add_argument("--workers", metavar="N", type=int,
                       help="processes of the local backend (default: one per core)")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local",
                       help="where the cells run: worker processes here, or Ray tasks")
    sweep.add_argument("--address", metavar="ADDR",
                       help="Ray cluster to run on, e.g. auto or ray://HOST:10001 (default: a "
                       "Ray instance started here)")
    sweep.add_argument("--overwrite", action="store_true",
                       help="start afresh in --out even if it holds a sweep of another config")
    add_torch_threads(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    finite = command("finite-n", "how exploitable a mean-field equilibrium is with N agents")
    finite.add_argument("game", help="a mean-field game module, e.g. mf_lqr_v0")
    finite.add_argument("--sizes", metavar="N,N,...",
                        default="2,5,10,20,50,100,1000,10000,100000",
                        help="comma-separated population sizes (each >= 2)")
    finite.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="game keyword, e.g. --env dt=0.01 (repeatable)")
    finite.add_argument("--fit-from", metavar="N", type=int, default=10,
                        help="fit the power law to the sizes >= N")
    finite.add_argument("--out", metavar="DIR", type=Path,
                        help="folder for finite_n.csv and finite_n.png (default: "
                        "runs/finite-n-GAME)")
    finite.set_defaults(handler=cmd_finite_n)

    bench = command("bench", "throughput benchmarks (see benchmarks/)")
    from populace import bench as bench_module

    bench_module.add_arguments(bench)
    bench.set_defaults(handler=bench_module.run)
    return parser


# ------------------------------------------------------------------------------ list
def cmd_list(args: argparse.Namespace) -> int:
    from populace.agents import BASELINES, LEARNERS, TORCH_LEARNERS, learner_names
    from populace.text import wrap
    from populace.train.papers.registry import REPRODUCTIONS

    print(wrap("games (PettingZoo id | Gymnasium id), and the learners that fit each with their "
               "defaults (GROUP: those that fit one group, with --group GROUP):",
               terminal_width()))
    names = learner_names()
    for module, gym_name in GAMES.items():
        print(_entry(module, f"populace/{module} | populace/{gym_name}; learners: "
                             f"{fitting_learners(module, names)}"))
    print("learners:")
    for name, cls in LEARNERS.items():
        print(_entry(name, _summary(cls)))
    for name, (_, class_name) in TORCH_LEARNERS.items():  # named without importing torch
        print(_entry(name, f"{class_name} (needs torch: the baselines extra)"))
    for name in BASELINES:
        print(_entry(name, f"Stable-Baselines3 {name.upper()}, one network shared by all "
                           "agents (needs the baselines extra)"))
    print("reproductions:")
    for name, reproduction in REPRODUCTIONS.items():
        print(_entry(name, reproduction.summary))
    return 0


def fitting_learners(game: str, names: list[str]) -> str:
    """``"stage, regret; robot: ppo"``: the learners that build on ``game`` (at its defaults,
    two agents) for the whole game, then per group; ``"none"`` if none does. A learner whose
    extra is not installed is marked so."""
    from populace.agents import learner_fit
    from populace.envs.registry import core_class

    size = {core_class(game).population_keyword: 2}  # fitting does not depend on the size
    core = make_core(game, **size)
    whole, missing = [], []
    per_group: dict[str, list[str]] = {g.name: [] for g in core.groups}
    for name in names:
        why = learner_fit(name, core)
        if why is None:
            whole.append(name)
        elif "pip install" in why:
            missing.append(name)
        elif len(core.groups) > 1:
            for group in per_group:
                if learner_fit(name, core, group) is None:
                    per_group[group].append(name)
    parts = [", ".join(whole)] if whole else []
    parts += [f"{group}: {', '.join(fit)}" for group, fit in per_group.items() if fit]
    if missing:
        parts.append(f"({', '.join(missing)}: extra not installed)")
    return "; ".join(parts) or "none"


def _entry(name: str, text: str) -> str:
    from populace.text import wrap

    return wrap(text, terminal_width(), first=f"  {name:22s}  ", rest=" " * 26)


# ------------------------------------------------------------------------------ train
def cmd_train(args: argparse.Namespace) -> int:
    from populace.agents import make_learner
    from populace.text import wrap
    from populace.train import train

    given = _given_settings(args)
    if args.resume:
        out = args.out or _default_run_dir(given)
        settings = _resumed_settings(out, given)
    else:
        missing = [flag for key, flag in (("game", "a game"), ("learner", "--learner"))
                   if key not in given]
        if missing:
            raise ValueError(f"give {' and '.join(missing)}, e.g. `populace train "
                             "contribution_v0 --learner stage`, or --resume --out DIR")
        check_names(given["game"], [given["learner"]])
        settings = {**TRAIN_DEFAULTS, **given}
        out = args.out or _default_run_dir(settings)
    check_run_settings(settings)
    core = make_core(settings["game"], **game_keywords(settings["agents"], settings["env"]))
    env_seed, learner_seed = np.random.SeedSequence(settings["seed"]).generate_state(2)
    group = {} if settings.get("group") is None else {"group": settings["group"]}
    learner = make_learner(settings["learner"], core, seed=int(learner_seed), **group,
                           **settings["learner_kw"])
    check_window(settings["window"], settings["rounds"])
    try:
        result = train(
            core, learner, rounds=settings["rounds"], seed=int(env_seed),
            window=settings["window"], out_dir=out, checkpoint_every=settings["checkpoint_every"],
            resume=args.resume, overwrite=args.overwrite, notes={NOTES_KEY: settings},
        )
    except KeyboardInterrupt:
        print(_interrupted(out, settings["rounds"]), file=sys.stderr)
        return 130
    print(wrap(result.summary(), terminal_width()))
    return 0


def _given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings typed on the command line (keyword lists parsed), and no others."""
    given = {
        "game": args.game, "learner": args.learner, "agents": args.agents,
        "rounds": args.rounds, "window": args.window, "seed": args.seed,
        "checkpoint_every": args.checkpoint_every, "group": args.group,
        "env": None if args.env is None else parse_keywords(args.env, "--env"),
        "learner_kw": (None if args.learner_kw is None
                       else parse_keywords(args.learner_kw, "--learner-kw")),
    }
    return {key: value for key, value in given.items() if value is not None}


def _default_run_dir(settings: dict[str, Any]) -> Path:
    """``runs/train-<game>-<learner>-seed<seed>``, the folder of a run started without --out."""
    if "game" not in settings or "learner" not in settings:
        raise ValueError("--resume needs --out DIR (the run folder), or the game and "
                         "--learner of a run in its default folder")
    seed = settings.get("seed", TRAIN_DEFAULTS["seed"])
    return Path("runs") / f"train-{settings['game']}-{settings['learner']}-seed{seed}"


def _resumed_settings(out: Path, given: dict[str, Any]) -> dict[str, Any]:
    """The settings the run in ``out`` was started with, updated by what ``given`` may change."""
    from populace.train.checkpoint import read_json_object
    from populace.train.run_folder import CONFIG_FILE

    config_path = out / CONFIG_FILE
    if not config_path.is_file():
        why = "no such folder" if not out.exists() else f"no {CONFIG_FILE} there"
        raise ValueError(f"--resume: there is no run to resume in {out} ({why})")
    notes = read_json_object(config_path).get("notes", {})
    saved = notes.get(NOTES_KEY) if isinstance(notes, dict) else None
    if not isinstance(saved, dict):
        raise ValueError(
            f"--resume: the run in {out} was not started by `populace train`; continue it "
            "with train(..., resume=True) in Python"
        )
    changed = [key for key in RUN_SETTINGS if key in given and given[key] != saved.get(key)]
    if changed:
        details = ", ".join(
            f"{RUN_SETTINGS[key]} {_shown(given[key])} (the run's: {_shown(saved.get(key))})"
            for key in changed
        )
        raise ValueError(
            f"--resume continues the run in {out} as it was started, but {details}; leave "
            "them out to resume, or start a new run with another --out or with --overwrite"
        )
    return {**TRAIN_DEFAULTS, **saved, **given}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{key}={json.dumps(item)}" for key, item in value.items()) or "none"
    return str(value)


def check_names(game: str, learners: list[str]) -> None:
    """An unknown game or learner, the first mistakes to report (before any number)."""
    from populace.agents import check_learner_name

    if game not in GAMES:
        raise ValueError(f"unknown game {game!r}; choose from {sorted(GAMES)}")
    for name in learners:
        check_learner_name(name)


def check_run_settings(settings: dict[str, Any]) -> None:
    """Refuse numbers that cannot be right (each with its flag), and what the game would
    silently accept; the game and the learner check their keywords next."""
    for key, flag, minimum in (("agents", "--agents", 1), ("rounds", "--rounds", 1),
                               ("window", "--window", 1), ("seed", "--seed", 0),
                               ("checkpoint_every", "--checkpoint-every", 1),
                               ("seeds", "--seeds", 1), ("workers", "--workers", 1)):
        value = settings.get(key)
        if value is not None and value < minimum:
            raise ValueError(f"{flag} must be >= {minimum}, got {value}")
    if "n_agents" in settings["env"]:
        raise ValueError(
            f"set the population size with --agents, not --env n_agents="
            f"{settings['env']['n_agents']}"
        )


def check_window(window: int, rounds: int) -> None:
    """A budget shorter than one metrics window (checked once the game and learner are)."""
    if window > rounds:
        raise ValueError(
            f"--window {window} is longer than --rounds {rounds}: no metrics row would be "
            f"recorded; give --window {rounds} or less"
        )


def game_keywords(agents: int | None, env: dict[str, Any]) -> dict[str, Any]:
    """The game's keywords: ``env``, and ``n_agents`` when --agents was given (else the
    game's own size)."""
    return env if agents is None else {"n_agents": agents, **env}


def _interrupted(out: Path, rounds: int) -> str:
    from populace.train.run_folder import RunFolder

    latest = RunFolder(out).latest()
    saved = f"saved at round {latest[0]:,} of {rounds:,}" if latest else "nothing saved yet"
    return (f"populace train: interrupted; {saved} in {out}; resume with: "
            f"populace train --resume --out {shlex.quote(str(out))}")


# ------------------------------------------------------------------------------ compare
def cmd_compare(args: argparse.Namespace) -> int:
    from populace.train.studies.compare import compare

    learners = [name.strip() for name in args.learners.split(",") if name.strip()]
    check_names(args.game, learners)
    env = parse_keywords(args.env, "--env")
    check_run_settings({"env": env, "window": args.window, "rounds": args.rounds,
                        "agents": args.agents, "seeds": args.seeds, "workers": args.workers})
    learner_kwargs = per_learner_keywords(args.learner_kw, learners)
    game_kwargs = game_keywords(args.agents, env)
    result = compare(  # checks the game, the learners, the metric, then the window
        args.game, learners, seeds=args.seeds, rounds=args.rounds, window=args.window,
        game_kwargs=game_kwargs, metric=args.metric, learner_kwargs=learner_kwargs,
        group=args.group, out_dir=args.out or Path("runs") / f"compare-{args.game}",
        workers=args.workers,
    )
    print(result.text(terminal_width()))
    return 1 if result.failed else 0


def per_learner_keywords(pairs: list[str], learners: list[str]) -> dict[str, dict[str, Any]]:
    """``["epsilon=0.1", "regret:mu=50"]`` -> every learner's keywords: ``KEY=VALUE`` goes to
    every learner, ``LEARNER:KEY=VALUE`` to that one."""
    shared: list[str] = []
    own: dict[str, list[str]] = {}
    for pair in pairs:
        head, colon, rest = pair.partition(":")
        if colon and "=" not in head:
            if head not in learners:
                raise ValueError(f"--learner-kw {pair!r} names {head!r}, which is not among "
                                 f"--learners {','.join(learners)}")
            own.setdefault(head, []).append(rest)
        else:
            shared.append(pair)
    common = parse_keywords(shared, "--learner-kw")
    return {name: {**common, **parse_keywords(own.get(name, []), "--learner-kw")}
            for name in learners}


# ------------------------------------------------------------------------------ reproduce
def cmd_reproduce(args: argparse.Namespace) -> int:
    from populace.train.papers.registry import REPRODUCTIONS

    if args.name not in REPRODUCTIONS:
        raise ValueError(f"unknown reproduction {args.name!r}; choose from {sorted(REPRODUCTIONS)}")
    out = args.out or Path("runs") / (args.name + ("-quick" if args.quick else ""))
    report = REPRODUCTIONS[args.name].run(
        quick=args.quick, out_dir=out, seed=args.seed, workers=args.workers
    )
    print(report.text(terminal_width()))
    return 0 if report.holds else 1


# ------------------------------------------------------------------------------ sweep
def cmd_sweep(args: argparse.Namespace) -> int:
    from populace.train.studies.sweep import sweep
    from populace.train.studies.sweep_config import load_config

    report = sweep(
        load_config(args.config), args.out or Path("runs") / f"sweep-{args.config.stem}",
        workers=args.workers, backend=args.backend, address=args.address,
        overwrite=args.overwrite,
    )
    print(report.text(terminal_width()))
    return 1 if report.failed else 0


# ------------------------------------------------------------------------------ finite-n
def cmd_finite_n(args: argparse.Namespace) -> int:
    from populace.train.studies.finite_n import finite_n_study

    if args.game not in GAMES:
        raise ValueError(f"unknown game {args.game!r}; choose from {sorted(GAMES)}")
    try:
        sizes = [int(text) for text in args.sizes.split(",") if text.strip()]
    except ValueError:
        raise ValueError(
            f"--sizes expects integers separated by commas, got {args.sizes!r}"
        ) from None
    try:
        study = finite_n_study(
            args.game, sizes, game_kwargs=parse_keywords(args.env, "--env"),
            fit_from=args.fit_from, out_dir=args.out or Path("runs") / f"finite-n-{args.game}",
        )
    except NotImplementedError as error:
        raise ValueError(str(error)) from None
    print(study.text(terminal_width()))
    return 0


# ------------------------------------------------------------------------------ helpers
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


def terminal_width() -> int:
    """Columns to fit printed text to (``COLUMNS`` if set, else the terminal's, else 80)."""
    return shutil.get_terminal_size().columns


def _summary(obj: Any) -> str:
    doc = (obj.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


if __name__ == "__main__":
    sys.exit(main())
