"""The mean-field LQR game (SPEC §2.7): payoffs and dynamics against the definition written
plainly, the exact discrete-time reference (stationary, discounted, finite horizon) against
SPEC's numbers and independent computations, exploitability, the metrics, the finite-N gap
against Monte Carlo, bad input, and the ``finite-n`` command."""

from __future__ import annotations

import csv
import doctest
import re

import gymnasium
import numpy as np
import pytest

from populace.bench.lqr import measure_lqr
from populace.bench.timing import Timing
from populace.cli import main
from populace.envs import mf_lqr_v0
from populace.envs.core import PopulationCore
from populace.envs.mean_field_lqr import finite_n as mf_lqr_finite_n
from populace.envs.mean_field_lqr import lqr
from populace.envs.mean_field_lqr import reference as mf_lqr_reference
from populace.envs.mean_field_lqr.finite_n import best_response_gain, finite_n_gap
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
from populace.envs.mean_field_lqr.reference import (
    LinearPolicy,
    LQModel,
    as_linear_policy,
    exploitability,
    finite_horizon_equilibrium,
    policy_cost,
    riccati_gain,
    stationary_equilibrium,
)
from populace.train.studies import finite_n
from populace.train.studies.finite_n import fit_power_law

H = np.array([0.5, -0.5])


def play(core: MFLQRCore, policy, steps: int, seed: int = 0, metrics=None, start: int = 0):
    """Step ``core`` (reset with ``seed``) with ``policy(t, positions) -> actions``."""
    observations = core.reset(seed=seed)["agent"]
    for t in range(steps):
        actions = policy(t, observations[:, :2])
        step = core.step({"agent": actions})
        if metrics is not None and t >= start:
            metrics.record({"agent": actions}, step)
        observations = step.observations["agent"]
    return observations


@pytest.mark.parametrize("module", [lqr, mf_lqr_reference, mf_lqr_finite_n, finite_n])
def test_helper_docstring_examples_run(module):
    """The game module's examples run in test_games; its helpers' run here."""
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failures == 0


# ----------------------------------------------------------------------------- the game
def plain_rewards(positions, actions, q1, q2, target, dt):
    """The stage rewards one agent at a time, as SPEC §2.7 writes them."""
    n = len(positions)
    mean = [sum(p[k] for p in positions) / n for k in range(2)]
    rewards = []
    for x, u in zip(positions.tolist(), actions.tolist(), strict=True):
        to_target = sum((x[k] - target[k]) ** 2 for k in range(2))
        to_mean = sum((x[k] - mean[k]) ** 2 for k in range(2))
        rewards.append(-(q1 * to_target + q2 * to_mean + 0.5 * sum(v * v for v in u)) * dt)
    return rewards


@pytest.mark.parametrize("kwargs", [{}, {"q1": 0.7, "q2": 2.1, "dt": 0.2, "sigma": 0.1,
                                         "target": (-1.0, 3.0), "n_agents": 3}])
def test_rewards_and_moves_follow_the_definition(kwargs):
    core = MFLQRCore(**{"n_agents": 7, **kwargs})
    model = core.lq
    observations = core.reset(seed=4)["agent"]
    rng = np.random.default_rng(0)
    for _ in range(5):
        positions = observations[:, :2].copy()
        assert np.allclose(observations[:, 2:], positions.mean(axis=0))  # m̄ includes oneself
        actions = rng.uniform(-3, 3, size=positions.shape)
        noise_source = np.random.default_rng()
        noise_source.bit_generator.state = core.np_random.bit_generator.state
        step = core.step({"agent": actions})
        expected = plain_rewards(positions, actions, model.q1, model.q2, model.target, model.dt)
        assert np.allclose(step.rewards["agent"], expected, rtol=1e-12, atol=1e-15)
        noise = noise_source.standard_normal(positions.shape)
        moved = positions + actions * model.dt + model.sigma * np.sqrt(model.dt) * noise
        observations = step.observations["agent"]
        assert np.allclose(observations[:, :2], moved, rtol=1e-13, atol=1e-15)
        assert observations.dtype == np.float64 and observations.shape == (len(positions), 4)


def test_permuting_agents_permutes_rewards_and_dtypes_do_not_matter():
    core = MFLQRCore(n_agents=9)
    core.reset(seed=0)
    state = core.state_dict()
    rng = np.random.default_rng(1)
    actions = rng.uniform(-2, 2, size=(9, 2)).astype(np.float32)
    order = rng.permutation(9)
    rewards = core.step({"agent": actions}).rewards["agent"]
    core.load_state_dict({**state, "positions": state["positions"][order]})
    permuted = core.step({"agent": actions[order]}).rewards["agent"]
    assert np.allclose(permuted, rewards[order], rtol=1e-12)
    core.load_state_dict(state)
    as_float64 = core.step({"agent": actions.astype(np.float64)}).rewards["agent"]
    assert np.array_equal(as_float64, rewards)


def test_start_is_the_documented_gaussian():
    core = MFLQRCore(n_agents=40000, init_mean=(1.0, -2.0), init_std=0.3)
    positions = core.reset(seed=1)["agent"][:, :2]
    assert np.allclose(positions.mean(axis=0), [1.0, -2.0], atol=0.01)
    assert np.allclose(positions.std(axis=0), 0.3, atol=0.01)


def test_checkpoint_resumes_exactly():
    first, second = MFLQRCore(n_agents=1001), MFLQRCore(n_agents=1001)
    first.reset(seed=3)
    actions = np.full((1001, 2), 0.25)
    first.step({"agent": actions})
    second.load_state_dict(first.state_dict())
    for _ in range(3):
        a, b = first.step({"agent": actions}), second.step({"agent": actions})
        assert np.array_equal(a.rewards["agent"], b.rewards["agent"])
        assert np.array_equal(a.observations["agent"], b.observations["agent"])


def test_pictures_show_the_mean_and_the_target():
    core = MFLQRCore(n_agents=50, render_mode="ansi")
    core.reset(seed=0)
    text = core.render()
    assert "M" in text and "h" in text and "variance" in text and "0.1552" in text
    core = MFLQRCore(n_agents=50, render_mode="rgb_array")
    core.reset(seed=0)
    image = core.render()
    assert image.dtype == np.uint8 and image.shape == (200, 200, 3)
    assert (image == [204, 0, 0]).all(axis=2).any()  # the mean, in red


# ----------------------------------------------------------------------------- reference
def test_reference_values_from_spec():
    equilibrium = stationary_equilibrium(LQModel())
    assert equilibrium.gain == pytest.approx(1.90250, abs=5e-6)
    assert equilibrium.variance == pytest.approx(0.1552, abs=5e-5)
    assert stationary_equilibrium(LQModel(dt=0.01)).variance == pytest.approx(0.1435, abs=5e-5)
    assert np.array_equal(equilibrium.mean, H)


def test_variance_tends_to_the_continuous_time_value():
    """σ²/(2κ) = 0.5625/4 = 0.140625 (Bardi 2012; MJM's B1 column) as Δt → 0."""
    steps = [0.1, 0.05, 0.01, 1e-3, 1e-4, 1e-6]
    variances = [stationary_equilibrium(LQModel(dt=dt)).variance for dt in steps]
    assert all(a > b for a, b in zip(variances, variances[1:], strict=False))
    assert variances[-1] == pytest.approx(0.140625, abs=1e-6)
    assert stationary_equilibrium(LQModel(dt=1e-6)).gain == pytest.approx(2.0, abs=1e-5)


def test_discounted_limit_uses_a_rate_per_unit_time():
    """γ = exp(−βΔt): β = 0.1 gives the limit variance 0.14418 (SPEC)."""
    variance = stationary_equilibrium(LQModel(dt=1e-6, discount_rate=0.1)).variance
    assert variance == pytest.approx(0.14418, abs=1e-5)


@pytest.mark.parametrize("discount_rate", [0.0, 0.1, 2.0])
@pytest.mark.parametrize("dt", [0.01, 0.05, 0.5])
def test_closed_form_riccati_equals_the_generic_solver(dt, discount_rate):
    model = LQModel(dt=dt, discount_rate=discount_rate)
    p, gain = riccati_gain(model)
    generic_p, generic_gain = lqr.riccati(np.eye(1), [[dt]], [[model.q * dt]], [[dt / 2]],
                                          [[1.0]], model.gamma)
    assert p == pytest.approx(generic_p[0, 0], rel=1e-12)
    assert gain == pytest.approx(generic_gain[0, 0], rel=1e-12)


@pytest.mark.parametrize(("q1", "q2"), [(2.0, 0.0), (1.0, 1.0), (0.1, 1.9), (3.0, 5.0)])
def test_equilibrium_mean_is_the_target_for_any_split(q1, q2):
    equilibrium = stationary_equilibrium(LQModel(q1=q1, q2=q2))
    assert np.array_equal(equilibrium.mean, H)
    # mean consistency: h is where the best response to a mean at h steers
    assert np.allclose(LQModel(q1=q1, q2=q2).tracked_point(equilibrium.mean), H)


def test_stationary_monte_carlo_with_many_agents():
    core = MFLQRCore(n_agents=20000, max_cycles=1000)
    equilibrium = core.reference_equilibrium()
    metrics = core.window_metrics()
    play(core, lambda t, x: equilibrium.actions(x), steps=300, seed=5, metrics=metrics,
         start=150)
    scores = metrics.scores({})
    assert scores["mean_error"] < 0.01
    assert scores["variance"] == pytest.approx(0.15521, abs=0.004)
    assert scores["exploitability"] < 1e-9  # the least-squares fit recovers K*(x − h)


def time_varying_best_response(model, means):
    """Best response to a mean path, one coordinate at a time, by a generic backward pass on
    the augmented state (x, 1): an independent check of the finite-horizon offsets."""
    dt, gamma, horizon = model.dt, model.gamma, len(means) - 1
    a, b, r = np.eye(2), np.array([[dt], [0.0]]), np.array([[dt / 2]])
    gains, intercepts = np.empty(horizon), np.empty((horizon, 2))
    for k in range(2):
        p = np.zeros((2, 2))
        for t in range(horizon - 1, -1, -1):
            g = model.q1 * model.h[k] + model.q2 * means[t, k]
            cost = dt * np.array([[model.q, -g],
                                  [-g, model.q1 * model.h[k] ** 2 + model.q2 * means[t, k] ** 2]])
            feedback = gamma * np.linalg.solve(r + gamma * b.T @ p @ b, b.T @ p @ a)
            closed = a - b @ feedback
            p = cost + feedback.T @ r @ feedback + gamma * closed.T @ p @ closed
            gains[t], intercepts[t, k] = feedback[0, 0], -feedback[0, 1]
    return gains, intercepts


@pytest.mark.parametrize("discount_rate", [0.0, 0.5])
def test_finite_horizon_is_a_fixed_point(discount_rate):
    model = LQModel(discount_rate=discount_rate, q1=1.0, q2=1.0)
    reference = finite_horizon_equilibrium(model, 60, [0.0, 0.3], 0.25)
    gains, intercepts = time_varying_best_response(model, reference.means)
    assert np.allclose(reference.gains, gains, rtol=1e-10, atol=1e-12)
    assert np.allclose(reference.intercepts, intercepts, rtol=1e-9, atol=1e-12)
    means = [np.array([0.0, 0.3])]
    for t in range(60):  # the population's mean under that best response: consistent
        means.append(means[-1] + reference.actions(t, means[-1]) * model.dt)
    assert np.allclose(reference.means, means, atol=1e-12)


def test_long_horizon_meets_the_stationary_equilibrium():
    model = LQModel()
    reference = finite_horizon_equilibrium(model, 400, [0.0, 0.0], 0.25)
    stationary = stationary_equilibrium(model)
    assert reference.gains[200] == pytest.approx(stationary.gain, rel=1e-10)
    assert np.allclose(reference.means[200], H, atol=1e-6)
    assert reference.variances[200] == pytest.approx(stationary.variance, rel=1e-6)
    assert reference.gains[-1] == 0.0  # nothing left to gain in the last step


def test_finite_horizon_monte_carlo():
    core = MFLQRCore(n_agents=20000, max_cycles=40, q1=1.0, q2=1.0, init_mean=(-0.5, 0.5))
    reference = core.finite_horizon_reference()
    observations = core.reset(seed=2)["agent"]
    for t in range(40):
        positions = observations[:, :2]
        assert np.allclose(positions.mean(axis=0), reference.means[t], atol=0.015)
        assert positions.var(axis=0).mean() == pytest.approx(reference.variances[t], abs=0.01)
        observations = core.step({"agent": reference.actions(t, positions)}).observations["agent"]


# ----------------------------------------------------------------------------- exploitability
def test_exploitability_closed_form():
    """A population playing u = −K*(x − c): q₁²/(q₁+q₂)·|c − h|² per unit time (SPEC)."""
    rng = np.random.default_rng(0)
    for q1, q2 in [(1.5, 0.5), (2.0, 0.0), (0.4, 3.0)]:
        model = LQModel(q1=q1, q2=q2)
        gain = stationary_equilibrium(model).gain
        for _ in range(3):
            c = rng.normal(size=2)
            expected = q1**2 / (q1 + q2) * float(np.sum((c - H) ** 2))
            assert exploitability(model, LinearPolicy.of(gain, c)) == pytest.approx(
                expected, rel=1e-9, abs=1e-12)


def test_exploitability_is_zero_only_at_the_equilibrium():
    model = LQModel()
    gain = stationary_equilibrium(model).gain
    assert exploitability(model, LinearPolicy.of(gain, H)) < 1e-12
    for other in (0.5, 1.5, 2.5, [gain, 1.0]):
        assert exploitability(model, LinearPolicy.of(other, H)) > 1e-4
    assert exploitability(model, LinearPolicy.of(50.0, H)) == float("inf")  # KΔt > 2
    assert exploitability(model, LinearPolicy.of(0.0, H)) == float("inf")  # no rest point
    matrix = LinearPolicy.of(np.array([[gain, 0.3], [-0.3, gain]]), H)  # rotates: still a gap
    assert 0 < exploitability(model, matrix) < float("inf")


def test_the_best_response_beats_nearby_policies():
    model = LQModel()
    mean = np.array([0.2, -0.1])
    best = policy_cost(model, LinearPolicy.of(riccati_gain(model)[1], model.tracked_point(mean)),
                       mean, mean, np.full(2, 0.2))
    for gain in (1.8, 1.9, 1.95, 2.0):
        for shift in (-0.01, 0.0, 0.01):
            other = LinearPolicy.of(gain, model.tracked_point(mean) + shift)
            assert policy_cost(model, other, mean, mean, np.full(2, 0.2)) >= best - 1e-12


def test_discounted_equilibrium_is_unexploitable_under_its_criterion():
    model = LQModel(discount_rate=0.5)
    equilibrium = stationary_equilibrium(model)
    assert exploitability(model, LinearPolicy.of(equilibrium.gain, equilibrium.offset)) < 1e-10
    assert exploitability(model, LinearPolicy.of(equilibrium.gain, [0.0, 0.0])) > 0.1


def test_linear_policy_forms():
    gain, offset = 1.7, [0.1, 0.2]
    expected = LinearPolicy.of(gain, offset)

    class Learned:
        def __init__(self) -> None:
            self.gain, self.offset = gain, offset

    for spec in ({"gain": gain, "offset": offset}, (gain, offset), Learned(), expected,
                 ([gain, gain], offset), (np.eye(2) * gain, offset)):
        policy = as_linear_policy(spec)
        assert np.array_equal(policy.gain, expected.gain)
        assert np.array_equal(policy.offset, expected.offset)
    assert as_linear_policy(lambda x: x) is None and as_linear_policy(None) is None
    affine = LinearPolicy.affine(2.0, [1.0, -1.0])  # u = −2x + b: rest point b/2
    assert np.allclose(affine.offset, [0.5, -0.5])
    with pytest.raises(ValueError, match="gain must be finite"):
        LinearPolicy.of(np.ones(3), offset)
    with pytest.raises(ValueError, match="offset must be a finite point"):
        LinearPolicy.of(1.0, [np.nan, 0.0])


# ----------------------------------------------------------------------------- metrics
def test_metrics_fit_a_noisy_linear_policy():
    core = MFLQRCore(n_agents=5000, max_cycles=1000)
    gain, offset = 1.4, np.array([0.3, -0.2])
    rng = np.random.default_rng(9)

    def explore(t, x):
        return -gain * (x - offset) + 0.2 * rng.standard_normal(x.shape)

    metrics = core.window_metrics()
    play(core, explore, steps=60, seed=1, metrics=metrics)
    fitted = metrics.fitted_policy()
    assert np.allclose(fitted.gain, gain * np.eye(2), atol=0.02)
    assert np.allclose(fitted.offset, offset, atol=0.02)
    exact = core.exploitability({"gain": gain, "offset": offset})
    assert metrics.scores({})["exploitability"] == pytest.approx(exact, rel=0.05)
    assert metrics.scores({"agent": lambda obs: obs})["exploitability"] == pytest.approx(
        exact, rel=0.05)  # a callable policy is scored by the fit of its play
    assert metrics.scores({"agent": (gain, offset)})["exploitability"] == exact
    restored = core.window_metrics()
    restored.load_state_dict(metrics.state_dict())
    assert restored.scores({}) == metrics.scores({})


def test_metrics_of_an_empty_window_are_nan():
    core = MFLQRCore(n_agents=3)
    scores = core.window_metrics().scores({})
    assert set(scores) == set(core.window_metrics().columns)
    assert all(np.isnan(v) for v in scores.values())
    assert core.window_metrics().scores({"agent": (1.0, H)})["exploitability"] > 0
    with pytest.raises(TypeError, match="scores linear policies"):
        core.exploitability("policy")


def test_default_policy_is_the_clipped_equilibrium():
    core = MFLQRCore(n_agents=4, action_bound=0.5)
    policy = core.default_policy("agent")
    observations = np.array([[0.5, -0.5, 0, 0], [0.6, -0.5, 0, 0], [5.0, -5.0, 0, 0],
                             [0.0, 0.0, 0, 0]])
    actions = policy(observations, np.random.default_rng(0))
    gain = core.reference_equilibrium().gain
    assert np.allclose(actions[:2], [[0, 0], [-0.1 * gain, 0]])
    assert np.array_equal(actions[2], [-0.5, 0.5])
    env = gymnasium.make("populace/MFLQR-v0", n_agents=4)
    env.reset(seed=0)
    env.step(np.zeros(2))  # the others follow it


# ----------------------------------------------------------------------------- finite N
def test_finite_n_gap_falls_like_one_over_n():
    model = LQModel()
    sizes = [2, 3, 5, 10, 100, 1000, 10**4, 10**5]
    gaps = [finite_n_gap(model, n) for n in sizes]
    assert all(a > b > 0 for a, b in zip(gaps, gaps[1:], strict=False))
    scaled = [n * g for n, g in zip(sizes, gaps, strict=True)]
    assert scaled[-1] == pytest.approx(scaled[-2], rel=1e-3)  # N·gap has a limit
    fit = fit_power_law(sizes, gaps, fit_from=100)
    assert fit.slope == pytest.approx(-1.0, abs=0.01)


@pytest.mark.parametrize("n_agents", [2, 20, 10**4])
def test_finite_n_gap_identity_matches_the_difference_of_costs(n_agents):
    from populace.envs.mean_field_lqr.finite_n import deviator_problem

    model = LQModel()
    a, b, q, r, noise, equilibrium = deviator_problem(model, n_agents)
    optimal = lqr.riccati(a, b, q, r, equilibrium)
    difference = (lqr.average_cost(a, b, q, r, noise, equilibrium)
                  - lqr.average_cost(a, b, q, r, noise, optimal[1]))
    assert finite_n_gap(model, n_agents) == pytest.approx(2 * difference / model.dt, rel=1e-5)


def monte_carlo_gap(model, n, replicas, steps, seed):
    """N agents simulated as SPEC defines the game, ``replicas`` populations at once, twice
    with common noise: everyone at the equilibrium, then agent 0 best-responding. The gain
    of agent 0, per unit time and both coordinates, and its standard error."""
    equilibrium = stationary_equilibrium(model)
    l_own, l_others = best_response_gain(model, n)
    rng = np.random.default_rng(seed)
    start = H + np.sqrt(equilibrium.variance) * rng.standard_normal((replicas, n, 2))
    runs = [start, start.copy()]
    gains = np.zeros(replicas)
    scale = model.sigma * np.sqrt(model.dt)
    burn_in = 100
    for t in range(burn_in + steps):
        noise = scale * rng.standard_normal((replicas, n, 2))
        rewards = []
        for deviates, x in enumerate(runs):
            u = -equilibrium.gain * (x - H)
            if deviates:
                others = x[:, 1:].mean(axis=1)
                u[:, 0] = -l_own * (x[:, 0] - H) - l_others * (others - H)
            mean = x.mean(axis=1)
            cost = (model.q1 * ((x[:, 0] - H) ** 2).sum(-1)
                    + model.q2 * ((x[:, 0] - mean) ** 2).sum(-1) + 0.5 * (u[:, 0] ** 2).sum(-1))
            rewards.append(-cost * model.dt)
            runs[deviates] = x + u * model.dt + noise
        if t >= burn_in:
            gains += rewards[1] - rewards[0]
    per_unit_time = gains / steps / model.dt
    return per_unit_time.mean(), per_unit_time.std() / np.sqrt(replicas)


@pytest.mark.parametrize("n_agents", [2, 4])
def test_finite_n_gap_agrees_with_monte_carlo(n_agents):
    model = LQModel()
    estimate, error = monte_carlo_gap(model, n_agents, replicas=1000, steps=1000, seed=n_agents)
    exact = finite_n_gap(model, n_agents)
    assert abs(estimate - exact) < 4 * error and error < 0.1 * exact


def test_finite_population_gap_is_a_core_hook():
    assert MFLQRCore(dt=0.01).finite_population_gap(10) == finite_n_gap(LQModel(dt=0.01), 10)
    with pytest.raises(NotImplementedError, match="no finite-population gap"):
        PopulationCore.finite_population_gap(MFLQRCore(), 10)
    with pytest.raises(ValueError, match="n_agents must be >= 2"):
        finite_n_gap(LQModel(), 1)


def test_finite_n_command(tmp_path, capsys):
    out = tmp_path / "gap"
    argv = ["finite-n", "mf_lqr_v0", "--sizes", "2,10,100,1000", "--out", str(out),
            "--env", "dt=0.05"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "power-law fit over N = 10 … 1,000" in printed and "N^-1.0" in printed
    with (out / "finite_n.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["n_agents"]) for row in rows] == [2, 10, 100, 1000]
    assert float(rows[0]["gap"]) == pytest.approx(finite_n_gap(LQModel(), 2), rel=1e-8)
    assert (out / "finite_n.png").stat().st_size > 0
    assert main(["finite-n", "contribution_v0", "--out", str(tmp_path / "x")]) == 2
    assert "no finite-population gap" in capsys.readouterr().err
    assert main(["finite-n", "mf_lqr_v0", "--sizes", "1,5"]) == 2
    assert "--sizes must be integers >= 2, got [1]" in capsys.readouterr().err


def test_bench_row():
    row = measure_lqr(1000, Timing(samples=2, min_sample_s=0.0, warmup=1, learner_run_s=0.0))
    assert row.n_agents == 1000 and row.step_s > 0 and row.kernel_s > 0
    assert row.meets_target is None


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([np.nan, 0.0], "agent_2 sent a non-finite action [nan  0.]"),
        ([0.0, np.inf], "agent_2 sent a non-finite action [ 0. inf]"),
        ([10.5, 0.0], "agent_2 sent [10.5  0. ], outside the action box [-10.0, 10.0]"),
        ([0.0, -11.0], "agent_2 sent [  0. -11.], outside the action box [-10.0, 10.0]"),
    ],
)
def test_bad_actions_name_the_agent(bad, message):
    core = MFLQRCore(n_agents=3)
    core.reset(seed=0)
    actions = np.zeros((3, 2))
    actions[2] = bad
    with pytest.raises(ValueError, match=re.escape(message)):
        core.step({"agent": actions})
    env = mf_lqr_v0.parallel_env(n_agents=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        env.step({"agent_0": np.zeros(2), "agent_1": np.zeros(2), "agent_2": np.array(bad)})
    focal = gymnasium.make("populace/MFLQR-v0", n_agents=3, focal_index=2)
    focal.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        focal.step(np.array(bad))
    with pytest.raises(ValueError, match=re.escape("must have shape (3, 2), got (3,)")):
        core.step({"agent": np.zeros(3)})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dt": 0.0}, ValueError, "dt must be in (0, 1], got 0.0"),
        ({"dt": 1.5}, ValueError, "dt must be in (0, 1], got 1.5"),
        ({"dt": np.nan}, ValueError, "dt must be in (0, 1], got nan"),
        ({"dt": "0.1"}, TypeError, "dt must be a real number, got str '0.1'"),
        ({"sigma": -0.1}, ValueError, "sigma must be in [0, inf), got -0.1"),
        ({"q1": 0.0}, ValueError, "q1 must be in (0, inf), got 0.0"),
        ({"q2": -1}, ValueError, "q2 must be in [0, inf), got -1"),
        ({"discount_rate": -0.1}, ValueError, "discount_rate must be in [0, inf), got -0.1"),
        ({"init_std": -1.0}, ValueError, "init_std must be in [0, inf), got -1.0"),
        ({"action_bound": 0}, ValueError, "action_bound must be in (0, inf), got 0"),
        ({"target": (1.0,)}, ValueError, "target must be a finite pair of real numbers"),
        ({"target": (1.0, np.inf)}, ValueError, "target must be a finite pair of real numbers"),
        ({"init_mean": "here"}, TypeError, "init_mean must be a pair of real numbers"),
        ({"n_agents": 0}, ValueError, "n_agents must be >= 1, got 0"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        mf_lqr_v0.parallel_env(**kwargs)
