"""ALTERNATING-MARL on the tabular warehouse: it plans with the game's model, trains through the
standard loop (one alternation per episode end), reaches a near-Nash joint policy, is seeded
and resumes exactly from a pickle-free checkpoint."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from populace.agents import LEARNERS, make_learner
from populace.agents.alternating import AlternatingLearner
from populace.agents.alternating_marl import AlternatingMARL
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.warehouse.nash import nash_gains
from populace.envs.warehouse.warehouse import WarehouseCore
from populace.envs.warehouse.warehouse_continuous import WarehouseContinuousCore
from populace.train import train

FAST = {"samples": 10, "update_rollouts": 20, "update_horizon": 60}


def core(**kwargs: Any) -> WarehouseCore:
    return WarehouseCore(**{"n_agents": 200, "k": 3, "max_cycles": 40, **kwargs})


def learner(seed: int = 0, **kwargs: Any) -> AlternatingMARL:
    built = make_learner("alternating_marl", core(), seed=seed, **{**FAST, **kwargs})
    assert isinstance(built, AlternatingMARL)
    return built


def test_it_is_registered_and_built_from_the_games_model():
    assert LEARNERS["alternating_marl"] is AlternatingMARL
    built = learner(alternations=4)
    assert built.groups == ("dispatcher", "robot") and built.alternations == 4
    assert built.model is not None and built.space.size == 35  # C(3 + 4, 4)
    assert built.dispatcher.shape == (5, 35, 5) and built.robot.shape == (5, 5, 3)


def test_alternations_reach_a_near_nash_joint_policy():
    built = learner()
    before = nash_gains(built.model, built.dispatcher, built.robot, rollouts=100)
    history = built.fit()
    after = nash_gains(built.model, built.dispatcher, built.robot, rollouts=100)
    assert history[0].dispatcher_accepted and history[0].robot_accepted
    assert built.done and len(history) <= built.alternations
    assert after.value > before.value + 10  # from uniform play (about 77) to above 87
    assert before.epsilon > 5 and after.epsilon < 0.3
    # both final policies are pure: the dispatcher's a plan, the robots' a best response
    assert set(np.unique(built.dispatcher)) == {0.0, 1.0}
    assert set(np.unique(built.robot)) == {0.0, 1.0}


def test_the_authors_rounded_variant_also_learns():
    built = learner(method="rounded")
    built.fit()
    assert built.history[0].dispatcher_value > built.history[0].value + 3


def test_same_seed_same_result_bit_for_bit():
    first, second, other = learner(seed=5), learner(seed=5), learner(seed=6)
    for each in (first, second, other):
        each.fit()
    np.testing.assert_array_equal(first.dispatcher, second.dispatcher)
    np.testing.assert_array_equal(first.robot, second.robot)
    assert first.history == second.history != other.history


def test_it_trains_through_the_loop_one_alternation_per_episode():
    built = learner(alternations=3)
    result = train(core(), built, episodes=4, window=1, seed=1, progress=False)
    history = result.history
    assert history.columns[:6] == ("round", "episodes", "discounted_return", "gain_dispatcher",
                                   "gain_robot", "epsilon")
    assert built.done and (len(built.history) == 3 or built.converged)
    assert set(result.policies) == {"dispatcher", "robot"}
    # the first episode is played uniformly, the later ones by the plan of the episode ends
    # (a window closes after the learner's update, so every row scores a planned policy)
    returns = history.column("discounted_return")
    assert np.isfinite(returns).all() and returns[1:].min() > returns[0] + 5
    epsilon = history.column("epsilon")
    assert epsilon.max() < 1.0 and epsilon[-1] <= epsilon[0]
    untrained = learner()
    assert nash_gains(untrained.model, untrained.dispatcher, untrained.robot).epsilon > 5


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    def run(out: str, episodes: int, **kwargs: Any) -> Any:
        return train(core(), learner(seed=3, alternations=3), episodes=episodes, window=1,
                     seed=2, out_dir=tmp_path / out, progress=False, **kwargs)

    straight = run("straight", 4)
    run("resumed", 2)
    resumed = run("resumed", 4, resume=True)
    for name in ("discounted_return", "epsilon"):
        np.testing.assert_array_equal(straight.history.column(name),
                                      resumed.history.column(name))
    for group in ("dispatcher", "robot"):
        np.testing.assert_array_equal(straight.policies[group], resumed.policies[group])


def test_state_dict_round_trip_continues_exactly():
    first = learner(seed=9, alternations=3)
    first.alternate()
    saved = first.state_dict()
    assert all(isinstance(v, np.ndarray | dict | int | float | bool | str | list)
               for v in saved.values())
    twin = learner(seed=0, alternations=3)
    twin.load_state_dict(saved)
    first.fit()
    twin.fit()
    assert first.history == twin.history
    np.testing.assert_array_equal(first.dispatcher, twin.dispatcher)
    with pytest.raises(ValueError, match="checkpoint was saved with"):
        learner(alternations=5).load_state_dict(saved)


def test_online_execution_reads_the_sampled_counts():
    built = learner()
    built.fit()
    observations = core().reset(seed=0)
    actions = built.act(observations)
    assert actions["dispatcher"].shape == (1,) and actions["robot"].shape == (200,)
    zone, counts = int(observations["dispatcher"][0, 0]), observations["dispatcher"][0, 1:]
    planned = built.dispatcher[zone, built.space.rank(counts.astype(int))].argmax()
    assert actions["dispatcher"][0] == planned
    with pytest.raises(ValueError, match=r"dispatcher_0 observed counts \[1, 0, 0, 0, 0\]"):
        built.dispatch(np.array([[0, 1, 0, 0, 0, 0]]))


@pytest.mark.parametrize(
    ("build", "message"),
    [(lambda: make_learner("alternating_marl", core(), samples=0), "samples must be a positive"),
     (lambda: make_learner("alternating_marl", core(), method="exact"), "method must be one of"),
     (lambda: make_learner("alternating_marl", core(), speed=2), "unknown keyword arguments"),
     (lambda: make_learner("alternating_marl", WarehouseCore(n_agents=500, k=200)),
      "k=200 gives"),
     (lambda: make_learner("alternating_marl", ContributionCore(n_agents=3)), "no model")],
)
def test_bad_options_are_named(build, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=message):
        build()


@pytest.mark.parametrize("name, model", [("alternating_marl", "a warehouse model"),
                                         ("alternating_marl_continuous",
                                          "the continuous warehouse's model")])
def test_both_learners_share_their_construction_and_their_schedule(name, model):
    """One base (populace.agents.alternating) builds both from the game's model, refuses a
    group they do not control or a game with another model, and runs one alternation per
    episode end until done."""
    if name.endswith("continuous"):
        pytest.importorskip("torch")
    game = core() if name == "alternating_marl" else WarehouseContinuousCore(
        n_agents=20, k=5, max_cycles=3)
    other = WarehouseContinuousCore(n_agents=20, k=5) if name == "alternating_marl" else core()
    with pytest.raises(ValueError, match=r"controls the groups \['dispatcher', 'robot'\]"):
        make_learner(name, game, group="agent")
    with pytest.raises(TypeError, match=f"plans with {model}; "):
        make_learner(name, other)
    small = ({**FAST, "iterations": 5, "update_horizon": 10} if name == "alternating_marl" else
             {"g_samples": 50, "g_epochs": 1, "l_episodes": 2, "l_horizon": 3})
    built = make_learner(name, game, seed=0, alternations=2, **small)
    assert isinstance(built, AlternatingLearner) and built.groups == ("dispatcher", "robot")
    train(game, built, episodes=3, window=1, seed=0, progress=False)
    assert built.done  # two alternations (or converged), the third episode end does nothing
    with pytest.raises(ValueError, match="alternations must be a positive int, got 0"):
        make_learner(name, game, alternations=0)
