"""The continuous warehouse's ε estimate (envs/warehouse/continuous_nash.py) on joint policies
whose gains are known: robots already playing the grid best response gain nothing, robots that
never move gain a lot, a dispatcher pointing at random gains from pointing well."""

from __future__ import annotations

import numpy as np
import pytest

from populace.envs.policies import MixedStrategy
from populace.envs.warehouse.continuous_nash import (
    CELLS,
    cell_of,
    continuous_gains,
    robot_best_response,
)
from populace.envs.warehouse.warehouse_continuous import BINS, ContinuousModel

MODEL = ContinuousModel(n_robots=100, k=5, gamma=0.95)
QUICK = {"episodes": 24, "horizon": 60, "ghosts": 8, "times": (0, 5), "lookahead": 10}


def centre(observations: np.ndarray) -> np.ndarray:
    """A dispatcher that always points at the middle bin, whatever it sees."""
    return np.full(len(observations), 2)


def stay(observations: np.ndarray) -> np.ndarray:
    return np.zeros(len(observations), dtype=np.int64)


class TablePolicy:
    """Robots playing one step of a grid plan, declaring it as one-hot probabilities."""

    def __init__(self, moves: np.ndarray) -> None:
        self.moves = moves

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        cells = cell_of(np.asarray(observations, dtype=np.float64))
        return np.eye(3)[self.moves[cells[:, 0], cells[:, 1]]]


def test_robots_already_best_responding_gain_nothing():
    """With the dispatcher at the centre whatever it sees, the robot's grid best response does
    not depend on the fleet; far from the horizon's end it is stationary, so robots playing its
    first step have nothing left to gain (up to grid-edge rounding and the last steps)."""
    frequencies = np.zeros((CELLS, BINS))
    frequencies[:, 2] = 1.0
    plan = robot_best_response(frequencies, MODEL.gamma, QUICK["horizon"])
    gains = continuous_gains(MODEL, centre, TablePolicy(plan[0]), **QUICK)
    assert abs(gains.robot) <= 3 * gains.robot_se + 0.1, gains
    standing = continuous_gains(MODEL, centre, stay, **QUICK)
    assert standing.robot > 20 * max(abs(gains.robot), gains.robot_se), (gains, standing)


def test_robots_that_never_move_gain_clearly_by_moving():
    gains = continuous_gains(MODEL, centre, stay, **QUICK)
    assert gains.robot > 10.0 and gains.robot > 5 * gains.robot_se, gains
    assert gains.epsilon == max(gains.robot, gains.dispatcher)


def test_a_dispatcher_pointing_at_random_gains_from_one_better_step():
    uniform = MixedStrategy(np.full(BINS, 1 / BINS), 0)
    gains = continuous_gains(MODEL, uniform, stay, **{**QUICK, "episodes": 48})
    assert gains.dispatcher > 3 * gains.dispatcher_se and gains.dispatcher > 0.5, gains


def test_the_same_seed_gives_the_same_gains():
    uniform_robots = MixedStrategy(np.full(3, 1 / 3), 0)
    runs = [continuous_gains(MODEL, centre, uniform_robots, seed=seed, **QUICK)
            for seed in (4, 4, 5)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_the_learner_declares_its_greedy_play():
    pytest.importorskip("torch")  # the learner is built on torch (the baselines extra)
    from populace.agents.alternating_marl_continuous import ContinuousAlternatingMARL

    learner = ContinuousAlternatingMARL(MODEL, alternations=1, g_samples=64, g_epochs=1,
                                        l_episodes=2, l_horizon=3, seed=0)
    played = learner.policy()
    seen = np.random.default_rng(0).uniform(-2, 2, (50, 2))
    probabilities = played["robot"].action_probabilities(seen)
    assert probabilities.shape == (50, 3)
    assert np.array_equal(probabilities.argmax(axis=1), played["robot"](seen))
    assert np.array_equal(probabilities.sum(axis=1), np.ones(50))
    shares = np.random.default_rng(1).dirichlet(np.ones(BINS), 7)
    observations = np.concatenate([np.zeros((7, 1)), shares], axis=1)
    assert played["dispatcher"].action_probabilities(observations).shape == (7, BINS)


@pytest.mark.parametrize("robot, kwargs, message", [
    (lambda obs: np.zeros((len(obs), 2)), {}, "robot policy must return one action"),
    (stay, {"episodes": 1}, "episodes must be at least 2"),
    (stay, {"times": (51,)}, r"times must be steps in 0\.\.50"),
    (stay, {"ghosts": 0}, "ghosts must be a positive int"),
    ("stay", {}, "robot policy must be callable"),
])
def test_bad_input_is_named(robot, kwargs, message):
    with pytest.raises(ValueError, match=message):
        continuous_gains(MODEL, centre, robot, **{**QUICK, **kwargs})
