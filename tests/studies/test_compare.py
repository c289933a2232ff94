"""``populace compare`` on every game: the game's own metrics, a chosen headline, learner
keywords and groups, and a failed run that does not lose the others."""

from __future__ import annotations

import csv
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from populace.cli import main
from populace.envs.registry import GAMES, make_core
from populace.train.studies import compare as compare_module
from populace.train.studies.compare import Failure, compare

HAVE_TORCH = find_spec("torch") is not None
NEEDS_TORCH = pytest.mark.skipif(not HAVE_TORCH, reason="needs torch (the baselines extra)")

# A learner that fits each game with its defaults, and the headline the table must report.
EVERY_GAME = {
    "contribution_v0": ("stage", "distance", {}),
    "congestion_v0": ("regret", "distance", {}),
    "matrix_v0": ("smooth_q", "distance", {}),
    "zspg_network_v0": ("stage", "kl_to_qre", {}),
    "mf_lqr_v0": ("ac_fp", "exploitability", {}),
    "spatial_congestion_v0": ("ac_fp", "exploitability", {"grid_cells": 16}),
    "supply_demand_v0": ("ac_fp", "mean_reward", {"grid_cells": 16}),
    "warehouse_v0": ("alternating_marl", "discounted_return", {"k": 2}),
    "warehouse_continuous_v0": ("alternating_marl_continuous", "discounted_return", {"k": 2}),
}
TORCH_LEARNERS = ("ac_fp", "alternating_marl_continuous")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_every_game_is_in_the_table():
    assert set(EVERY_GAME) == set(GAMES)


@pytest.mark.parametrize("game", sorted(EVERY_GAME))
def test_compare_runs_on_every_game(game, tmp_path, capsys, monkeypatch):
    learner, headline, env = EVERY_GAME[game]
    if learner in TORCH_LEARNERS and not HAVE_TORCH:
        pytest.skip("needs torch (the baselines extra)")
    monkeypatch.setenv("COLUMNS", "100")
    args = ["compare", game, "--learners", learner, "--seeds", "2", "--agents", "4",
            "--rounds", "4", "--window", "2", "--workers", "1", "--out", str(tmp_path)]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"| learner | final {headline} (" in out and f"| {learner} |" in out
    columns = make_core(game, n_agents=4, **env).window_metrics().columns
    written = rows(tmp_path / "compare.csv")
    assert list(written[0]) == ["learner", "seed", "n_agents", "round", headline,
                                *(c for c in columns if c != headline)]
    assert [(r["seed"], r["round"]) for r in written] == [("0", "2"), ("0", "4"), ("1", "2"),
                                                          ("1", "4")]


def test_metric_picks_the_reported_column(tmp_path, capsys):
    base = ["compare", "matrix_v0", "--learners", "stage,smooth_q", "--seeds", "2", "--agents",
            "10", "--rounds", "40", "--window", "20", "--workers", "1"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--metric", "modal_share", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "final distance (less is better)" in out and "final modal_share" in out
    # the runs are the same, only the headline differs: every column is in both CSVs
    a, b = rows(tmp_path / "a" / "compare.csv"), rows(tmp_path / "b" / "compare.csv")
    assert [r["distance"] for r in a] == [r["distance"] for r in b]
    assert list(b[0])[4] == "modal_share"


def test_learner_keywords_go_to_every_learner_or_to_one(tmp_path, capsys):
    base = ["compare", "contribution_v0", "--learners", "stage,regret", "--seeds", "1",
            "--agents", "10", "--rounds", "40", "--window", "20", "--workers", "1"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--learner-kw", "stage:epsilon=0.5", "--out", str(tmp_path / "b")]) == 0
    a, b = rows(tmp_path / "a" / "compare.csv"), rows(tmp_path / "b" / "compare.csv")
    regret = [r for r in a if r["learner"] == "regret"]
    assert regret == [r for r in b if r["learner"] == "regret"]  # untouched
    assert [r for r in a if r["learner"] == "stage"] != [r for r in b if r["learner"] == "stage"]
    capsys.readouterr()


def test_group_picks_the_group_each_learner_controls(tmp_path, capsys):
    args = ["compare", "warehouse_v0", "--learners", "stage,smooth_q", "--group", "robot",
            "--seeds", "1", "--agents", "10", "--rounds", "20", "--window", "10",
            "--env", "k=2", "--workers", "1", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "| smooth_q |" in capsys.readouterr().out
    assert {r["learner"] for r in rows(tmp_path / "compare.csv")} == {"stage", "smooth_q"}


def test_a_failed_run_is_named_and_the_others_are_written(tmp_path, capsys, monkeypatch):
    real = compare_module.run_job

    def one_fails(job):
        if job.learner == "regret" and job.seed == 1:
            raise RuntimeError("the learner diverged\n(second line)")
        return real(job)

    monkeypatch.setattr(compare_module, "run_job", one_fails)
    args = ["compare", "contribution_v0", "--learners", "stage,regret", "--seeds", "2",
            "--agents", "10", "--rounds", "40", "--window", "20", "--workers", "1",
            "--out", str(tmp_path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "regret seed 1 failed: RuntimeError: the learner diverged (second line)" in out
    assert "| 1 (1 failed) |" in out and "| stage |" in out
    written = rows(tmp_path / "compare.csv")
    assert {(r["learner"], r["seed"]) for r in written} == {("stage", "0"), ("stage", "1"),
                                                            ("regret", "0")}


def test_a_learner_whose_runs_all_fail_still_has_its_row(tmp_path, monkeypatch):
    monkeypatch.setattr(compare_module, "run_job", lambda job: 1 / 0)
    result = compare("contribution_v0", ["stage"], seeds=2, rounds=40, window=20,
                     game_kwargs={"n_agents": 10}, out_dir=tmp_path, workers=1)
    assert result.failed and len(result.failures) == 2
    assert result.failures[0] == Failure("stage", 0, "ZeroDivisionError: division by zero")
    assert "| stage | — | — | — | 0 (2 failed) |" in result.text()
    assert rows(tmp_path / "compare.csv") == []


def test_same_seeds_same_table(tmp_path):
    kwargs = dict(seeds=2, rounds=60, window=20, game_kwargs={"n_agents": 10}, workers=1)
    first = compare("congestion_v0", ["stage", "regret"], out_dir=tmp_path / "a", **kwargs)
    again = compare("congestion_v0", ["stage", "regret"], out_dir=tmp_path / "b", **kwargs)
    assert [(r.final, r.spread) for r in first.rows] == [(r.final, r.spread) for r in again.rows]
    assert rows(tmp_path / "a" / "compare.csv") == rows(tmp_path / "b" / "compare.csv")


def test_bad_calls_are_refused_before_any_run(tmp_path, monkeypatch):
    monkeypatch.setattr(compare_module, "run_job", lambda job: pytest.fail("a run started"))
    ok = dict(seeds=1, rounds=40, window=20, game_kwargs={"n_agents": 10}, out_dir=tmp_path)
    for learners, extra, message in [
        ([], {}, "at least one learner"),
        (["stage", "stage"], {}, "each learner once"),
        (["stage"], {"seeds": 0}, "seeds must be a positive integer"),
        (["stage"], {"metric": "nope"}, "has no metric 'nope'"),
        (["stage"], {"learner_kwargs": {"regret": {"mu": 3}}}, "not among the learners"),
        (["stage"], {"rounds": 10}, "window=20 is longer than the budget rounds=10"),
        (["stage"], {"group": "robot"}, "robot"),
    ]:
        with pytest.raises((ValueError, KeyError), match=message):
            compare("contribution_v0", learners, **{**ok, **extra})
    assert not (tmp_path / "compare.csv").exists()


def test_the_mean_curve_skips_windows_without_a_value():
    from populace.train.papers.jobs import Curve, Job

    job = Job("a", "contribution_v0", {}, "stage", {}, 4, 2, 0)
    curves = [Curve(job, np.array([2, 4]), np.array([np.nan, 1.0]), 0.0),
              Curve(job, np.array([2, 4]), np.array([np.nan, 3.0]), 0.0)]
    rounds, mean = compare_module.mean_curves(curves)["a"]
    assert np.isnan(mean[0]) and mean[1] == 2.0


@pytest.mark.slow  # two spawned workers import torch afresh: 40 s on the shared machine
@NEEDS_TORCH
def test_compare_starts_fresh_workers_once_torch_is_loaded(tmp_path, capsys):
    """ac_fp is built (checked) here first, so the runs go to spawned workers, not forks of a
    process that has run torch."""
    args = ["compare", "mf_lqr_v0", "--learners", "ac_fp", "--seeds", "2", "--agents", "4",
            "--rounds", "4", "--window", "2", "--workers", "2", "--out", str(tmp_path)]
    assert main(args) == 0
    single = tmp_path / "one"
    assert main([*args[:-4], "--workers", "1", "--out", str(single)]) == 0
    assert rows(tmp_path / "compare.csv") == rows(single / "compare.csv")
    capsys.readouterr()
