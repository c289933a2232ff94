"""The network zero-sum polymatrix game: payoffs, validation, QRE, Nash set and metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zspg_reference import chain_payoffs  # tests/ is on sys.path (conftest.py)

from populace.envs import zspg_network_v0
from populace.envs.zero_sum import qre_newton
from populace.envs.zero_sum.polymatrix import (
    AMPS,
    RPS,
    PolymatrixGame,
    chain_game,
    game_from_spec,
    two_agent_game,
)
from populace.envs.zero_sum.qre_newton import path_order
from populace.envs.zero_sum.solvers import (
    chain_nash_point,
    is_chain_nash,
    kl_divergence,
    nash_conv,
    qre,
    qre_residual,
)
from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore

FAST = settings(max_examples=40, deadline=None, derandomize=True)
AMPS_NASH = np.array([[1 / 3, 2 / 3], [1 / 3, 2 / 3]])


def random_spec(rng: np.random.Generator, n: int, m: int) -> dict[str, Any]:
    """A random weighted zero-sum game: a path through all agents plus random chords."""
    edges = {(k, k + 1) for k in range(n - 1)}
    for _ in range(n):
        a, b = rng.choice(n, size=2, replace=False)
        if (b, a) not in edges:
            edges.add((int(a), int(b)))
    edge_list = sorted(edges)
    return {
        "edges": edge_list,
        "matrices": rng.uniform(-1.0, 1.0, size=(len(edge_list), m, m)).round(3).tolist(),
        "weights": rng.uniform(0.5, 2.0, size=n).round(3).tolist(),
    }


def reference_payoff_vectors(game: PolymatrixGame, x: np.ndarray) -> np.ndarray:
    """r_k(x_−k), one edge at a time (the plain implementation the arrays must equal)."""
    r = game.bias.copy()
    for e in range(len(game.src)):
        r[game.src[e]] += game.matrices[e] @ x[game.dst[e]]
    return r


# ----------------------------------------------------------------------------- payoffs
@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
def test_chain_payoffs_match_the_spec(n):
    game = chain_game(n)
    for actions in np.random.default_rng(n).integers(2, size=(20, n)):
        np.testing.assert_array_equal(game.payoffs(actions), chain_payoffs(actions))


@pytest.mark.parametrize("seed", range(5))
def test_payoffs_equal_a_per_edge_reference(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 8)), int(rng.integers(2, 4))
    game = game_from_spec(random_spec(rng, n, m))
    x = rng.dirichlet(np.ones(m), size=n)
    np.testing.assert_allclose(game.payoff_vectors(x), reference_payoff_vectors(game, x),
                               atol=1e-12)
    np.testing.assert_allclose(game.payoff_columns(np.ascontiguousarray(x.T)),
                               reference_payoff_vectors(game, x).T, atol=1e-12)
    actions = rng.integers(m, size=n)
    pure = np.eye(m)[actions]
    np.testing.assert_allclose(game.payoff_vectors_pure(actions),
                               reference_payoff_vectors(game, pure), atol=1e-12)
    expected = np.einsum("ki,ki->k", x, reference_payoff_vectors(game, x))
    np.testing.assert_allclose(game.expected_payoffs(x), expected, atol=1e-12)


def test_the_core_steps_with_these_payoffs():
    core = ZSPGNetworkCore(n_agents=5)
    core.reset(seed=0)
    actions = np.array([0, 1, 1, 0, 1])
    step = core.step({"agent": actions})
    np.testing.assert_array_equal(step.rewards["agent"], chain_payoffs(actions))
    vectors = step.observations["agent"]
    np.testing.assert_array_equal(vectors[np.arange(5), actions], step.rewards["agent"])
    np.testing.assert_array_equal(core.state(), np.eye(2)[actions])
    expected = ZSPGNetworkCore(n_agents=5, feedback="expected")
    expected.reset(seed=0)
    x = np.random.default_rng(1).dirichlet(np.ones(2), size=5)
    step = expected.step({"agent": x})
    np.testing.assert_allclose(step.observations["agent"],
                               reference_payoff_vectors(expected.game, x), atol=1e-12)
    np.testing.assert_allclose(step.rewards["agent"], expected.game.expected_payoffs(x))


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), m=st.integers(2, 4))
def test_weighted_payoffs_sum_to_zero(seed, n, m):
    rng = np.random.default_rng(seed)
    game = game_from_spec(random_spec(rng, n, m))
    actions = rng.integers(m, size=n)
    assert abs(float(game.weights @ game.payoffs(actions))) < 1e-9
    x = rng.dirichlet(np.ones(m), size=n)
    assert abs(float(game.weights @ game.expected_payoffs(x))) < 1e-9


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_chain_payoffs_sum_to_what_the_dummies_lose(seed, n):
    """Σ_k u_k + the dummies' payoffs = 0: the agents' total is their bias from the dummies."""
    rng = np.random.default_rng(seed)
    game = chain_game(n)
    actions = rng.integers(2, size=n)
    from_dummies = game.bias[np.arange(n), actions].sum()
    assert float(game.payoffs(actions).sum()) == pytest.approx(from_dummies, abs=1e-12)


def test_presets():
    amps = ZSPGNetworkCore(game="amps")
    assert (amps.n_agents, amps.n_actions) == (2, 2)
    np.testing.assert_array_equal(amps.game.matrices[0], AMPS)
    np.testing.assert_array_equal(amps.game.matrices[1], -AMPS.T)
    rps = ZSPGNetworkCore(game="rps", feedback="expected")
    assert rps.n_actions == 3 and rps.groups[0].action_space.shape == (3,)
    assert ZSPGNetworkCore().n_agents == 7


# ----------------------------------------------------------------------------- bad input
def test_non_zero_sum_games_are_refused_naming_the_edge_and_weights():
    spec = {"edges": [[0, 1], [1, 2]], "matrices": [AMPS, AMPS], "reverse": [-AMPS.T, AMPS],
            "weights": [1.0, 2.0, 3.0]}
    with pytest.raises(ValueError, match=r"edge \(0, 1\) with weights w_0=1, w_1=2"):
        game_from_spec(spec)
    spec["weights"] = [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"edge \(1, 2\) with weights w_1=1, w_2=1"):
        game_from_spec(spec)
    spec["reverse"] = [-AMPS.T, -AMPS.T]
    game_from_spec(spec)  # zero-sum with unit weights
    with pytest.raises(ValueError, match=r"not weighted zero-sum"):
        ZSPGNetworkCore(game={**spec, "weights": [1.0, 2.0, 1.0]})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"game": {"edges": [[0, 1]], "matrices": [AMPS], "weights": [1.0, -1.0]}}, "weights"),
    ({"game": {"edges": [[0, 0]], "matrices": [AMPS]}}, "itself"),
    ({"game": {"edges": [[0, 1]], "matrices": [AMPS], "colour": 1}}, "unknown keys"),
    ({"game": {"edges": [[0, 1]]}}, "needs 'edges' and 'matrices'"),
    ({"game": {"edges": [[0, 1]], "matrices": [[1.0, 2.0]]}}, "square matrices"),
    ({"game": {"edges": [[0, 3]], "matrices": [AMPS]}, "n_agents": 3}, "edge indices"),
    ({"game": "amps", "n_agents": 3}, "2 agents"),
    ({"game": "poker"}, "game must be one of"),
    ({"feedback": "loud"}, "feedback"),
    ({"temperatures": 0.0}, "temperatures"),
    ({"temperatures": [0.1, 0.2]}, "temperatures"),
    ({"n_agents": 0}, "n_agents"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ZSPGNetworkCore(**kwargs)


def test_mixed_strategies_off_the_simplex_name_the_agent():
    core = ZSPGNetworkCore(n_agents=3, feedback="expected", strategies="strict")
    core.reset(seed=0)
    x = np.full((3, 2), 0.5)
    x[1] = [0.5, 0.6]
    with pytest.raises(ValueError, match=r"agent_1 .*sums to 1\.1"):
        core.step({"agent": x})
    x[1] = [0.5, 0.5 + 5e-7]  # within 1e-6: accepted
    core.step({"agent": x})
    env = zspg_network_v0.parallel_env(n_agents=3, feedback="expected", strategies="strict")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"agent_2"):
        env.step({"agent_0": [1.0, 0.0], "agent_1": [0.0, 1.0], "agent_2": [0.2, 0.2]})
    assert env.action_space("agent_0").contains(env.action_space("agent_0").sample())
    assert not env.action_space("agent_0").contains(np.array([0.2, 0.2]))


# ----------------------------------------------------------------------------- QRE
GAMES = {
    "chain7": chain_game(7),
    "amps": two_agent_game(AMPS),
    "rps": two_agent_game(RPS),
    "weighted": game_from_spec(random_spec(np.random.default_rng(3), 6, 3)),
}


@pytest.mark.parametrize("name", sorted(GAMES))
@pytest.mark.parametrize("temperature", [1.0, 0.1, 0.01])
def test_qre_is_a_fixed_point(name, temperature):
    game = GAMES[name]
    result = qre(game, temperature)
    assert result.residual < 1e-10
    assert qre_residual(game, result.strategies, temperature) < 1e-10
    assert np.isfinite(result.strategies).all()
    np.testing.assert_allclose(result.strategies.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_qre_with_a_temperature_per_agent(name):
    game = GAMES[name]
    temperatures = np.linspace(0.01, 0.5, game.n_agents)
    result = qre(game, temperatures)
    assert qre_residual(game, result.strategies, temperatures) < 1e-10


def test_qre_tends_to_the_amps_nash_equilibrium():
    """AMPs' unique equilibrium: each side makes the other indifferent, 3p − (1−p) = −p +
    (1−p) gives p = 1/3 for both. The QRE approaches it as T → 0."""
    game = two_agent_game(AMPS)
    assert nash_conv(game, AMPS_NASH) == pytest.approx(0.0, abs=1e-12)
    gaps = [np.abs(qre(game, t).strategies - AMPS_NASH).max() for t in (0.3, 0.03, 0.003)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 2e-3


def test_chain_qre_approaches_the_nash_set():
    strategies = qre(chain_game(7), 0.01).strategies
    assert is_chain_nash(strategies, atol=1e-3)
    assert nash_conv(chain_game(7), strategies) < 1e-2


# ----------------------------------------------------------------------------- QRE methods
def relabelled_path(seed: int, n: int, m: int) -> tuple[PolymatrixGame, np.ndarray]:
    """A random weighted zero-sum game on a path through the agents in a random order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    spec = {"edges": [(int(order[k]), int(order[k + 1])) for k in range(n - 1)],
            "matrices": rng.uniform(-1.0, 1.0, size=(n - 1, m, m)).tolist(),
            "weights": rng.uniform(0.5, 2.0, size=n).tolist()}
    return game_from_spec(spec), order


def test_path_order_finds_paths_and_only_paths():
    game, order = relabelled_path(0, 9, 3)
    found = path_order(game)
    assert found is not None
    assert np.array_equal(found, order) or np.array_equal(found, order[::-1])
    np.testing.assert_array_equal(path_order(chain_game(7)), np.arange(7))
    assert path_order(GAMES["weighted"]) is None  # chords
    assert path_order(chain_game(1)) is None
    ring = game_from_spec({"edges": [(0, 1), (1, 2), (2, 0)], "matrices": [AMPS] * 3})
    assert path_order(ring) is None
    star = game_from_spec({"edges": [(0, 1), (0, 2), (0, 3)], "matrices": [AMPS] * 3})
    assert path_order(star) is None


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 2, 5, 8, 17])
def test_cyclic_reduction_solves_block_tridiagonal_systems(size, d):
    rng = np.random.default_rng(10 * size + d)
    lower, upper = rng.normal(size=(2, size, d, d))
    diagonal = rng.normal(size=(size, d, d)) + 3.0 * np.eye(d)
    lower[0], upper[-1] = 0.0, 0.0
    rhs = rng.normal(size=(size, d))
    dense = np.zeros((size * d, size * d))
    for i in range(size):
        dense[i * d:(i + 1) * d, i * d:(i + 1) * d] = diagonal[i]
        if i > 0:
            dense[i * d:(i + 1) * d, (i - 1) * d:i * d] = lower[i]
        if i < size - 1:
            dense[i * d:(i + 1) * d, (i + 1) * d:(i + 2) * d] = upper[i]
    expected = np.linalg.solve(dense, rhs.ravel()).reshape(size, d)
    solved = qre_newton._block_tridiagonal_solve(lower, diagonal, upper, rhs)
    np.testing.assert_allclose(solved, expected, atol=1e-12)
    if d == 1:
        scalar = qre_newton._tridiagonal_solve(lower[:, 0, 0], diagonal[:, 0, 0],
                                                 upper[:, 0, 0], rhs[:, 0])
        np.testing.assert_allclose(scalar, expected[:, 0], atol=1e-12)


METHOD_GAMES = {**GAMES, "path-3-actions": relabelled_path(1, 30, 3)[0]}


@pytest.mark.parametrize("name", sorted(METHOD_GAMES))
@pytest.mark.parametrize("temperature", [0.5, 0.02])
def test_newton_and_extragradient_find_the_same_qre(name, temperature):
    """Paths (the chain, AMPs, RPS, a relabelled 3-action path) go through cyclic
    reduction, the small weighted network through a dense solve; both agree with plain
    extragradient, with a temperature per agent."""
    game = METHOD_GAMES[name]
    t = np.linspace(temperature, 3.0 * temperature, game.n_agents)
    newton = qre(game, t)
    extragradient = qre(game, t, method="extragradient")
    assert newton.residual < 1e-12 and extragradient.residual < 1e-12
    np.testing.assert_allclose(newton.strategies, extragradient.strategies, atol=1e-9)
    assert newton.iterations < 60  # Newton steps (extragradient takes hundreds or more)


def test_newton_solves_a_long_chain_in_few_steps():
    result = qre(chain_game(20_001), 0.05)
    assert result.residual < 1e-12 and result.iterations < 40
    assert np.isfinite(result.strategies).all()


def test_a_stalling_newton_hands_over_to_extragradient(monkeypatch):
    monkeypatch.setattr(qre_newton, "NEWTON_STAGE_STEPS", 1)
    result = qre(chain_game(7), 0.05)
    assert result.residual < 1e-12 and result.iterations > 100  # extragradient finished it
    np.testing.assert_allclose(result.strategies,
                               qre(chain_game(7), 0.05, method="extragradient").strategies,
                               atol=1e-9)
    with pytest.raises(RuntimeError, match="Newton stalled"):
        qre(chain_game(7), 0.05, method="newton")


def test_qre_rejects_bad_arguments():
    big = game_from_spec(random_spec(np.random.default_rng(0), 60, 3))  # 120 unknowns, chords
    with pytest.raises(ValueError, match="path graph"):
        qre(big, 0.1, method="newton")
    with pytest.raises(ValueError, match="method"):
        qre(chain_game(3), 0.1, method="bfgs")
    with pytest.raises(ValueError, match="start"):
        qre(chain_game(3), 0.1, start=np.ones((2, 2)))
    with pytest.raises(ValueError, match="temperatures"):
        qre(chain_game(3), [0.1, -0.1, 0.1])


# ----------------------------------------------------------------------------- Nash set
@FAST
@given(p=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5))
def test_chain_nash_set(p):
    """Odd agents on H and sorted even P(H): NashConv 0; unsorted even P(H) (by more than
    a hair) or an odd agent off H: NashConv positive, and the set check agrees."""
    x = chain_nash_point(np.array(p))
    game = chain_game(len(x))
    assert is_chain_nash(x) and nash_conv(game, x) < 1e-12
    off = x.copy()
    off[len(x) // 2 // 2 * 2] = [0.7, 0.3]  # an odd agent (1-based) off H
    assert not is_chain_nash(off)
    heads = x[1::2, 0]
    if len(heads) >= 2 and heads[-1] - heads[0] > 1e-6:
        unsorted = x.copy()
        unsorted[1::2, 0], unsorted[1::2, 1] = heads[::-1], 1.0 - heads[::-1]
        assert not is_chain_nash(unsorted) and nash_conv(game, unsorted) > 0


def test_nash_conv_is_positive_off_equilibrium():
    game = two_agent_game(AMPS)
    rng = np.random.default_rng(0)
    for x in rng.dirichlet(np.ones(2), size=(20, 2)):
        if np.abs(x - AMPS_NASH).max() > 1e-3:
            assert nash_conv(game, x) > 0


def test_kl_divergence():
    p = np.array([[0.25, 0.75], [1.0, 0.0]])
    assert kl_divergence(p, p) == 0.0
    q = np.array([[0.5, 0.5], [0.5, 0.5]])
    expected = 0.25 * np.log(0.5) + 0.75 * np.log(1.5) + np.log(2.0)
    assert kl_divergence(p, q) == pytest.approx(expected)
    assert kl_divergence(q, p) == np.inf


# ----------------------------------------------------------------------------- metrics
def test_window_metrics_score_policies_or_play():
    core = ZSPGNetworkCore(game="amps", temperatures=0.05)
    tally = core.window_metrics()
    assert tally.columns == ("kl_to_qre", "nash_conv")
    reference = core.reference_equilibrium()
    scores = tally.scores({"agent": reference})
    assert scores["kl_to_qre"] == pytest.approx(0.0, abs=1e-12)
    assert scores["nash_conv"] == pytest.approx(nash_conv(core.game, reference))
    core.reset(seed=0)
    for actions in ([0, 0], [1, 0], [1, 1], [1, 0]):
        step = core.step({"agent": np.array(actions)})
        tally.record({"agent": np.array(actions)}, step)
    played = np.array([[0.25, 0.75], [0.75, 0.25]])
    scores = tally.scores({})
    assert scores["nash_conv"] == pytest.approx(nash_conv(core.game, played))
    assert scores["kl_to_qre"] == pytest.approx(kl_divergence(reference, played))
    copy = core.window_metrics()
    copy.load_state_dict(tally.state_dict())
    assert copy.scores({}) == scores
    tally.clear()
    assert np.isnan(tally.scores({})["nash_conv"])


def test_expected_feedback_metrics_average_the_submitted_strategies():
    core = ZSPGNetworkCore(n_agents=3, feedback="expected")
    tally = core.window_metrics()
    core.reset(seed=0)
    profiles = np.random.default_rng(0).dirichlet(np.ones(2), size=(4, 3))
    for x in profiles:
        tally.record({"agent": x}, core.step({"agent": x}))
    assert tally.scores({})["nash_conv"] == pytest.approx(
        nash_conv(core.game, profiles.mean(axis=0)))


@pytest.mark.parametrize(("n", "levels"), [(3, 11), (5, 5)])
def test_chain_nash_set_is_exactly_the_grid_points_with_zero_nash_conv(n, levels):
    """On a grid of P(H) per agent, NashConv is 0 exactly where :func:`is_chain_nash` says."""
    game = chain_game(n)
    grid = np.linspace(0.0, 1.0, levels)
    points = np.stack(np.meshgrid(*[grid] * n, indexing="ij"), axis=-1).reshape(-1, n)
    found = 0
    for heads in points:
        x = np.stack([heads, 1.0 - heads], axis=1)
        in_set = is_chain_nash(x)
        found += in_set
        assert (nash_conv(game, x) < 1e-12) == in_set, heads
    assert found > 0


def test_three_agent_chain_splits_a_stake_of_two():
    """n = 3: at every equilibrium agents 1 and 3 earn 2·p_2 and 2·(1 − p_2), agent 2 earns 0."""
    game = chain_game(3)
    for p in np.linspace(0.0, 1.0, 5):
        payoffs = game.expected_payoffs(chain_nash_point(np.array([p])))
        np.testing.assert_allclose(payoffs, [2 * p, 0.0, 2 * (1 - p)], atol=1e-12)


# ----------------------------------------------------------------------------- Theorem 4.1
@pytest.mark.parametrize("temperatures", [
    0.1,
    0.3,
    (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35),
    (0.3, 0.05, 0.2, 0.1, 0.35, 0.15, 0.25),
], ids=["equal-0.1", "equal-0.3", "rising", "shuffled"])
def test_kl_to_the_qre_decays_at_least_at_rate_t_min_on_the_seven_chain(temperatures):
    """LPS Theorem 4.1 on their n = 7 chain (unit weights): along the Q-learning dynamics with
    every T_k > 0, Σ_k KL(x*_k ‖ x_k(t)) is non-increasing and at most KL(0)·e^{−T_min·t}; the
    exponential rate fitted to ln KL (down to 1e-12 of its start) is at least T_min. The
    theorem's rate is only a bound: measured (RK4, h = 0.1) are 0.204 and 0.609 for equal
    T = 0.1 and 0.3 (about 2T), 0.29 and 0.38 for the two unequal sets with T_min = 0.05."""
    from populace.agents.smooth_q_dynamics import integrate_smooth_q

    game = chain_game(7)
    t = np.broadcast_to(np.asarray(temperatures, dtype=np.float64), (7,))
    t_min = float(t.min())
    target = qre(game, t).strategies
    start = np.random.default_rng(0).dirichlet(np.ones(2), size=7)
    dt = 0.1
    path = integrate_smooth_q(game.payoff_vectors, start, t, dt=dt,
                              steps=int(15 / t_min / dt), record_every=5)
    divergence = np.array([kl_divergence(target, x) for x in path.strategies])
    fitted = divergence > 1e-12 * divergence[0]  # above rounding noise
    times, kept = path.times[fitted], divergence[fitted]
    assert kept[-1] < 1e-6 * kept[0]  # it did converge (e^{−15} at the bound's rate)
    assert (np.diff(kept) <= 1e-15).all()
    assert (kept <= kept[0] * np.exp(-t_min * times) * (1 + 1e-6)).all()
    rate = -np.polyfit(times, np.log(kept), 1)[0]
    assert rate >= t_min
