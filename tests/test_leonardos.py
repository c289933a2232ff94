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
