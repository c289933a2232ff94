"""Smoke tests of ``populace bench``: the measurements run and report positive numbers.

No timing thresholds here: the targets live in the benchmarks (``populace bench --check``).
Every run passes ``--no-pin``, or the test process would stay pinned to one CPU.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from populace import bench
from populace.bench.congestion import measure_congestion
from populace.bench.floors import GAMES, check_floor, floor_case
from populace.bench.game_floors import measure_face, measure_floor
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


# ----------------------------------------------------------------- issue 19: floors and fast paths


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("n_agents", [2, 11, 1000])
def test_every_floor_returns_the_cores_outputs(game: str, n_agents: int) -> None:
    case = floor_case(game, n_agents, seed=n_agents)
    floor = check_floor(case)  # raises unless the floor's first call equals the core's step
    assert floor()  # the floor returned for timing runs from the core's new state


def test_check_floor_catches_a_floor_that_differs() -> None:
    case = floor_case("contribution_v0", 10)
    make = case.make_floor

    def off_by_one_ulp():
        floor = make()
        return lambda: {"rewards": np.nextafter(floor()["rewards"], np.inf)}

    case.make_floor = off_by_one_ulp
    with pytest.raises(AssertionError, match="contribution_v0"):
        check_floor(case)


def test_floor_and_face_rows() -> None:
    row = measure_floor("zspg_network_v0", 10, TINY)
    assert row.target == 2.0 and row.meets_target is not None
    assert_positive(row)
    face = measure_face("warehouse_v0", 100, TINY)
    assert face.n_agents == 101 and face.meets_target is not None  # the dispatcher counts
    # the target is judged on the face's own work, timed around a core that does not step
    assert face.overhead_us == pytest.approx(face.face_s / 101 * 1e6)
    assert face.face_s > 0


def test_share_row_equals_share_table_bit_for_bit() -> None:
    from populace.envs.anonymous.congestion import N_ACTIONS, ShareRow, share_table

    rng = np.random.default_rng(0)
    for mechanism in ("serial", "acp"):
        for n in (2, 10, 999, 10**6):
            row = ShareRow(N_ACTIONS, mechanism, n)
            for trial in range(40):
                if trial == 0:
                    demands = np.zeros(n, dtype=np.int64)  # nobody demands: s = 0
                elif trial % 2:
                    demands = rng.integers(N_ACTIONS, size=n)
                else:
                    demands = rng.binomial(N_ACTIONS - 1, rng.random(), size=n)
                counts = np.bincount(demands, minlength=N_ACTIONS)
                assert row(counts).tobytes() == share_table(counts, mechanism).tobytes()


def test_chain_step_equals_the_edge_arrays_bit_for_bit() -> None:
    from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore

    for n in (1, 2, 3, 17):
        core = ZSPGNetworkCore(n_agents=n)
        core.reset(seed=n)
        assert core._is_chain
        for seed in range(10):
            played = np.random.default_rng(seed).integers(2, size=n)
            step = core.step({"agent": played})
            vectors = core.game.payoff_vectors_pure(played)
            assert step.observations["agent"].tobytes() == vectors.tobytes()
            assert np.array_equal(core.last_strategies, np.eye(2)[played])
            assert np.array_equal(core.state(), np.eye(2)[played])


def test_warehouse_next_zones_equal_the_row_wise_draw() -> None:
    from populace.envs.warehouse.warehouse import next_zones

    core = floor_case("warehouse_v0", 500).core
    rng = np.random.default_rng(1)
    robots, moves = rng.integers(5, size=500), rng.integers(3, size=500)
    u = rng.random(500)
    u[:5] = core._cumulative_robot[robots[:5], 2, moves[:5], 1]  # draws on a threshold
    for pull in range(5):
        rows = core._cumulative_robot[robots, pull, moves]
        expected = (u[:, None] >= rows[:, :-1]).sum(axis=1)
        got = next_zones(core._thresholds[pull], robots * 3 + moves, u)
        assert got.dtype == np.int64 and np.array_equal(got, expected)


def test_two_action_paths_equal_the_general_ones_bit_for_bit() -> None:
    from populace.agents.smooth_q import boltzmann
    from populace.envs.policies import sample_actions

    rng = np.random.default_rng(2)
    for trial in range(60):
        n = int(rng.integers(1, 500))
        values = rng.normal(size=(n, 2)) * 10 ** rng.uniform(-3, 3)
        if trial % 3 == 0:
            values[:, 1] = values[:, 0]  # ties
        temperatures = rng.uniform(0.0, 2.0, n) * (rng.random(n) < (0.7 if trial % 2 else 2))
        wide = np.concatenate([values, np.full((n, 1), -np.inf)], axis=1)  # general path
        pair = boltzmann(values, temperatures)
        assert pair.tobytes() == np.ascontiguousarray(
            boltzmann(wide, temperatures)[:, :2]).tobytes()
        p = pair if trial % 4 else rng.random((n, 2)) * (rng.random((n, 1)) < 0.9)
        padded = np.concatenate([p, np.zeros((n, 1))], axis=1)
        got = sample_actions(p, np.random.default_rng(trial))
        want = np.minimum(sample_actions(padded, np.random.default_rng(trial)), 1)
        assert got.dtype == np.int64 and np.array_equal(got, want)


@pytest.mark.parametrize("n_agents", [3, 1000])
def test_fast_validation_accepts_and_refuses_as_before(n_agents: int) -> None:
    from populace.envs import contribution_v0, mf_lqr_v0

    core = contribution_v0.ContributionCore(n_agents=n_agents)
    good = np.arange(n_agents, dtype=np.int64) % 20
    assert core.check_actions({"agent": good})["agent"] is good
    for bad_value, agent in ((20, 1), (-1, n_agents - 1)):
        bad = good.copy()
        bad[agent] = bad_value
        with pytest.raises(ValueError, match=f"agent_{agent} played {bad_value}"):
            core.check_actions({"agent": bad})
    lqr = mf_lqr_v0.MFLQRCore(n_agents=n_agents)
    moves = np.zeros((n_agents, 2))
    assert lqr.check_actions({"agent": moves})["agent"] is moves
    moves[-1, 1] = np.nan
    with pytest.raises(ValueError, match=f"agent_{n_agents - 1} sent a non-finite"):
        lqr.check_actions({"agent": moves})


def test_direct_density_equals_the_grid_estimate_to_rounding() -> None:
    """Below DIRECT_BELOW points the estimator sums its kernel directly; the FFT path computes
    the same sum, so they agree to 1e-12 of the largest density (measured: ~1e-15)."""
    from populace.envs.plane.density import DIRECT_BELOW, DensityEstimator, direct_at_points

    estimator = DensityEstimator.on_square(3.0, 121, 0.1)
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, DIRECT_BELOW - 1, DIRECT_BELOW + 5):
        points = rng.normal(size=(n, 2)) * rng.uniform(0.05, 2.0)
        points[0] = [10.0, -10.0]  # outside the window: density 0 there
        grid = estimator.at(estimator.on_grid(points), points)
        direct = direct_at_points(estimator, points)
        assert direct[0] == 0.0
        np.testing.assert_allclose(direct, grid, rtol=0, atol=1e-12 * np.abs(grid).max())
        chosen = estimator(points)
        assert np.array_equal(chosen, direct if n < DIRECT_BELOW else grid)


def test_mf_lqr_rewards_keep_the_array_formula_bit_for_bit() -> None:
    from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore, as_plane, squared_norms

    def array_formula(core, positions, mean, u):  # the reward as computed before issue 19
        model = core.lq
        z = model.tracked_point(mean)
        constant = model.q1 * model.q2 / model.q * float(np.sum((model.h - mean) ** 2))
        total = squared_norms(as_plane(positions) - complex(z[0], z[1]))
        total *= model.q
        total += 0.5 * squared_norms(as_plane(u).copy())
        total += constant
        total *= -model.dt
        return total

    rng = np.random.default_rng(4)
    core = MFLQRCore(n_agents=30)
    for _ in range(100):
        x, m, u = rng.normal(size=(30, 2)) * 3, rng.normal(size=2), rng.normal(size=(30, 2))
        assert core.rewards(x, m, u).tobytes() == array_formula(core, x, m, u).tobytes()


def test_continuous_warehouse_bins_equal_numpy_histogram() -> None:
    from populace.envs.warehouse.warehouse_continuous import EDGES, bin_counts

    rng = np.random.default_rng(5)
    for _ in range(200):
        x = np.clip(rng.normal(size=int(rng.integers(1, 40))) * 1.5, -2.0, 2.0)
        x[: int(rng.integers(0, 3))] = rng.choice(EDGES)  # on the edges, both ends included
        assert np.array_equal(bin_counts(x), np.histogram(x, bins=EDGES)[0])


def test_anonymous_step_folds_the_check_into_the_histogram() -> None:
    from populace.envs import contribution_v0

    core = contribution_v0.ContributionCore(n_agents=5)
    core.reset(seed=0)
    plain = contribution_v0.ContributionCore(n_agents=5)
    plain.reset(seed=0)
    actions = np.array([0, 3, 19, 8, 8])
    step = core.step({"agent": actions})
    checked = plain.step_checked(plain.check_actions({"agent": actions}))
    assert step.rewards["agent"].tobytes() == checked.rewards["agent"].tobytes()
    assert np.array_equal(step.info["counts"], np.bincount(actions, minlength=20))
    for bad in (20, -1, 2**40):
        wrong = actions.copy()
        wrong[2] = bad
        with pytest.raises(ValueError, match=f"agent_2 played {bad}"):
            core.step({"agent": wrong})
    assert core._counted is None
