"""Every claim of every reproduction can fail (SPEC §5), and its bounds lie inside the run.

A reproduction checks its claims on the seed-averaged curves alone, so these tests make curves up
for the labels and run lengths of the reproduction's own jobs, and run nothing:

* players that do not learn — everyone plays uniformly at random, or everyone plays action 0 —
  give flat curves, and every claim must fail;
* learners that behave as the paper says give falling curves, and every claim must hold, so
  the checks are not simply always false.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from populace.envs.anonymous.congestion import CongestionCore
from populace.envs.anonymous.contribution import ContributionCore
from populace.train.papers import kash, kash_congestion
from populace.train.papers.claims import rounds_to_reach, settling_round
from populace.train.papers.jobs import Job, Means
from populace.train.papers.registry import REPRODUCTIONS

CORES = {"contribution_v0": ContributionCore, "congestion_v0": CongestionCore}
# Reproductions whose claims see other summaries than seed-averaged distance curves test
# their claims the same way in their own files.
OWN_CLAIM_TESTS = {
    "leonardos-amps": "test_leonardos.py", "leonardos-zspg": "test_leonardos.py",
    "leonardos-selection": "test_leonardos.py", "alt-warehouse": "test_alt.py",
    "alt-continuous": "test_alt.py", "mguni-lqr": "test_mguni_lqr.py",
    "mguni-spatial": "test_mguni_spatial.py", "mguni-supply": "test_mguni_supply.py",
}
MEAN_CURVES = [name for name in REPRODUCTIONS if name not in OWN_CLAIM_TESTS]
CASES = [pytest.param(name, quick, id=f"{name}{'-quick' if quick else ''}")
         for name in MEAN_CURVES for quick in (True, False)]


def test_every_reproduction_has_its_claims_tested():
    """A new reproduction gets curves here (``LEARNING``) or names its own test file."""
    assert set(MEAN_CURVES) == set(LEARNING)
    for name, filename in OWN_CLAIM_TESTS.items():
        assert name in REPRODUCTIONS
        assert name in (Path(__file__).parent / filename).read_text(encoding="utf-8")


def window_ends(job: Job) -> np.ndarray:
    """The rounds at which the train loop records a distance: the end of each window."""
    return np.arange(job.window, job.rounds + 1, job.window)


def start_distance(job: Job) -> float:
    """Distance of uniform play in the job's game, where every learner starts."""
    core = CORES[job.game](**job.game_kwargs)
    return float(core.distance(np.full(core.n_actions, 1.0 / core.n_actions)))


def flat_means(name: str, quick: bool, play: Callable[[int], np.ndarray]) -> Means:
    """The curves of players that keep playing ``play(n_actions)``: flat at its distance."""
    means = {}
    for job in REPRODUCTIONS[name].jobs(quick, 0):
        core = CORES[job.game](**job.game_kwargs)
        rounds = window_ends(job)
        level = float(core.distance(play(core.n_actions)))
        means[job.label] = (rounds, np.full(len(rounds), level))
    return means


def uniform(m: int) -> np.ndarray:
    return np.full(m, 1.0 / m)


def action_zero(m: int) -> np.ndarray:
    return np.eye(m)[0]


@pytest.mark.parametrize("name, quick", CASES)
@pytest.mark.parametrize("play", [uniform, action_zero], ids=["uniform", "action-0"])
def test_every_claim_fails_for_players_that_do_not_learn(name, quick, play):
    claims = REPRODUCTIONS[name].claims(flat_means(name, quick, play), quick)
    assert claims
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("name, quick", CASES)
def test_every_claim_fails_for_noisy_uniform_play(name, quick):
    """Uniform play measured over finite windows jitters; that must not pass for learning."""
    rng = np.random.default_rng(0)
    means = {
        label: (rounds, distance * (1 + 0.02 * rng.standard_normal(len(distance))))
        for label, (rounds, distance) in flat_means(name, quick, uniform).items()
    }
    claims = REPRODUCTIONS[name].claims(means, quick)
    assert [c.claim for c in claims if c.holds] == []


# Learners as the papers describe them: d(t) = level + (d_uniform − level)·exp(−t/scale),
# (level, scale) by label. Levels are close to what the full runs measure (README, Results).
LEARNING = {
    "kash-fig1": {
        "stage N=2": (2.6, 500), "stage N=10": (0.6, 250), "stage N=100": (0.32, 250),
        "stage N=1000": (0.27, 250), "responsive regret N=100": (1.2, 500),
        "plain regret N=100": (3.0, 3000),
    },
    "kash-fig2": {
        "fig1 stage N=100": (0.32, 250), "stage N=10": (3.0, 4000), "stage N=100": (1.5, 4000),
        "stage N=1000": (1.2, 2000), "responsive regret N=100": (1.5, 4000),
    },
    "kash-statistics": {
        kash.WITHOUT: (1.3, 1000), kash.FIG2_BASELINE: (1.5, 4000), kash.EXACT: (0.05, 100),
        kash.SAMPLED: (0.05, 150),
    },
    "kash-congestion": {
        **{f"stage acp N={n}": (level, 250) for n, level in ((10, 0.8), (100, 0.53), (1000, 0.27))},
        **{f"stage serial N={n}": (level, 250)
           for n, level in ((10, 0.45), (100, 0.31), (1000, 0.29))},
        **{f"regret {m} N={n}": (0.7, 500) for m in ("acp", "serial") for n in (10, 100, 1000)},
    },
}


def learning_means(name: str, quick: bool) -> Means:
    means = {}
    for job in REPRODUCTIONS[name].jobs(quick, 0):
        level, scale = LEARNING[name][job.label]
        rounds = window_ends(job)
        means[job.label] = (rounds, level + (start_distance(job) - level) * np.exp(-rounds / scale))
    return means


@pytest.mark.parametrize("name, quick", CASES)
def test_every_claim_holds_for_learners_that_behave_as_the_paper_says(name, quick):
    claims = REPRODUCTIONS[name].claims(learning_means(name, quick), quick)
    assert [c.claim for c in claims if not c.holds] == []


def test_uniform_play_is_where_the_curves_start():
    assert kash.uniform_distance() == pytest.approx(5.1)
    assert kash.uniform_distance() == pytest.approx(
        ContributionCore(n_agents=100).distance(np.full(20, 1 / 20)))
    assert kash_congestion.uniform_distance("acp") == pytest.approx(5.1)  # q* = 8
    assert kash_congestion.uniform_distance("serial") == pytest.approx(5.6)  # q* = 6


# ---------------------------------------------------------------------- bounds and helpers
def shortest_run(name: str, quick: bool = True) -> int:
    return min(job.rounds for job in REPRODUCTIONS[name].jobs(quick, 0))


def latest_settling(rounds: int, window: int = 250) -> int:
    """The latest round settling_round can report for a run of ``rounds``."""
    ends = np.arange(window, rounds + 1, window)
    return int(ends[-max(len(ends) // 4, 1) - 1])


def test_bounds_lie_inside_the_runs_that_check_them():
    assert kash.FEW_THOUSAND < shortest_run("kash-fig1")
    assert kash.REGRET_QUICKLY < shortest_run("kash-fig1")
    for quick in (True, False):
        matching = [j.rounds for j in REPRODUCTIONS["kash-fig2"].jobs(quick, 0)
                    if j.label == "stage N=100"]
        assert kash.FIG2_EARLIEST < latest_settling(min(matching))
    assert kash_congestion.QUICKLY <= latest_settling(shortest_run("kash-congestion"))


def test_settling_round_needs_a_drop_and_time_to_stay():
    rounds = np.arange(250, 5001, 250)
    assert settling_round(rounds, np.full(20, 5.1)) == (None, 5.1)  # flat
    assert settling_round(rounds, 5.1 - rounds / 1000)[0] is None  # still falling at the end
    assert settling_round(rounds, 5.1 - 0.3 * (rounds > 1000))[0] is None  # a small step
    settled, level = settling_round(rounds, 0.3 + 4.8 * np.exp(-rounds / 250))
    assert settled == 1000 and level == pytest.approx(0.3)
    assert settling_round(rounds, 0.3 + 4.8 * (rounds <= 3750))[0] is None  # drops too late
    assert settling_round(rounds, 0.3 + 4.8 * (rounds <= 3000))[0] == 3250


def test_rounds_to_reach():
    rounds = np.arange(250, 1251, 250)
    assert rounds_to_reach(rounds, np.array([5.0, 1.0, 0.2, 0.1, 0.1]), 0.5) == 750
    assert rounds_to_reach(rounds, np.array([5.0, 1.0, 0.2, 0.1, 0.9]), 0.5) is None
    assert rounds_to_reach(rounds, np.full(5, 0.1), 0.5) == 250


# ---------------------------------------------------------------------- the strongest simple rules
def equilibrium_rule(core, epsilon: float) -> np.ndarray:
    """Everyone plays the game's equilibrium action from the first round (nobody learns it),
    exploring uniformly over the other actions at the learner's rate ε."""
    target = core.reference_equilibrium()
    return (1 - epsilon) * target + epsilon * (1 - target) / (core.n_actions - 1)


def reply_to_uniform_rule(core, epsilon: float) -> np.ndarray:
    """Everyone plays the best reply to uniform play (where the learners start), exploring at ε."""
    payoffs = core.expected_payoffs(np.full(core.n_actions, 1.0 / core.n_actions))
    target = np.eye(core.n_actions)[int(np.argmax(payoffs))]
    return (1 - epsilon) * target + epsilon * (1 - target) / (core.n_actions - 1)


def rule_means(name: str, quick: bool, rule) -> Means:
    """Flat curves of a population following ``rule`` in every run, at each job's ε."""
    means = {}
    for job in REPRODUCTIONS[name].jobs(quick, 0):
        core = CORES[job.game](**job.game_kwargs)
        epsilon = job.learner_kwargs.get("epsilon", job.learner_kwargs.get("delta", 0.0))
        rounds = window_ends(job)
        means[job.label] = (rounds, np.full(len(rounds), float(core.distance(rule(core, epsilon)))))
    return means


@pytest.mark.parametrize("name, quick", CASES)
@pytest.mark.parametrize("rule", [equilibrium_rule, reply_to_uniform_rule],
                         ids=["equilibrium-rule", "reply-to-uniform"])
def test_every_claim_fails_for_the_strongest_simple_rules(name, quick, rule):
    """A population that plays the equilibrium (or the best reply to uniform play) from the
    first round has nothing to learn: its curve is flat at the exploration floor, the lowest
    any explorer reaches. A claim about learning must fail for it."""
    claims = REPRODUCTIONS[name].claims(rule_means(name, quick, rule), quick)
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("name, quick", CASES)
def test_the_table_sets_the_equilibrium_rule_beside_every_claim_and_it_fails(name, quick):
    claims = REPRODUCTIONS[name].claims(learning_means(name, quick), quick)
    assert all(c.baseline.startswith("equilibrium rule: ") and c.baseline.endswith("— fails")
               for c in claims)


def test_the_equilibrium_rule_sits_at_the_exploration_floor():
    job = next(j for j in REPRODUCTIONS["kash-fig1"].jobs(True, 0) if j.label == "stage N=100")
    assert kash.equilibrium_rule_distance(job) == pytest.approx(kash.floor(0.05))
    job = next(j for j in REPRODUCTIONS["kash-congestion"].jobs(True, 0)
               if j.label == "stage serial N=100")
    assert kash.equilibrium_rule_distance(job) == pytest.approx(
        kash_congestion.exploration_floor("serial", 100, 0.05))


def curves_from(means: Means, seed: int) -> list:
    from populace.train.papers.jobs import Curve

    return [Curve(Job(label, "contribution_v0", {}, "stage", {}, int(rounds[-1]), 250, seed),
                  rounds, distance, 0.0) for label, (rounds, distance) in means.items()]


def test_claims_are_also_checked_on_each_run_alone():
    """Two runs per label: one learns as KFH say, one plays uniformly. On the averaged curves
    the claims see half a drop; each claim says it holds on at most one of the two runs."""
    from populace.train.papers.jobs import seed_runs

    learning, flat = learning_means("kash-statistics", False), flat_means(
        "kash-statistics", False, uniform)
    curves = curves_from(learning, 0) + curves_from(flat, 1)
    split = seed_runs(curves)
    assert [{c.job.seed for c in one} for one in split] == [{0}, {1}]
    claims = REPRODUCTIONS["kash-statistics"].check(curves, False)
    assert [c.seeds for c in claims] == ["1/2"] * len(claims)
    with pytest.raises(ValueError, match="different numbers of runs"):
        seed_runs(curves[:-1])


def test_claim_helpers_refuse_mismatched_lists():
    from populace.train.papers.claims import Claim, beside_rule, seed_verdicts

    one = [Claim("c", "p", "o", True)]
    with pytest.raises(ValueError, match="1 claims but 2"):
        beside_rule(one, one * 2, "rule")
    with pytest.raises(ValueError, match="1 claims but 0"):
        seed_verdicts(one, [[]])
    kept = [Claim("c", "p", "o", True, baseline="own", per_seed=(True,))]
    assert beside_rule(kept, one, "rule") == kept == seed_verdicts(kept, [one, one])
