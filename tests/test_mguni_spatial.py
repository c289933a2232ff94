"""``mguni-spatial``'s claims can fail (SPEC §5): fed the curves of players that do not learn —
everyone standing still, moving at random, or making one fixed move to the origin — every
claim fails; fed those of a population that settles at the grid equilibrium, every claim
holds. Nothing is trained here, apart from the learner's small unit tests at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from populace.agents import make_learner
from populace.agents.base import Transition
from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.mguni_spatial import (
    ALPHAS,
    COLUMNS,
    DRIFT,
    EXPLOITABILITY,
    PLACES,
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


def played(job: Job, play: str, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """One round's landings of ``play`` in the job's game, and the window's columns (flat)."""
    core = SpatialCongestionCore(**job.game_kwargs)
    starts = core.reset(seed=int(rng.integers(2**31)))[core.agent_group]
    if play == "still":
        moves = np.zeros_like(starts)
    elif play == "random":
        moves = rng.uniform(-core.action_bound, core.action_bound, starts.shape)
    else:  # "origin": everyone moves to the origin
        moves = -starts
    step = core.step({core.agent_group: moves})
    landings = step.info["landings"]
    metrics = core.window_metrics()
    metrics.record({core.agent_group: moves}, step)
    return metrics.scores({}), landings


def curves_of(quick: bool, play: str, seed: int = 0) -> list[Curve]:
    """The curves the runner would record for ``play``, per job of the reproduction.

    ``still``, ``random``, ``origin``: the same play every window (flat curves, measured on
    the game itself). ``learned``: exploitability falls from 0.3 to 0.01, the spread settles
    at the grid equilibrium's, and the bimodal landings hold the grid equilibrium's shares.
    """
    rng = np.random.default_rng(seed)
    curves = []
    for job in spatial_jobs(quick, seed):
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
            scores, landings = played(job, play, rng)
            columns = {name: np.full(len(rounds), float(scores[name])) for name in COLUMNS}
            columns.update({name: np.array([share_near(landings, place)])
                            for name, place in zip(SHARES, PLACES.values(), strict=True)})
            columns["initial_exploitability"] = columns["exploitability"][:1].copy()
        curves.append(Curve(job, rounds, columns["exploitability"], 1.0, columns))
    return curves


def holding(curves: list[Curve], quick: bool) -> list[bool]:
    return [claim.holds for claim in spatial_claims(summarize(curves), quick)]


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("play", ["still", "random", "origin"])
def test_every_claim_fails_for_players_that_do_not_learn(quick, play):
    claims = spatial_claims(summarize(curves_of(quick, play)), quick)
    assert len(claims) == 3
    assert [c.claim for c in claims if c.holds] == []


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
    for curve in curves[:len(ALPHAS)]:
        curve.columns["spread"][:] = curves[0].columns["spread"]  # no growth with α
    assert holding(curves, quick)[1] is False
    curves = curves_of(quick, "learned")
    curves[2].columns["spread"][:] *= 1 + 1.2 * SPREAD_TOLERANCE[quick]
    assert holding(curves, quick) == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[1].columns["exploitability"][:] = 1.2 * EXPLOITABILITY[quick]  # halved, too high
    assert holding(curves, quick) == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[1].columns["initial_exploitability"][:] = 1.9 * curves[1].columns[
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
    jobs = spatial_jobs(quick, 0)
    assert REPRODUCTIONS["mguni-spatial"].jobs(quick, 0) == jobs
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
    spreads = [reference(job.game_kwargs)[0] for job in jobs[:len(ALPHAS)]]
    assert np.all(np.diff(spreads) > 0)  # the grid equilibrium's spread grows with α


# ----------------------------------------------------------------------------- the learner
def test_ac_fp_without_an_observed_statistic_learns_its_spread():
    """``state_size`` = the observation's length: no belief; ``learn_std`` makes the
    Gaussian's standard deviation a parameter that the policy gradient moves."""
    core = SpatialCongestionCore(n_agents=50, eta=0.0, max_cycles=20)
    learner = make_learner("ac_fp", core, seed=0, state_size=2, learn_std=True,
                           action_std=0.3, discount=0.01, batch_rounds=1)
    assert learner.inputs == "joint" and learner.field_size == 0
    starts = core.reset(seed=0)["agent"]
    before = learner._std().copy()
    for _ in range(20):
        actions = learner.act(starts)
        step = core.step({"agent": actions})
        learner.update(Transition(starts, actions, step.rewards["agent"],
                                  step.observations["agent"]))
        starts = step.observations["agent"]
    assert learner.belief.shape == (50, 0)
    assert not np.allclose(learner._std(), before)
    assert learner.config()["learn_std"] is True
    # no belief: the mean action is a function of the observation, at any number of points
    assert learner.mean_action(np.zeros((7, 2))).shape == (7, 2)
    assert learner.belief.shape == (50, 0)
    copy = make_learner("ac_fp", core, seed=9, state_size=2, learn_std=True, action_std=0.3,
                        discount=0.01, batch_rounds=1)
    copy.load_state_dict(learner.state_dict())
    assert np.allclose(copy._std(), learner._std())


def test_ac_fp_refuses_offset_inputs_without_a_statistic_and_bad_learn_std():
    core = SpatialCongestionCore(n_agents=3)
    with pytest.raises(ValueError, match="needs an observed mean-field statistic"):
        make_learner("ac_fp", core, state_size=2, inputs="offset")
    with pytest.raises(ValueError, match="at most the observation's 2 entries"):
        make_learner("ac_fp", core, state_size=3)
    with pytest.raises(TypeError, match="learn_std must be a bool"):
        make_learner("ac_fp", core, state_size=2, learn_std="yes")

