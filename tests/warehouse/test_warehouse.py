"""The tabular warehouse (ALT App. G.1): the sanity values of SPEC §2.8 from an exact 25-state
chain and from simulation (the per-robot core and the batched count simulator), the pull
order, the dispatcher's sample, the count-vector ranks and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ZONES, WarehouseModel, chain_value
from populace.envs.warehouse.sim import sample_counts, simulate, tabular_dispatcher
from populace.envs.warehouse.warehouse import WarehouseCore

UNIFORM_DISPATCHER = np.full((ZONES, ZONES), 1 / ZONES)
UNIFORM_ROBOTS = np.full((ZONES, ZONES, 3), 1 / 3)
ZONE_0 = np.eye(ZONES)[np.zeros(ZONES, dtype=int)]  # the dispatcher always picks zone 0
STAY = np.eye(3)[np.zeros((ZONES, ZONES), dtype=int)]  # robots always stay

# SPEC §2.8: (dispatcher, robots) -> discounted return over 100 and over 50 steps
SANITY = {"uniform": (UNIFORM_DISPATCHER, UNIFORM_ROBOTS, 77.30, 71.77),
          "zone 0, stay": (ZONE_0, STAY, 82.97, 76.74)}


def model(pull: str = "next", k: int = 3, n: int = 1000) -> WarehouseModel:
    return WarehouseModel.build(n_robots=n, k=k, gamma=0.95, pull=pull)


@pytest.mark.parametrize("name", sorted(SANITY))
def test_sanity_values_from_the_exact_chain(name):
    dispatcher, robots, over_100, over_50 = SANITY[name]
    assert chain_value(model(), dispatcher, robots, 100) == pytest.approx(over_100, abs=0.005)
    assert chain_value(model(), dispatcher, robots, 50) == pytest.approx(over_50, abs=0.005)
    # the planning code's order (pull toward s_g(t)) is a different game
    assert abs(chain_value(model("current"), dispatcher, robots, 100) - over_100) > 0.5


def core_returns(dispatcher: np.ndarray, robots: np.ndarray, episodes: int) -> np.ndarray:
    """Discounted returns of the per-robot core over 100 steps, both roles drawing from
    ``dispatcher[s_g]`` and ``robots[s_l, s_g]``."""
    core = WarehouseCore(n_agents=200, k=3, max_cycles=100)
    rng = np.random.default_rng(1)
    returns = []
    observations = core.reset(seed=7)
    for _ in range(episodes):
        total, discount, done = 0.0, 1.0, False
        while not done:
            seen = observations["robot"].astype(int)
            zone = int(observations["dispatcher"][0, 0])
            actions = {
                "dispatcher": np.array([rng.choice(ZONES, p=dispatcher[zone])]),
                "robot": (rng.random(len(seen))[:, None]
                          >= np.cumsum(robots[seen[:, 0], seen[:, 1]], axis=1)[:, :-1]).sum(1),
            }
            step = core.step(actions)
            total += discount * step.info["system_reward"]
            discount *= 0.95
            done = step.truncated
            observations = core.reset() if done else step.observations
        returns.append(total)
    return np.array(returns)


@pytest.mark.parametrize("name", sorted(SANITY))
def test_sanity_values_by_simulating_every_robot(name):
    dispatcher, robots, over_100, _ = SANITY[name]
    returns = core_returns(dispatcher, robots, episodes=120)
    error = returns.std() / np.sqrt(len(returns))
    assert abs(returns.mean() - over_100) < 4 * error, (returns.mean(), error)


@pytest.mark.parametrize("name", sorted(SANITY))
def test_sanity_values_by_the_count_simulator(name):
    dispatcher, robots, over_100, over_50 = SANITY[name]
    space = CountVectors(3)
    table = np.broadcast_to(dispatcher[:, None, :], (ZONES, space.size, ZONES))
    for horizon, expected in ((100, over_100), (50, over_50)):
        run = simulate(model(), tabular_dispatcher(table, space), robots, rollouts=1500,
                       horizon=horizon, rng=np.random.default_rng(horizon))
        error = run.returns.std() / np.sqrt(len(run.returns))
        assert abs(run.value - expected) < 4 * error, (run.value, error)


@pytest.mark.parametrize("pull", ["next", "current"])
def test_the_robots_are_pulled_toward_the_zone_the_option_names(pull):
    """200,000 robots in zone 2 stay while the dispatcher (zone 0) heads for zone 4: their next
    zones follow P_l(· | 2, pulled by s_g(t+1) or s_g(t), stay)."""
    core = WarehouseCore(n_agents=200_000, k=1, pull=pull)
    core.reset(seed=3)
    core.zone, core.robots = 0, np.full(core.n_agents, 2)
    core.step({"dispatcher": np.array([4]), "robot": np.zeros(core.n_agents, dtype=int)})
    pulled_by = core.zone if pull == "next" else 0
    expected = core.model().robot_kernel[2, pulled_by, 0]
    share = np.bincount(core.robots, minlength=ZONES) / core.n_agents
    assert np.abs(share - expected).max() < 0.006
    assert core.zone != 0 or pull == "current"  # seed 3: the dispatcher left zone 0


def test_the_dispatcher_sees_k_robots_sampled_without_replacement():
    core = WarehouseCore(n_agents=9, k=4, max_cycles=5)
    observations = core.reset(seed=0)
    for _ in range(4):
        sample = observations["dispatcher"][0, 1:].astype(int)
        assert sample.sum() == 4 and (sample <= core.counts()).all()
        assert observations["dispatcher"][0, 0] == core.zone
        assert (observations["robot"][:, 1] == core.zone).all()
        assert (observations["robot"][:, 0] == core.robots).all()
        observations = core.step({"dispatcher": np.array([1]),
                                  "robot": np.ones(9, dtype=int)}).observations
    full = WarehouseCore(n_agents=7, k=7)
    seen = full.reset(seed=2)["dispatcher"][0, 1:]
    np.testing.assert_array_equal(seen, full.counts())  # k = n: full information
    rng = np.random.default_rng(0)
    drawn = sample_counts(np.array([[5, 0, 3, 1, 1]] * 4000), 4, rng)
    assert (drawn.sum(axis=1) == 4).all() and (drawn <= [5, 0, 3, 1, 1]).all()
    np.testing.assert_allclose(drawn.mean(axis=0), [2.0, 0.0, 1.2, 0.4, 0.4], atol=0.05)


def test_rewards_are_the_tables():
    core = WarehouseCore(n_agents=5, k=2)
    core.reset(seed=1)
    core.zone, core.robots = 1, np.array([1, 2, 3, 0, 1])
    step = core.step({"dispatcher": np.array([3]), "robot": np.array([0, 1, 2, 1, 2])})
    # base: 10 at the dispatcher's zone, 2/(1+d) elsewhere; bonus (0, +0.5, -0.3)
    expected = np.array([10.0, 1.0 + 0.5, 2 / 3 - 0.3, 1.0 + 0.5, 10.0 - 0.3])
    np.testing.assert_allclose(step.rewards["robot"], expected)
    assert step.rewards["dispatcher"][0] == pytest.approx(1.0 + expected.mean())


def test_count_vectors_are_ranked_without_gaps():
    space = CountVectors(7)
    assert space.size == 330 and space.vectors.sum(axis=1).tolist() == [7] * 330
    np.testing.assert_array_equal(space.rank(space.vectors), np.arange(330))
    assert len({tuple(v) for v in space.vectors}) == 330
    assert CountVectors(50).size == 316_251


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_agents": 3, "k": 4}, r"k must be <= n_agents \(3\), got 4"),
     ({"k": 0}, "k must be >= 1"),
     ({"pull": "later"}, "pull must be one of"),
     ({"gamma": 1.0}, "gamma must be in"),
     ({"n_agents": 0}, "n_agents must be >= 1"),
     ({"robots": 3}, "unknown keyword arguments")],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        WarehouseCore(**kwargs)


def test_the_robots_best_response_is_optimal_in_its_induced_mdp():
    """Value iteration's pure policy beats every other pure policy tried, state by state, and
    policy evaluation gives the optimal values back."""
    from populace.envs.warehouse.solvers import induced_kernel, robot_best_response, robot_values

    rng = np.random.default_rng(0)
    visits = rng.integers(0, 50, size=(ZONES, ZONES, ZONES)).astype(float)
    visits[1, 2] = 0  # never visited: borrows zone 1's kernel over all robots
    kernel = induced_kernel(visits)
    np.testing.assert_allclose(kernel.sum(axis=-1), 1.0)
    np.testing.assert_allclose(kernel[1, 2], visits[1].sum(axis=0) / visits[1].sum())
    for pull in ("next", "current"):
        best = robot_best_response(model(pull), kernel)
        np.testing.assert_allclose(robot_values(model(pull), kernel, best.policy), best.values,
                                   atol=1e-8)
        for _ in range(20):
            other = np.eye(3)[rng.integers(3, size=(ZONES, ZONES))]
            assert (robot_values(model(pull), kernel, other) <= best.values + 1e-8).all()


def test_the_rounded_transition_keeps_k_and_follows_the_mean_field():
    from populace.envs.warehouse.solvers import rounded_ranks

    space = CountVectors(6)
    ranks = rounded_ranks(model(k=6), UNIFORM_ROBOTS, space)
    assert ranks.shape == (ZONES, ZONES, space.size, 1)
    expected = space.vectors @ model(k=6).robot_step(UNIFORM_ROBOTS)[2, 3]
    assert np.abs(space.vectors[ranks[2, 3, :, 0]] - expected).max() < 1.0
