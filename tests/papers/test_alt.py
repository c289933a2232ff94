"""``alt-warehouse``'s and ``alt-continuous``'s claims can fail (SPEC §5): fed the summary of
players that do not learn (uniform play, a fixed zone and robots that stay, and the modal rule
in the learner's place) the reproduction fails; fed one of a learner as ALT describes, every
claim holds. The summaries are made up from simulated values and measured ε-Nash gains, and
nothing is trained here (the quick forms themselves run in tests/test_cli.py with the other
reproductions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ZONES
from populace.envs.warehouse.nash import nash_gains
from populace.envs.warehouse.sim import dispatcher_from_rows, simulate
from populace.envs.warehouse.solvers import induced_kernel, robot_best_response
from populace.envs.warehouse.warehouse_continuous import ContinuousModel, bin_shares
from populace.train.papers import alt, alt_continuous, alt_sweep
from populace.train.papers.alt import (
    AltSummary,
    Sweep,
    summarize,
    warehouse_claims,
    warehouse_jobs,
    warehouse_model,
)
from populace.train.papers.alt_continuous import ContinuousSummary, continuous_claims
from populace.train.papers.jobs import Curve
from populace.train.papers.registry import REPRODUCTIONS

SEEDS, EVALS, EPISODES = 3, 3, 20  # training seeds, evaluation seeds, episodes per seed
RUNTIME, NO_BONUS_CLAIM = 1, 4  # the claims only training and beating the rule can pass


def player(name: str) -> tuple[Callable[..., np.ndarray], np.ndarray]:
    """(dispatcher function, robots [s_l, s_g, a_l]) of a player that does not learn."""
    robots = np.zeros((ZONES, ZONES, 3))
    if name == "modal rule":
        return alt.modal_dispatcher, alt.UP
    if name == "uniform":
        return (dispatcher_from_rows(lambda zones, counts: np.full((len(zones), ZONES), 0.2)),
                np.full((ZONES, ZONES, 3), 1 / 3))
    robots[..., 0] = 1.0  # always stay
    return (lambda zones, counts, rng: np.zeros(len(zones), dtype=np.int64)), robots


@cache
def scored(name: str, k: int, setting: str, horizon: int) -> np.ndarray:
    """``(SEEDS, EVALS)`` mean returns of ``player(name)``, simulated."""
    dispatcher, robots = player(name)
    run = simulate(warehouse_model(k, setting), dispatcher, robots,
                   rollouts=SEEDS * EVALS * EPISODES, horizon=horizon,
                   rng=np.random.default_rng(0))  # as in a run, the same seeds at every k
    return run.returns.reshape(SEEDS, EVALS, EPISODES).mean(axis=2)


@cache
def player_sweep(name: str, setting: str, quick: bool) -> Sweep:
    """A sweep in which ``name`` plays instead of the learner, the modal rule beside it as in
    a run; ε at min(k, 5), where it is quick (it barely depends on k)."""
    ks = {(alt.PAPER, True): alt.QUICK_KS, (alt.PAPER, False): alt.FULL_KS,
          (alt.NO_BONUS, True): alt.NO_BONUS_QUICK_KS,
          (alt.NO_BONUS, False): alt.NO_BONUS_FULL_KS}[setting, quick]

    def gains(who: str, k: int) -> np.ndarray:
        found = nash_gains(warehouse_model(min(k, 5), setting), *player(who), rollouts=60,
                           samples=10)
        return np.array([found.dispatcher, found.robot])

    def table(who: str, horizon: int) -> np.ndarray:
        return np.array([scored(who, k, setting, horizon) for k in ks])

    zero = np.zeros((len(ks), SEEDS))
    return Sweep(tuple(ks), table(name, 100), table(name, 50), table("modal rule", 100),
                 table("modal rule", 50), zero, zero,
                 np.array([[gains(name, k)] * SEEDS for k in ks]),
                 np.array([[gains("modal rule", k)] for k in ks]))


def frozen_summary(name: str, quick: bool) -> AltSummary:
    return AltSummary(player_sweep(name, alt.PAPER, quick), player_sweep(name, alt.NO_BONUS, quick))


def learning_summary(quick: bool) -> AltSummary:
    """A learner as ALT describes it, at the levels the runs measure: with SPEC's constants it
    matches the modal rule, G-LEARN slower with k, small ε; without the bonus 10 above the
    rule."""
    rule = frozen_summary("modal rule", quick)
    paper, free = rule.paper, rule.no_bonus
    rng = np.random.default_rng(1)
    grow = np.log(np.array(paper.ks, dtype=float))[:, None, None]
    # the evaluation seeds are shared by every k, so is most of their noise (spread 1 here)
    noise = (rng.standard_normal((1, SEEDS, EVALS))
             + 0.1 * rng.standard_normal(paper.returns.shape))
    seconds = 0.05 * np.array([CountVectors(k).size for k in paper.ks], dtype=float) ** 0.9
    seconds = np.repeat(seconds[:, None], SEEDS, axis=1)
    small = np.full(paper.gains.shape, 0.04)
    return AltSummary(
        Sweep(paper.ks, 91.3 + 1.9 * grow + noise, 85.3 + 1.9 * grow + noise, paper.rule,
              paper.rule50, 2 + seconds, seconds, small, paper.rule_gains),
        Sweep(free.ks, free.rule + 10.0, free.rule50 + 8.0, free.rule, free.rule50,
              np.ones((len(free.ks), SEEDS)), np.ones((len(free.ks), SEEDS)),
              np.full(free.gains.shape, 0.04), free.rule_gains))


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", ["uniform", "zone 0, stay"])
def test_every_claim_fails_for_players_that_do_not_learn(name, quick):
    claims = warehouse_claims(frozen_summary(name, quick), quick)
    assert len(claims) == 5
    assert [c.claim for c in claims if c.holds] == []
    assert all(c.seeds == f"0/{SEEDS}" for c in claims)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_the_modal_rule_fails_the_reproduction(quick):
    """The modal rule in the learner's place: no training and no lead over itself, so it fails
    the runtime claim and the claim made without the bonus; with SPEC's constants it is a best
    response, so it may pass the others — and the simple-rule column says which it passes."""
    rule = frozen_summary("modal rule", quick)
    claims = warehouse_claims(rule.rule_as_learner(), quick)
    assert not claims[RUNTIME].holds and not claims[NO_BONUS_CLAIM].holds
    for claim in claims:
        assert claim.baseline.startswith("modal rule: ")
        assert claim.baseline.endswith("passes too" if claim.holds else "fails")
    assert rule.no_bonus.rule_gains[:, 0, 1].max() > 1.0  # "up" is no best response there
    assert rule.paper.rule_gains[:, 0].max() < alt.EPSILON  # ... but it is with SPEC's


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_claim_holds_for_a_learner_as_described(quick):
    claims = warehouse_claims(learning_summary(quick), quick)
    assert [c.claim for c in claims if not c.holds] == []
    assert all(c.seeds == f"{SEEDS}/{SEEDS}" for c in claims)
    assert claims[RUNTIME].baseline.endswith("fails")
    assert claims[NO_BONUS_CLAIM].baseline.endswith("fails")


def test_one_seed_falling_short_fails_the_claim():
    summary = learning_summary(False)
    free = summary.no_bonus
    returns = free.returns.copy()
    returns[2, 1] = free.rule[2, 1] + 0.5  # one k of one training seed: lead 0.5 < MARGIN
    claims = warehouse_claims(AltSummary(summary.paper, alt.replace(free, returns=returns)),
                              False)
    assert not claims[NO_BONUS_CLAIM].holds
    assert claims[NO_BONUS_CLAIM].per_seed == (True, False, True)


def test_the_allowed_shortfall_is_two_standard_errors():
    """Ours over 15 evaluation seeds with spread 1.2, theirs 0.57 over 15 seeds."""
    returns50 = np.array([[np.linspace(-1, 1, 15) * 1.2 / np.std(np.linspace(-1, 1, 15),
                                                                  ddof=1)]])
    expected = 2 * np.sqrt(1.2**2 / 15 + 0.57**2 / 15)
    assert alt.authors_shortfall_allowed(returns50)[0, 0] == pytest.approx(expected)
    assert expected < 0.75


def test_without_the_bonus_up_is_no_best_response():
    """With SPEC's constants the robots' exact best response is "up" where the modal rule
    plays; without the bonus it is not, in some state."""
    for setting, up_everywhere in ((alt.PAPER, True), (alt.NO_BONUS, False)):
        model = warehouse_model(5, setting)
        run = simulate(model, alt.modal_dispatcher, alt.UP, rollouts=100, horizon=100,
                       rng=np.random.default_rng(0))
        best = robot_best_response(model, induced_kernel(run.visits)).policy
        assert bool(np.all(best.argmax(axis=-1) == 1)) is up_everywhere
    with pytest.raises(ValueError, match="setting must be"):
        warehouse_model(5, "no bonus")


def test_the_bounds_lie_inside_what_a_run_can_reach():
    """The best the game allows is below r_g + 10.5 per step (every robot at the dispatcher's
    zone, moving up); uniform play starts at 77.3: a rise of 2 fits many times over."""
    ceiling = (1.0 + 10.5) * (1 - 0.95**100) / 0.05
    assert alt.RISE < ceiling - 77.30
    assert all(value < ceiling * (1 - 0.95**50) / (1 - 0.95**100) for value in
               alt.AUTHORS.values())
    assert 0 < alt.EPSILON < 1


def test_the_full_sweep_reaches_k_50_with_the_authors_rounded_operator():
    jobs = [job for job in warehouse_jobs(False, 0) if job.game_kwargs["setting"] == alt.PAPER]
    methods = {job.game_kwargs["k"]: job.learner_kwargs.get("method", "sampled") for job in jobs}
    assert methods == {1: "sampled", 2: "sampled", 5: "sampled", 10: "sampled",
                       20: "sampled", 50: "rounded"}
    assert set(alt.AUTHORS) <= set(methods)
    assert sorted({job.seed for job in jobs}) == list(range(alt.FULL_SEEDS))
    assert alt.FULL_SEEDS >= 5


def test_jobs_and_summary_fit_together():
    jobs = warehouse_jobs(True, 7)
    assert [(job.game_kwargs["setting"], job.game_kwargs["k"]) for job in jobs] == [
        *((alt.PAPER, k) for k in alt.QUICK_KS), *((alt.NO_BONUS, k) for k in
                                                   alt.NO_BONUS_QUICK_KS)]
    assert {job.seed for job in jobs} == {7}
    assert REPRODUCTIONS["alt-warehouse"].summarize is summarize

    def curve(job, i):
        return Curve(job, np.array([job.game_kwargs["k"]]), np.array([90.0]), 1.0,
                     {"return": np.full(3, 90.0 + i), "return50": np.full(3, 85.0 + i),
                      "rule": np.full(3, 89.0), "rule50": np.full(3, 84.0),
                      "train_seconds": np.array(1.0 + i), "g_learn_seconds": np.array(0.1),
                      "gains": np.array([0.01, -0.2]), "rule_gains": np.array([0.0, 0.0])})

    summary = summarize([curve(job, i) for i, job in reversed(list(enumerate(jobs)))])
    assert summary.paper.ks == alt.QUICK_KS and summary.no_bonus.ks == alt.NO_BONUS_QUICK_KS
    assert summary.paper.returns.shape == (len(alt.QUICK_KS), 1, 3)
    assert summary.paper.returns[1, 0, 0] == 91.0  # sorted by k
    assert summary.paper.epsilon.ravel().tolist() == [0.01] * len(alt.QUICK_KS)


def test_stacking_refuses_sample_sizes_run_on_different_seeds():
    jobs = warehouse_jobs(True, 0)[:2]
    curves = [Curve(job, np.array([job.game_kwargs["k"]]), np.zeros(1), 0.0,
                    {"return": np.zeros(2)}) for job in jobs]
    extra = Curve(alt.replace(jobs[0], seed=1), np.array([1]), np.zeros(1), 0.0,
                  {"return": np.zeros(2)})
    with pytest.raises(ValueError, match="same training seeds"):
        alt_sweep.stack([*curves, extra], "return")


# ----------------------------------------------------------------------------- alt-continuous
@cache
def continuous_play(name: str, k: int, horizon: int) -> tuple[np.ndarray, float]:
    """``(SEEDS, EVALS)`` mean returns and the mode accuracy of a player that does not learn:
    uniform play, a dispatcher always at bin 2 with robots that stay, or the modal rule."""
    model = ContinuousModel(alt_continuous.N_ROBOTS, k, 0.95)
    episodes = SEEDS * EVALS * 10
    if name == "modal rule":
        returns, accuracy = alt_continuous.modal_rule_returns(model, episodes, horizon, 0)
        return returns.reshape(SEEDS, EVALS, 10).mean(axis=2), accuracy
    rng = np.random.default_rng(0)  # as in a run, the same seeds at every k
    reference, robots = model.reset(episodes, rng)
    total, discount, hits = np.zeros(episodes), 1.0, 0
    for _ in range(horizon):
        if name == "uniform":
            targets, moves = rng.integers(5, size=episodes), rng.integers(3, size=robots.shape)
        else:
            targets, moves = np.full(episodes, 2), np.zeros(robots.shape, dtype=np.int64)
        hits += int((targets == bin_shares(robots).argmax(axis=1)).sum())
        reference, robots, earned_g, earned_l = model.step(reference, robots, targets, moves,
                                                           rng)
        total += discount * (earned_g + earned_l.mean(axis=1))
        discount *= 0.95
    return total.reshape(SEEDS, EVALS, 10).mean(axis=2), hits / (episodes * horizon)


@cache
def continuous_frozen(name: str, quick: bool) -> ContinuousSummary:
    ks = tuple(alt_continuous.QUICK_KS if quick else alt_continuous.FULL_KS)

    def table(who: str, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        runs = [continuous_play(who, k, horizon) for k in ks]
        return (np.array([r for r, _ in runs]),
                np.repeat(np.array([[a] for _, a in runs]), SEEDS, axis=1))

    (returns, accuracy), (returns50, _) = table(name, 100), table(name, 50)
    (rule, rule_accuracy), (rule50, _) = table("modal rule", 100), table("modal rule", 50)
    unknown = np.full((len(ks), SEEDS, 2), np.nan)  # no claim reads the gains
    return ContinuousSummary(ks, returns, returns50, rule, rule50, accuracy, rule_accuracy,
                             np.zeros((len(ks), SEEDS)), unknown, unknown)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
@pytest.mark.parametrize("name", ["uniform", "bin 2, stay"])
def test_every_continuous_claim_fails_for_players_that_do_not_learn(name, quick):
    claims = continuous_claims(continuous_frozen(name, quick), quick)
    assert len(claims) == 4
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_the_modal_rule_passes_the_continuous_claims_and_the_table_says_so(quick):
    """The honest finding: in the continuous warehouse the modal rule passes every claim, so
    the claims cannot tell learning from it; the simple-rule column says "passes too"."""
    summary = continuous_frozen("modal rule", quick)
    claims = continuous_claims(summary.rule_as_learner(), quick)
    assert [c.claim for c in claims if not c.holds] == []
    assert all(c.baseline.endswith("passes too") for c in claims)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_continuous_claim_holds_for_a_learner_as_described(quick):
    """The authors' curve itself (ALT G.2, horizon 50), with seed noise, over 100 steps the
    same plus the discounting of 50 more steps, and a mode accuracy that rises."""
    rule = continuous_frozen("modal rule", quick)
    ks = rule.ks
    noise = 0.5 * np.random.default_rng(2).standard_normal((len(ks), SEEDS, EVALS))
    returns50 = np.array([alt_continuous.AUTHORS[k] for k in ks])[:, None, None] + noise
    returns = returns50 * (1 - 0.95**100) / (1 - 0.95**50)
    accuracy = np.repeat(np.linspace(0.54, 0.81, len(ks))[:, None], SEEDS, axis=1)
    summary = alt.replace(rule, returns=returns, returns50=returns50, accuracy=accuracy,
                          train_seconds=np.ones((len(ks), SEEDS)))
    claims = continuous_claims(summary, quick)
    assert [c.claim for c in claims if not c.holds] == []
    assert all(c.seeds == f"{SEEDS}/{SEEDS}" for c in claims)


def test_continuous_jobs_cover_every_seed_and_k():
    jobs = alt_continuous.continuous_jobs(False, 3)
    assert len(jobs) == alt_continuous.FULL_SEEDS * len(alt_continuous.FULL_KS)
    assert {job.seed for job in jobs} == set(range(3, 3 + alt_continuous.FULL_SEEDS))
    assert REPRODUCTIONS["alt-continuous"].summarize is alt_continuous.summarize


def test_beating_the_rule_counts_only_where_the_rule_is_no_equilibrium():
    """Where the modal rule is itself an ε-Nash equilibrium, matching it is all a learner can
    be asked; if it is one at every k, the claim made without the bonus has nothing to show."""
    summary = learning_summary(True)
    free = summary.no_bonus
    assert alt.rule_loses(free).tolist() == [False, True]  # k = 1: "up" is nearly best there
    behind = free.returns.copy()
    behind[0] = free.rule[0] - 5.0  # k = 1 does not count
    claims = warehouse_claims(AltSummary(summary.paper, alt.replace(free, returns=behind)), True)
    assert claims[NO_BONUS_CLAIM].holds
    equilibrium = alt.replace(free, rule_gains=np.zeros_like(free.rule_gains))
    claims = warehouse_claims(AltSummary(summary.paper, equilibrium), True)
    assert not claims[NO_BONUS_CLAIM].holds
