"""The LPS reproductions (train/papers/leonardos.py): every claim fails for players that do not
learn,
the bounds lie inside the runs, and the runs' pieces are right on cases with known answers.

The quick forms themselves run in tests/test_cli.py (every reproduction, claims asserted).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from populace.envs.zero_sum.solvers import kl_divergence, qre
from populace.train.papers import leonardos
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.registry import REPRODUCTIONS

NAMES = [name for name in REPRODUCTIONS if name.startswith("leonardos-")]
Play = Callable[[np.random.Generator, int, int], np.ndarray]


def uniform(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    return np.full((n, m), 1.0 / m)


def action_zero(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    return np.eye(m)[np.zeros(n, dtype=int)]


def fixed_random(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """Each run keeps the random interior strategy it starts from."""
    return rng.dirichlet(np.ones(m), n)


def runs_of(name: str, quick: bool, play: Play) -> leonardos.Runs:
    """The runs a reproduction would get from players who never change ``play``'s strategies."""
    curves = []
    for job in REPRODUCTIONS[name].jobs(quick, 0):
        game = leonardos.game_of(job)
        points = len(range(0, job.rounds + 1, job.window))
        profile = play(np.random.default_rng(job.seed), game.n_agents, game.n_actions)
        rates = job.learner_kwargs.get("temperature")
        kl = np.nan
        if "schedule" not in job.learner_kwargs and np.all(np.asarray(rates) > 0):
            kl = kl_divergence(qre(game, np.broadcast_to(rates, (game.n_agents,))).strategies,
                               profile)
        distance = np.full(points, kl)
        curves.append(Curve(job, np.arange(points) * 1.0, distance, 0.0,
                            {"kl": distance, "policy": np.broadcast_to(profile,
                                                                       (points, *profile.shape))}))
    return leonardos.group_runs(curves)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("play", [uniform, action_zero, fixed_random])
@pytest.mark.parametrize("name", NAMES)
def test_every_claim_fails_for_players_that_do_not_learn(name, quick, play):
    claims = REPRODUCTIONS[name].claims(runs_of(name, quick, play), quick)
    assert claims
    assert [c.claim for c in claims if c.holds] == []


def test_the_three_reproductions_are_registered():
    assert NAMES == ["leonardos-amps", "leonardos-zspg", "leonardos-selection"]


def test_amps_rest_point_when_x_explores_matches_the_closed_form():
    """x explores at rate T, y does not: y's rest needs x = (1/3, 2/3) (y indifferent), and
    x = softmax(A y / T) then gives y's P(H) = (2 − T ln 2)/6."""
    job = next(j for j in REPRODUCTIONS["leonardos-amps"].jobs(True, 0)
               if j.label == "x explores")
    end = leonardos.run_dynamics(job).columns["policy"][-1]
    assert end[0, 0] == pytest.approx(1 / 3, abs=1e-8)
    assert end[1, 0] == pytest.approx((2 - leonardos.AMPS_T * np.log(2)) / 6, abs=1e-8)


def test_dynamics_runs_are_seeded():
    job = REPRODUCTIONS["leonardos-zspg"].jobs(True, 0)[0]
    first, again = leonardos.run_dynamics(job), leonardos.run_dynamics(job)
    assert np.array_equal(first.columns["policy"], again.columns["policy"])
    other = leonardos.run_dynamics(Job(**{**job.__dict__, "seed": job.seed + 1}))
    assert not np.array_equal(first.columns["policy"][0], other.columns["policy"][0])


def test_decay_rate_fits_an_exponential_and_needs_a_decay():
    times = np.arange(0.0, 100.0)
    assert leonardos.decay_rate(times, 3.0 * np.exp(-0.4 * times)) == pytest.approx(0.4)
    assert leonardos.decay_rate(times, np.full(100, 3.0)) == 0.0
    assert leonardos.decay_rate(times, np.full(100, 1e-3)) == pytest.approx(0.0, abs=1e-12)


def test_velocity_vanishes_at_the_qre():
    game = leonardos.build_game("chain", 5)
    rates = np.full(5, 0.3)
    at = qre(game, rates).strategies
    assert np.abs(leonardos.velocity(game, at, rates)).max() < 1e-10
    assert np.abs(leonardos.velocity(game, np.full((5, 2), 0.5), rates)).max() > 0.1


def test_schedules_reach_zero_at_the_horizon():
    job = next(j for j in REPRODUCTIONS["leonardos-selection"].jobs(True, 0)
               if "schedule" in j.learner_kwargs)
    rates = leonardos.exploration_rates(job, 3)
    assert (rates(0.0) > 0).all() and (rates(leonardos.SELECTION_HORIZON) == 0).all()
    assert rates(leonardos.SELECTION_HORIZON / 2).max() <= leonardos.SELECTION_T


def test_bounds_lie_inside_the_runs():
    for quick in (True, False):
        for job in REPRODUCTIONS["leonardos-zspg"].jobs(quick, 0):
            assert job.rounds >= 3 * job.window  # enough points to fit and to compare
        selection = REPRODUCTIONS["leonardos-selection"].jobs(quick, 0)
        assert all(j.rounds * leonardos.DT > leonardos.SELECTION_HORIZON for j in selection)
    assert leonardos.FIT_RANGE[0] > 1e-14  # above the float noise a converged run shows


@pytest.mark.parametrize("name", NAMES)
def test_files_hold_every_run(name, tmp_path):
    curves = [curve for runs in runs_of(name, True, fixed_random).values() for curve in runs]
    written = [path for path in REPRODUCTIONS[name].save(curves, tmp_path) if path]
    assert {path.suffix for path in written} >= {".csv"}
    rows = (tmp_path / f"{name}.csv").read_text().splitlines()
    expected = sum(min(len(c.rounds), leonardos.CSV_POINTS) for c in curves)
    assert len(rows) == 1 + expected


def integrated(name: str, quick: bool, label: str) -> list[Curve]:
    return [leonardos.run_dynamics(job) for job in REPRODUCTIONS[name].jobs(quick, 0)
            if job.label == label]


@pytest.mark.parametrize("name", NAMES)
def test_the_fixed_start_is_the_simple_rule_beside_every_claim_and_fails(name):
    """Every claim checked on the runs held at their starting points fails, and the table's
    "simple rule" column says so."""
    runs = runs_of(name, True, fixed_random)
    held = leonardos.fixed_start(runs)
    for label, curves in held.items():
        for curve, start in zip(curves, runs[label], strict=True):
            assert np.array_equal(curve.columns["policy"][-1], start.columns["policy"][0])
    claims = REPRODUCTIONS[name].claims(runs, True)
    assert all(c.baseline.startswith("fixed start: ") and c.baseline.endswith("— fails")
               for c in claims)


def test_agent_4_does_not_settle_when_only_agents_1_to_3_explore():
    """LPS Fig. 5, middle: agents 4 and 6 end differently in every run. The claim needs agent
    4's end points to range over more than the band that counts agent 2 as settled; the
    same runs with agent 4 moved onto one point must fail it."""
    label = "agents 1–3 explore"
    curves = integrated("leonardos-zspg", True, label)
    ends = leonardos.end_points(curves)
    assert leonardos.spread(ends[:, 1, 0]) <= leonardos.SETTLED < leonardos.spread(ends[:, 3, 0])
    runs = runs_of("leonardos-zspg", True, fixed_random)
    runs[label] = curves
    claim = next(c for c in leonardos.zspg_claims(runs, True) if "agents 4 and 6" in c.claim)
    assert claim.holds and "agent 4" in claim.ours

    def agent_4_at(curve: Curve, value: float) -> Curve:
        policy = curve.columns["policy"].copy()
        policy[-1, 3] = [value, 1 - value]
        return Curve(curve.job, curve.rounds, curve.distance, 0.0,
                     {**curve.columns, "policy": policy})

    runs[label] = [agent_4_at(curve, 0.75) for curve in curves]
    claim = next(c for c in leonardos.zspg_claims(runs, True) if "agents 4 and 6" in c.claim)
    assert not claim.holds


def test_per_run_claims_say_on_how_many_runs_they_hold():
    runs = runs_of("leonardos-zspg", True, fixed_random)
    label = f"all explore (T = {leonardos.CHAIN_T:g})"
    runs[label] = integrated("leonardos-zspg", True, label)
    reach, rate = leonardos.zspg_claims(runs, True)[:2]
    count = len(runs[label])
    assert reach.seeds == rate.seeds == f"{count}/{count}"
    assert rate.holds and not reach.holds  # the learner's runs here are held, not learned
