"""Smooth (Boltzmann) Q-learning (LPS §3) and its continuous-time dynamics.

The game throughout is asymmetric matching pennies: A = [[3, −1], [−1, 1]] for agent x and
B = −Aᵀ for agent y (unique interior Nash equilibrium x = y = (1/3, 2/3)). The QRE is computed
here, independently of the package, by a damped fixed-point iteration of x_ki ∝ exp(r_ki/T_k).
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from gymnasium import spaces

from populace.agents import SmoothQLearner, Transition, make_learner
from populace.agents.smooth_q import boltzmann, schedule_factor
from populace.agents.smooth_q_dynamics import integrate_smooth_q
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.matrix import MatrixCore
from populace.envs.core import Group
from populace.train import train

A = np.array([[3.0, -1.0], [-1.0, 1.0]])
NASH = np.array([[1 / 3, 2 / 3], [1 / 3, 2 / 3]])


def amps(x: np.ndarray) -> np.ndarray:
    """Payoff vectors of the two agents: r_x = A·y, r_y = B·x = −Aᵀ·x."""
    return np.stack([A @ x[1], -A.T @ x[0]])


def qre(temperatures: tuple[float, float]) -> np.ndarray:
    """The QRE by a damped fixed-point iteration x ← 0.9·x + 0.1·softmax(r(x)/T)."""
    x = np.full((2, 2), 0.5)
    scale = 1.0 / np.array(temperatures)[:, None]
    for _ in range(3000):
        weights = np.exp(amps(x) * scale)
        x = 0.9 * x + 0.1 * weights / weights.sum(axis=1, keepdims=True)
    r = amps(x)
    for k, t in enumerate(temperatures):  # it is a fixed point
        expected = np.exp(r[k] / t) / np.exp(r[k] / t).sum()
        np.testing.assert_allclose(x[k], expected, atol=1e-12)
    return x


def kl(p: np.ndarray, q: np.ndarray) -> float:
    """Σ_k KL(p_k ‖ q_k)."""
    return float(np.sum(p * np.log(p / q)))


# =================================================================== the learner
class Reference:
    """Smooth Q-learning one agent at a time, written from the formulas."""

    def __init__(self, temperatures, schedules, horizon, start, alpha, m):
        self.peaks, self.schedules = temperatures, schedules
        self.horizon, self.start, self.alpha, self.t = horizon, start, alpha, 0
        self.q = [np.zeros(m) for _ in temperatures]

    def factor(self, schedule):
        u = self.t / self.horizon
        if schedule == "constant":
            return 1.0
        if schedule == "ete":
            return min(max(1.0 - u, 0.0), 1.0)
        if u <= 0.5:
            return self.start + (1.0 - self.start) * 2.0 * u
        return min(max(2.0 * (1.0 - u), 0.0), 1.0)

    def policy_of(self, k):
        temperature = self.peaks[k] * self.factor(self.schedules[k])
        shifted = self.q[k] - self.q[k].max()
        weights = np.exp(shifted / temperature) if temperature > 0 else (shifted == 0) * 1.0
        return weights / weights.sum()

    def policy(self):
        return np.array([self.policy_of(k) for k in range(len(self.q))])

    def update(self, payoff_vectors):
        for k, r in enumerate(payoff_vectors):
            self.q[k] = self.q[k] * (1.0 - self.alpha) + self.alpha * r
        self.t += 1

    def sampled(self, actions, rewards):
        vectors = []
        for k, (a, u) in enumerate(zip(actions, rewards, strict=True)):
            r = np.zeros(len(self.q[k]))
            r[a] = u / self.policy_of(k)[a]
            vectors.append(r)
        self.update(vectors)


SETTINGS = {
    "temperature": [0.5, 2.0, 0.0, 1.0, 0.3, 1e-8],
    "schedule": ["constant", "ete", "constant", "clr1", "clr1", "constant"],
    "horizon": 40, "start_fraction": 0.2, "alpha": 0.15,
}


@pytest.mark.parametrize(
    ("feedback", "estimate"),
    [("sampled", "importance"), ("sampled", "observed"), ("expected", "observed")],
)
def test_vectorized_learner_equals_a_per_agent_reference(feedback, estimate):
    n, m = 6, 3
    learner = SmoothQLearner(n, m, feedback=feedback, estimate=estimate, seed=3, **SETTINGS)
    reference = Reference(SETTINGS["temperature"], SETTINGS["schedule"], 40, 0.2, 0.15, m)
    rng = np.random.default_rng(0)
    for _ in range(60):
        np.testing.assert_array_equal(learner.policy(), reference.policy())
        actions = learner.act()
        rewards = rng.normal(size=n)
        if feedback == "sampled":
            assert actions.shape == (n,) and actions.dtype == np.int64
        else:
            np.testing.assert_array_equal(actions, learner.policy())
        if estimate == "importance":
            learner.update(Transition.of_round(actions, rewards))
            reference.sampled(actions, rewards)
        else:
            vectors = rng.normal(size=(n, m))
            learner.update(Transition(None, actions, rewards, vectors))
            reference.update(vectors)
    np.testing.assert_array_equal(learner.values, np.array(reference.q))
    assert learner.t == 60 and learner.temperatures()[1] == 0.0  # ete is over


def test_softmax_is_stable_at_zero_and_tiny_temperatures():
    values = np.array([[1.0, 1.0, 0.0], [0.0, 1e300, -1e300], [5.0, 5.0, 5.0], [1.0, 0.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in (0.0, 1e-8, 1e-300, 5e-324):
            p = boltzmann(values, np.full(4, t))
            assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0)
            np.testing.assert_array_equal(p[0], [0.5, 0.5, 0.0])  # ties split
            np.testing.assert_array_equal(p[1], [0.0, 1.0, 0.0])
            np.testing.assert_allclose(p[2], [1 / 3] * 3)
            np.testing.assert_array_equal(p[3], [1.0, 0.0, 0.0])
        hot = boltzmann(values[:1], np.array([1e300]))
        np.testing.assert_allclose(hot, [[1 / 3] * 3])
        learner = SmoothQLearner(2, 3, temperature=0.0, alpha=1.0, feedback="expected")
        learner.update(Transition(None, learner.act(), np.zeros(2), values[[0, 1]]))
        np.testing.assert_array_equal(learner.policy(), [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])


def test_schedules_have_the_promised_shapes():
    horizon, rounds = 100, np.arange(151)
    assert (schedule_factor("constant", rounds) == 1.0).all()
    ete = schedule_factor("ete", rounds, horizon)
    assert ete[0] == 1.0 and (np.diff(ete) <= 0).all() and (ete[horizon:] == 0).all()
    assert (np.diff(ete[: horizon + 1]) < 0).all()  # strictly decreasing until the horizon
    clr = schedule_factor("clr1", rounds, horizon, start_fraction=0.1)
    assert clr[0] == pytest.approx(0.1) and clr[50] == 1.0 and clr.argmax() == 50
    assert (np.diff(clr[:51]) > 0).all() and (np.diff(clr[50:101]) < 0).all()
    assert (clr[horizon:] == 0).all()
    learner = SmoothQLearner(3, 2, temperature=[2.0, 2.0, 2.0], horizon=horizon,
                             schedule=["constant", "ete", "clr1"], start_fraction=0.1)
    for t in (0, 25, 50, 75, 100, 150):
        np.testing.assert_allclose(
            learner.temperatures(t), 2.0 * np.array([1.0, ete[t], clr[t]]), rtol=1e-15
        )


@pytest.mark.parametrize("feedback", ["sampled", "expected"])
def test_checkpoint_round_trip_continues_exactly(feedback):
    kwargs = dict(SETTINGS, feedback=feedback, initial_scale=0.5)
    first = SmoothQLearner(6, 3, seed=1, **kwargs)
    rng = np.random.default_rng(1)
    transitions = [
        Transition(None, None, rng.normal(size=6), rng.normal(size=(6, 3))) for _ in range(40)
    ]

    def step(learner, transition):
        actions = learner.act()
        learner.update(Transition(None, actions, transition.rewards,
                                  transition.next_observations))
        return actions

    for transition in transitions[:20]:
        step(first, transition)
    state = first.state_dict()
    second = SmoothQLearner(6, 3, seed=99, **kwargs)
    second.load_state_dict(state)
    np.testing.assert_array_equal(second.policy(), first.policy())
    for transition in transitions[20:]:
        np.testing.assert_array_equal(step(first, transition), step(second, transition))
    np.testing.assert_array_equal(first.values, second.values)
    with pytest.raises(ValueError, match="checkpoint was saved with"):
        SmoothQLearner(6, 3, **dict(kwargs, alpha=0.5)).load_state_dict(state)
    with pytest.raises(ValueError, match="'values'"):
        second.load_state_dict({**state, "values": np.full((6, 3), np.nan)})
    with pytest.raises(ValueError, match="'t'"):
        second.load_state_dict({**state, "t": np.array(-1)})


def test_expected_feedback_learns_the_qre():
    temperatures = (0.5, 1.5)
    target = qre(temperatures)
    learner = SmoothQLearner(2, 2, alpha=0.1, temperature=list(temperatures), feedback="expected")
    for _ in range(1500):
        strategies = learner.act()
        learner.update(Transition(None, strategies, np.zeros(2), amps(strategies)))
    np.testing.assert_allclose(learner.policy(), target, atol=1e-9)
    assert np.abs(target - NASH).max() > 0.1  # the QRE is far from the Nash equilibrium


def test_sampled_feedback_learns_the_qre_on_average():
    pairs, temperature = 500, 1.0
    target = qre((temperature, temperature))
    learner = SmoothQLearner(2 * pairs, 2, alpha=0.02, temperature=temperature, seed=0)
    mean = np.zeros((2, 2))
    for t in range(3000):
        actions = learner.act()
        mine, theirs = actions[:pairs], actions[pairs:]
        payoff = A[mine, theirs]  # x-agent i meets y-agent i
        learner.update(Transition.of_round(actions, np.concatenate([payoff, -payoff])))
        if t >= 1000:
            policy = learner.policy()
            mean += [policy[:pairs].mean(axis=0), policy[pairs:].mean(axis=0)]
    mean /= 2000
    np.testing.assert_allclose(mean, target, atol=0.02)


def test_for_game_picks_the_feedback_from_the_action_space():
    core = ContributionCore(n_agents=5)
    learner = make_learner("smooth_q", core, seed=0, temperature=0.5)
    assert (learner.feedback, learner.n_agents, learner.n_actions) == ("sampled", 5, 20)
    assert learner.group == "agent" and learner.config()["temperature"] == 0.5
    box = Group("agent", 4, spaces.Box(0.0, 1.0, (2,), dtype=np.float32), spaces.Box(-1, 1, (2,)))
    fake = SimpleNamespace(groups=[box], group=lambda name: box, metadata={"name": "fake"})
    expected = SmoothQLearner.for_game(fake, seed=0)
    assert (expected.feedback, expected.n_actions, expected.group) == ("expected", 2, "agent")
    assert expected.act().shape == (4, 2)
    with pytest.raises(ValueError, match="feedback"):
        SmoothQLearner.for_game(fake, feedback="sampled")
    for odd in (spaces.MultiDiscrete([2, 2]), spaces.Box(-1.0, 1.0, (2,))):
        group = Group("agent", 4, odd, spaces.Discrete(1))
        with pytest.raises(ValueError, match="Discrete"):
            SmoothQLearner.for_game(SimpleNamespace(groups=[group], metadata={"name": "odd"}))


def test_train_resumes_a_smooth_q_run_exactly(tmp_path):
    def core():
        return MatrixCore(game="rock_paper_scissors", n_agents=9, max_cycles=60)

    def learner():
        return make_learner("smooth_q", core(), seed=2, temperature=[0.5] * 9, schedule="ete",
                            horizon=300, alpha=0.05)

    straight = train(core(), learner(), rounds=400, seed=4, window=50, progress=False)
    run = tmp_path / "run"
    train(core(), learner(), rounds=230, seed=4, window=50, out_dir=run, checkpoint_every=100,
          progress=False)
    resumed = train(core(), learner(), rounds=400, seed=4, window=50, out_dir=run, resume=True,
                    progress=False)
    np.testing.assert_array_equal(resumed.policy, straight.policy)


BAD_ARGUMENTS = [
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1.5}, "alpha"),
    ({"temperature": -1.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": [1.0, 2.0]}, "temperature"),
    ({"temperature": [1.0, -2.0, 1.0]}, r"temperature\[1\]"),
    ({"schedule": "cosine"}, "schedule"),
    ({"schedule": ["ete", "nope", "ete"], "horizon": 5}, r"schedule\[1\]"),
    ({"schedule": "ete"}, "horizon"),
    ({"schedule": "clr1", "horizon": 0}, "horizon"),
    ({"start_fraction": 1.5}, "start_fraction"),
    ({"feedback": "full"}, "feedback"),
    ({"initial_scale": -1.0}, "initial_scale"),
    ({"estimate": "exact"}, "estimate"),
    ({"estimate": "importance", "feedback": "expected"}, "estimate"),
]


@pytest.mark.parametrize(("kwargs", "name"), BAD_ARGUMENTS)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SmoothQLearner(3, 2, **kwargs)


def test_bad_updates_are_named():
    expected = SmoothQLearner(2, 2, feedback="expected")
    with pytest.raises(ValueError, match="next_observations"):
        expected.update(Transition(None, expected.act(), np.zeros(2), np.zeros((2, 3))))
    with pytest.raises(ValueError, match="agent 1 observed non-finite"):
        expected.update(Transition(None, None, None, np.array([[0.0, 1.0], [np.inf, 0.0]])))
    greedy = SmoothQLearner(2, 2, temperature=0.0, alpha=1.0, feedback="sampled")
    greedy.update(Transition.of_round([0, 0], [1.0, 1.0]))  # now action 0 has probability 1
    with pytest.raises(ValueError, match="agent 1 played 1, which its policy gives probability 0"):
        greedy.update(Transition.of_round([0, 1], [1.0, 1.0]))
    with pytest.raises(ValueError, match="agent 0 played 2"):
        greedy.update(Transition.of_round([2, 0], [1.0, 1.0]))


# =================================================================== the dynamics
@pytest.mark.parametrize("method", ["rk4", "exponential"])
def test_dynamics_with_exploration_converge_to_the_qre(method):
    temperatures = (0.3, 1.0)
    target = qre(temperatures)
    start = np.array([[0.9, 0.1], [0.2, 0.8]])
    path = integrate_smooth_q(amps, start, np.array(temperatures), dt=0.02, steps=3000,
                              method=method, record_every=10)
    assert path.strategies.shape == (301, 2, 2) and path.times[-1] == pytest.approx(60.0)
    np.testing.assert_allclose(path.final, target, atol=1e-9)  # both keep the QRE exactly
    divergence = np.array([kl(target, x) for x in path.strategies])
    assert divergence[-1] < 1e-6 * divergence[0]
    if method == "rk4":  # Theorem 4.1: KL(x* ‖ x(t)) falls at least as fast as e^{−T_min·t}
        assert (np.diff(divergence) < 1e-12).all()
        bound = divergence[0] * np.exp(-min(temperatures) * path.times)
        assert (divergence[divergence > 1e-10] <= bound[divergence > 1e-10] * 1.0001).all()


def test_dynamics_without_exploration_cycle_and_stay_on_the_simplex():
    start = np.array([[0.8, 0.2], [0.3, 0.7]])
    path = integrate_smooth_q(amps, start, 0.0, dt=0.02, steps=5000, record_every=10)
    x = path.strategies
    assert np.isfinite(x).all() and (x > 0).all()
    np.testing.assert_allclose(x.sum(axis=2), 1.0, atol=1e-12)
    divergence = np.array([kl(NASH, p) for p in x])
    assert divergence[0] > 0.1
    assert np.abs(divergence / divergence[0] - 1.0).max() < 1e-6  # conserved: it cycles
    assert np.abs(x[:, 0, 0] - 1 / 3).max() > 0.3  # and never settles at the equilibrium
    far = integrate_smooth_q(amps, np.array([[1 - 1e-12, 1e-12], [1e-12, 1 - 1e-12]]), 0.0,
                             dt=0.05, steps=1000)
    assert np.isfinite(far.strategies).all()
    np.testing.assert_allclose(far.strategies.sum(axis=2), 1.0, atol=1e-12)


def test_exponential_step_is_the_expected_feedback_learner():
    temperature, alpha = 0.7, 0.05
    dt = -math.log1p(-alpha) / temperature
    path = integrate_smooth_q(amps, np.full((2, 2), 0.5), temperature, dt=dt, steps=200,
                              method="exponential")
    learner = SmoothQLearner(2, 2, alpha=alpha, temperature=temperature, feedback="expected")
    for k in range(1, 201):
        strategies = learner.act()
        learner.update(Transition(None, strategies, np.zeros(2), amps(strategies)))
        np.testing.assert_allclose(learner.policy(), path.strategies[k], rtol=0, atol=1e-12)


def test_dynamics_follow_a_temperature_schedule():
    ete = lambda t: 2.0 * float(schedule_factor("ete", t / 0.1, horizon=1000))  # noqa: E731
    path = integrate_smooth_q(amps, np.full((2, 2), 0.5), ete, dt=0.1, steps=1000)
    assert np.isfinite(path.strategies).all()
    np.testing.assert_allclose(path.strategies[500], qre((1.0, 1.0)), atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"dt": 0.0}, "dt"),
        ({"steps": -1}, "steps"),
        ({"method": "euler"}, "method"),
        ({"record_every": 0}, "record_every"),
        ({"x0": np.array([[1.0, 0.0], [0.5, 0.5]])}, "x0"),
        ({"x0": np.full(2, 0.5)}, "x0"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": [0.1, 0.2, 0.3]}, "temperature"),
        ({"temperature": lambda t: -1.0}, "temperature"),
        ({"payoffs": lambda x: np.zeros(3)}, r"payoffs\(x\) must have shape \(2, 2\)"),
        ({"payoffs": lambda x: np.full((2, 2), np.nan)}, "non-finite"),
    ],
)
def test_dynamics_reject_bad_arguments(kwargs, name):
    arguments = {"payoffs": amps, "x0": np.full((2, 2), 0.5), "temperature": 0.5, "steps": 3}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        integrate_smooth_q(**arguments)
