"""ALTERNATING-MARL with neural policies on the continuous warehouse (ALT G.2): G-LEARN learns
the fleet's mode from the sampled histogram, the TRPO step stays inside its trust region,
training runs through the loop, and it is seeded and checkpointed without pickle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

import torch as th  # noqa: E402

from populace.agents import make_learner  # noqa: E402
from populace.agents.alternating_marl_continuous import (  # noqa: E402
    ACCEPT_KL,
    KL_RADIUS,
    ContinuousAlternatingMARL,
)
from populace.envs.warehouse.warehouse import WarehouseCore  # noqa: E402
from populace.envs.warehouse.warehouse_continuous import WarehouseContinuousCore, bin_shares  # noqa: E402
from populace.train import train  # noqa: E402

SMALL = {"alternations": 2, "g_samples": 400, "g_epochs": 5, "l_episodes": 12, "l_horizon": 15}


def core(**kwargs: Any) -> WarehouseContinuousCore:
    return WarehouseContinuousCore(**{"n_agents": 60, "k": 20, "max_cycles": 15, **kwargs})


def learner(seed: int = 0, **kwargs: Any) -> ContinuousAlternatingMARL:
    built = make_learner("alternating_marl_continuous", core(), seed=seed,
                         **{**SMALL, **kwargs})
    assert isinstance(built, ContinuousAlternatingMARL)
    return built


def test_g_learn_finds_the_fleets_mode_from_the_sample():
    """With a 55/45 split, 20 robots of 60 name the majority's bin about 70 % of the time at
    best (chance: 20 %)."""
    built = learner(g_samples=1000, g_epochs=10)
    built.g_learn()
    rng = np.random.default_rng(5)
    _, robots = built.model.reset(500, rng)
    guessed = built.dispatch_histograms(built.model.histograms(robots, rng))
    assert np.mean(guessed == bin_shares(robots).argmax(axis=1)) > 0.55


def test_the_trpo_step_stays_in_its_trust_region():
    built = learner()
    seen, chosen, returns = built.collect()
    observations, actions = th.from_numpy(seen), th.from_numpy(chosen)
    with th.no_grad():
        old_log = th.log_softmax(built.robot_net(observations), 1)
    advantages = th.from_numpy(returns - returns.mean()) / float(returns.std() + 1e-8)
    built.trpo_step(observations, actions, advantages, old_log)
    with th.no_grad():
        new_log = th.log_softmax(built.robot_net(observations), 1)
        kl = float((old_log.exp() * (old_log - new_log)).sum(1).mean())
    assert kl <= ACCEPT_KL * KL_RADIUS + 1e-12


def test_alternations_improve_on_the_untrained_policies():
    built = learner(alternations=3)
    before, guessed = built.evaluate(150, 40, seed=1)
    built.fit()
    after, accuracy = built.evaluate(150, 40, seed=1)  # the same starts
    assert after.mean() > before.mean() and accuracy > max(0.6, guessed + 0.2)


def test_same_seed_same_weights_and_a_checkpoint_continues_exactly():
    first, second = learner(seed=4), learner(seed=4)
    first.alternate()
    second.alternate()
    saved = first.state_dict()
    np.testing.assert_array_equal(saved["robot_weights"], second.state_dict()["robot_weights"])
    twin = learner(seed=9)
    twin.load_state_dict(saved)
    first.alternate()
    twin.alternate()
    for name in ("dispatcher_weights", "robot_weights", "critic_weights"):
        np.testing.assert_array_equal(first.state_dict()[name], twin.state_dict()[name])


def test_it_trains_through_the_loop():
    built = learner()
    result = train(core(), built, episodes=3, window=1, seed=0, progress=False)
    assert built.done and result.history.columns[2:4] == ("discounted_return", "mode_accuracy")
    actions = built.act(core().reset(seed=0))
    assert actions["dispatcher"].shape == (1,) and actions["robot"].shape == (60,)


def test_bad_options_and_games_are_named():
    with pytest.raises(ValueError, match="l_horizon must be a positive int"):
        learner(l_horizon=0)
    with pytest.raises(TypeError, match="continuous warehouse"):
        make_learner("alternating_marl_continuous", WarehouseCore(n_agents=5, k=2))
