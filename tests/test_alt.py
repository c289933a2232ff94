"""``alt-warehouse``'s and ``alt-continuous``'s claims can fail (SPEC §5): fed the summary of
players that do not learn they all fail; fed one of a learner as ALT describes, they all hold.
The summaries are made up from the games' exact or simulated values and measured ε-Nash gains,
and nothing is trained here (the quick forms themselves run in tests/test_cli.py with the
other reproductions)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ZONES, WarehouseModel, chain_value
from populace.envs.warehouse.nash import nash_gains
from populace.envs.warehouse.warehouse_continuous import ContinuousModel, bin_shares
from populace.train.papers import alt, alt_continuous
from populace.train.papers.alt import AltSummary, summarize, warehouse_claims, warehouse_jobs
from populace.train.papers.alt_continuous import continuous_claims
from populace.train.papers.jobs import Curve
from populace.train.papers.registry import REPRODUCTIONS

SEEDS = 5


def plays(name: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(dispatcher [s_g, rank, a_g], robots [s_l, s_g, a_l]) of a player that does not learn."""
    size = CountVectors(k).size
    if name == "uniform":
        return np.full((ZONES, size, ZONES), 1 / ZONES), np.full((ZONES, ZONES, 3), 1 / 3)
    dispatcher = np.zeros((ZONES, size, ZONES))
    dispatcher[..., 0] = 1.0  # always zone 0
    robots = np.zeros((ZONES, ZONES, 3))
    robots[..., 0] = 1.0  # always stay
    return dispatcher, robots


@cache
def frozen_summary(name: str, quick: bool) -> AltSummary:
    """The summary of players that keep playing ``plays(name, k)``: the exact returns of the
    25-state chain (with a little seed noise), no training time, measured ε-Nash gains."""
    ks = tuple(alt.QUICK_KS if quick else alt.FULL_KS)
    rng = np.random.default_rng(0)
    rows, rows50, gains = [], [], []
    for k in ks:
        model = WarehouseModel.build(n_robots=alt.N_ROBOTS, k=k, gamma=0.95, pull="next")
        dispatcher, robots = plays(name, k)
        blind = dispatcher[:, 0, :]  # neither player looks at the sample
        rows.append(chain_value(model, blind, robots, 100) + 0.3 * rng.standard_normal(SEEDS))
        rows50.append(chain_value(model, blind, robots, 50) + 0.3 * rng.standard_normal(SEEDS))
        small = WarehouseModel.build(n_robots=alt.N_ROBOTS, k=min(k, 5), gamma=0.95,
                                     pull="next")  # ε barely depends on k; k ≤ 5 is quick
        found = nash_gains(small, *plays(name, small.k), rollouts=60, samples=10)
        gains.append((found.dispatcher, found.robot))
    gain = np.array(gains)
    zero = np.zeros(len(ks))
    return AltSummary(ks, np.array(rows), np.array(rows50), zero, zero, gain[:, 0], gain[:, 1])


def learning_summary(quick: bool) -> AltSummary:
    """A learner as ALT describes it: return rising with k, G-LEARN slower with k, small ε
    (levels close to what the full run measures, README)."""
    ks = tuple(alt.QUICK_KS if quick else alt.FULL_KS)
    grow = np.log(np.array(ks, dtype=float))
    rng = np.random.default_rng(1)
    returns = (91.3 + 1.9 * grow)[:, None] + 0.2 * rng.standard_normal((len(ks), SEEDS))
    returns50 = (85.3 + 1.9 * grow)[:, None] + 0.2 * rng.standard_normal((len(ks), SEEDS))
    seconds = 0.05 * np.array([CountVectors(k).size for k in ks], dtype=float) ** 0.9
    return AltSummary(ks, returns, returns50, 2 + seconds, seconds, np.full(len(ks), 0.05),
                      np.full(len(ks), 0.04))


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", ["uniform", "zone 0, stay"])
def test_every_claim_fails_for_players_that_do_not_learn(name, quick):
    claims = warehouse_claims(frozen_summary(name, quick), quick)
    assert len(claims) == 4
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_claim_holds_for_a_learner_as_described(quick):
    claims = warehouse_claims(learning_summary(quick), quick)
    assert [c.claim for c in claims if not c.holds] == []


def test_the_bounds_lie_inside_what_a_run_can_reach():
    """The best the game allows is below r_g + 10.5 per step (every robot at the dispatcher's
    zone, moving up); uniform play starts at 77.3: a rise of 2 fits many times over."""
    ceiling = (1.0 + 10.5) * (1 - 0.95**100) / 0.05
    assert alt.RISE < ceiling - 77.30
    assert all(value < ceiling * (1 - 0.95**50) / (1 - 0.95**100) for value in
               alt.AUTHORS.values())
    assert 0 < alt.EPSILON < 1


def test_the_full_sweep_reaches_k_50_with_the_authors_rounded_operator():
    jobs = warehouse_jobs(False, 0)
    methods = {job.game_kwargs["k"]: job.learner_kwargs.get("method", "sampled") for job in jobs}
    assert methods == {1: "sampled", 2: "sampled", 5: "sampled", 10: "sampled",
                       20: "sampled", 50: "rounded"}
    assert set(alt.AUTHORS) <= set(methods)


def test_jobs_and_summary_fit_together():
    jobs = warehouse_jobs(True, 0)
    assert [job.game_kwargs["k"] for job in jobs] == list(alt.QUICK_KS)
    assert REPRODUCTIONS["alt-warehouse"].summarize is summarize
    curves = [Curve(job, np.array([job.game_kwargs["k"]]), np.array([90.0]), 1.0,
                    {"return": np.full(3, 90.0 + i), "return50": np.full(3, 85.0 + i),
                     "train_seconds": np.array([1.0 + i]), "g_learn_seconds": np.array([0.1]),
                     "gain_dispatcher": np.array([0.01]), "gain_robot": np.array([-0.2])})
              for i, job in enumerate(reversed(jobs))]
    summary = summarize(curves)
    assert summary.ks == tuple(alt.QUICK_KS)
    assert summary.returns[0, 0] == 90.0 + len(jobs) - 1  # sorted by k
    assert summary.epsilon.tolist() == [0.01] * len(jobs)


# ----------------------------------------------------------------------------- alt-continuous
@cache
def continuous_frozen(name: str, quick: bool) -> alt_continuous.ContinuousSummary:
    """Players that do not learn in the continuous warehouse, simulated (their value does
    not depend on k): uniform play, or a dispatcher always at bin 2 with robots that stay."""
    ks = tuple(alt_continuous.QUICK_KS if quick else alt_continuous.FULL_KS)
    model = ContinuousModel(alt_continuous.N_ROBOTS, 1, 0.95)
    rng = np.random.default_rng(0)
    reference, robots = model.reset(100, rng)
    total, discount, hits = np.zeros(100), 1.0, 0
    for _ in range(alt_continuous.HORIZON):
        if name == "uniform":
            targets, moves = rng.integers(5, size=100), rng.integers(3, size=robots.shape)
        else:
            targets, moves = np.full(100, 2), np.zeros(robots.shape, dtype=np.int64)
        hits += int((targets == bin_shares(robots).argmax(axis=1)).sum())
        reference, robots, earned_g, earned_l = model.step(reference, robots, targets, moves,
                                                           rng)
        total += discount * (earned_g + earned_l.mean(axis=1))
        discount *= 0.95
    noise = np.random.default_rng(1).standard_normal((len(ks), SEEDS))
    returns = total.mean() + 1.5 * noise
    accuracy = np.full(len(ks), hits / (100 * alt_continuous.HORIZON))
    unknown = np.full(len(ks), np.nan)  # no claim reads the gains
    return alt_continuous.ContinuousSummary(ks, returns, accuracy, np.zeros(len(ks)), unknown,
                                            unknown)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", ["uniform", "bin 2, stay"])
def test_every_continuous_claim_fails_for_players_that_do_not_learn(name, quick):
    claims = continuous_claims(continuous_frozen(name, quick), quick)
    assert len(claims) == 4
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_continuous_claim_holds_for_a_learner_as_described(quick):
    """The authors' curve itself (ALT G.2), with seed noise, and a mode accuracy that rises."""
    ks = tuple(alt_continuous.QUICK_KS if quick else alt_continuous.FULL_KS)
    noise = np.random.default_rng(2).standard_normal((len(ks), SEEDS))
    returns = np.array([alt_continuous.AUTHORS[k] for k in ks])[:, None] + 0.5 * noise
    accuracy = np.linspace(0.54, 0.81, len(ks))
    gains = np.full(len(ks), np.nan)
    summary = alt_continuous.ContinuousSummary(ks, returns, accuracy, np.ones(len(ks)), gains,
                                               gains)
    assert [c.claim for c in continuous_claims(summary, quick) if not c.holds] == []
