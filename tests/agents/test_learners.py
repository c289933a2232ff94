"""Stage learners (KFH §3.3) and payoff-based regret matching (Hart & Mas-Colell 2001).

Rule-level checks on hand-made rounds, a plain per-agent reference implementation of regret
matching, statistical checks of the samplers, checkpoints, bad input, and an end-to-end run of
stage learners on KFH's contribution game.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from populace.agents import (
    LEARNERS,
    Learner,
    RegretMatching,
    StageLearner,
    Transition,
    make_learner,
    mu_from_bounds,
    regret,
)
from populace.envs.anonymous.contribution import ContributionCore


def feed(learner: Learner, actions: list[int], rewards: list[float], **kwargs) -> None:
    learner.update(Transition.of_round(np.array(actions), np.array(rewards, dtype=float), **kwargs))


def play(learner: Learner, core, rounds: int) -> np.ndarray:
    """Drive ``learner`` on ``core`` for ``rounds``; return the action counts of every round."""
    core.reset(seed=1)
    counts = np.empty((rounds, core.n_actions), dtype=np.int64)
    for r in range(rounds):
        actions = learner.act()
        step = core.step({"agent": actions})
        learner.update(Transition.of_round(actions, step.rewards["agent"]))
        counts[r] = step.info["counts"]
    return counts


def state_nbytes(learner: Learner) -> int:
    return sum(v.nbytes for v in learner.state_dict().values() if isinstance(v, np.ndarray))


# ====================================================================== stage learners
def stage(n_agents: int, n_actions: int, stage_actions: list[int], **kwargs) -> StageLearner:
    learner = StageLearner(n_agents, n_actions, seed=0, **kwargs)
    learner.stage_actions = np.array(stage_actions, dtype=np.int64)
    return learner


def test_stage_switches_to_the_best_average_payoff():
    learner = stage(2, 4, [0, 3], epsilon=0.0, tau=3)
    feed(learner, [1, 3], [5.0, 1.0])
    feed(learner, [2, 3], [1.0, 1.0])
    assert learner.stage_actions.tolist() == [0, 3]  # nothing changes within a stage
    feed(learner, [2, 0], [4.0, 2.0])
    # agent 0: action 1 averages 5, action 2 averages 2.5; agent 1: 0 (2.0) beats 3 (1.0)
    assert learner.stage_actions.tolist() == [1, 0]
    assert learner.round_in_stage == 0
    assert not learner.payoff_sums.any() and not learner.play_counts.any()


def test_stage_unexplored_actions_count_as_zero():
    learner = stage(2, 3, [1, 1], epsilon=0.0, tau=2)
    feed(learner, [1, 1], [-2.0, 3.0])
    feed(learner, [1, 2], [-2.0, -1.0])
    # agent 0 only lost with 1: unplayed 0 and 2 are worth 0, the lowest index wins
    # agent 1: 1 averages 3 > 0 (unplayed) > -1 (action 2)
    assert learner.stage_actions.tolist() == [0, 1]


def test_stage_ties_keep_the_current_action_else_lowest_index():
    learner = stage(3, 4, [2, 3, 3], epsilon=0.0, tau=1)
    # agent 0: 2 ties with unplayed actions at 0 -> keeps 2
    # agent 1: 1 and 2 tie at 5, current 3 unplayed (0) -> lowest best index, 1
    # agent 2: ties of 3 with unplayed actions at 0 after earning 0 -> keeps 3
    learner.update(Transition.of_round(np.array([2, 1, 3]), np.array([0.0, 5.0, 0.0])))
    assert learner.stage_actions.tolist() == [2, 1, 3]
    learner = stage(1, 4, [3], epsilon=0.0, tau=2)
    feed(learner, [1], [5.0])
    feed(learner, [2], [5.0])
    assert learner.stage_actions.tolist() == [1]


def test_stage_exploration_frequencies():
    n, m, eps = 40_000, 5, 0.2
    learner = StageLearner(n, m, epsilon=eps, seed=3)
    actions = learner.act()
    explored = actions != learner.stage_actions
    assert abs(explored.mean() - eps) < 0.015  # sd ≈ 0.002
    offsets = (actions[explored] - learner.stage_actions[explored]) % m  # 1..m-1, uniform
    shares = np.bincount(offsets, minlength=m)[1:] / explored.sum()
    assert np.all(np.abs(shares - 1 / (m - 1)) < 0.03)
    starts = np.bincount(learner.stage_actions, minlength=m) / n  # uniform initial actions
    assert np.all(np.abs(starts - 1 / m) < 0.02)


def test_stage_without_exploration_plays_the_stage_action():
    learner = StageLearner(500, 7, epsilon=0.0, tau=4, seed=1)
    for _ in range(10):
        actions = learner.act()
        assert np.array_equal(actions, learner.stage_actions)
        learner.update(Transition.of_round(actions, np.ones(500)))


def test_stage_policy_is_a_epsilon():
    learner = stage(2, 5, [0, 4], epsilon=0.2)
    expected = np.full((2, 5), 0.05)
    expected[0, 0] = expected[1, 4] = 0.8
    np.testing.assert_allclose(learner.policy(), expected)


def test_stage_with_statistics_averages_the_payoff_estimates():
    learner = stage(2, 3, [0, 0], epsilon=0.0, tau=2, use_statistics=True)
    assert learner.extras == ("payoff_estimates",) and StageLearner.extras == ()
    estimates = np.array([[0.0, 1.0, 3.0], [0.0, 4.0, 1.0]])
    # the realized rewards (which favour action 0) are ignored in this mode
    feed(learner, [0, 0], [9.0, 9.0], payoff_estimates=estimates)
    feed(learner, [0, 0], [9.0, 9.0], payoff_estimates=estimates - [0.0, 0.0, 2.5])
    # agent 0: action 2 averages 1.75 > 1; agent 1: action 1 averages 4
    assert learner.stage_actions.tolist() == [2, 1]
    with pytest.raises(ValueError, match="payoff_estimates"):
        feed(learner, [0, 0], [1.0, 1.0])
    bad = estimates.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="agent 1"):
        feed(learner, [0, 0], [1.0, 1.0], payoff_estimates=bad)


def test_stage_with_statistics_accepts_a_broadcast_row():
    learner = stage(1000, 3, [0] * 1000, epsilon=0.1, tau=3, use_statistics=True)
    row = np.broadcast_to(np.array([0.0, 2.0, 1.0]), (1000, 3))
    for _ in range(3):
        learner.update(Transition.of_round(learner.act(), np.zeros(1000), payoff_estimates=row))
    assert (learner.stage_actions == 1).all()


def test_stage_learners_reach_equilibrium_in_the_contribution_game():
    core = ContributionCore(n_agents=100, payoff="average")
    core.max_cycles = 10**6
    learner = StageLearner(100, 20, epsilon=0.05, tau=250, seed=0)
    counts = play(learner, core, 3000)
    last_stage = counts[-250:].sum(axis=0) / (250 * 100)
    floor = core.exploration_floor(0.05)
    assert core.distance(last_stage) < floor + 0.25  # seeds 0-9 give floor + 0.01 ... + 0.12
    assert (learner.stage_actions == 8).mean() >= 0.9  # seeds 0-9: 0.94 ... 1.0
    first_stage = counts[:250].sum(axis=0) / (250 * 100)
    assert core.distance(first_stage) > 3  # it started far away (uniform play)


# ====================================================================== regret matching
def reference_regret_matching(actions, rewards, m, mu, delta, gamma):
    """Plain per-agent loops, arranged like the vectorized code: p_t for t = 2..T+1."""
    rounds, n = actions.shape
    history = np.empty((rounds, n, m))
    for i in range(n):
        p = [1.0 / m] * m
        a_sums = [[0.0] * m for _ in range(m)]  # a_sums[j][k] = Σ_{s=k} p(j)/p(k)·U
        r_sums = [0.0] * m  # r_sums[j] = Σ_{s=j} U
        for t in range(1, rounds + 1):
            s, u = int(actions[t - 1, i]), float(rewards[t - 1, i])
            weight = u / p[s]
            for j in range(m):
                if j != s:
                    a_sums[j][s] += p[j] * weight
            r_sums[s] += u
            explore = delta / t**gamma
            keep = 1.0 - explore
            new = [0.0] * m
            for k in range(m):
                if k != s:
                    c = (a_sums[s][k] - r_sums[s]) * (keep / (t * mu))
                    new[k] = min(max(c, 0.0), keep / (m - 1)) + explore / m
            total = 0.0
            for k in range(m):
                total += new[k]
            new[s] = 1.0 - total
            p = new
            history[t - 1, i] = p
    return history


def textbook_regret_matching(actions, rewards, m, mu, delta, gamma):
    """Hart & Mas-Colell's formulas verbatim (C_t summed term by term), one agent at a time."""
    rounds, n = actions.shape
    history = np.empty((rounds, n, m))
    for i in range(n):
        p = np.full(m, 1.0 / m)
        c_sum = np.zeros((m, m))
        for t in range(1, rounds + 1):
            s, u = actions[t - 1, i], rewards[t - 1, i]
            for j in range(m):
                for k in range(m):
                    c_sum[j, k] += p[j] / p[k] * u * (s == k) - u * (s == j)
            d = np.maximum(c_sum / t, 0.0)
            h = delta / t**gamma
            new = np.array([(1 - h) * min(d[s, k] / mu, 1 / (m - 1)) + h / m for k in range(m)])
            new[s] = 0.0
            new[s] = 1.0 - new.sum()
            p = new
            history[t - 1, i] = p
    return history


def run_recorded(learner: RegretMatching, rounds: int, rng: np.random.Generator):
    actions, rewards, policies = [], [], []
    for _ in range(rounds):
        a = learner.act()
        r = rng.normal(size=learner.n_agents) * 3 + a - 2
        learner.update(Transition.of_round(a, r))
        actions.append(a)
        rewards.append(r)
        policies.append(learner.policy())
    return np.array(actions), np.array(rewards), np.array(policies)


@pytest.mark.parametrize(
    "mu, delta, gamma", [(3.0, 0.3, 0.2), (0.5, 0.1, 0.25), (40.0, 1.0, 0.0), (1.0, 0.05, 1.0)]
)
def test_regret_matching_matches_a_per_agent_reference_exactly(mu, delta, gamma):
    n, m = 9, 4
    learner = RegretMatching(n, m, mu=mu, delta=delta, gamma=gamma, seed=5)
    actions, rewards, policies = run_recorded(learner, 60, np.random.default_rng(1))
    expected = reference_regret_matching(actions, rewards, m, mu, delta, gamma)
    assert np.array_equal(policies, expected)


def test_regret_matching_follows_the_textbook_formulas():
    n, m, mu, delta, gamma = 5, 3, 2.0, 0.2, 0.2
    learner = RegretMatching(n, m, mu=mu, delta=delta, gamma=gamma, seed=2)
    actions, rewards, policies = run_recorded(learner, 40, np.random.default_rng(4))
    expected = textbook_regret_matching(actions, rewards, m, mu, delta, gamma)
    np.testing.assert_allclose(policies, expected, rtol=1e-12, atol=1e-12)


def test_regret_matching_in_blocks_matches_the_reference(monkeypatch):
    monkeypatch.setattr(regret, "BLOCK", 4)  # 9 agents in blocks of 4, 4 and 1
    learner = RegretMatching(9, 4, mu=3.0, delta=0.3, seed=5)
    assert len(learner._blocks) == 3
    actions, rewards, policies = run_recorded(learner, 60, np.random.default_rng(1))
    assert np.array_equal(policies, reference_regret_matching(actions, rewards, 4, 3.0, 0.3, 0.2))


def reference_discounted(actions, rewards, m, mu, delta, gamma, discount):
    """The discounted variant in plain per-agent loops, arranged like the vectorized code."""
    rounds, n = actions.shape
    history = np.empty((rounds, n, m))
    for i in range(n):
        p = [1.0 / m] * m
        a_sums = [[0.0] * m for _ in range(m)]  # a_sums[j][k] = Σ_{s=k} p(j)/p(k)·U·scale
        r_sums = [0.0] * m
        scale = 1.0  # (1 − λ)^−t
        for t in range(1, rounds + 1):
            s = int(actions[t - 1, i])
            scale /= 1.0 - discount
            u = float(rewards[t - 1, i]) * scale
            weight = u / p[s]
            for j in range(m):
                if j != s:
                    a_sums[j][s] += p[j] * weight
            r_sums[s] += u
            z = -math.expm1(t * math.log1p(-discount)) / discount  # Σ_τ (1 − λ)^(t−τ)
            explore = delta / z**gamma
            keep = 1.0 - explore
            new = [0.0] * m
            for k in range(m):
                if k != s:
                    c = (a_sums[s][k] - r_sums[s]) * (keep / (z * mu * scale))
                    new[k] = min(max(c, 0.0), keep / (m - 1)) + explore / m
            total = 0.0
            for k in range(m):
                total += new[k]
            new[s] = 1.0 - total
            p = new
            history[t - 1, i] = p
    return history


def textbook_discounted(actions, rewards, m, mu, delta, gamma, discount):
    """C_t as a normalized exponentially weighted average of the per-round terms; W too."""
    rounds, n = actions.shape
    history = np.empty((rounds, n, m))
    tables = np.empty((n, m, m))
    for i in range(n):
        p = np.full(m, 1.0 / m)
        c = np.zeros((m, m))
        w = np.zeros((m, m))  # [k, j] = Σ_{s=k} (1 − λ)^age·p(j)/p(k)·U (diagonal: Σ_{s=j} U)
        z = 0.0
        for t in range(1, rounds + 1):
            s, u = actions[t - 1, i], rewards[t - 1, i]
            terms = np.zeros((m, m))
            for j in range(m):
                for k in range(m):
                    terms[j, k] = p[j] / p[k] * u * (s == k) - u * (s == j)
            z = (1 - discount) * z + 1
            c += (terms - c) / z
            w *= 1 - discount
            w[s] += p / p[s] * u
            h = delta / z**gamma
            new = np.array([(1 - h) * min(max(c[s, k], 0) / mu, 1 / (m - 1)) + h / m
                            for k in range(m)])
            new[s] = 0.0
            new[s] = 1.0 - new.sum()
            p = new
            history[t - 1, i] = p
        tables[i] = w
    return history, tables


@pytest.mark.parametrize("discount, gamma", [(0.1, 0.2), (0.5, 0.0), (0.003, 0.25)])
def test_discounted_regret_matching_matches_a_per_agent_reference_exactly(discount, gamma):
    n, m, mu, delta = 7, 4, 2.0, 0.2
    learner = RegretMatching(n, m, mu=mu, delta=delta, gamma=gamma, discount=discount, seed=3)
    learner._rescale_exponent = 3  # rescale every few rounds: exact, so nothing may change
    actions, rewards, policies = run_recorded(learner, 60, np.random.default_rng(2))
    assert learner.scale <= 2.0**4
    expected = reference_discounted(actions, rewards, m, mu, delta, gamma, discount)
    assert np.array_equal(policies, expected)


def test_discounted_regret_matching_follows_the_weighted_average():
    n, m, mu, delta, gamma, discount = 5, 3, 2.0, 0.2, 0.2, 0.05
    learner = RegretMatching(n, m, mu=mu, delta=delta, gamma=gamma, discount=discount, seed=2)
    actions, rewards, policies = run_recorded(learner, 40, np.random.default_rng(4))
    expected, tables = textbook_discounted(actions, rewards, m, mu, delta, gamma, discount)
    np.testing.assert_allclose(policies, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(learner.regret_table(), tables, rtol=1e-12, atol=1e-9)
    assert learner.effective_rounds() == pytest.approx((1 - (1 - discount) ** 40) / discount)


def test_a_tiny_discount_is_almost_the_time_average():
    plain = RegretMatching(6, 4, mu=2.0, seed=1)
    actions, rewards, policies = run_recorded(plain, 50, np.random.default_rng(3))
    discounted = RegretMatching(6, 4, mu=2.0, discount=1e-9, seed=1)
    for a, r in zip(actions, rewards, strict=True):
        discounted.update(Transition.of_round(a, r))
    np.testing.assert_allclose(discounted.policy(), policies[-1], atol=1e-6)


@pytest.mark.parametrize("discount, rounds", [(0.1, 20_000), (0.9, 5_000)])
def test_discounted_regret_matching_stays_finite_on_the_simplex(discount, rounds):
    core = ContributionCore(n_agents=10, payoff="average")
    core.max_cycles = 10**6
    learner = make_learner("regret", core, seed=0, discount=discount)
    core.reset(seed=0)
    low, total = 1.0, 0.0
    for _ in range(rounds):
        actions = learner.act()
        learner.update(Transition.of_round(actions, core.step({"agent": actions}).rewards["agent"]))
        p = learner.probabilities
        low = min(low, p.min())
        total = max(total, np.abs(p.sum(axis=0) - 1).max())
    assert low > 0 and total < 1e-12
    assert np.isfinite(learner.probabilities).all()
    assert 1.0 <= learner.scale <= 2.0**256 / (1 - discount)  # rescaled along the way
    assert np.isfinite(learner.regret_table()).all()
    assert learner.effective_rounds() == pytest.approx(1 / discount)


def test_inverse_cdf_draws_by_cumulative_weight_for_few_and_many_columns():
    for k in (7, 300):  # whole-array calls below 256 columns, a loop over the actions above
        weights = np.random.default_rng(k).random((5, k))
        weights[2, : k // 2] = 0.0
        drawn = regret._inverse_cdf(weights.copy(), np.random.default_rng(0))
        targets = np.random.default_rng(0).random(k) * weights.sum(axis=0)
        cumulative = np.cumsum(weights, axis=0)
        expected = [int((cumulative[:-1, c] <= targets[c]).sum()) for c in range(k)]
        assert drawn.tolist() == expected
        assert (drawn[: k // 2] != 2).all()


def test_regret_matching_accepts_any_actions_not_only_its_own():
    n, m = 6, 5
    rng = np.random.default_rng(7)
    actions = rng.integers(m, size=(30, n))
    rewards = rng.normal(size=(30, n))
    learner = RegretMatching(n, m, mu=1.0, seed=0)
    for a, r in zip(actions, rewards, strict=True):
        learner.update(Transition.of_round(a, r))
    expected = reference_regret_matching(actions, rewards, m, 1.0, 0.1, 0.2)
    assert np.array_equal(learner.policy(), expected[-1])


def test_regret_matching_starts_uniform_and_samples_its_policy():
    learner = RegretMatching(4, 3, mu=1.0, seed=0)
    np.testing.assert_array_equal(learner.policy(), np.full((4, 3), 1 / 3))
    wanted = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.05, 0.9, 0.05]])
    state = learner.state_dict()  # as if after some rounds, anchored at s_t:
    state.update(probabilities=wanted.T.copy(), t=np.array(5), last_actions=np.array([0, 2, 1, 0]))
    learner.load_state_dict(state)
    draws = 20_000
    counts = np.zeros((4, 3))
    for _ in range(draws):
        counts[np.arange(4), learner.act()] += 1
    assert np.abs(counts / draws - wanted).max() < 0.015  # sd <= 0.0036


def test_regret_matching_stays_on_the_simplex_over_a_long_run():
    core = ContributionCore(n_agents=40, payoff="average")
    core.max_cycles = 10**6
    learner = make_learner("regret", core, seed=0)
    core.reset(seed=0)
    for _ in range(3000):
        actions = learner.act()
        learner.update(Transition.of_round(actions, core.step({"agent": actions}).rewards["agent"]))
        p = learner.probabilities
        assert np.isfinite(p).all() and p.min() > 0
        assert np.abs(p.sum(axis=0) - 1).max() < 1e-12
    assert learner.t == 3000


def test_regret_matching_learns_a_dominant_action():
    learner = RegretMatching(300, 3, mu=0.5, seed=0)
    counts = np.zeros(3)
    for t in range(2500):
        actions = learner.act()
        learner.update(Transition.of_round(actions, actions / 2.0))
        if t >= 2000:
            counts += np.bincount(actions, minlength=3)
    assert counts[2] / counts.sum() > 0.8


# ====================================================================== payoff baseline
def baseline_shifted(rewards, discount=None):
    """U_t − b_{t−1} per agent, b the agent's running (discounted) mean payoff; plain loops."""
    rounds, n = rewards.shape
    shifted = np.empty_like(rewards)
    for i in range(n):
        b = 0.0
        for t in range(rounds):
            u = float(rewards[t, i])
            # Z_t = Σ_{τ≤t} (1 − λ)^{t−τ}, in the closed form (1 − (1 − λ)^t)/λ
            z = t + 1.0
            if discount is not None:
                z = -math.expm1((t + 1) * math.log1p(-discount)) / discount
            shifted[t, i] = u - b
            b += (u - b) / z
    return shifted


def test_baseline_is_the_mean_of_the_earlier_payoffs():
    rewards = np.random.default_rng(0).normal(size=(30, 4)) * 5 + 40
    means = np.vstack([np.zeros(4), np.cumsum(rewards, axis=0)[:-1] / np.arange(1, 30)[:, None]])
    np.testing.assert_allclose(baseline_shifted(rewards), rewards - means, rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("mu, delta, gamma", [(3.0, 0.3, 0.2), (0.5, 0.02, 0.25)])
def test_baseline_matches_a_per_agent_reference_exactly(mu, delta, gamma):
    n, m = 9, 4
    learner = RegretMatching(n, m, mu=mu, delta=delta, gamma=gamma, baseline="running_mean", seed=5)
    actions, rewards, policies = run_recorded(learner, 60, np.random.default_rng(1))
    expected = reference_regret_matching(actions, baseline_shifted(rewards), m, mu, delta, gamma)
    assert np.array_equal(policies, expected)
    np.testing.assert_allclose(learner.baseline_values, rewards.mean(axis=0), rtol=1e-12)
    # the baseline changes the policies (rewards here are not centred)
    plain = reference_regret_matching(actions, rewards, m, mu, delta, gamma)
    assert not np.allclose(policies, plain)


def test_discounted_baseline_matches_a_per_agent_reference_exactly():
    n, m, mu, delta, gamma, discount = 7, 4, 2.0, 0.2, 0.2, 0.1
    learner = RegretMatching(
        n, m, mu=mu, delta=delta, gamma=gamma, discount=discount, baseline="running_mean", seed=3
    )
    learner._rescale_exponent = 3
    actions, rewards, policies = run_recorded(learner, 60, np.random.default_rng(2))
    shifted = baseline_shifted(rewards, discount)
    expected = reference_discounted(actions, shifted, m, mu, delta, gamma, discount)
    assert np.array_equal(policies, expected)


def test_baseline_in_blocks_matches_the_reference(monkeypatch):
    monkeypatch.setattr(regret, "BLOCK", 4)
    learner = RegretMatching(9, 4, mu=3.0, delta=0.3, baseline="running_mean", seed=5)
    actions, rewards, policies = run_recorded(learner, 40, np.random.default_rng(1))
    expected = reference_regret_matching(actions, baseline_shifted(rewards), 4, 3.0, 0.3, 0.2)
    assert np.array_equal(policies, expected)


@pytest.mark.parametrize("discount", [None, 0.2])
def test_baseline_checkpoint_resumes_bit_identically(discount):
    def make(seed):
        return RegretMatching(50, 6, mu=2.0, discount=discount, baseline="running_mean", seed=seed)

    learner = make(0)
    learner._rescale_exponent = 5
    drive(learner, 25, np.random.default_rng(0))
    state = learner.state_dict()
    assert state["config"]["baseline"] == "running_mean" and "baseline_values" in state
    expected = drive(learner, 30, np.random.default_rng(1))
    fresh = make(99)
    fresh.load_state_dict(state)
    resumed = drive(fresh, 30, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(expected, resumed, strict=True))
    np.testing.assert_array_equal(fresh.policy(), learner.policy())
    np.testing.assert_array_equal(fresh.baseline_values, learner.baseline_values)
    with pytest.raises(ValueError, match="checkpoint was saved with"):
        RegretMatching(50, 6, mu=2.0, discount=discount, seed=0).load_state_dict(state)
    del state["baseline_values"]
    with pytest.raises(ValueError, match="baseline_values"):
        make(0).load_state_dict(state)


def test_default_has_no_baseline_in_its_checkpoint():
    state = RegretMatching(5, 3, mu=1.0).state_dict()
    assert "baseline" not in state["config"] and "baseline_values" not in state
    with pytest.raises(ValueError, match="baseline must be one of"):
        RegretMatching(5, 3, mu=1.0, baseline="mean")
    core = ContributionCore(n_agents=5, payoff="average")
    assert make_learner("regret", core, baseline="running_mean").baseline == "running_mean"
    assert make_learner("regret", core).baseline == "none"


@pytest.mark.parametrize("discount", [None, 0.01])
def test_baseline_stays_on_the_simplex(discount):
    core = ContributionCore(n_agents=20, payoff="average")
    core.max_cycles = 10**6
    learner = make_learner(
        "regret", core, seed=0, mu=1.0, delta=0.02, discount=discount, baseline="running_mean"
    )
    core.reset(seed=0)
    low, total = 1.0, 0.0
    for _ in range(3000):
        actions = learner.act()
        learner.update(Transition.of_round(actions, core.step({"agent": actions}).rewards["agent"]))
        p = learner.probabilities
        low = min(low, p.min())
        total = max(total, np.abs(p.sum(axis=0) - 1).max())
    assert low > 0 and total < 1e-12
    assert np.isfinite(learner.baseline_values).all()


# ====================================================================== both learners
def make_both(seed: int | None = 0) -> list[Learner]:
    return [
        StageLearner(50, 6, epsilon=0.3, tau=7, seed=seed),
        StageLearner(50, 6, epsilon=0.3, tau=7, use_statistics=True, seed=seed),
        RegretMatching(50, 6, mu=2.0, seed=seed),
        RegretMatching(50, 6, mu=2.0, discount=0.2, seed=seed),
    ]


def drive(learner: Learner, rounds: int, rng: np.random.Generator) -> list[np.ndarray]:
    played = []
    for _ in range(rounds):
        actions = learner.act()
        rewards = np.sin(actions + 1.0) + rng.normal(size=learner.n_agents)
        estimates = rng.normal(size=(learner.n_agents, learner.n_actions))
        extras = {"payoff_estimates": estimates} if learner.extras else {}
        learner.update(Transition.of_round(actions, rewards, **extras))
        played.append(actions)
    return played


@pytest.mark.parametrize("index", range(4))
def test_checkpoint_resumes_bit_identically(index):
    learner = make_both()[index]
    learner._rescale_exponent = 5  # the discounted one rescales often; the resumed one never
    drive(learner, 25, np.random.default_rng(0))  # mid-stage (tau = 7) and mid-run
    state = learner.state_dict()
    expected = drive(learner, 30, np.random.default_rng(1))
    fresh = make_both(seed=99)[index]
    fresh.load_state_dict(state)
    resumed = drive(fresh, 30, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(expected, resumed, strict=True))
    np.testing.assert_array_equal(fresh.policy(), learner.policy())


@pytest.mark.parametrize("index", range(4))
def test_same_seed_same_actions(index):
    first = drive(make_both(seed=11)[index], 20, np.random.default_rng(0))
    second = drive(make_both(seed=11)[index], 20, np.random.default_rng(0))
    other = drive(make_both(seed=12)[index], 20, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_checkpoint_of_another_configuration_is_refused():
    state = StageLearner(5, 3, tau=4, seed=0).state_dict()
    with pytest.raises(ValueError, match="tau"):
        StageLearner(5, 3, tau=5, seed=0).load_state_dict(state)
    state = RegretMatching(5, 3, mu=1.0).state_dict()
    state["weighted_sums"] = state["weighted_sums"][:, :2]
    with pytest.raises(ValueError, match="weighted_sums"):
        RegretMatching(5, 3, mu=1.0).load_state_dict(state)
    plain = RegretMatching(5, 3, mu=1.0).state_dict()
    with pytest.raises(ValueError, match="discount"):
        RegretMatching(5, 3, mu=1.0, discount=0.1).load_state_dict(plain)
    state = RegretMatching(5, 3, mu=1.0, discount=0.1).state_dict()
    state["scale"] = np.array(np.inf)
    with pytest.raises(ValueError, match="scale"):
        RegretMatching(5, 3, mu=1.0, discount=0.1).load_state_dict(state)


def test_memory_per_agent_and_action():
    n, m = 2000, 20
    for learner in (StageLearner(n, m), RegretMatching(n, m, mu=1.0)):
        assert state_nbytes(learner) <= 200 * n * m
    regret = RegretMatching(n, m, mu=1.0)
    assert regret.nbytes <= 200 * n * m  # state, caches and scratch together


def test_policies_are_distributions():
    for learner in make_both():
        drive(learner, 10, np.random.default_rng(0))
        p = learner.policy()
        assert p.shape == (50, 6)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)


# ====================================================================== factory
def test_make_learner_sizes_from_the_core_and_fills_mu():
    core = ContributionCore(n_agents=30)
    learner = make_learner("regret", core, seed=0)
    assert (learner.n_agents, learner.n_actions) == (30, 20)
    assert learner.mu == mu_from_bounds(core.payoff_bounds(), 20)
    lo, hi = core.payoff_bounds()
    assert learner.mu == mu_from_bounds((lo, hi), 20, rule="range") == 0.1 * (hi - lo)
    strict = make_learner("regret", core, mu_rule="hart-mas-colell")
    assert strict.mu > 2 * max(abs(lo), abs(hi)) * 19
    assert make_learner("regret", core, mu=7.0).mu == 7.0
    responsive = make_learner("regret", core, discount=0.01)
    assert responsive.discount == 0.01 and responsive.config()["discount"] == 0.01
    assert make_learner("regret", core).discount is None
    built = RegretMatching.for_bounds(30, 20, core.payoff_bounds(), mu_rule="hart-mas-colell")
    assert built.mu == strict.mu
    with pytest.raises(ValueError, match="hi"):
        mu_from_bounds((3.0, 1.0), 20)
    stage_learner = make_learner("stage", core, epsilon=0.01, tau=2000)
    assert (stage_learner.epsilon, stage_learner.tau) == (0.01, 2000)
    assert set(LEARNERS) == {"stage", "regret", "smooth_q", "alternating_marl"}


def test_make_learner_rejects_unknown_names_and_keywords():
    core = ContributionCore(n_agents=3)
    with pytest.raises(ValueError, match="'qlearning'"):
        make_learner("qlearning", core)
    with pytest.raises(ValueError, match=r"\['epsilom'\]"):
        make_learner("stage", core, epsilom=0.1)
    with pytest.raises(ValueError, match=r"\['tau'\]"):
        make_learner("regret", core, tau=3)
    with pytest.raises(ValueError, match="mu rule"):
        make_learner("regret", core, mu_rule="fast")


# ====================================================================== bad input
@pytest.mark.parametrize(
    "cls, kwargs, error, message",
    [
        (StageLearner, {"epsilon": 1.0}, ValueError, r"epsilon must be in \[0, 1\), got 1.0"),
        (StageLearner, {"epsilon": -0.1}, ValueError, "epsilon .* got -0.1"),
        (StageLearner, {"epsilon": float("nan")}, ValueError, "epsilon"),
        (StageLearner, {"epsilon": "0.1"}, TypeError, "epsilon must be a real number"),
        (StageLearner, {"tau": 0}, ValueError, "tau must be >= 1, got 0"),
        (StageLearner, {"tau": 2.5}, TypeError, "tau must be an int"),
        (StageLearner, {"use_statistics": "yes"}, TypeError, "use_statistics"),
        (RegretMatching, {"mu": 0.0}, ValueError, r"mu must be in \(0, inf\), got 0.0"),
        (RegretMatching, {"mu": -3}, ValueError, "mu .* got -3"),
        (RegretMatching, {"mu": 1.0, "delta": 0.0}, ValueError, r"delta must be in \(0, 1\]"),
        (RegretMatching, {"mu": 1.0, "delta": 1.5}, ValueError, "delta .* got 1.5"),
        (RegretMatching, {"mu": 1.0, "gamma": -0.1}, ValueError, "gamma .* got -0.1"),
        (RegretMatching, {"mu": None}, TypeError, "mu must be a real number"),
        (RegretMatching, {"mu": 1.0, "discount": 0.0}, ValueError, r"discount must be in \(0, 1\)"),
        (RegretMatching, {"mu": 1.0, "discount": 1.0}, ValueError, "discount .* got 1.0"),
        (RegretMatching, {"mu": 1.0, "discount": -0.5}, ValueError, "discount .* got -0.5"),
        (RegretMatching, {"mu": 1.0, "discount": "0.1"}, TypeError, "discount must be a real"),
    ],
)
def test_bad_learner_arguments(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(10, 3, **kwargs)


@pytest.mark.parametrize("cls", [StageLearner, RegretMatching])
@pytest.mark.parametrize(
    "n_agents, n_actions, error, message",
    [
        (0, 3, ValueError, "n_agents must be >= 1, got 0"),
        (10, 1, ValueError, "n_actions must be >= 2, got 1"),
        (10.0, 3, TypeError, "n_agents must be an int"),
        (10, True, TypeError, "n_actions must be an int"),
    ],
)
def test_bad_sizes(cls, n_agents, n_actions, error, message):
    with pytest.raises(error, match=message):
        cls(n_agents, n_actions, mu=1.0) if cls is RegretMatching else cls(n_agents, n_actions)


@pytest.mark.parametrize("make", [lambda: StageLearner(20, 4), lambda: RegretMatching(20, 4, mu=1)])
def test_bad_rounds_name_the_first_bad_agent(make):
    learner = make()
    actions, rewards = np.zeros(20, dtype=np.int64), np.zeros(20)
    with pytest.raises(ValueError, match=r"actions must have shape \(20,\), got \(19,\)"):
        learner.update(Transition.of_round(actions[:19], rewards))
    with pytest.raises(ValueError, match=r"rewards must have shape \(20,\)"):
        learner.update(Transition.of_round(actions, rewards[:5]))
    bad = actions.copy()
    bad[17], bad[18] = 4, -1
    with pytest.raises(ValueError, match=r"agent 17 played 4; expected an action in \[0, 3\]"):
        learner.update(Transition.of_round(bad, rewards))
    with pytest.raises(ValueError, match="actions must be integers"):
        learner.update(Transition.of_round(actions + 0.5, rewards))
    nan = rewards.copy()
    nan[17], nan[19] = np.inf, np.nan
    with pytest.raises(ValueError, match="agent 17 received a non-finite reward inf"):
        learner.update(Transition.of_round(actions, nan))
    learner.update(Transition.of_round(actions, rewards))  # still usable after refused rounds
