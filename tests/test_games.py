"""Payoffs, pairings, observations and reference equilibria against the papers' definitions.

The references here are written out plainly, one agent at a time in Python, straight from the
formulas in SPEC §2.1–§2.3 (KFH §4), never from the package's vectorized code.
"""

from __future__ import annotations

import doctest
import importlib
import io
import itertools

import numpy as np
import pytest
from gymnasium import spaces

from populace.envs import contribution_v0, matrix_v0
from populace.envs.anonymous.equilibrium import (
    best_reply_path,
    exploitability,
    symmetric_equilibria,
)

RNG_SEED = 20240601


# ----------------------------------------------------------------------------- references
def contribution_cost(x: int, n: int, offset: float | None = None) -> float:
    """KFH §4: c(0)=0, c(1)=1, c(x)=(x−1)² for 2≤x≤8, c(x)=x²+2n for x>8."""
    if x == 0:
        return 0.0
    if x == 1:
        return 1.0
    if x <= 8:
        return float((x - 1) ** 2)
    return float(x * x + (2 * n if offset is None else offset))


def contribution_utility(x: int, y: float, n: int, offset: float | None = None) -> float:
    """u(x, y) = 2·x·y − c(x)."""
    return 2 * x * y - contribution_cost(x, n, offset)


def contribution_average(actions: list[int], offset: float | None = None) -> list[float]:
    """Reward of each agent when y is the mean action of the *other* agents."""
    n = len(actions)
    rewards = []
    for i, x in enumerate(actions):
        others = [a for j, a in enumerate(actions) if j != i]
        rewards.append(contribution_utility(x, sum(others) / len(others), n, offset))
    return rewards


def matrix_average(matrix: list[list[float]], actions: list[int]) -> list[float]:
    """Row player's payoff M[x_i, x_j], averaged over every other agent j."""
    n = len(actions)
    return [
        sum(matrix[x][actions[j]] for j in range(n) if j != i) / (n - 1)
        for i, x in enumerate(actions)
    ]


def step_rewards(env, actions: list[int]) -> list[float]:
    """One parallel-face step with ``actions`` (agent i plays actions[i])."""
    _, rewards, _, _, _ = env.step({f"agent_{i}": a for i, a in enumerate(actions)})
    return [rewards[f"agent_{i}"] for i in range(len(actions))]


def perfect_matchings(agents: list[int]):
    if not agents:
        yield {}
        return
    first = agents[0]
    for second in agents[1:]:
        rest = [a for a in agents if a not in (first, second)]
        for matching in perfect_matchings(rest):
            yield {**matching, first: second, second: first}


def random_matchings(n: int):
    """Every pairing KFH's random matching allows (odd N: the leftover meets anyone else)."""
    if n % 2 == 0:
        yield from perfect_matchings(list(range(n)))
        return
    for leftover in range(n):
        for matching in perfect_matchings([i for i in range(n) if i != leftover]):
            for other in range(n):
                if other != leftover:
                    yield {**matching, leftover: other}


def assert_valid_pairing(partner: list[int] | np.ndarray) -> None:
    n = len(partner)
    assert all(0 <= partner[i] < n and partner[i] != i for i in range(n)), partner
    unreturned = [i for i in range(n) if partner[partner[i]] != i]
    if n % 2 == 0:
        assert unreturned == [], f"even N: partner[partner[i]] must be i, got {list(partner)}"
    else:
        assert len(unreturned) == 1, f"odd N: exactly one leftover, got {list(partner)}"
        # everyone else is in a proper pair, and the leftover's partner is one of them
        assert partner[partner[unreturned[0]]] != unreturned[0]


# ----------------------------------------------------------------------------- contribution
@pytest.mark.parametrize("n", [2, 3, 4, 7, 12])
@pytest.mark.parametrize("offset", [None, 0.0, 13.5])
def test_contribution_average_payoff_matches_formula(n, offset):
    rng = np.random.default_rng(RNG_SEED + n)
    env = contribution_v0.parallel_env(n_agents=n, payoff="average", cost_offset=offset)
    env.reset(seed=0)
    for _ in range(25):
        actions = rng.integers(20, size=n).tolist()
        expected = contribution_average(actions, offset)
        assert step_rewards(env, actions) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_contribution_cost_table():
    n = 10
    core = contribution_v0.ContributionCore(n_agents=n)
    expected = [contribution_cost(x, n) for x in range(20)]
    assert expected[:10] == [0, 1, 1, 4, 9, 16, 25, 36, 49, 81 + 20]
    assert core.payoff_matrix[:, 0].tolist() == [-c for c in expected]  # u(x, 0) = −c(x)
    assert core.cost_offset == 2 * n


@pytest.mark.parametrize("n", [2, 3, 6, 9, 19])
def test_contribution_matching_pays_partner_action(n):
    """Distinct non-zero actions make u(x, ·) invertible, so each reward reveals the partner:
    the pairing behind the rewards must be a valid random matching."""
    rng = np.random.default_rng(RNG_SEED + n)
    env = contribution_v0.parallel_env(n_agents=n, payoff="matching")
    env.reset(seed=n)
    for _ in range(20):
        actions = (rng.permutation(19)[:n] + 1).tolist()
        owner = {a: i for i, a in enumerate(actions)}
        partner = []
        for x, reward in zip(actions, step_rewards(env, actions), strict=True):
            y = (reward + contribution_cost(x, n)) / (2 * x)  # u(x, y) = reward, solved for y
            assert y == int(y) and int(y) in owner, f"reward {reward} of x={x} matches no one"
            partner.append(owner[int(y)])
        assert_valid_pairing(partner)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9])
def test_random_partners_is_a_valid_pairing(n):
    core = contribution_v0.ContributionCore(n_agents=n, payoff="matching")
    core.reset(seed=n)
    seen = set()
    for _ in range(300):
        partner = core.random_partners()
        assert partner.shape == (n,)
        assert_valid_pairing(partner)
        seen.add(tuple(partner.tolist()))
    if n <= 4:  # every allowed pairing shows up
        assert seen == {tuple(m[i] for i in range(n)) for m in random_matchings(n)}


# ----------------------------------------------------------------------------- matrix games
PAPER_MATRICES = {
    "prisoners_dilemma": [[3, 0], [5, 1]],
    # SPEC §2.3 climbing game [[11,−30,0],[−30,7,6],[0,0,5]], symmetrized by averaging with its
    # transpose (the documented choice): the 6 / 0 off-diagonal pair becomes 3 / 3.
    "climbing": [[11, -30, 0], [-30, 7, 3], [0, 3, 5]],
    "stag_hunt": [[4, 0], [3, 3]],
    "rock_paper_scissors": [[0, -1, 1], [1, 0, -1], [-1, 1, 0]],
}


def test_presets_are_the_documented_matrices():
    assert set(matrix_v0.PRESETS) == set(PAPER_MATRICES)
    for name, matrix in PAPER_MATRICES.items():
        assert matrix_v0.PRESETS[name].matrix.tolist() == matrix, name


@pytest.mark.parametrize("game", [*PAPER_MATRICES, "user"])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_matrix_average_payoff_matches_formula(game, n):
    rng = np.random.default_rng(RNG_SEED + n)
    matrix = PAPER_MATRICES.get(game) or rng.normal(size=(4, 4)).round(3).tolist()
    env = matrix_v0.parallel_env(game=matrix if game == "user" else game, n_agents=n,
                                 payoff="average")
    env.reset(seed=0)
    for _ in range(20):
        actions = rng.integers(len(matrix), size=n).tolist()
        expected = matrix_average(matrix, actions)
        assert step_rewards(env, actions) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("game", list(PAPER_MATRICES))
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_matrix_matching_pays_row_entry_against_a_partner(game, n):
    """Each round's rewards are M[x_i, x_partner(i)] for some valid random matching."""
    matrix = PAPER_MATRICES[game]
    matchings = list(random_matchings(n))
    rng = np.random.default_rng(RNG_SEED + n)
    env = matrix_v0.parallel_env(game=game, n_agents=n, payoff="matching")
    env.reset(seed=1)
    for _ in range(15):
        actions = rng.integers(len(matrix), size=n).tolist()
        rewards = step_rewards(env, actions)
        assert any(
            all(rewards[i] == matrix[actions[i]][actions[m[i]]] for i in range(n))
            for m in matchings
        ), f"no valid pairing explains rewards {rewards} for actions {actions}"


def test_matrix_default_is_matching_and_two_agents_meet_each_other():
    env = matrix_v0.parallel_env(game="prisoners_dilemma", n_agents=2)
    assert env.core.payoff == "matching"
    env.reset(seed=0)
    for a, b in itertools.product(range(2), repeat=2):
        m = PAPER_MATRICES["prisoners_dilemma"]
        assert step_rewards(env, [a, b]) == [m[a][b], m[b][a]]


# ----------------------------------------------------------------------------- equilibria
@pytest.mark.parametrize("n", [2, 10, 100])
def test_contribution_everyone_playing_8_is_the_reference_equilibrium(n):
    core = contribution_v0.ContributionCore(n_agents=n)
    assert core.reference_equilibrium().tolist() == np.eye(20)[8].tolist()
    path = best_reply_path(core.expected_payoffs, np.full(20, 1 / 20))
    assert path.actions[-1] == 8
    assert path.equilibrium is not None and path.equilibrium.tolist() == np.eye(20)[8].tolist()
    assert path.gain == 0.0
    assert exploitability(core.expected_payoffs, np.eye(20)[8]) == 0.0
    # In the N-agent game itself no agent gains by deviating from all-8 (the paper formula).
    at_equilibrium = contribution_utility(8, 8, n)
    deviations = [contribution_utility(x, 8, n) for x in range(20) if x != 8]
    assert max(deviations) < at_equilibrium
    env = contribution_v0.parallel_env(n_agents=n, payoff="average")
    env.reset(seed=0)
    assert step_rewards(env, [8] * n) == [at_equilibrium] * n
    for x in (0, 7, 9, 19):
        assert step_rewards(env, [x] + [8] * (n - 1))[0] == contribution_utility(x, 8, n)


@pytest.mark.parametrize("name", list(PAPER_MATRICES))
def test_matrix_reference_equilibria(name):
    matrix = np.array(PAPER_MATRICES[name], dtype=float)
    listed = np.array(matrix_v0.PRESETS[name].equilibrium)
    core = matrix_v0.MatrixCore(game=name, n_agents=10)
    assert np.allclose(core.reference_equilibrium(), listed)
    assert exploitability(lambda rho: matrix @ rho, listed) == pytest.approx(0.0, abs=1e-12)
    assert any(np.allclose(listed, eq) for eq in symmetric_equilibria(matrix))
    for eq in symmetric_equilibria(matrix):  # everything support enumeration lists is one
        assert exploitability(lambda rho: matrix @ rho, eq) == pytest.approx(0.0, abs=1e-9)


def test_known_symmetric_equilibria():
    stag = symmetric_equilibria(np.array(PAPER_MATRICES["stag_hunt"], dtype=float))
    # stag hunt: all-stag, all-hare, and the mix where 4p = 3 (p = 3/4 stag)
    assert sorted(tuple(np.round(e, 12)) for e in stag) == [(0.0, 1.0), (0.75, 0.25), (1.0, 0.0)]
    pd = symmetric_equilibria(np.array(PAPER_MATRICES["prisoners_dilemma"], dtype=float))
    assert [e.tolist() for e in pd] == [[0.0, 1.0]]


def test_exploration_floor():
    core = contribution_v0.ContributionCore(n_agents=10)
    gaps = [abs(a - 8) for a in range(20)]
    assert sum(gaps) == 102
    for epsilon in (0.0, 0.01, 0.05, 0.5):
        floor = core.exploration_floor(epsilon)
        assert floor == pytest.approx(epsilon * 102 / 19, rel=1e-12)
        assert floor == pytest.approx(5.37 * epsilon, abs=0.01 * epsilon + 1e-15)
        # an ε-explorer around 8: 1−ε on 8, ε spread uniformly over the other 19 actions
        rho = np.full(20, epsilon / 19)
        rho[8] = 1 - epsilon
        assert core.distance(rho) == pytest.approx(floor, rel=1e-12, abs=1e-15)


def test_contribution_distance_is_expected_gap_to_8():
    core = contribution_v0.ContributionCore(n_agents=10)
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(20):
        rho = rng.dirichlet(np.ones(20))
        expected = sum(rho[a] * abs(a - 8) for a in range(20))
        assert float(core.distance(rho)) == pytest.approx(expected, rel=1e-12)
    assert float(core.distance(np.eye(20)[8])) == 0.0


# ----------------------------------------------------------------------------- observations
def test_observe_none_is_a_constant_box():
    env = contribution_v0.parallel_env(n_agents=3, observe="none")
    assert env.observation_space("agent_0") == spaces.Box(0.0, 1.0, (1,), np.float32)
    observations, _ = env.reset(seed=0)
    one = np.ones(1, np.float32)
    assert all(np.array_equal(o, one) for o in observations.values())
    observations = env.step({"agent_0": 3, "agent_1": 4, "agent_2": 5})[0]
    assert all(np.array_equal(o, one) and o.dtype == np.float32
               and env.observation_space(a).contains(o) for a, o in observations.items())


def test_observe_population_is_previous_round_frequencies():
    env = contribution_v0.parallel_env(n_agents=4, observe="population")
    observations, _ = env.reset(seed=0)
    assert all(np.array_equal(o, np.zeros(20, np.float32)) for o in observations.values())
    for actions in ([1, 1, 3, 19], [8, 8, 8, 0], [5, 6, 7, 8]):
        observations = env.step({f"agent_{i}": a for i, a in enumerate(actions)})[0]
        expected = np.zeros(20, dtype=np.float32)
        for a in actions:
            expected[a] += 1 / 4
        for agent, observation in observations.items():
            assert observation.dtype == np.float32
            assert np.array_equal(observation, expected), agent
            assert env.observation_space(agent).contains(observation)
        assert np.array_equal(env.state(), expected)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_observe_sample_with_two_agents_sees_only_the_other(k):
    env = contribution_v0.parallel_env(n_agents=2, observe=f"sample:{k}")
    observations, _ = env.reset(seed=0)
    assert all(not o.any() for o in observations.values())
    for a, b in [(0, 19), (5, 5), (12, 3)]:
        observations = env.step({"agent_0": a, "agent_1": b})[0]
        assert np.array_equal(observations["agent_0"], np.eye(20, dtype=np.float32)[b])
        assert np.array_equal(observations["agent_1"], np.eye(20, dtype=np.float32)[a])


@pytest.mark.parametrize("k", [1, 3, 10])
def test_observe_sample_rows_are_frequencies_of_others(k):
    n = 6
    env = contribution_v0.parallel_env(n_agents=n, observe=f"sample:{k}")
    env.reset(seed=k)
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(20):
        actions = rng.permutation(20)[:n].tolist()  # distinct, so "not self" is visible
        observations = env.step({f"agent_{i}": a for i, a in enumerate(actions)})[0]
        for i, x in enumerate(actions):
            row = observations[f"agent_{i}"]
            assert row.sum() == pytest.approx(1.0, abs=1e-6)
            assert np.allclose(row * k, np.round(row * k), atol=1e-5)  # counts out of k
            assert row[x] == 0, f"agent_{i} sampled itself"
            others = set(actions) - {x}
            assert set(np.flatnonzero(row).tolist()) <= others


# ----------------------------------------------------------------------------- doctests
def test_docstring_examples_run(module_name):  # parametrized over GAMES by conftest
    """Run each game's ``>>>`` examples here too: ``python -m pytest`` only collects
    ``testpaths = ["tests"]``, so ``--doctest-modules`` alone never reaches ``envs/``."""
    entry = importlib.import_module(f"populace.envs.{module_name}")
    module = importlib.import_module(entry.raw_env.core_class.__module__)  # the family module
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    examples = 0
    for test in doctest.DocTestFinder().find(module, module.__name__):
        examples += len(test.examples)
        runner.run(test, out=output.write)
    assert examples > 0, f"{module_name} has no >>> examples"
    assert runner.failures == 0, output.getvalue()


@pytest.mark.parametrize(("n_agents", "high_equilibria"), [(10, list(range(14, 20))), (54, [])])
def test_small_populations_have_high_contribution_equilibria(n_agents, high_equilibria):
    """With the offset 2n, all-y for y > 8 is an equilibrium exactly when y² − 2n ≥ 16y − 49."""
    core = contribution_v0.ContributionCore(n_agents=n_agents)
    pure = np.eye(20)
    symmetric = [y for y in range(20)
                 if exploitability(core.expected_payoffs, pure[y]) <= 1e-9]
    assert symmetric == [0, 8, *high_equilibria]
