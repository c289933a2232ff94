"""The plane games of MJM (``spatial_congestion_v0``, ``supply_demand_v0``): the population
density against a direct kernel sum, the rewards, strict and clipped action boxes, the grid
mean-field equilibrium, its exploitability, metrics and finite-N gap. (Faces, determinism and
bad input in general: the conformance suite.)"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from populace.envs import spatial_congestion_v0, supply_demand_v0
from populace.envs.plane.density import (
    DensityEstimator,
    GaussianSmoother,
    Grid,
    bin_points,
    direct_density,
    fast_length,
)
from populace.envs.plane.rewards import desirability
from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.envs.plane.spatial_equilibrium import GridGame, finite_n_gap, solve
from populace.envs.plane.supply_demand import SupplyDemandCore

SMALL = {"grid_cells": 61}  # node spacing 0.1 = h: quick solves, still a fine picture


# ----------------------------------------------------------------------------- density
@pytest.mark.parametrize(("cells", "bandwidth"), [(121, 0.1), (121, 0.25), (241, 0.1)])
def test_density_matches_the_direct_kernel_sum(cells, bandwidth):
    """Binning + FFT smoothing against the O(N·G) sum: second order in the node spacing d,
    within 0.15·(d/h)² of the peak at the nodes and 0.35·(d/h)² at the points themselves
    (measured: 2.1 % and 5.0 % at d = h/2, 0.5 % and 1.2 % at d = h/4)."""
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal([0.0, 0.0], 0.3, size=(700, 2)),
                             rng.normal([1.0, -0.5], 0.1, size=(300, 2))])
    grid = Grid(-3.0, 3.0, cells)
    ratio = (grid.spacing / bandwidth) ** 2
    estimator = DensityEstimator(grid, bandwidth)
    fast = estimator.on_grid(points)
    near = np.flatnonzero(np.abs(grid.nodes).max(axis=1) <= 1.6)  # where the points are
    exact = direct_density(points, grid.nodes[near], bandwidth)
    assert np.abs(fast.ravel()[near] - exact).max() <= 0.15 * ratio * exact.max()
    at_points = direct_density(points, points, bandwidth)
    assert np.abs(estimator(points) - at_points).max() <= 0.35 * ratio * at_points.max()
    assert fast.sum() * grid.spacing**2 == pytest.approx(1.0, abs=1e-6)  # a density


def test_density_is_not_circular_and_ignores_points_outside():
    grid = Grid(-1.0, 1.0, 21)
    estimator = DensityEstimator(grid, 0.1)
    corner = estimator.on_grid(np.array([[-1.0, -1.0]]))
    assert corner[-1, -1] == pytest.approx(0.0, abs=1e-12)  # no wrap-around to the far edge
    outside = np.array([[5.0, 0.0], [0.0, 0.0]])
    assert estimator.on_grid(outside).sum() == pytest.approx(
        0.5 * estimator.on_grid(outside[1:]).sum())  # counted in N, not on the grid
    assert estimator.at(corner, np.array([[9.0, 9.0]]))[0] == 0.0


def test_binning_conserves_mass_and_places_nodes_exactly():
    grid = Grid(0.0, 1.0, 11)
    masses = bin_points(grid, np.array([[0.3, 0.7], [0.25, 0.25]]))
    assert masses.sum() == pytest.approx(2.0)
    assert masses[3, 7] == pytest.approx(1.0)  # a point on a node stays there
    assert masses[2:4, 2:4] == pytest.approx(np.full((2, 2), 0.25))


def test_smoothing_helpers():
    assert [fast_length(n) for n in (1, 7, 137, 1000, 1025)] == [1, 8, 144, 1000, 1080]
    grid = Grid(-1.0, 1.0, 41)
    blur = GaussianSmoother(grid, 0.1, normalize=True)
    spike = np.zeros((41, 41))
    spike[20, 20] = 1.0
    assert blur(spike).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cells"):
        Grid(0.0, 1.0, 1)
    with pytest.raises(ValueError, match="bandwidth"):
        DensityEstimator(grid, 0.0)


# ----------------------------------------------------------------------------- the game
def test_rewards_follow_the_definition():
    """L(x_T, m) − ½η|u|² with m the kernel density of every landing point (σ = 0: x_T =
    x₀ + u), checked against the direct sum within the estimator's accuracy."""
    core = SpatialCongestionCore(n_agents=200, sigma=0.0, alpha=2.0, eta=0.5)
    starts = core.reset(seed=3)["agent"]
    moves = np.random.default_rng(1).normal(-1.0, 0.3, size=(200, 2)) * [1.0, 0.3]
    step = core.step({"agent": moves})
    landings = starts + moves
    assert np.allclose(step.info["landings"], landings)
    m = direct_density(landings, landings, core.density.bandwidth)
    expected = desirability(landings, ((0.0, 0.0),), 0.25) / (1 + m) ** 2 \
        - 0.25 * (moves**2).sum(axis=1)
    assert np.abs(step.rewards["agent"] - expected).max() < 0.02 * np.abs(expected).max()
    assert step.observations["agent"].shape == (200, 2)  # the next round's starts


def test_strict_refuses_and_default_clips_out_of_box_moves():
    strict = spatial_congestion_v0.parallel_env(n_agents=3, strict=True, action_bound=1.0)
    strict.reset(seed=0)
    actions = {a: np.zeros(2) for a in strict.agents}
    with pytest.raises(ValueError, match=r"agent_2\b.*outside the action box"):
        strict.step({**actions, "agent_2": np.array([1.5, 0.0])})

    def rewards(action_of_last: np.ndarray, face: str) -> float:
        if face == "parallel":
            env = spatial_congestion_v0.parallel_env(n_agents=3, action_bound=1.0)
            env.reset(seed=0)
            out = env.step({"agent_0": np.zeros(2), "agent_1": np.zeros(2),
                            "agent_2": action_of_last})
            return out[1]["agent_2"]
        focal = gymnasium.make("populace/SpatialCongestion-v0", n_agents=3, action_bound=1.0,
                               focal_index=2, population_policy=lambda o, r: np.zeros((2, 2)),
                               max_cycles=2)
        focal.reset(seed=0)
        return focal.step(action_of_last)[1]

    for face in ("parallel", "focal"):
        assert rewards(np.array([7.0, -0.5]), face) == rewards(np.array([1.0, -0.5]), face)
    with pytest.raises(ValueError, match="agent_2"):
        rewards(np.array([np.nan, 0.0]), "parallel")  # clipping never hides a NaN
    with pytest.raises(TypeError, match="strict"):
        SpatialCongestionCore(strict="yes")


def test_render_shows_the_population_over_its_density():
    core = SpatialCongestionCore(n_agents=50, render_mode="ansi", reward="bimodal")
    starts = core.reset(seed=0)["agent"]
    assert "starts" in core.render()
    core.step({"agent": -starts})
    text = core.render()
    assert "landings" in text and text.count("+") >= 2
    core.render_mode = "rgb_array"
    assert core.render().shape == (200, 200, 3)


# ----------------------------------------------------------------------------- equilibrium
@pytest.fixture(scope="module")
def solved() -> dict[float, object]:
    """Grid equilibria with η = 0 (MJM's Experiment 1) for α = 1, 2, 3."""
    out = {}
    for alpha in (1.0, 2.0, 3.0):
        game = GridGame.of(SpatialCongestionCore(alpha=alpha, eta=0.0, **SMALL), start_points=1)
        out[alpha] = solve(game, iterations=1500, tolerance=5e-4)
    return out


def test_fictitious_play_reaches_a_grid_equilibrium(solved):
    for equilibrium in solved.values():
        game = equilibrium.game
        assert equilibrium.exploitability <= 1e-3
        assert game.exploitability(equilibrium.policy) == pytest.approx(
            equilibrium.exploitability)
        assert equilibrium.history[0] > 10 * equilibrium.history[-1]
        crowded = game.policy_of_aims(np.zeros((1, 2)))  # everyone at the peak
        assert game.exploitability(crowded) > 100 * equilibrium.exploitability


def test_spread_grows_with_alpha(solved):
    """SPEC `mguni-spatial`: more crowd aversion, more spread (the equilibrium itself)."""
    spreads = [solved[alpha].spread() for alpha in (1.0, 2.0, 3.0)]
    assert spreads[0] < spreads[1] < spreads[2]


def test_bimodal_equilibrium_occupies_both_peaks():
    core = SpatialCongestionCore(reward="bimodal", eta=0.0, **SMALL)
    equilibrium = solve(GridGame.of(core, start_points=1), iterations=1500, tolerance=5e-4)
    aims = equilibrium.aims.ravel()
    left = aims[equilibrium.game.grid.nodes[:, 0] < -0.5].sum()
    assert 0.3 < left < 0.7


def test_grid_policy_checks():
    game = GridGame.of(SpatialCongestionCore(**SMALL), start_points=2)
    with pytest.raises(ValueError, match="shape"):
        game.exploitability(np.ones((3, 3)))
    bad = np.zeros(game.size)
    bad[:, 0] = 0.5
    with pytest.raises(ValueError, match="sum to 1"):
        game.exploitability(bad)


def test_finite_n_gap_shrinks_with_n_and_is_seeded(solved):
    equilibrium = solved[1.0]
    gaps = [finite_n_gap(equilibrium, n, draws=16) for n in (10, 100, 10_000)]
    assert gaps[0] > gaps[1] > gaps[2] > 0
    assert finite_n_gap(equilibrium, 100, draws=16) == gaps[1]
    with pytest.raises(ValueError, match="n_agents"):
        finite_n_gap(equilibrium, 1)


def test_metrics_score_equilibrium_play_above_a_crowd():
    core = SpatialCongestionCore(n_agents=1000, max_cycles=50, **SMALL)
    policy = core.default_policy("agent")
    rng = np.random.default_rng(0)

    def window(play) -> dict:
        metrics = core.window_metrics()
        starts = core.reset(seed=0)["agent"]
        for _ in range(10):
            moves = play(starts, rng)
            step = core.step({"agent": moves})
            metrics.record({"agent": moves}, step)
            starts = step.observations["agent"]
        restored = core.window_metrics()
        restored.load_state_dict(metrics.state_dict())
        assert restored.scores({}) == metrics.scores({})
        return metrics.scores({})

    equilibrium = window(policy)
    crowd = window(lambda starts, rng: -starts)
    assert equilibrium["exploitability"] < 0.01 < crowd["exploitability"]
    assert equilibrium["density_distance"] < 0.2 < 1.0 < crowd["density_distance"]
    assert equilibrium["spread"] > crowd["spread"]
    grid_policy = core.reference_equilibrium().policy
    assert core.window_metrics().scores({"agent": grid_policy})["exploitability"] <= 1e-4


def test_finite_population_gap_hook():
    core = SpatialCongestionCore(**SMALL)
    assert core.finite_population_gap(10) > core.finite_population_gap(1000) > 0


# ----------------------------------------------------------------------------- supply
def test_supply_demand_rewards_path_and_time():
    core = SupplyDemandCore(n_agents=5, eta=2.0, offset_std=0.0, speed_spread=0.0,
                            max_cycles=30)
    observations = core.reset(seed=0)["agent"]
    assert np.allclose(core.centre(0), [-1.0, 0.0]) and np.allclose(core.centre(15), [0.0, 1.0])
    moves = np.full((5, 2), 0.1)
    step = core.step({"agent": moves})
    positions = observations[:, :2]
    m = direct_density(positions, positions, 0.1)
    demand = 0.1 * desirability(positions, ((-1.0, 0.0),), 0.1)
    expected = demand / (1 + m) ** 0.1 - 2.0 * 0.02
    assert np.abs(step.rewards["agent"] - expected).max() < 1e-4
    assert np.allclose(step.observations["agent"][:, 2], 1 / 30)


def test_supply_demand_path_is_uncertain_per_episode():
    core = SupplyDemandCore(n_agents=2)
    centres = set()
    for seed in range(3):
        core.reset(seed=seed)
        centres.add(tuple(np.round(core.centre(10), 6)))
    assert len(centres) == 3
    core.reset(seed=0)
    first = core.centre(10)
    core.reset(seed=0)
    assert np.array_equal(core.centre(10), first)


def test_supply_demand_metrics():
    core = supply_demand_v0.SupplyDemandCore(n_agents=20, max_cycles=5)
    metrics = core.window_metrics()
    core.reset(seed=0)
    for _ in range(5):
        moves = np.full((20, 2), 0.1)
        metrics.record({"agent": moves}, core.step({"agent": moves}))
    scores = metrics.scores({})
    assert scores["movement_cost"] == pytest.approx(2.0 * 0.02)
    assert scores["demand_distance"] > 0


# ----------------------------------------------------------------------------- SB3 SAC
@pytest.mark.parametrize("module", [spatial_congestion_v0, supply_demand_v0])
def test_sac_trains_on_the_plane_games_in_the_same_loop(module):
    """SB3 SAC (one network shared by the population) runs in the standard loop on both games
    and is scored by their metric columns (learning itself: the reproductions)."""
    pytest.importorskip("stable_baselines3", reason="needs the baselines extra")
    from populace.agents import make_learner
    from populace.train import train

    env = module.parallel_env(n_agents=6, grid_cells=16, max_cycles=3)
    learner = make_learner("sac", env.core, seed=0, learning_starts=4)
    history = train(env, learner, rounds=6, window=3, seed=0, progress=False).history
    columns = env.core.window_metrics().columns
    assert set(columns) <= set(history.columns) and len(history) == 2
    assert all(np.isfinite(history.column(c)).all() for c in columns)


# ----------------------------------------------------------------------------- supply: grid
@pytest.fixture(scope="module")
def supply_equilibria() -> dict[float, object]:
    """The grid equilibria of supply_demand_v0 with η = 2 (MJM) and η = 0."""
    from populace.envs.plane.supply_equilibrium import SupplyGridGame, solve_supply

    return {eta: solve_supply(SupplyGridGame.of(SupplyDemandCore(eta=eta), cells=31),
                              tolerance=5e-4)
            for eta in (2.0, 0.0)}


def test_supply_fictitious_play_converges(supply_equilibria):
    for equilibrium in supply_equilibria.values():
        assert equilibrium.exploitability <= 5e-4
        assert equilibrium.history[0] > 10 * equilibrium.exploitability
        game = equilibrium.game
        stay = np.full((game.horizon, game.grid.cells, game.grid.cells), len(game.offsets) // 2)
        assert game.policy_exploitability(stay) > 0.1  # staying put forgoes the demand


def test_supply_movement_cost_makes_agents_intercept_the_path_later(supply_equilibria):
    """SPEC §2.6: with η = 0 the population traces the demand's (nominal) path; with η = 2 it
    lags it early and meets it later, near the top of the arc."""
    core = SupplyDemandCore()
    path = np.array([core.centre(t, np.zeros(2), 1.0) for t in range(core.max_cycles)])
    gap = {eta: np.linalg.norm(eq.mean_path() - path, axis=1)
           for eta, eq in supply_equilibria.items()}
    assert gap[0.0][3:27].max() < 0.08
    assert gap[2.0][3] > 0.25 and gap[2.0][3] > 5 * gap[0.0][3]
    assert gap[2.0][10:20].max() < 0.1


def test_supply_exploitability_of_a_callable_policy():
    """Tracing the path at full speed is nearly optimal without movement costs and poor with
    MJM's η = 2 (as poor as staying put)."""

    def exploitabilities(eta: float) -> tuple[float, float]:
        core = SupplyDemandCore(n_agents=3, eta=eta)

        def follow(observations):  # one argument, as SB3 SAC's deterministic policy
            t = np.rint(observations[:, 2] * core.max_cycles)
            centres = np.stack([core.centre(k, np.zeros(2), 1.0) for k in t])
            return np.clip(centres - observations[:, :2], -0.5, 0.5)

        stay = core.exploitability(lambda observations, rng: np.zeros((len(observations), 2)))
        return stay, core.exploitability(follow)

    stay, follow = exploitabilities(0.0)
    assert stay > 5 * follow
    stay, follow = exploitabilities(2.0)
    assert min(stay, follow) > 0.5
    core = SupplyDemandCore(n_agents=3)
    assert np.isnan(core.window_metrics().scores({})["exploitability"])


def test_supply_finite_n_gap_shrinks_towards_the_grid_exploitability(supply_equilibria):
    from populace.envs.plane.supply_equilibrium import supply_finite_n_gap

    equilibrium = supply_equilibria[2.0]
    gaps = [supply_finite_n_gap(equilibrium, n, draws=4) for n in (10, 1000)]
    assert gaps[0] > gaps[1] > 0
    assert gaps[1] < 2 * equilibrium.exploitability + 1e-3
    assert supply_finite_n_gap(equilibrium, 10, draws=4) == gaps[0]
    with pytest.raises(ValueError, match="n_agents"):
        supply_finite_n_gap(equilibrium, 1)
