"""``mguni-lqr``'s claims can fail (SPEC §5): fed the curves of players that do not learn —
everyone standing still, or moving at random — every claim fails; fed those of a population
that settles at the exact equilibrium, every claim holds. Nothing is trained here.
"""

from __future__ import annotations

import numpy as np
import pytest

from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.mguni_lqr import (
    COLUMNS,
    EXPLOITABILITY,
    MEAN_TOLERANCE,
    TAIL,
    VARIANCE_TOLERANCE,
    lqr_claims,
    lqr_jobs,
    reference,
    summarize,
)
from populace.train.papers.registry import REPRODUCTIONS

QUICK = [pytest.param(True, id="quick"), pytest.param(False, id="full")]


def window_ends(job: Job) -> np.ndarray:
    return np.arange(job.window, job.rounds + 1, job.window)


def curves_of(quick: bool, play: str, seed: int = 0) -> list[Curve]:
    """The curves the train loop would record for ``play``, per job of the reproduction.

    ``still``: nobody moves (u = 0); ``random``: uniform velocities in the action box;
    both diffuse from the starting N((0, 0), 0.5²) without bound, with no restoring force, so
    the metrics' fitted policy has no gain and infinite exploitability. ``learned``: the
    population sits at the exact equilibrium (small noise), the policy exploitability tiny.
    """
    rng = np.random.default_rng(seed)
    curves = []
    for job in lqr_jobs(quick, seed):
        core = MFLQRCore(**job.game_kwargs)
        rounds = window_ends(job)
        time = rounds * core.lq.dt
        mean, variance = reference(job.game_kwargs)
        if play == "learned":
            columns = {
                "mean_x": mean[0] + 0.001 * rng.standard_normal(len(rounds)),
                "mean_y": mean[1] + 0.001 * rng.standard_normal(len(rounds)),
                "variance": variance * (1 + 0.01 * rng.standard_normal(len(rounds))),
                "exploitability": np.full(len(rounds), 1e-4),
            }
        else:
            speed = 0.0 if play == "still" else core.action_bound**2 / 3 * core.lq.dt
            spread = core.init_std**2 + (core.lq.sigma**2 + speed) * time
            wander = np.sqrt(spread / core.n_agents) * rng.standard_normal((2, len(rounds)))
            columns = {"mean_x": wander[0], "mean_y": wander[1], "variance": spread,
                       "exploitability": np.full(len(rounds), np.inf)}
        columns["mean_error"] = np.hypot(columns["mean_x"] - mean[0],
                                         columns["mean_y"] - mean[1])
        columns["variance_error"] = np.abs(columns["variance"] - variance)
        curves.append(Curve(job, rounds, columns["mean_error"], 1.0, columns))
    return curves


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("play", ["still", "random"])
def test_every_claim_fails_for_players_that_do_not_learn(quick, play):
    claims = lqr_claims(summarize(curves_of(quick, play)), quick)
    assert len(claims) == 3
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_holds_at_the_exact_equilibrium(quick):
    claims = lqr_claims(summarize(curves_of(quick, "learned")), quick)
    assert [c.claim for c in claims if not c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
def test_each_claim_fails_alone(quick):
    """A population off by a little more than each bound fails that claim only."""
    curves = curves_of(quick, "learned")
    mean, variance = reference(curves[0].job.game_kwargs)
    for curve in curves:
        curve.columns["mean_x"][:] = mean[0] * (1 + 1.2 * MEAN_TOLERANCE[quick])
    assert [c.holds for c in lqr_claims(summarize(curves), quick)] == [False, True, True]
    curves = curves_of(quick, "learned")
    for curve in curves:
        curve.columns["variance"][:] = variance * (1 - 1.2 * VARIANCE_TOLERANCE[quick])
    assert [c.holds for c in lqr_claims(summarize(curves), quick)] == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[-1].columns["exploitability"][:] = 1.2 * EXPLOITABILITY[quick]
    assert [c.holds for c in lqr_claims(summarize(curves), quick)] == [True, True, False]


def test_the_paper_would_not_pass_our_bounds():
    """MJM's own numbers are 1.4 % and 1.1 % off in the mean, 14.5 % in the variance (against
    Bardi's): the full bounds ask for more than the paper shows."""
    assert abs(0.50717 - 0.5) / 0.5 > MEAN_TOLERANCE[False]
    assert abs(0.16100 - 0.14060) / 0.14060 > VARIANCE_TOLERANCE[False]


@pytest.mark.parametrize("quick", QUICK)
def test_jobs_summary_and_bounds_fit_together(quick):
    jobs = lqr_jobs(quick, 0)
    assert REPRODUCTIONS["mguni-lqr"].jobs(quick, 0) == jobs
    assert len({job.seed for job in jobs}) == len(jobs) >= 2
    for job in jobs:
        assert job.columns == COLUMNS and job.learner == "ac_fp"
        assert job.game_kwargs["max_cycles"] >= job.rounds  # one long episode
        windows = len(window_ends(job))
        assert int(windows * TAIL) >= 4  # the stationary values average several windows
    mean, variance = reference(jobs[0].game_kwargs)
    assert mean.tolist() == [0.5, -0.5] and variance == pytest.approx(0.15521, abs=1e-5)
    assert MEAN_TOLERANCE[quick] >= MEAN_TOLERANCE[False]
    summary = summarize(curves_of(quick, "learned"))
    assert summary.means.shape == (len(jobs), 2)
    assert summary.curve_mean.shape == (len(window_ends(jobs[0])), 2)
