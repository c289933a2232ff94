"""``mguni-lqr``'s claims can fail (SPEC §5), and its two exact references are right.

Fed the runs of the simple rules (K = 1 toward h, standing still: played for real, shortly, on
the reproduction's seeds) or of players moving at random, every claim fails; fed those of a
population that settles at the exact equilibrium, every claim holds. MJM's own numbers are
set against both criteria's equilibria. The discounted Riccati solution (MJM's criterion) is
checked against a brute-force search over gains and against value iteration. Nothing is
trained here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
from populace.envs.mean_field_lqr.reference import (
    LinearPolicy,
    LQModel,
    backward_riccati,
    policy_cost,
    riccati_gain,
    stationary_equilibrium,
)
from populace.train.papers.jobs import Curve, Job, run_job
from populace.train.papers.mguni_lqr import (
    CLOSER_FACTOR,
    COLUMNS,
    EXPLOITABILITY,
    LEARNED,
    MEAN_TOLERANCE,
    MJM_GAMMA,
    PAPER_MEAN,
    PAPER_VARIANCE,
    RULES,
    TAIL,
    VARIANCE_TOLERANCE,
    lqr_claims,
    lqr_jobs,
    mjm_discount_rate,
    reference,
    summarize,
)
from populace.train.papers.registry import REPRODUCTIONS

QUICK = [pytest.param(True, id="quick"), pytest.param(False, id="full")]
RULE_ROUNDS, RULE_WINDOW = 4000, 1000  # the rules' runs here: short, the same seeds


def window_ends(job: Job) -> np.ndarray:
    return np.arange(job.window, job.rounds + 1, job.window)


def learner_curves(quick: bool, play: str, seed: int = 0) -> list[Curve]:
    """The curves the train loop would record for the learner's jobs.

    ``learned``: the population sits at the exact equilibrium (small noise), the policy's
    exploitability tiny. ``random``: uniform velocities in the action box, diffusing from the
    starting N((0, 0), 0.5²) without bound, so the fitted policy has no gain and infinite
    exploitability.
    """
    rng = np.random.default_rng(seed)
    curves = []
    for job in lqr_jobs(quick, seed):
        if job.label != LEARNED:
            continue
        core = MFLQRCore(**job.game_kwargs)
        rounds = window_ends(job)
        mean, variance = reference(job.game_kwargs)
        if play == "learned":
            columns = {
                "mean_x": mean[0] + 0.001 * rng.standard_normal(len(rounds)),
                "mean_y": mean[1] + 0.001 * rng.standard_normal(len(rounds)),
                "variance": variance * (1 + 0.002 * rng.standard_normal(len(rounds))),
                "exploitability": np.full(len(rounds), 1e-4),
            }
        else:
            speed = core.action_bound**2 / 3 * core.lq.dt
            spread = core.init_std**2 + (core.lq.sigma**2 + speed) * rounds * core.lq.dt
            wander = np.sqrt(spread / core.n_agents) * rng.standard_normal((2, len(rounds)))
            columns = {"mean_x": wander[0], "mean_y": wander[1], "variance": spread,
                       "exploitability": np.full(len(rounds), np.inf)}
        columns["mean_error"] = np.hypot(columns["mean_x"] - mean[0],
                                         columns["mean_y"] - mean[1])
        columns["variance_error"] = np.abs(columns["variance"] - variance)
        curves.append(Curve(job, rounds, columns["mean_error"], 1.0, columns))
    return curves


_RULE_CURVES: dict[bool, list[Curve]] = {}


def rule_curves(quick: bool) -> list[Curve]:
    """The rules' jobs of the reproduction, played for real but shortened (cached)."""
    if quick not in _RULE_CURVES:
        _RULE_CURVES[quick] = [
            run_job(replace(job, rounds=RULE_ROUNDS, window=RULE_WINDOW))
            for job in lqr_jobs(quick, 0) if job.label in RULES]
    return _RULE_CURVES[quick]


def summary_of(quick: bool, play: str = "learned"):
    return summarize(learner_curves(quick, play) + rule_curves(quick))


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("rule", list(RULES))
def test_every_claim_fails_for_the_simple_rules(quick, rule):
    summary = summary_of(quick)
    assert len(summary.rules[rule].seeds) == len(summary.learned.seeds)
    claims = lqr_claims(summary.playing(rule), quick)
    assert len(claims) == 3
    assert [c.claim for c in claims if c.holds] == []
    assert all(c.per_seed and not any(c.per_seed) for c in claims)


def test_the_rule_k1_knows_the_mean_but_not_the_variance():
    """K = 1 toward h puts the mean exactly at h: only the variance (σ²/(K(2 − KΔt)) = 0.2885
    against 0.1552) and the exploitability (0.26) give it away."""
    rule = summary_of(True).rules["K = 1 toward h"]
    assert np.all(np.abs(rule.means - [0.5, -0.5]) < 0.02)
    assert np.allclose(rule.variances, 0.5625 / 1.95, rtol=0.05)
    assert np.allclose(rule.exploitability, 0.2597, atol=1e-3)


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_fails_for_players_moving_at_random(quick):
    claims = lqr_claims(summary_of(quick, "random"), quick)
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_holds_at_the_exact_equilibrium(quick):
    claims = lqr_claims(summary_of(quick), quick)
    assert [c.claim for c in claims if not c.holds] == []
    assert all(all(c.per_seed) for c in claims)


def shifted(quick: bool, column: str, factors: list[float]) -> list[bool]:
    """The claims' verdicts when each learner run's ``column`` is multiplied by a factor."""
    curves = learner_curves(quick, "learned")
    for curve, factor in zip(curves, factors, strict=False):
        curve.columns[column][:] *= factor
    return [c.holds for c in lqr_claims(summarize(curves + rule_curves(quick)), quick)]


@pytest.mark.parametrize("quick", QUICK)
def test_each_claim_can_fail_alone(quick):
    """One run's variance off by more than the bound and another's the other way (the average
    stays close): only the per-run claim fails. Every mean a little farther off than MJM's
    (but within the per-run bound): only "closer than MJM" fails. One run exploitable: only
    the last fails."""
    off = 1.1 * VARIANCE_TOLERANCE[quick]
    runs = len(learner_curves(quick, "learned"))
    assert shifted(quick, "variance", [1 + off, *[1 - off / (runs - 1)] * (runs - 1)]) \
        == [False, True, True]
    between = 0.5 * (MEAN_TOLERANCE[quick] + CLOSER_FACTOR[quick] * 0.0143)  # MJM's x: 1.43 %
    assert shifted(quick, "mean_x", [1 + between] * runs) == [True, False, True]
    factors = [1.0] * (runs - 1) + [1.2 * EXPLOITABILITY[quick] / 1e-4]
    assert shifted(quick, "exploitability", factors) == [True, True, False]


def test_the_paper_against_both_criteria():
    """MJM's variance is 1.1 % below its own criterion's exact 0.1628 and 3.7 % above the
    average-reward 0.1552 (not the 14.5 % of the comparison with Bardi's continuous-time
    0.1406). Fed as if they were our runs, MJM's numbers pass the per-run accuracy claim (its
    bounds are about MJM's accuracy) but not "closer than MJM" against 0.1552."""
    kwargs = lqr_jobs(False, 0)[0].game_kwargs
    _, average = reference(kwargs)
    _, discounted = reference(kwargs, discounted=True)
    assert discounted == pytest.approx(0.16283, abs=1e-5)
    assert PAPER_VARIANCE / discounted - 1 == pytest.approx(-0.0113, abs=1e-4)
    assert PAPER_VARIANCE / average - 1 == pytest.approx(0.0373, abs=1e-4)
    curves = learner_curves(False, "learned")
    for curve in curves:
        curve.columns["mean_x"][:], curve.columns["mean_y"][:] = PAPER_MEAN
        curve.columns["variance"][:] = PAPER_VARIANCE
    assert [c.holds for c in lqr_claims(summarize(curves + rule_curves(False)), False)] \
        == [True, False, True]


@pytest.mark.parametrize("quick", QUICK)
def test_jobs_summary_and_bounds_fit_together(quick):
    jobs = lqr_jobs(quick, 0)
    assert REPRODUCTIONS["mguni-lqr"].jobs(quick, 0) == jobs
    learner = [job for job in jobs if job.label == LEARNED]
    assert len({job.seed for job in learner}) == len(learner) >= (2 if quick else 5)
    for label in RULES:  # every rule on the learner's seeds
        assert [job.seed for job in jobs if job.label == label] == [j.seed for j in learner]
    for job in learner:
        assert job.columns == COLUMNS and job.learner == "ac_fp"
        assert job.game_kwargs["max_cycles"] >= job.rounds  # one long episode
        assert int(len(window_ends(job)) * TAIL) >= 4  # the stationary values average several
    mean, variance = reference(jobs[0].game_kwargs)
    assert mean.tolist() == [0.5, -0.5] and variance == pytest.approx(0.15521, abs=1e-5)
    assert MEAN_TOLERANCE[quick] >= MEAN_TOLERANCE[False]
    summary = summary_of(quick)
    assert summary.learned.means.shape == (len(learner), 2)
    assert set(summary.rules) == set(RULES)


# ----------------------------------------------------------------- the discounted reference
@pytest.mark.parametrize("gamma", [MJM_GAMMA, 0.9])
def test_discounted_riccati_gain_is_the_best_gain_by_brute_force(gamma):
    """Among gains of u = −K(x − h), the discounted cost from a start away from h is least at
    the discounted Riccati gain (a grid search over K, independent of the Riccati root)."""
    model = LQModel(discount_rate=-np.log(gamma) / 0.05)
    _, gain = riccati_gain(model)
    gains = np.linspace(gain - 0.2, gain + 0.2, 2001)
    costs = [policy_cost(model, LinearPolicy.of(k, model.h), model.h, np.array([1.0, -2.0]),
                         np.array([0.3, 0.3])) for k in gains]
    assert gains[int(np.argmin(costs))] == pytest.approx(gain, abs=2e-4)
    assert riccati_gain(LQModel())[1] > gain  # discounting lowers the gain


@pytest.mark.parametrize("gamma", [MJM_GAMMA, 0.9])
def test_discounted_riccati_fixed_point_is_where_value_iteration_ends(gamma):
    model = LQModel(discount_rate=-np.log(gamma) / 0.05)
    curvature, gain = riccati_gain(model)
    p, d = backward_riccati(model, 5000)
    assert p[0] == pytest.approx(curvature, rel=1e-10)
    assert 2 * model.gamma * p[1] * d[0] == pytest.approx(gain, rel=1e-10)


def test_mjm_criterion_at_our_time_step():
    """γ = 0.99 per step at Δt = 0.05 is β ≈ 0.201 per unit time; the exact variance rises
    from 0.1552 (average reward) to 0.1628, and tends back to 0.1552 as γ → 1."""
    beta = mjm_discount_rate(0.05)
    assert np.exp(-beta * 0.05) == pytest.approx(MJM_GAMMA)
    assert stationary_equilibrium(LQModel(discount_rate=beta)).variance \
        == pytest.approx(0.162831, abs=1e-6)
    assert stationary_equilibrium(LQModel(discount_rate=1e-7)).variance \
        == pytest.approx(stationary_equilibrium(LQModel()).variance, rel=1e-6)
