"""``populace sweep``: the config checks, the table, determinism across backends, resume."""

import copy
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from populace.agents import make_learner
from populace.cli import main
from populace.envs.registry import make_core
from populace.train import train
from populace.train.checkpoint import read_json_object
from populace.train.studies import sweep as sweep_module
from populace.train.studies.sweep import RESULT_FILE, sweep
from populace.train.studies.sweep_config import load_config, plan_cells

ROOT = Path(__file__).resolve().parents[2]
SMOKE = str(ROOT / "sweeps" / "smoke.toml")
# Six tiny cells: contribution with two learners, congestion with one, two seeds each; N = 10,
# 200 rounds.
CONFIG: dict[str, Any] = {
    "seeds": 2, "agents": [10], "rounds": 200, "window": 100,
    "learners": {"stage": {"kwargs": {"epsilon": 0.05, "tau": 50}}},
    "games": {
        "contribution_v0": {"learners": ["stage", "regret"],
                            "metrics": ["distance", "exploitability", "reward/agent"]},
        "congestion_v0": {"learners": ["stage"], "metrics": ["distance", "reward/agent"]},
    },
}
N_CELLS = 6


def tables(report):
    """What must not depend on how the cells ran: everything but the wall time."""
    return [(row.game, row.learner, row.n_agents, row.seeds, row.means, row.spreads)
            for row in report.rows]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The sweep of CONFIG run here, one cell after another."""
    out = tmp_path_factory.mktemp("sweep") / "baseline"
    return sweep(CONFIG, out, workers=1, progress=False), out


def changed(**top):
    config = copy.deepcopy(CONFIG)
    config.update(top)
    return config


def with_game(**game):
    config = copy.deepcopy(CONFIG)
    config["games"]["contribution_v0"].update(game)
    return config


@pytest.mark.parametrize("config, message", [
    (changed(budget=3), "unknown key 'budget' in the sweep config"),
    (with_game(rouds=3), "unknown key 'rouds' in games.contribution_v0"),
    (changed(games={"chess_v0": {"learners": ["stage"]}}), "unknown game 'chess_v0'"),
    (with_game(learners=["stag"]), "unknown learner 'stag'"),
    (with_game(learners=[]), "games.contribution_v0.learners must be a non-empty list"),
    pytest.param(with_game(learners=["ac_fp"]),
                 "learner 'ac_fp' (ac_fp) cannot play contribution_v0",
                 marks=pytest.mark.skipif(find_spec("torch") is None, reason="needs torch")),
    (changed(rounds=0), "rounds must be a positive integer, got 0"),
    (changed(episodes=10), "give a budget of `rounds` or of `episodes` (exactly one"),
    (changed(window=500), "window 500 is longer than rounds 200"),
    (changed(seeds="two"), "seeds must be a non-empty list of integers >= 0"),
    (changed(agents=[10, 10]), "agents lists a value twice"),
    (changed(checkpoint_every=150), "checkpoint_every (150) must be a multiple of"),
    (with_game(env={"n_agents": 5}), "set the population size with `agents`"),
    (with_game(env={"payof": "average"}), "games.contribution_v0 (game 'contribution_v0', N=10)"),
    (with_game(metrics=["distanse"]), "contribution_v0 has no column 'distanse'"),
    (changed(learners={"stage": {"kwargs": {"tua": 3}}}), "unknown keyword arguments for "
     "learner 'stage': ['tua']"),
    (changed(learners={"my stage": {}}), "learners.'my stage': labels name folders"),
])
def test_a_bad_config_is_refused_naming_the_key_and_value(config, message):
    with pytest.raises(ValueError) as error:
        plan_cells(config)
    assert message in str(error.value)


def test_a_config_file_is_read_as_toml_and_every_example_plans(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("seeds = [1, \n")
    with pytest.raises(ValueError, match="bad.toml is not valid TOML"):
        load_config(bad)
    pytest.importorskip("torch")  # the examples train torch learners (the baselines extra)
    for name in ("smoke", "cross-game"):
        assert plan_cells(load_config(ROOT / "sweeps" / f"{name}.toml"))


def test_the_table_is_what_running_the_cells_by_hand_gives(baseline):
    report, out = baseline
    assert (report.ran, report.reused, report.failed) == (N_CELLS, 0, [])
    by_hand = {}
    for seed in (0, 1):
        core = make_core("contribution_v0", n_agents=10)
        env_seed, learner_seed = np.random.SeedSequence(seed).generate_state(2)
        learner = make_learner("regret", core, seed=int(learner_seed))
        result = train(core, learner, rounds=200, seed=int(env_seed), window=100, progress=False)
        by_hand[seed] = result.history.final("distance")
    row = next(r for r in report.rows if (r.game, r.learner) == ("contribution_v0", "regret"))
    finals = np.array([by_hand[0], by_hand[1]])
    assert row.means["distance"] == finals.mean() and row.spreads["distance"] == finals.std()
    assert f"contribution_v0,contribution_v0,regret,10,2,distance,{float(finals.mean())!r}," in (
        out / "sweep.csv").read_text()
    assert "| regret | 10 | 2 |" in (out / "sweep.md").read_text()
    assert (out / "sweep.png").exists()


def test_the_same_seeds_give_the_same_table_whatever_the_workers(baseline, tmp_path):
    report, _ = baseline
    again = sweep(CONFIG, tmp_path / "again", workers=1, progress=False)
    pooled = sweep(CONFIG, tmp_path / "pooled", workers=2, progress=False)
    assert tables(again) == tables(report) == tables(pooled)


def test_the_ray_backend_gives_the_local_table(baseline, tmp_path):
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    report, _ = baseline
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = sweep(CONFIG, tmp_path / "ray", backend="ray", progress=False)
        assert ray.is_initialized()  # a Ray the caller started is left running
    finally:
        ray.shutdown()
    assert tables(on_ray) == tables(report)


def test_without_ray_the_ray_backend_names_its_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"needs the ray extra: pip install 'populace\[ray\]'"):
        sweep(CONFIG, tmp_path / "x", backend="ray", progress=False)


def test_a_failed_cell_is_reported_and_a_rerun_resumes_the_rest(baseline, tmp_path, monkeypatch,
                                                                 capsys):
    report, _ = baseline
    out = tmp_path / "resumed"
    train_cell = sweep_module._train_cell

    def fail_one(cell, cells_dir):
        if cell.name == "contribution_v0-regret-n10-seed1":
            raise RuntimeError("the cluster node went away")
        return train_cell(cell, cells_dir)

    monkeypatch.setattr(sweep_module, "_train_cell", fail_one)
    config = tmp_path / "tiny.toml"
    config.write_text("seeds = 2\nagents = [10]\nrounds = 200\nwindow = 100\n"
                      "[learners.stage]\nkwargs = { epsilon = 0.05, tau = 50 }\n"
                      "[games.contribution_v0]\nlearners = ['stage', 'regret']\n"
                      "metrics = ['distance', 'exploitability', 'reward/agent']\n"
                      "[games.congestion_v0]\nlearners = ['stage']\n"
                      "metrics = ['distance', 'reward/agent']\n")
    assert load_config(config) == CONFIG
    assert main(["sweep", str(config), "--out", str(out), "--workers", "1"]) == 1
    printed = capsys.readouterr().out
    assert "FAILED contribution_v0-regret-n10-seed1: RuntimeError: the cluster node went away" \
        in printed
    failed = out / "cells" / "contribution_v0-regret-n10-seed1"
    assert "the cluster node went away" in (failed / "error.txt").read_text()
    assert not (failed / RESULT_FILE).exists()
    assert "| regret | 10 | 1 |" in (out / "sweep.md").read_text()  # the other seed is kept

    monkeypatch.setattr(sweep_module, "_train_cell", train_cell)
    markers = {path: path.stat().st_mtime_ns for path in out.glob(f"cells/*/{RESULT_FILE}")}
    assert len(markers) == N_CELLS - 1
    resumed = sweep(CONFIG, out, workers=1, progress=False)
    assert (resumed.ran, resumed.reused, resumed.failed) == (1, N_CELLS - 1, [])
    assert {path: path.stat().st_mtime_ns for path in markers} == markers  # not rerun
    assert not (failed / "error.txt").exists()
    assert tables(resumed) == tables(report)

    # A cell whose marker is lost continues from its final checkpoint, to the same result.
    (out / "cells" / "congestion_v0-stage-n10-seed0" / RESULT_FILE).unlink()
    again = sweep(CONFIG, out, workers=1, progress=False)
    assert (again.ran, again.reused) == (1, N_CELLS - 1)
    assert tables(again) == tables(report)


def test_another_config_in_the_same_folder_is_refused_unless_overwritten(baseline, tmp_path):
    out = tmp_path / "sweep"
    small = changed(games={"matrix_v0": {"learners": ["stage"], "env": {"game": "stag_hunt"}}})
    sweep(small, out, workers=1, progress=False)
    bigger = copy.deepcopy(small)
    bigger["games"]["matrix_v0"]["rounds"] = 100
    with pytest.raises(ValueError, match=r"games\.matrix_v0\.rounds: None -> 100.*--overwrite"):
        sweep(bigger, out, workers=1, progress=False)
    report = sweep(bigger, out, workers=1, progress=False, overwrite=True)
    assert (report.ran, report.reused) == (2, 0)


def test_without_matplotlib_the_tables_are_still_written(baseline, monkeypatch):
    report, out = baseline
    monkeypatch.setattr(sweep_module, "have_matplotlib", lambda: False)
    (out / "sweep.png").unlink()
    again = sweep(CONFIG, out, workers=1, progress=False)
    assert again.ran == 0 and tables(again) == tables(report)
    assert not (out / "sweep.png").exists() and (out / "sweep.md").exists()
    assert "pip install 'populace[plot]'" in again.text()


@pytest.mark.parametrize("flags, message", [
    (["--address", "auto"], "--address is for --backend ray"),
    (["--workers", "0"], "workers must be a positive integer, got 0"),
    (["--backend", "ray", "--workers", "2"], "--workers is for the local backend"),
])
def test_the_command_refuses_flags_that_do_not_fit_the_backend(tmp_path, capsys, flags, message):
    assert main(["sweep", SMOKE, "--out", str(tmp_path / "x"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("populace sweep: error: ") and message in err


def test_a_diverged_run_shows_as_inf_without_a_spread():
    rows = sweep_module.aggregate(
        plan_cells(CONFIG)[:2],
        [{"status": "done", "final": {"distance": d, "exploitability": 1.0, "reward/agent": 2.0},
          "seconds": 1.0} for d in (1.0, float("inf"))])
    assert rows[0].means["distance"] == np.inf and np.isnan(rows[0].spreads["distance"])
    assert "| stage | 10 | 2 | inf | 1 ± 0 | 2 ± 0 | 1.0 |" in sweep_module.markdown_tables(rows)


def test_the_command_help_names_its_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "runs/sweep-CONFIG" in text and "(default: local)" in text


def test_the_figure_has_a_titled_labelled_panel_per_game_with_plain_ticks(baseline):
    pytest.importorskip("matplotlib")
    _, out = baseline
    cells = plan_cells(CONFIG)
    results = [read_json_object(out / "cells" / cell.name / RESULT_FILE) for cell in cells]
    panels = [ax for ax in sweep_module.sweep_figure(cells, results).axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["contribution_v0", "congestion_v0"]
    for ax in panels:
        assert ax.get_xlabel() == "round" and ax.get_ylabel() == "distance"
        assert len(ax.lines) == len({c.learner for c in cells if c.game == ax.get_title()})
        labels = [t.get_text() for axis in (ax.xaxis, ax.yaxis)
                  for t in axis.get_ticklabels(which="both")]
        assert any(labels) and not any("$" in label or "e+" in label for label in labels)


# ----------------------------------------------------------------------------- faults
def test_a_cell_held_by_a_live_process_is_left_to_it(tmp_path):
    import json
    import socket
    import subprocess

    config = changed(games={"contribution_v0": {"learners": ["stage"]}}, seeds=1)
    held = tmp_path / "sweep" / "cells" / "contribution_v0-stage-n10-seed0"
    held.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (held / "lock").write_text(json.dumps({"host": socket.gethostname(),
                                               "pid": holder.pid}))
        report = sweep(config, tmp_path / "sweep", workers=1, progress=False)
        assert (report.ran, report.rows, report.failed) == (1, [], [])
        assert any(f"process {holder.pid}" in note and "lock" in note for note in report.notes)
        assert not (held / "metrics.csv").exists() and (held / "lock").exists()
    finally:
        holder.kill()
        holder.wait()
    report = sweep(config, tmp_path / "sweep", workers=1, progress=False)  # a stale lock
    assert (report.ran, len(report.rows), report.failed) == (1, 1, [])
    assert not (held / "lock").exists()


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in found.read_text().split()] if found.exists() else []


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its (dead) parent to be reaped."""
    status = Path(f"/proc/{pid}/stat")
    try:
        return status.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_a_killed_sweep_takes_its_workers_along_and_a_rerun_logs_each_window_once(tmp_path):
    import signal
    import subprocess
    import time

    config = tmp_path / "long.toml"
    config.write_text("seeds = 2\nagents = [10]\nrounds = 3000\nwindow = 250\n"
                      "checkpoint_every = 500\n[games.contribution_v0]\n"
                      "learners = ['regret']\nmetrics = ['distance']\n")
    out = tmp_path / "out"
    parent = subprocess.Popen(
        [sys.executable, "-m", "populace.cli", "sweep", str(config), "--out", str(out),
         "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and parent.poll() is None:
        workers.update(_children(parent.pid))
        if list(out.glob("cells/*/checkpoints/round_*")):
            break
        time.sleep(0.1)
    workers.update(_children(parent.pid))
    if parent.poll() is not None:
        pytest.skip("the sweep finished before it could be killed (a very fast machine)")
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert workers and not any(_alive(w) for w in workers)
    report = sweep(load_config(config), out, workers=2, progress=False)
    assert report.failed == [] and len(report.rows) == 1
    for cell in out.glob("cells/*"):
        rounds = [line.split(",")[0] for line in
                  (cell / "metrics.csv").read_text().splitlines()[1:]]
        assert rounds == [str(r) for r in range(250, 3001, 250)], cell.name
        assert not (cell / "lock").exists()
