"""The ``populace`` command and the quick paper reproductions (which assert KFH's claims)."""

import csv
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path

import numpy as np
import pytest

from populace.cli import main
from populace.train import pool, progress
from populace.train.papers import kash
from populace.train.papers.claims import Claim
from populace.train.papers.jobs import Curve, Job, run_jobs
from populace.train.papers.registry import REPRODUCTIONS
from populace.train.papers.reproduction import Reproduction
from populace.train.runner import Runner

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "contribution_v0", "--learner", "stage", "--agents", "20", "--window", "50"]
COMPARE = ["compare", "matrix_v0", "--learners", "stage,regret", "--seeds", "2", "--agents", "20",
           "--rounds", "200", "--window", "50", "--env", "game=stag_hunt", "--workers", "1"]


def one_line(text: str) -> bool:
    return text.count("\n") == 1 and text.endswith("\n")


def metrics(folder: Path) -> list[dict[str, str]]:
    """The rows of a run's metrics.csv, without the wall-clock column."""
    with (folder / "metrics.csv").open() as handle:
        return [{k: v for k, v in row.items() if k != "time"} for row in csv.DictReader(handle)]


def test_list_names_every_game_learner_and_reproduction(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("contribution_v0", "matrix_v0", "populace/Contribution-v0", "stage", "regret",
                 *REPRODUCTIONS):
        assert name in out


def test_train_writes_a_run_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "contribution_v0", "--learner", "stage", "--agents", "20", "--seed", "3",
            "--window", "50", "--out", str(out), "--checkpoint-every", "100"]
    assert main([*args, "--rounds", "200"]) == 0
    assert main([*args, "--rounds", "400", "--resume"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] is not None
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["round"]) for r in rows] == list(range(50, 401, 50))
    assert "400 rounds" in capsys.readouterr().out


def test_train_passes_game_and_learner_keywords(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "matrix_v0", "--learner", "stage", "--agents", "10", "--rounds", "100",
            "--window", "50", "--env", "game=stag_hunt", "--env", "payoff=average",
            "--learner-kw", "epsilon=0.1", "--learner-kw", "tau=50"]
    assert main(args) == 0


def test_train_an_sb3_baseline_through_the_same_command(tmp_path):
    pytest.importorskip("stable_baselines3")
    args = ["train", "contribution_v0", "--learner", "ppo", "--agents", "10", "--rounds", "64",
            "--window", "32", "--learner-kw", "n_steps=16", "--learner-kw", "gamma=0.0",
            "--out", str(tmp_path / "ppo")]
    assert main(args) == 0
    assert (tmp_path / "ppo" / "metrics.csv").read_text().count("\n") == 3


def test_compare_prints_a_table_and_writes_csv_and_figure(tmp_path, capsys):
    assert main([*COMPARE, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert "| stage |" in printed.out and "| regret |" in printed.out
    assert f"wrote {tmp_path}{os.sep}: compare.csv, compare.png" in " ".join(printed.out.split())
    assert printed.err == ""  # no progress bar when stderr is not a terminal
    assert (tmp_path / "compare.csv").read_text().count("\n") == 1 + 2 * 2 * 4
    assert (tmp_path / "compare.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "nope_v0", "--learner", "stage"], "unknown game 'nope_v0'"),
        (["train", "contribution_v0", "--learner", "nope"], "nope"),
        (["train", "contribution_v0", "--learner", "stage", "--env", "payoff"], "KEY=VALUE"),
        (["train", "contribution_v0", "--learner", "stage", "--env", "payoff=x"], "payoff"),
        (["reproduce", "nope"], "unknown reproduction 'nope'"),
        (["compare", "contribution_v0", "--learners", "stage", "--seeds", "0"], "seeds"),
        ([*TRAIN, "--env", "x=1"], "contribution_v0: unknown keyword arguments ['x']"),
        ([*TRAIN, "--learner-kw", "x=1"], "unknown keyword arguments for learner 'stage': ['x']"),
        (["compare", "contribution_v0", "--learners", "stage,nope"], "unknown learner 'nope'"),
        (["compare", "contribution_v0", "--learners", "stage", "--env", "x=1"],
         "unknown keyword arguments ['x']"),
        ([*TRAIN, "--env", "n_agents=5"], "--agents, not --env n_agents=5"),
        (["compare", "contribution_v0", "--learners", "stage", "--env", "n_agents=5"],
         "--agents, not --env n_agents=5"),
        ([*TRAIN, "--rounds", "100", "--window", "1000"], "no metrics row would be recorded"),
        (["compare", "contribution_v0", "--learners", "stage", "--rounds", "100", "--window",
          "1000"], "no metrics row would be recorded"),
        (["train", "contribution_v0"], "give --learner"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args, message, capsys, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert one_line(err) and err.startswith(f"populace {args[0]}: error: ")
    assert not (tmp_path / "runs").exists()  # refused before anything was written


# Claims we measure but do not reproduce yet, with why; strict, so a fix must remove the mark.
NOT_REPRODUCED: dict[str, str] = {
    "mguni-supply": "tracing the path, untrained, is closer to the grid equilibrium than ac_fp "
                    "for both η (exploitability 0.536 vs 1.157 at η = 2); see "
                    "docs/reproductions/mguni-supply.md",
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=NOT_REPRODUCED[name], strict=True))
    if name in NOT_REPRODUCED else name for name in sorted(REPRODUCTIONS)])
def test_quick_reproduction_holds(name, tmp_path, capsys, monkeypatch):
    from populace.agents import BASELINES, TORCH_LEARNERS

    learners = {job.learner for job in REPRODUCTIONS[name].jobs(True, 0)}
    if learners & {*TORCH_LEARNERS, *BASELINES} and find_spec("torch") is None:
        pytest.skip(f"{name} trains {sorted(learners)}: needs torch (the baselines extra)")
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["reproduce", name, "--quick", "--out", str(tmp_path)]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out  # the wide table is a file
    assert re.search(rf"^{name}: (\d+) of \1 claims hold$", out, re.MULTILINE), out
    assert (tmp_path / f"{name}.csv").stat().st_size > 0
    assert all(png.stat().st_size > 0 for png in tmp_path.glob(f"{name}*.png"))
    assert list(tmp_path.glob(f"{name}*.png"))
    claims = (tmp_path / f"{name}-claims.md").read_text()
    assert claims.startswith(f"## {name}")
    assert "| claim | paper | ours | simple rule | seeds | holds |" in claims
    assert f"{name}-claims.md" in out


# ----------------------------------------------------------------------------- train: runs
def test_train_keeps_its_run_in_runs_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*TRAIN, "--rounds", "100", "--seed", "4"]) == 0
    folder = Path("runs") / "train-contribution_v0-stage-seed4"
    assert len(metrics(folder)) == 2
    assert str(folder) in capsys.readouterr().out
    assert main([*TRAIN, "--rounds", "100", "--seed", "4"]) == 2  # not silently replaced
    assert "--resume or --overwrite" in capsys.readouterr().err
    assert main([*TRAIN, "--rounds", "150", "--seed", "4", "--overwrite"]) == 0
    assert len(metrics(folder)) == 3


def test_resume_takes_the_run_settings_from_the_run_folder(tmp_path, capsys):
    started = [*TRAIN, "--seed", "3", "--env", "payoff=matching", "--learner-kw", "tau=50"]
    assert main([*started, "--rounds", "200", "--out", str(tmp_path / "run")]) == 0
    assert main(["train", "--resume", "--out", str(tmp_path / "run"), "--rounds", "400"]) == 0
    assert "400 rounds (200 in this call)" in capsys.readouterr().out
    assert main([*started, "--rounds", "400", "--out", str(tmp_path / "straight")]) == 0
    assert metrics(tmp_path / "run") == metrics(tmp_path / "straight")  # bit for bit
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    typed = config["notes"]["populace train"]
    assert typed["seed"] == 3 and typed["learner"] == "stage" and typed["agents"] == 20
    assert typed["env"] == {"payoff": "matching"} and typed["learner_kw"] == {"tau": 50}
    assert typed["rounds"] == 400


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "4"], "--seed 4 (the run's: 3)"),
        (["--agents", "30"], "--agents 30 (the run's: 20)"),
        (["--env", "payoff=average"], "--env payoff=\"average\" (the run's: none)"),
    ],
)
def test_resume_refuses_other_settings(tmp_path, capsys, extra, message):
    out = ["--out", str(tmp_path)]
    assert main([*TRAIN, "--seed", "3", "--rounds", "100", *out]) == 0
    assert main(["train", "contribution_v0", "--resume", *out, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "--overwrite" in err and one_line(err)


@pytest.mark.parametrize("exists", [False, True])
def test_resume_without_a_run_is_an_error(tmp_path, capsys, exists):
    folder = tmp_path / "run"
    if exists:
        folder.mkdir()
    assert main(["train", "--resume", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "no run to resume" in err and one_line(err)
    assert folder.exists() == exists
    assert main(["train", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_ctrl_c_says_where_the_run_is_and_how_to_resume_it(tmp_path, capsys, monkeypatch):
    play_round = Runner.play_round

    def interrupted_at_150(runner):
        play_round(runner)
        if runner.round == 150:
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C does, in the middle of a window

    monkeypatch.setattr(Runner, "play_round", interrupted_at_150)
    out = tmp_path / "my run"
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if run with
    try:  # SIGINT ignored, as in a background job
        assert main([*TRAIN, "--rounds", "400", "--out", str(out)]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    err = capsys.readouterr().err
    assert one_line(err), err
    assert "saved at round 150 of 400" in err
    command = err.rstrip().split("resume with: ")[1]
    assert command == f"populace train --resume --out '{out}'"
    monkeypatch.setattr(Runner, "play_round", play_round)
    assert main(shlex.split(command)[1:]) == 0
    assert [int(row["round"]) for row in metrics(out)] == list(range(50, 401, 50))


# ----------------------------------------------------------------------------- extras
def without(monkeypatch, *modules: str) -> None:
    """Make ``modules`` unimportable, as in an install without their extra."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_a_missing_baselines_extra_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    without(monkeypatch, "stable_baselines3", "populace.agents.sb3.learner")
    assert main(["train", "contribution_v0", "--learner", "ppo", "--rounds", "500"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and err.startswith(  # the README's install line: torch first
        "populace train: error: learner 'ppo' needs the baselines extra (torch, "
        "Stable-Baselines3): pip install torch==2.13.0 && pip install 'populace[baselines]'")
    assert main(["compare", "contribution_v0", "--learners", "stage,ppo", "--rounds", "500"]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "'ppo' needs the baselines extra" in err
    assert not (tmp_path / "runs").exists()  # refused before any run


def test_without_matplotlib_compare_and_reproduce_still_print_and_write(tmp_path, capsys,
                                                                       monkeypatch):
    without(monkeypatch, "matplotlib")
    assert main([*COMPARE, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| stage |" in out and "compare.csv" in out and "compare.png" not in out
    assert "figures skipped: matplotlib is not installed" in out
    assert (tmp_path / "compare.csv").exists() and not (tmp_path / "compare.png").exists()

    tiny = Reproduction(
        "tiny", "two short runs", lambda quick, seed: kash.jobs_for(
            "stage N=10", "average", 10, "stage", kash.FIG1_STAGE, 500, 2, seed),
        lambda means, quick: [Claim("it ran", "-", "yes", True)],
        kash._saver("tiny", "Tiny", 0.05),
    )
    monkeypatch.setitem(REPRODUCTIONS, "tiny", tiny)
    assert main(["reproduce", "tiny", "--out", str(tmp_path), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "tiny: 1 of 1 claims hold" in out
    assert "tiny.csv, tiny-claims.md" in " ".join(out.split())
    assert "figures skipped: matplotlib is not installed" in out
    assert not (tmp_path / "tiny.png").exists()


# ----------------------------------------------------------------------------- progress
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_compare_shows_a_bar_over_its_runs_on_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)  # the bar waits a second before its first draw
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert main([*COMPARE, "--out", str(tmp_path)]) == 0
    drawn = sys.stderr.getvalue()
    assert "4/4" in drawn and "run" in drawn


def test_worker_processes_keep_torch_to_one_thread(monkeypatch):
    torch = pytest.importorskip("torch")
    initializers = []

    class Recording(ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            initializers.append((kwargs.get("initializer"), kwargs.get("initargs", ())))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pool, "ProcessPoolExecutor", Recording)
    jobs = [Job("stage", "contribution_v0", {"n_agents": 10}, "stage", {}, 100, 50, seed)
            for seed in range(2)]
    assert len(run_jobs(jobs, workers=2, progress=False)) == 2
    initializer, initargs = initializers[0]
    with ProcessPoolExecutor(1, initializer=initializer, initargs=initargs) as executor:
        assert executor.submit(torch.get_num_threads).result() == 1
    # a worker that imports torch itself gets one thread too; the initializer imports nothing
    script = ("import sys; from populace.train.pool import one_thread_each; "
              "one_thread_each(); assert 'torch' not in sys.modules; "
              "import torch; print(torch.get_num_threads())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "1"


# ----------------------------------------------------------------------------- output
def test_subcommand_help_shows_the_defaults(capsys):
    for command, shown in [("train", ["(default: the game's own)", "(default: 5000",
                                      "runs/train-GAME", "--torch-threads N", "(default: 1)"]),
                           ("compare", ["(default: 3000)", "(default: 3)", "runs/compare-GAME"]),
                           ("reproduce", ["(default: 0)", "runs/NAME"])]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert all(item in text for item in shown), (command, text)


def test_printed_lines_fit_a_100_column_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["list"]) == 0
    assert main([*TRAIN, "--rounds", "100", "--out", str(tmp_path / "t")]) == 0
    assert main([*COMPARE, "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out


def test_make_targets_named_in_examples_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    for example in (ROOT / "examples").glob("*.py"):
        for target in re.findall(r"`make ([\w-]+)", example.read_text()):
            assert target in targets, f"{example.name} names `make {target}`"


# ----------------------------------------------------------------------------- figures
def saved_figures(monkeypatch) -> list:
    """Collect every matplotlib figure as it is saved."""
    figure = pytest.importorskip("matplotlib.figure")
    saved = []
    savefig = figure.Figure.savefig

    def record(self, *args, **kwargs):
        saved.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(figure.Figure, "savefig", record)
    return saved


def check_readable(fig) -> None:
    """A title, labelled axes, and tick labels that are plain numbers."""
    (ax,) = fig.axes
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for axis in (ax.xaxis, ax.yaxis)
              for t in axis.get_ticklabels(which="both")]
    assert any(labels)
    for label in labels:
        assert "$" not in label and "10^" not in label and not re.search(r"e[+\-−]", label)
    assert not ax.xaxis.get_offset_text().get_text() and not ax.yaxis.get_offset_text().get_text()


def reference_lines(fig) -> dict[str, tuple]:
    return {line.get_label(): (tuple(line.get_xdata()), tuple(line.get_ydata()))
            for line in fig.axes[0].lines}


@pytest.mark.parametrize("name", [name for name in REPRODUCTIONS if name.startswith("kash")])
def test_reproduction_figures_are_readable_and_show_the_papers_values(name, tmp_path,
                                                                      monkeypatch):
    saved = saved_figures(monkeypatch)
    curves = []
    for job in REPRODUCTIONS[name].jobs(True, 0):
        rounds = np.arange(job.window, job.rounds + 1, job.window)
        curves.append(Curve(job, rounds, np.geomspace(5.1, 0.3, len(rounds)), 0.0))
    REPRODUCTIONS[name].save(curves, tmp_path)
    assert saved
    for fig in saved:
        check_readable(fig)
        lines = reference_lines(fig)
        assert any(label.startswith("exploration floor") for label in lines)
    if name == "kash-fig2":
        (xs, _), = [v for k, v in reference_lines(saved[0]).items() if "20,000" in k]
        assert xs[0] == 20000


def test_compare_figure_is_readable(tmp_path, monkeypatch):
    saved = saved_figures(monkeypatch)
    assert main([*COMPARE, "--out", str(tmp_path)]) == 0
    (fig,) = saved
    check_readable(fig)
    assert "matrix_v0" in fig.axes[0].get_title()


# ----------------------------------------------------------------------------- issue 20
# Each row: what was typed, and the first mistake the message must name (never a later one:
# a --rounds below the 250-round window must not hide an unknown game or learner).
FIRST_MISTAKE = [
    (["train", "nope_v0", "--learner", "stagee", "--rounds", "100"], "unknown game 'nope_v0'"),
    (["train", "contribution_v0", "--learner", "stagee", "--rounds", "100"],
     "unknown learner 'stagee'"),
    (["train", "contribution_v0", "--learner", "stage", "--rounds", "-500"],
     "--rounds must be >= 1, got -500"),
    (["train", "contribution_v0", "--learner", "stage", "--agents", "0", "--rounds", "100"],
     "--agents must be >= 1, got 0"),
    (["train", "contribution_v0", "--learner", "stage", "--seed", "-1", "--rounds", "100"],
     "--seed must be >= 0, got -1"),
    (["train", "contribution_v0", "--learner", "sac", "--rounds", "100"],
     "sac needs Box actions with one axis"),
    (["train", "warehouse_v0", "--learner", "stage", "--rounds", "100"],
     "say which one with group= (populace train/compare: --group)"),
    (["train", "contribution_v0", "--learner", "stage", "--env", "x=1", "--rounds", "100"],
     "unknown keyword arguments ['x']"),
    (["train", "contribution_v0", "--learner", "stage", "--rounds", "100"],
     "--window 250 is longer than --rounds 100"),
    (["train", "contribution_v0", "--learner", "stage", "--torch-threads", "0"],
     "--torch-threads must be >= 1, got 0"),
    (["compare", "nope_v0", "--learners", "stagee", "--rounds", "100"], "unknown game"),
    (["compare", "contribution_v0", "--learners", "stage,stagee", "--rounds", "100"],
     "unknown learner 'stagee'"),
    (["compare", "contribution_v0", "--learners", "stage", "--rounds", "-500"],
     "--rounds must be >= 1, got -500"),
    (["compare", "contribution_v0", "--learners", "stage,sac", "--rounds", "100"],
     "sac needs Box actions"),
    (["compare", "contribution_v0", "--learners", "stage", "--metric", "kl", "--rounds", "100"],
     "contribution_v0 has no metric 'kl'; its metrics are ['distance', 'exploitability'"),
    (["compare", "contribution_v0", "--learners", "stage", "--rounds", "100"],
     "window=250 is longer than the budget rounds=100"),
    (["compare", "contribution_v0", "--learners", "stage", "--learner-kw", "regret:mu=5"],
     "names 'regret', which is not among --learners stage"),
    (["compare", "contribution_v0", "--learners", "stage", "--learner-kw", "x=1"],
     "unknown keyword arguments for learner 'stage': ['x']"),
]


@pytest.mark.parametrize(("args", "message"), FIRST_MISTAKE,
                         ids=[" ".join(args)[:60] for args, _ in FIRST_MISTAKE])
def test_the_first_mistake_is_the_one_reported(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert one_line(err) and message in err, err
    assert not (tmp_path / "runs").exists()  # refused before any run


def test_agents_default_to_the_games_own_size(tmp_path, capsys):
    # the zspg chain has 7 agents, its presets 2: none of them is told 100
    assert main(["train", "zspg_network_v0", "--learner", "stage", "--rounds", "100",
                 "--window", "50", "--out", str(tmp_path / "chain")]) == 0
    config = json.loads((tmp_path / "chain" / "config.json").read_text())
    assert config["env"]["kwargs"]["n_agents"] is None  # the game's own: the 7-agent chain
    assert config["notes"]["populace train"]["agents"] is None
    for name in ("rps", "rock_paper_scissors"):
        assert main(["train", "zspg_network_v0", "--learner", "stage", "--env", f"game={name}",
                     "--rounds", "100", "--window", "50", "--out", str(tmp_path / name)]) == 0
    assert metrics(tmp_path / "rps") == metrics(tmp_path / "rock_paper_scissors")
    capsys.readouterr()


def test_group_lets_a_one_group_learner_play_the_warehouse(tmp_path, capsys):
    out = tmp_path / "robots"
    args = ["train", "warehouse_v0", "--learner", "stage", "--group", "robot", "--agents", "20",
            "--rounds", "20", "--window", "10", "--out", str(out)]
    assert main(args) == 0
    assert main([*args[:-2], "--rounds", "30", "--resume", "--out", str(out)]) == 0
    assert main([*args[:-2], "--group", "dispatcher", "--rounds", "30", "--resume", "--out",
                 str(out)]) == 2
    assert "--group dispatcher (the run's: robot)" in capsys.readouterr().err


def test_list_says_which_learners_fit_which_game(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()
             if line.startswith("  ") and line.split()[0].endswith("_v0")}
    assert "learners: stage, regret, smooth_q" in lines["contribution_v0"]
    assert "learners: alternating_marl; dispatcher:" in lines["warehouse_v0"]
    assert "robot: stage" in lines["warehouse_v0"]
    if find_spec("torch") is not None:
        assert "learners: ac_fp, sac" in lines["spatial_congestion_v0"]
        assert "learners: ac_fp, sac" in lines["supply_demand_v0"]
        assert "ppo" in lines["contribution_v0"] and "ppo" not in lines["mf_lqr_v0"]


def test_the_baselines_fit_as_they_are_built(capsys):
    """`populace list` judges SB3 learners by their action rule alone: it must agree with
    building them, on every group of every game."""
    pytest.importorskip("stable_baselines3")
    from populace.agents import BASELINES, learner_fit, make_learner
    from populace.envs.registry import GAMES, core_class, make_core

    for game in GAMES:
        core = make_core(game, **{core_class(game).population_keyword: 2})
        for group in [g.name for g in core.groups]:
            for name in BASELINES:
                try:
                    make_learner(name, core, group=group, seed=0)
                    built = None
                except ValueError as error:
                    built = str(error)
                assert learner_fit(name, core, group) == built, (game, group, name)


def test_every_command_keeps_torch_to_one_thread_unless_told(monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    import populace.cli as cli

    before = torch.get_num_threads()
    seen = []
    monkeypatch.setattr(cli, "cmd_train", lambda args: seen.append(torch.get_num_threads()))
    monkeypatch.setattr(cli, "cmd_compare", lambda args: seen.append(torch.get_num_threads()))
    assert main(["train", "contribution_v0", "--learner", "stage"]) == 0
    assert main(["train", "contribution_v0", "--learner", "stage", "--torch-threads", "3"]) == 0
    assert main(["compare", "contribution_v0", "--learners", "stage"]) == 0
    assert seen == [1, 3, 1]
    assert torch.get_num_threads() == before  # and restored afterwards


def test_runs_made_in_this_process_use_one_torch_thread(monkeypatch):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    inside = list(pool.map_in_processes(lambda _: torch.get_num_threads(), [0, 1], 1,
                                        progress=False))
    assert [threads for _, threads in inside] == [1, 1]
    with pool.torch_threads(2):
        inside = list(pool.map_in_processes(lambda _: torch.get_num_threads(), [0], 1,
                                            progress=False))
    assert inside == [(0, 2)] and torch.get_num_threads() == before


def test_a_budget_shorter_than_a_window_is_refused_in_python_too():
    from populace.agents import make_learner
    from populace.envs.anonymous.contribution import ContributionCore
    from populace.train import train

    core = ContributionCore(n_agents=5)
    with pytest.raises(ValueError, match="window=250 is longer than the budget rounds=100"):
        train(core, make_learner("stage", core, seed=0), rounds=100, progress=False)
    # the game and the learner are checked first: their mistakes are named before it
    with pytest.raises(ValueError, match="n_agents"):
        train(core, make_learner("stage", ContributionCore(n_agents=4), seed=0), rounds=100,
              progress=False)


def test_ac_fp_runs_with_its_defaults_on_every_game_it_fits():
    pytest.importorskip("torch")
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.train import train

    for game, size in (("mf_lqr_v0", 2), ("spatial_congestion_v0", 2), ("supply_demand_v0", 2)):
        core = make_core(game, n_agents=size)
        learner = make_learner("ac_fp", core, seed=0)
        assert learner.state_size == core.own_state_size("agent")
        result = train(core, learner, rounds=4, window=2, progress=False)
        assert len(result.history) == 2, game


def test_the_slow_tier_is_deselected_by_default_and_run_by_ci():
    config = (ROOT / "pyproject.toml").read_text()
    assert '-m "not slow"' in config and "slow:" in config
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test-slow:.*\n\t\$\(BIN\)/python -m pytest -m slow$", makefile, re.M)
    assert re.search(r"^test-core:", makefile, re.M) and "$(MAKE) test-core" in makefile
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci and "make test-slow" in ci


def test_modules_that_need_torch_are_left_out_without_it():
    spec = spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root = module_from_spec(spec)
    spec.loader.exec_module(root)
    without_torch = set(root.modules_needing({"torch"}))
    assert {"agents/actor_critic/fictitious_play.py", "agents/alternating_marl_continuous.py",
            "agents/sb3/learner.py", "agents/torch_state.py"} <= without_torch
    assert not {"agents/stage.py", "agents/__init__.py", "train/loop.py",
                "src/populace/cli.py"} & without_torch
    without_sb3 = set(root.modules_needing({"stable_baselines3"}))
    assert {"agents/sb3/learner.py", "agents/sb3/vec_env.py"} <= without_sb3
    assert "agents/actor_critic/fictitious_play.py" not in without_sb3
    assert root.modules_needing(set()) == []
