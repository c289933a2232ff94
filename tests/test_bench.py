"""Smoke tests of ``populace bench``: the measurements run and report positive numbers.

No timing thresholds here: the targets live in the benchmarks (``populace bench --check``).
Every run passes ``--no-pin``, or the test process would stay pinned to one CPU.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest

from populace import bench
from populace.bench.congestion import measure_congestion
from populace.bench.measure import measure_breakdown, measure_core, measure_dict, measure_learner
from populace.bench.rows import CongestionRow, CoreRow
from populace.bench.timing import Timing, time_interleaved
from populace.bench.zspg import measure_zspg

TINY = Timing(samples=2, min_sample_s=0.0, warmup=1, learner_run_s=0.0)


def assert_positive(row) -> None:
    for name, value in asdict(row).items():
        if isinstance(value, float) and name not in ("overhead_us", "overhead_best_us"):
            assert math.isfinite(value) and value > 0, (type(row).__name__, name, value)


def test_time_interleaved_times_every_function() -> None:
    calls = {"a": 0, "b": 0}

    def count(name: str):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    times = time_interleaved({name: count(name) for name in calls}, TINY)
    assert set(times) == {"a", "b"} and all(calls.values())
    assert all(0 < m.best <= m.median for m in times.values())


@pytest.mark.parametrize(("payoff", "n_agents"), [("average", 10), ("matching", 11)])
def test_measure_core(payoff: str, n_agents: int) -> None:
    row = measure_core(payoff, n_agents, TINY)
    assert row.n_agents == n_agents and row.meets_target is None
    assert_positive(row)


def test_measure_congestion_gives_a_row_per_mechanism() -> None:
    rows = measure_congestion(1000, TINY)
    assert [r.mechanism for r in rows] == ["acp", "serial"]
    assert rows[0].sort_s == rows[1].sort_s  # one sort timed for both, interleaved
    for row in rows:
        assert row.n_agents == 1000 and row.meets_target is None
        assert_positive(row)


def test_measure_zspg_gives_a_row_per_feedback_mode() -> None:
    rows = measure_zspg(1000, TINY)
    assert [r.feedback for r in rows] == ["sampled", "expected"]
    for row in rows:
        assert row.n_agents == 1000 and row.meets_target is None
        assert_positive(row)


def test_other_measurements() -> None:
    assert_positive(measure_dict("average", 10, TINY))
    phases = measure_breakdown("matching", 100, TINY)
    assert phases[-1].phase == "whole step" and phases[-1].seconds > 0
    row = measure_learner("stage", "average", 10, TINY)
    assert row.rounds >= 5
    assert_positive(row)


def test_targets_apply_at_the_large_sizes() -> None:
    """The derived fields, from made-up seconds (no timing involved)."""
    slow = CongestionRow("serial", 10**6, step_s=4.0, sort_s=1.0, reference_s=2.0,
                         step_best_s=4.0, sort_best_s=1.0)
    assert (slow.ratio, slow.reference_ratio, slow.meets_target) == (4.0, 2.0, False)
    fast = CoreRow("average", 10**6, core_s=1e-3, kernel_s=1e-3, kernel="k",
                   core_best_s=1e-3, kernel_best_s=1e-3)
    assert fast.core_rate == 1e9 and fast.meets_target is True


def test_main_quick_only(tmp_path, capsys) -> None:
    argv = ["--quick", "--only", "congestion,dict", "--samples", "1", "--no-pin",
            "--out", str(tmp_path)]
    assert bench.main(argv) == 0
    report = capsys.readouterr().out
    assert "## Congestion step vs a sort" in report and "## PettingZoo dict face" in report
    assert "## Array core" not in report
    saved = json.loads((tmp_path / "bench-quick.json").read_text())
    assert saved["meta"]["cpus"] == [] and saved["meta"]["timing"]["samples"] == 1
    assert {r["n_agents"] for r in saved["congestion"]} == {10**3, 10**5}
    assert all(r["step_s"] > 0 and r["sort_s"] > 0 for r in saved["congestion"])
    assert saved["core"] == []
    assert (tmp_path / "bench-quick.md").read_text().strip() == report.strip()


@pytest.mark.parametrize("argv", [["--only", "nope"], ["--samples", "0"]])
def test_bad_options_raise_value_error(argv: list[str]) -> None:
    with pytest.raises(ValueError, match=argv[0]):
        bench.main([*argv, "--no-pin"])
