"""``mguni-spatial``'s claims can fail (SPEC §5): fed the runs of the simple rules (aim at the
peak, stay: the reproduction's own rule jobs, played for real) or of players moving at random,
every claim fails; fed those of a population that settles at the grid equilibrium, every
claim holds, and a claim that fails on one seed fails. Nothing is trained here, apart from
the learner's small unit tests at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from populace.agents import make_learner
from populace.agents.base import Transition
from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.train.papers.jobs import Curve, Job, run_job
from populace.train.papers.mguni_spatial import (
    ALPHAS,
    COLUMNS,
    DRIFT,
    EXPLOITABILITY,
    PLACES,
    RULES,
    SHARES,
    SPREAD_TOLERANCE,
    reference,
    share_near,
    spatial_claims,
    spatial_jobs,
    summarize,
)
from populace.train.papers.registry import REPRODUCTIONS

QUICK = [pytest.param(True, id="quick"), pytest.param(False, id="full")]


def window_ends(job: Job) -> np.ndarray:
    return np.arange(job.window, job.rounds + 1, job.window)


def learner_jobs(quick: bool, seed: int = 0) -> list[Job]:
    return [job for job in spatial_jobs(quick, seed) if job.learner != "rule"]


def played(job: Job, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """One round's landings of uniformly random moves in the job's game, and the window's
    columns (flat)."""
    core = SpatialCongestionCore(**job.game_kwargs)
    starts = core.reset(seed=int(rng.integers(2**31)))[core.agent_group]
    moves = rng.uniform(-core.action_bound, core.action_bound, starts.shape)
    step = core.step({core.agent_group: moves})
    landings = step.info["landings"]
    metrics = core.window_metrics()
    metrics.record({core.agent_group: moves}, step)
    return metrics.scores({}), landings


def curves_of(quick: bool, play: str, seed: int = 0) -> list[Curve]:
    """The curves the runner would record for ``play``, per learner job of the reproduction.

    ``random``: the same play every window (flat curves, measured on the game itself).
    ``learned``: exploitability falls from 0.3 to 0.01, the spread settles at the grid
    equilibrium's, and the bimodal landings hold the grid equilibrium's shares.
    """
    rng = np.random.default_rng(seed)
    curves = []
    for job in learner_jobs(quick, seed):
        rounds = window_ends(job)
        if play == "learned":
            spread, shares = reference(job.game_kwargs)
            decay = np.exp(-np.arange(len(rounds)))
            columns = {"exploitability": 0.01 + 0.3 * decay,
                       "spread": spread * (1 + decay + 0.005 * rng.standard_normal(len(rounds))),
                       "mean_reward": 0.2 - 0.05 * decay, "density_distance": 0.1 + decay,
                       "mean_x": 0.5 * decay, "mean_y": 0.01 * rng.standard_normal(len(rounds))}
            columns.update({name: np.array([share]) for name, share in zip(SHARES, shares,
                                                                            strict=True)})
            columns["initial_exploitability"] = np.array([0.3])
        else:
            scores, landings = played(job, rng)
            columns = {name: np.full(len(rounds), float(scores[name])) for name in COLUMNS}
            columns.update({name: np.array([share_near(landings, place)])
                            for name, place in zip(SHARES, PLACES.values(), strict=True)})
            columns["initial_exploitability"] = columns["exploitability"][:1].copy()
        curves.append(Curve(job, rounds, columns["exploitability"], 1.0, columns))
    return curves


_RULE_CURVES: dict[bool, list[Curve]] = {}


def rule_curves(quick: bool) -> list[Curve]:
    """The reproduction's rule jobs, played (one round per window: cheap), cached."""
    if quick not in _RULE_CURVES:
        _RULE_CURVES[quick] = [run_job(job) for job in spatial_jobs(quick, 0)
                               if job.learner == "rule"]
    return _RULE_CURVES[quick]


def holding(curves: list[Curve], quick: bool) -> list[bool]:
    return [claim.holds for claim in spatial_claims(summarize(curves), quick)]


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("rule", RULES)
def test_every_claim_fails_for_the_simple_rules(quick, rule):
    summary = summarize(curves_of(quick, "learned") + rule_curves(quick))
    assert set(summary.rules) == set(RULES)
    claims = spatial_claims(summary.playing(rule), quick)
    assert len(claims) == 3
    assert [c.claim for c in claims if c.holds] == []
    # the learner's table shows the rule beside it, failing
    assert all(f"{rule}: fails" in c.baseline for c in spatial_claims(summary, quick))


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_fails_for_players_moving_at_random(quick):
    claims = spatial_claims(summarize(curves_of(quick, "random")), quick)
    assert [c.claim for c in claims if c.holds] == []


def test_a_claim_that_fails_on_one_seed_fails():
    """Full run: one seed's bimodal population heaped in the valley; the seed average still
    occupies both peaks, but the claim holds on 4 of 5 seeds only, so it fails."""
    curves = curves_of(False, "learned")
    bimodal = [c for c in curves if c.job.game_kwargs["reward"] == "bimodal"]
    assert len(bimodal) == 5
    bimodal[0].columns["share_valley"][:] = 0.5
    claims = spatial_claims(summarize(curves), False)
    assert claims[2].seeds == "4/5" and not claims[2].holds
    assert [c.holds for c in claims[:2]] == [True, True]


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_holds_at_the_grid_equilibrium(quick):
    claims = spatial_claims(summarize(curves_of(quick, "learned")), quick)
    assert [c.claim for c in claims if not c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
def test_each_claim_fails_alone(quick):
    """Just past each bound, only that claim fails."""
    curves = curves_of(quick, "learned")
    last_quarter = int(round(len(curves[0].rounds) * 0.75))
    curves[0].columns["spread"][last_quarter:] *= 1 + 1.5 * DRIFT[quick]
    assert holding(curves, quick)[0] is False
    curves = curves_of(quick, "learned")
    for curve in curves:
        if curve.job.game_kwargs["reward"] == "single":  # no growth with α
            curve.columns["spread"][:] = curves[0].columns["spread"]
    assert holding(curves, quick)[1] is False
    runs = len(curves) // 4
    curves = curves_of(quick, "learned")
    curves[2 * runs].columns["spread"][:] *= 1 + 1.2 * SPREAD_TOLERANCE[quick]
    assert holding(curves, quick) == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[runs].columns["exploitability"][:] = 1.2 * EXPLOITABILITY[quick]  # halved, too high
    assert holding(curves, quick) == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[runs].columns["initial_exploitability"][:] = 1.9 * curves[runs].columns[
        "exploitability"][-1]  # not halved
    assert holding(curves, quick) == [False, True, True]
    curves = curves_of(quick, "learned")
    left, right = curves[-1].columns["share_left"], curves[-1].columns["share_right"]
    curves[-1].columns["share_valley"][:] = max(left[0], right[0]) + 0.01  # heaped between
    assert holding(curves, quick) == [True, True, False]


def test_a_single_wide_gaussian_between_the_peaks_does_not_occupy_them():
    """The landings of one Gaussian centred on the valley (what a linear actor learns) cover
    both bumps within 0.5 but heap in the valley: the claim sees that."""
    rng = np.random.default_rng(0)
    landings = rng.normal((-0.5, 0.0), (0.46, 0.13), (4000, 2))
    left, valley, right = (share_near(landings, place) for place in PLACES.values())
    assert valley > max(left, right)


@pytest.mark.parametrize("quick", QUICK)
def test_jobs_summary_and_bounds_fit_together(quick):
    assert REPRODUCTIONS["mguni-spatial"].jobs(quick, 0) == spatial_jobs(quick, 0)
    jobs = learner_jobs(quick)
    rules = [job for job in spatial_jobs(quick, 0) if job.learner == "rule"]
    assert len(rules) == len(RULES) * len(jobs)  # every rule on every game and seed
    assert {(j.label, j.seed) for j in rules} == {(j.label, j.seed) for j in jobs}
    if not quick:
        assert len({job.seed for job in jobs}) >= 5
    assert {(j.game_kwargs["reward"], j.game_kwargs["alpha"]) for j in jobs} == {
        *(("single", a) for a in ALPHAS), ("bimodal", 1.0)}
    for job in jobs:
        assert job.columns == COLUMNS and job.learner == "ac_fp" and job.runner is not None
        assert job.game_kwargs["eta"] == 0.0  # MJM Exp. 1
        # MJM's single Gaussian on one bump; a mixture of two (ours) on two
        bimodal = job.game_kwargs["reward"] == "bimodal"
        assert job.learner_kwargs.get("components", 1) == (2 if bimodal else 1)
        assert len(window_ends(job)) >= 8
    if not quick:
        assert jobs[0].game_kwargs["n_agents"] == 1000 and jobs[0].rounds == 2000
    spreads = [reference(job.game_kwargs)[0] for job in jobs
               if job.game_kwargs["reward"] == "single" and job.seed == jobs[0].seed]
    assert np.all(np.diff(spreads) > 0)  # the grid equilibrium's spread grows with α


# ----------------------------------------------------------------------------- the learner
def test_ac_fp_without_an_observed_statistic_learns_its_spread():
    """``state_size`` = the observation's length: no belief; ``learn_std`` makes the
    Gaussian's standard deviation a parameter that the policy gradient moves."""
    pytest.importorskip("torch")  # ac_fp is a torch learner (the baselines extra)
    core = SpatialCongestionCore(n_agents=50, eta=0.0, max_cycles=20)
    learner = make_learner("ac_fp", core, seed=0, state_size=2, learn_std=True,
                           action_std=0.3, discount=0.01, batch_rounds=1)
    assert learner.inputs == "joint" and learner.field_size == 0
    starts = core.reset(seed=0)["agent"]
    before = learner.actor.std().copy()
    for _ in range(20):
        actions = learner.act(starts)
        step = core.step({"agent": actions})
        learner.update(Transition(starts, actions, step.rewards["agent"],
                                  step.observations["agent"]))
        starts = step.observations["agent"]
    assert learner.belief.shape == (50, 0)
    assert not np.allclose(learner.actor.std(), before)
    assert learner.config()["learn_std"] is True
    # no belief: the mean action is a function of the observation, at any number of points
    assert learner.mean_action(np.zeros((7, 2))).shape == (7, 2)
    assert learner.belief.shape == (50, 0)
    copy = make_learner("ac_fp", core, seed=9, state_size=2, learn_std=True, action_std=0.3,
                        discount=0.01, batch_rounds=1)
    copy.load_state_dict(learner.state_dict())
    assert np.allclose(copy.actor.std(), learner.actor.std())


def test_ac_fp_refuses_offset_inputs_without_a_statistic_and_bad_learn_std():
    pytest.importorskip("torch")  # ac_fp is a torch learner (the baselines extra)
    core = SpatialCongestionCore(n_agents=3)
    with pytest.raises(ValueError, match="needs an observed mean-field statistic"):
        make_learner("ac_fp", core, state_size=2, inputs="offset")
    with pytest.raises(ValueError, match="at most the observation's 2 entries"):
        make_learner("ac_fp", core, state_size=3)
    with pytest.raises(TypeError, match="learn_std must be a bool"):
        make_learner("ac_fp", core, state_size=2, learn_std="yes")

