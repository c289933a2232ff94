"""Congestion game with cost sharing: mechanisms, expected payoffs, equilibria, faces, errors."""

from __future__ import annotations

import doctest

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test

import populace  # noqa: F401 - registers the games
from populace.envs import congestion_v0
from populace.envs.anonymous import congestion
from populace.envs.anonymous.congestion import (
    N_ACTIONS,
    CongestionCore,
    ShareRow,
    acp_cost_shares,
    payoff_matrix,
    serial_cost_shares,
    share_table,
)

MECHANISMS = ("acp", "serial")
COSTS = {
    "default": None,
    "cubic": lambda s: s**3,
    "sqrt": np.sqrt,
    "linear": lambda s: 5.0 * s,
}
integer_demands = st.lists(st.integers(0, 19), min_size=1, max_size=30)
real_demands = st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=1, max_size=30)


def serial_reference(demands: list[float], cost=None) -> list[float]:
    """Moulin–Shenker serial shares, written as plainly as SPEC §2.2 states them (per agent)."""
    n = len(demands)
    cost = cost or (lambda s: s * s / n)
    order = sorted(range(n), key=lambda i: demands[i])
    q = [demands[i] for i in order]
    s = [0.0] + [sum(q[: k - 1]) + (n - k + 1) * q[k - 1] for k in range(1, n + 1)]
    shares = [0.0] * n
    total = 0.0
    for k in range(1, n + 1):
        total += (cost(s[k]) - cost(s[k - 1])) / (n - k + 1)
        shares[order[k - 1]] = total
    return shares


def pairwise_reference(demands: list[int], mechanism: str) -> np.ndarray:
    """With C(s) = s²/N: x_i = Σ_j Φ(q_i, q_j)/N, Φ = q·p (ACP) or q² − max(q − p, 0)² (serial)."""
    q = np.asarray(demands, dtype=float)[:, None]
    p = q.T
    phi = q * p if mechanism == "acp" else q * q - np.maximum(q - p, 0.0) ** 2
    return phi.sum(axis=1) / len(demands)


def shares(demands, mechanism, cost=None):
    return (acp_cost_shares if mechanism == "acp" else serial_cost_shares)(demands, cost)


def realized(core: CongestionCore, profile) -> np.ndarray:
    core.reset(seed=0)
    return core.step({"agent": np.asarray(profile)}).rewards["agent"]


# ----------------------------------------------------------------------------- mechanisms
@settings(max_examples=200, deadline=None)
@given(integer_demands | real_demands, st.sampled_from(sorted(COSTS)))
def test_serial_matches_plain_per_agent_reference(demands, cost_name):
    cost = COSTS[cost_name]
    expected = serial_reference(demands, cost)
    np.testing.assert_allclose(
        serial_cost_shares(demands, cost), expected, rtol=1e-9, atol=1e-7
    )


@settings(max_examples=200, deadline=None)
@given(integer_demands, st.sampled_from(MECHANISMS), st.sampled_from(sorted(COSTS)))
def test_histogram_table_equals_per_agent_formula(demands, mechanism, cost_name):
    cost = COSTS[cost_name]
    q = np.asarray(demands)
    table = share_table(np.bincount(q, minlength=20), mechanism, cost)
    np.testing.assert_allclose(table[q], shares(q, mechanism, cost), rtol=1e-9, atol=1e-7)


@settings(max_examples=100, deadline=None)
@given(integer_demands, st.sampled_from(MECHANISMS))
def test_quadratic_cost_shares_are_pairwise_sums(demands, mechanism):
    np.testing.assert_allclose(
        shares(demands, mechanism), pairwise_reference(demands, mechanism), atol=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(integer_demands)
def test_serial_shares_of_the_default_cost_are_correctly_rounded(demands):
    """The table a step uses is the exact rational Σ_b counts[b]·Φ(a, b)/N rounded once."""
    from fractions import Fraction

    counts = np.bincount(np.array(demands, dtype=np.int64), minlength=N_ACTIONS)
    n = len(demands)
    exact = [float(Fraction(sum(int(c) * (a * a - max(a - b, 0) ** 2)
                                for b, c in enumerate(counts)), n)) for a in range(N_ACTIONS)]
    row = ShareRow(N_ACTIONS, "serial", n)(counts)
    assert row.tolist() == exact
    assert share_table(counts, "serial").tolist() == exact


@settings(max_examples=200, deadline=None)
@given(integer_demands | real_demands, st.sampled_from(MECHANISMS), st.sampled_from(sorted(COSTS)))
def test_budget_balance(demands, mechanism, cost_name):
    cost = COSTS[cost_name] or (lambda s: s * s / len(demands))
    total = float(np.sum(demands))
    assert shares(demands, mechanism, cost).sum() == pytest.approx(
        float(cost(total)), rel=1e-9, abs=1e-7
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 19), min_size=2, max_size=30), st.sampled_from(MECHANISMS),
       st.randoms(use_true_random=False))
def test_anonymity_permuting_agents_permutes_rewards(demands, mechanism, rnd):
    q = np.asarray(demands)
    perm = np.asarray(rnd.sample(range(len(q)), len(q)))
    np.testing.assert_array_equal(shares(q[perm], mechanism), shares(q, mechanism)[perm])
    core = CongestionCore(n_agents=len(q), mechanism=mechanism)
    np.testing.assert_array_equal(realized(core, q[perm]), realized(core, q)[perm])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 19), min_size=2, max_size=20), st.integers(1, 10))
def test_serial_share_ignores_larger_demands(demands, extra):
    """Moulin–Shenker: raising the largest demand leaves everyone else's share unchanged."""
    q = np.asarray(demands, dtype=float)
    top = int(np.argmax(q))
    raised = q.copy()
    raised[top] += extra
    keep = np.arange(len(q)) != top
    np.testing.assert_allclose(serial_cost_shares(raised)[keep], serial_cost_shares(q)[keep])


def test_small_cases_by_hand():
    # N = 2, q = (4, 8): s = 12, C = 72; serial s^1 = 8 -> C = 32, split in two.
    np.testing.assert_allclose(serial_cost_shares([4, 8]), [16.0, 56.0])
    np.testing.assert_allclose(acp_cost_shares([4, 8]), [24.0, 48.0])
    np.testing.assert_array_equal(acp_cost_shares([0, 0, 0]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(serial_cost_shares([0, 0, 0]), [0.0, 0.0, 0.0])
    # Everyone at q pays q² under both mechanisms.
    for mechanism in MECHANISMS:
        np.testing.assert_allclose(shares([6] * 5, mechanism), [36.0] * 5)


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("n", [2, 3, 10, 1000])
def test_env_rewards_equal_value_minus_per_agent_shares(mechanism, n):
    rng = np.random.default_rng(n)
    core = CongestionCore(n_agents=n, mechanism=mechanism, max_cycles=10)
    core.reset(seed=1)
    for _ in range(5):
        q = rng.integers(0, 20, n)
        rewards = core.step({"agent": q}).rewards["agent"]
        expected = 24.0 * q - q**2.0 - core.cost_shares(q)
        np.testing.assert_allclose(rewards, expected, rtol=1e-12, atol=1e-9)


# ----------------------------------------------------------------------------- expected payoffs
@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("n", [2, 3, 10, 257])
def test_expected_payoffs_exact_against_any_composition_of_others(mechanism, n):
    """Rewards are affine in the others' histogram, so ρ = their frequencies gives the reward."""
    core = CongestionCore(n_agents=n, mechanism=mechanism)
    q = np.random.default_rng(n).integers(0, 20, n)
    counts = np.bincount(q, minlength=20)
    others = (counts - np.eye(20)[q]) / (n - 1)  # each agent's view of the other N − 1
    predicted = core.expected_payoffs(others)[np.arange(n), q]
    np.testing.assert_allclose(predicted, realized(core, q), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_expected_payoffs_exact_for_iid_others(mechanism):
    """N = 3, the two others draw i.i.d. from ρ: enumerate every draw and average."""
    core = CongestionCore(n_agents=3, mechanism=mechanism)
    rho = np.zeros(20)
    rho[[2, 7, 11, 19]] = [0.1, 0.4, 0.3, 0.2]
    support = np.flatnonzero(rho)
    for q in (0, 5, 7, 13, 19):
        mean = sum(
            rho[a] * rho[b] * realized(core, [q, a, b])[0] for a in support for b in support
        )
        assert core.expected_payoffs(rho)[q] == pytest.approx(mean, rel=1e-12)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_mean_field_is_the_large_n_limit(mechanism):
    """P_N = P_∞ + (Φ − q²)/N exactly: the own-demand effect decays like 1/N."""
    limit = payoff_matrix(mechanism)
    scaled = [n * (payoff_matrix(mechanism, 24.0, n) - limit) for n in (2, 10, 1000)]
    for other in scaled[1:]:
        np.testing.assert_allclose(other, scaled[0], atol=1e-6)
    assert np.abs(payoff_matrix(mechanism, 24.0, 10**9) - limit).max() < 1e-6


def test_payoff_bounds_are_attained():
    for mechanism in MECHANISMS:
        core = CongestionCore(n_agents=4, mechanism=mechanism)
        low, high = core.payoff_bounds()
        assert low == pytest.approx(95.0 - 361.0)  # q = 19 with everyone else at 19
        assert realized(core, [19] * 4)[0] == pytest.approx(low)
        # others at 0: 24q − q² − q²/4 peaks at q = 10 (240 − 125)
        assert realized(core, [10, 0, 0, 0])[0] == pytest.approx(high) == 115.0


# ----------------------------------------------------------------------------- equilibria
EQUILIBRIA = {  # (mechanism, N) -> reference equilibrium {demand: probability}, α = 24
    **{("serial", n): {6: 1.0} for n in (2, 3, 4, 5, 6, 7, 10, 100, 1000)},
    ("acp", 2): {7: 1.0},
    ("acp", 3): {7: 1.0},
    ("acp", 4): {7: 1.0},
    ("acp", 5): {7: 0.5, 8: 0.5},
    ("acp", 6): {7: 0.2, 8: 0.8},
    ("acp", 7): {8: 1.0},
    ("acp", 10): {8: 1.0},
    ("acp", 100): {8: 1.0},
    ("acp", 1000): {8: 1.0},
}


def as_vector(mix: dict[int, float]) -> np.ndarray:
    rho = np.zeros(20)
    for demand, p in mix.items():
        rho[demand] = p
    return rho


@pytest.mark.parametrize(("mechanism", "n"), sorted(EQUILIBRIA))
def test_reference_equilibria(mechanism, n):
    core = CongestionCore(n_agents=n, mechanism=mechanism)
    rho = core.reference_equilibrium()
    np.testing.assert_allclose(rho, as_vector(EQUILIBRIA[mechanism, n]), atol=1e-12)
    assert abs(core.exploitability(rho)) < 1e-9
    assert core.distance(rho) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("mechanism", "n"), sorted(EQUILIBRIA))
def test_no_agent_gains_by_deviating_in_the_explicit_population(mechanism, n):
    """All others at the reference (an exact composition of it when mixed): no demand beats it."""
    core = CongestionCore(n_agents=n, mechanism=mechanism)
    rho = as_vector(EQUILIBRIA[mechanism, n])
    others = np.repeat(np.arange(20), np.round(rho * (n - 1)).astype(int))
    assert len(others) == n - 1
    payoff = np.array([realized(core, [d, *others])[0] for d in range(20)])
    support = np.flatnonzero(rho)
    assert payoff.max() - payoff[support].min() < 1e-9


@pytest.mark.parametrize("m_at_8", [2, 3])
def test_acp_five_agents_has_asymmetric_pure_equilibria(m_at_8):
    core = CongestionCore(n_agents=5, mechanism="acp")
    profile = np.array([8] * m_at_8 + [7] * (5 - m_at_8))
    base = realized(core, profile)
    for i in range(5):
        for d in range(20):
            deviation = profile.copy()
            deviation[i] = d
            assert realized(core, deviation)[i] <= base[i] + 1e-9


@pytest.mark.parametrize("alpha", [12.0, 24.0, 36.0])
def test_large_n_equilibria_are_alpha_over_3_and_4(alpha):
    for mechanism, divisor in (("acp", 3), ("serial", 4)):
        core = CongestionCore(n_agents=10, mechanism=mechanism, alpha=alpha)
        rho = core.mean_field_equilibrium()
        assert int(rho.argmax()) == alpha / divisor and rho.max() == 1.0
        payoffs = core.mean_field_payoffs(rho)
        assert payoffs.max() == pytest.approx(payoffs @ rho)


def surviving_demands(matrix: np.ndarray) -> list[int]:
    """Iterated elimination of demands strictly dominated by another demand.

    Rewards are affine in the others' histogram, so checking the pure profiles "all others
    demand p" (p still alive) decides dominance against every profile of the others.
    """
    alive = list(range(matrix.shape[0]))
    while True:
        sub = matrix[np.ix_(alive, alive)]
        dominated = {
            i for i in range(len(alive))
            if any(np.all(sub[j] > sub[i]) for j in range(len(alive)) if j != i)
        }
        if not dominated:
            return alive
        alive = [a for i, a in enumerate(alive) if i not in dominated]


@pytest.mark.parametrize("n", [2, 5, 100, None])
def test_serial_is_dominance_solvable(n):
    assert surviving_demands(payoff_matrix("serial", 24.0, n)) == [6]


@pytest.mark.parametrize(("n", "survivors"), [(2, [7]), (5, [7, 8]), (100, [8]), (None, [7, 8, 9])])
def test_acp_iterated_dominance(n, survivors):
    assert surviving_demands(payoff_matrix("acp", 24.0, n)) == survivors


def test_distance_and_exploitability():
    core = CongestionCore(n_agents=100, mechanism="acp")
    eye = np.eye(20)
    np.testing.assert_allclose(core.distance(eye), np.abs(np.arange(20) - 8))
    uniform = np.full(20, 1 / 20)
    assert core.distance(uniform) == pytest.approx(np.abs(np.arange(20) - 8).mean())
    rho = np.random.default_rng(0).dirichlet(np.ones(20), size=50)
    assert np.all(core.exploitability(rho) >= -1e-9)
    assert np.all(core.exploitability(eye[[0, 3, 19]]) > 1.0)
    mixed = CongestionCore(n_agents=5, mechanism="acp")
    assert mixed.distance(eye[7]) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- faces
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_parallel_api(mechanism):
    parallel_api_test(congestion_v0.parallel_env(n_agents=7, mechanism=mechanism), num_cycles=20)


def test_gymnasium_views_default_to_the_reference():
    env = gymnasium.make("populace/Congestion-v0", n_agents=10, mechanism="acp")
    env.reset(seed=0)
    _, reward, *_ = env.step(8)  # the others play the reference 8
    assert reward == pytest.approx(payoff_matrix("acp", 24.0, 10)[8, 8])
    vec = gymnasium.make_vec(
        "populace/Congestion-v0", num_envs=50, vectorization_mode="vector_entry_point"
    )
    vec.reset(seed=0)
    _, rewards, *_ = vec.step(np.full(50, 6))
    np.testing.assert_allclose(rewards, 24 * 6 - 2 * 36.0)


def test_render_and_checkpoint_round_trip():
    core = CongestionCore(n_agents=6, observe="sample:3", render_mode="ansi")
    core.reset(seed=3)
    core.step({"agent": np.array([1, 2, 3, 6, 6, 6])})
    assert "congestion_v0" in core.render()
    saved = core.state_dict()
    q = np.array([0, 19, 5, 5, 7, 6])
    first = core.step({"agent": q})
    core.load_state_dict(saved)
    again = core.step({"agent": q})
    np.testing.assert_array_equal(first.observations["agent"], again.observations["agent"])
    np.testing.assert_array_equal(first.rewards["agent"], again.rewards["agent"])


def test_docstring_examples():
    result = doctest.testmod(congestion, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mechanism": "shapley"}, ValueError, "mechanism"),
        ({"mechanism": None}, ValueError, "mechanism"),
        ({"alpha": float("nan")}, ValueError, "alpha"),
        ({"alpha": float("inf")}, ValueError, "alpha"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"alpha": 0}, ValueError, "alpha"),
        ({"alpha": "24"}, TypeError, "alpha"),
        ({"alpha": True}, TypeError, "alpha"),
        ({"payoff": "average"}, ValueError, "payoff"),
        ({"payoff": "matching"}, ValueError, "payoff"),
        ({"n_agents": 1}, ValueError, "n_agents"),
        ({"n_agents": 2.5}, TypeError, "n_agents"),
        ({"observe": "sample:0"}, ValueError, "observe"),
        ({"max_cycles": 0}, ValueError, "max_cycles"),
        ({"n_agent": 5}, TypeError, "n_agent"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        congestion_v0.parallel_env(**kwargs)


@pytest.mark.parametrize(
    ("bad", "match"),
    [(20, "agent_1 played 20"), (-1, "agent_1 played -1"), (3.5, r"agent_1 played .*3\.5"),
     ("x", "agent_1")],
)
def test_bad_demands_name_the_agent(bad, match):
    env = congestion_v0.parallel_env(n_agents=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step({"agent_0": 6, "agent_1": bad, "agent_2": 6})


@pytest.mark.parametrize(
    ("demands", "match"),
    [([1, -2], r"demands\[1\]"), ([1.0, 2.0, np.nan], r"demands\[2\]"),
     ([0, np.inf], r"demands\[1\]"), ([], "non-empty"), ([[1, 2]], "1-D"), (["a"], "numeric")],
)
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_bad_demand_arrays(demands, match, mechanism):
    with pytest.raises(ValueError, match=match):
        shares(demands, mechanism)


def test_bad_mechanism_in_helpers():
    with pytest.raises(ValueError, match="mechanism"):
        share_table(np.ones(20), "shapley")
    with pytest.raises(ValueError, match="mechanism"):
        payoff_matrix("shapley")
