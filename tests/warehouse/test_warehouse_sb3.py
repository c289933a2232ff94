"""Stable-Baselines3 PPO trains the warehouse robots (one shared network) while the dispatcher
follows a fixed policy, through the same train loop and metrics as ALTERNATING-MARL; the ε
columns score whatever plays each group through the probabilities it declares."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from populace.agents import make_learner  # noqa: E402
from populace.envs.warehouse.count_vectors import CountVectors  # noqa: E402
from populace.envs.warehouse.nash import nash_gains  # noqa: E402
from populace.envs.warehouse.warehouse import NASH_ROLLOUTS, WarehouseCore  # noqa: E402
from populace.train import train  # noqa: E402

GAIN_COLUMNS = ("gain_dispatcher", "gain_robot", "epsilon")


def follow_the_sampled_mode(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The dispatcher prioritises the zone most of its sampled robots stand in (a plain
    function: it declares no probabilities)."""
    return np.asarray(observations)[:, 1:].argmax(axis=1)


class SampledMode:
    """The same dispatcher, declaring its (one-hot) action probabilities."""

    def __call__(self, observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return follow_the_sampled_mode(observations, rng)

    def action_probabilities(self, observations: np.ndarray) -> np.ndarray:
        return np.eye(5)[follow_the_sampled_mode(observations, np.random.default_rng())]


def test_ppo_robots_with_a_declared_dispatcher_get_the_epsilon_of_their_tables():
    core = WarehouseCore(n_agents=12, k=4, max_cycles=20)
    ppo = make_learner("ppo", core, group="robot", seed=0, total_rounds=96)
    result = train(core, {"robot": ppo}, rounds=96, window=48, seed=1, progress=False,
                   role_policies={"dispatcher": SampledMode()})
    history = result.history
    assert result.fixed_groups == ("dispatcher",) and set(result.policies) == {"robot"}
    assert np.isfinite(history.column("discounted_return")).all()
    for column in GAIN_COLUMNS:
        assert np.isfinite(history.column(column)).all()
    every_state = np.array([[s, g] for s in range(5) for g in range(5)], dtype=np.float32)
    assert set(np.unique(ppo.act(every_state))) <= {0, 1, 2}
    # by hand: both policies tabulated over every observation, then the tables' gains
    robot = ppo.action_probabilities(every_state).reshape(5, 5, 3)
    vectors = CountVectors(4).vectors
    seen = np.array([[g, *c] for g in range(5) for c in vectors], dtype=np.float32)
    dispatcher = SampledMode().action_probabilities(seen).reshape(5, len(vectors), 5)
    found = nash_gains(core.model(), dispatcher, robot, rollouts=NASH_ROLLOUTS)
    last = {column: history.column(column)[-1] for column in GAIN_COLUMNS}
    assert last == {"gain_dispatcher": found.dispatcher, "gain_robot": found.robot,
                    "epsilon": found.epsilon}


@pytest.mark.parametrize(("dispatcher", "scored"), [
    (follow_the_sampled_mode, False),  # a plain function declares nothing: NaN, no error
    ([0.6, 0.1, 0.1, 0.1, 0.1], True),  # a probability vector declares itself
], ids=["plain function", "probability vector"])
def test_a_fixed_dispatcher_is_scored_when_it_declares_probabilities(dispatcher, scored):
    core = WarehouseCore(n_agents=12, k=4, max_cycles=20)
    ppo = make_learner("ppo", core, group="robot", seed=0, total_rounds=20)
    history = train(core, {"robot": ppo}, rounds=20, window=20, seed=1, progress=False,
                    role_policies={"dispatcher": dispatcher}).history
    for column in GAIN_COLUMNS:
        assert np.isfinite(history.column(column)).all() == scored
        assert np.isnan(history.column(column)).all() != scored
