"""The ``populace`` command and the quick paper reproductions (which assert KFH's claims)."""

import csv
import json

import pytest

from populace.cli import main
from populace.train.reproductions import REPRODUCTIONS


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


def test_train_passes_game_and_learner_keywords(tmp_path):
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
    args = ["compare", "matrix_v0", "--learners", "stage,regret", "--seeds", "2", "--agents",
            "20", "--rounds", "200", "--window", "50", "--env", "game=stag_hunt",
            "--out", str(tmp_path), "--workers", "1"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "| stage |" in table and "| regret |" in table
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
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("name", ["kash-fig1", "kash-fig2", "kash-statistics", "kash-congestion"])
def test_quick_reproduction_holds(name, tmp_path, capsys):
    assert main(["reproduce", name, "--quick", "--out", str(tmp_path)]) == 0, capsys.readouterr()
    assert (tmp_path / f"{name}.csv").stat().st_size > 0
    assert all(png.stat().st_size > 0 for png in tmp_path.glob(f"{name}*.png"))
    assert list(tmp_path.glob(f"{name}*.png"))
