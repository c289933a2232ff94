"""Actor-critic fictitious play (MJM): seeded, checkpointed without pickle, learns the LQR gain,
refuses bad options; and SB3's SAC on the same game through the same loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gymnasium import spaces

pytest.importorskip("torch")

from populace.agents import TORCH_LEARNERS, learner_options, make_learner  # noqa: E402
from populace.agents.actor_critic.actors import (  # noqa: E402
    LinearGaussian,
    LinearTrunk,
    Mixture,
    MLPGaussian,
    MLPTrunk,
)
from populace.agents.actor_critic.advantage import GAE as GAEAdvantage  # noqa: E402
from populace.agents.actor_critic.advantage import TD  # noqa: E402
from populace.agents.actor_critic.config import KEYWORDS, ActorCriticConfig  # noqa: E402
from populace.agents.actor_critic.critics import MLPCritic, QuadraticCritic  # noqa: E402
from populace.agents.actor_critic.fictitious_play import (  # noqa: E402
    ActorCriticFictitiousPlay,
    generalized_advantages,
    step_size,
)
from populace.agents.actor_critic.networks import QuadraticFeatures  # noqa: E402
from populace.agents.base import Transition  # noqa: E402
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore  # noqa: E402
from populace.envs.mean_field_lqr.reference import LinearPolicy, as_linear_policy  # noqa: E402
from populace.train import train  # noqa: E402
from populace.train.checkpoint import join_state, split_state  # noqa: E402

ACTIONS = spaces.Box(-10.0, 10.0, (2,), np.float64)
OBSERVATIONS = spaces.Box(-np.inf, np.inf, (4,), np.float64)


def lqr(n_agents: int = 20, **kwargs) -> MFLQRCore:
    return MFLQRCore(n_agents=n_agents, **kwargs)


def weights(learner: ActorCriticFictitiousPlay) -> dict[str, np.ndarray]:
    state = learner.state_dict()
    return {f"{net}.{k}": v for net in ("actor", "critic") for k, v in state[net].items()}


def same_state(a: dict, b: dict) -> bool:
    tree_a, arrays_a = split_state(a)
    tree_b, arrays_b = split_state(b)
    return tree_a == tree_b and arrays_a.keys() == arrays_b.keys() and all(
        np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("options", [{"actor": "linear"},
                                     {"actor": "mlp", "critic": "mlp", "hidden": [8]}])
def test_one_seed_gives_identical_weights_and_play(options):
    runs = []
    for _ in range(2):
        core = lqr()
        learner = make_learner("ac_fp", core, seed=3, **options)
        runs.append((weights(learner), learner))
        train(core, learner, rounds=30, seed=1, window=10, progress=False)
    (first, a), (second, b) = runs
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert same_state(a.state_dict(), b.state_dict())
    other = make_learner("ac_fp", lqr(), seed=4, **options)
    assert any(not np.array_equal(first[k], v) for k, v in weights(other).items()
               if k.startswith("actor") and k.endswith("weight"))


def test_the_learners_noise_is_not_the_games_noise():
    """Seeded with the same integer, the game's generator and the learner's differ."""
    learner = ActorCriticFictitiousPlay(3, ACTIONS, OBSERVATIONS, seed=0)
    assert learner.rng.standard_normal() != np.random.default_rng(0).standard_normal()


# ----------------------------------------------------------------------------- checkpoints
def test_a_resumed_run_continues_exactly(tmp_path):
    """Checkpointed mid-batch (batch_rounds=3, 40 rounds), resumed, equal to one long run."""
    options = {"batch_rounds": 3}
    whole = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), whole, rounds=80, seed=2, window=20, out_dir=tmp_path / "whole",
          progress=False)
    first = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), first, rounds=40, seed=2, window=20, out_dir=tmp_path / "split",
          progress=False)
    assert first._batch  # a batch is pending at the checkpoint
    resumed = make_learner("ac_fp", lqr(), seed=5, **options)
    result = train(lqr(), resumed, rounds=80, seed=2, window=20, out_dir=tmp_path / "split",
                   resume=True, progress=False)
    assert same_state(resumed.state_dict(), whole.state_dict())
    assert result.rounds == 80


@pytest.mark.parametrize("options", [{}, {"actor": "mlp", "critic": "mlp", "hidden": [8],
                                          "optimizer": "sgd", "normalize_rate": 0.05}])
def test_state_survives_a_trip_through_arrays_and_json(options):
    core = lqr()
    learner = make_learner("ac_fp", core, seed=1, **options)
    train(core, learner, rounds=12, seed=0, window=6, progress=False)
    tree, arrays = split_state(learner.state_dict())  # raises on anything pickle would need
    copy = make_learner("ac_fp", core, seed=99, **options)
    copy.load_state_dict(join_state(tree, arrays))
    assert same_state(copy.state_dict(), learner.state_dict())
    observations = core.reset(seed=4)["agent"]
    assert np.array_equal(copy.act(observations), learner.act(observations))


def test_a_checkpoint_of_another_learner_is_refused():
    learner = ActorCriticFictitiousPlay(3, ACTIONS, OBSERVATIONS, seed=0)
    other = ActorCriticFictitiousPlay(3, ACTIONS, OBSERVATIONS, seed=0, actor_rate=0.5)
    with pytest.raises(ValueError, match="checkpoint was saved with"):
        other.load_state_dict(learner.state_dict())
    state = learner.state_dict()
    state["actor"] = {"weight": np.zeros((3, 3)), "bias": np.zeros(2)}
    with pytest.raises(ValueError, match="actor.weight must have shape"):
        learner.load_state_dict(state)


# ----------------------------------------------------------------------------- learning
def test_it_learns_the_lqr_gain_quickly():
    """2000 rounds of 100 agents, from zero gain: the gain near K* = 1.90 and the spread near
    the equilibrium's. (The population's mean is the slow part, its offset still off by up to
    0.4 this early; the reproduction runs 60,000 rounds for it.)"""
    core = lqr(100, max_cycles=2000)
    learner = make_learner("ac_fp", core, seed=0, batch_rounds=2, actor_rate=0.03,
                           critic_rate=0.03, horizon=100)
    result = train(core, learner, rounds=2000, seed=1, window=500, progress=False)
    policy = as_linear_policy(learner.policy())
    assert isinstance(policy, LinearPolicy) and np.isfinite(policy.offset).all()
    gain = core.reference_equilibrium().gain
    assert np.diag(policy.gain) == pytest.approx([gain, gain], rel=0.25)
    assert np.abs(policy.gain - np.diag(np.diag(policy.gain))).max() < 0.5
    variance = result.history.column("variance")
    assert variance[0] > 2 * variance[-1] and variance[-1] == pytest.approx(0.1552, rel=0.25)
    assert learner.belief is not None and learner.belief.shape == (100, 2)


def test_actions_stay_in_the_box_and_the_policy_has_the_games_forms():
    core = lqr(5, action_bound=0.01)
    learner = make_learner("ac_fp", core, seed=0, action_std=5.0)
    train(core, learner, rounds=10, seed=0, window=5, progress=False)  # the game refuses
    actions = learner.act(core.reset(seed=0)["agent"])  # anything outside its box
    assert np.abs(actions).max() <= 0.01
    policy = learner.policy()
    assert set(policy) == {"gain", "offset", "offsets"} and policy["offsets"].shape == (5, 2)
    mlp = make_learner("ac_fp", core, seed=0, actor="mlp", hidden=[4])
    observations = core.reset(seed=0)["agent"]
    assert mlp.policy()(observations).shape == (5, 2)


def test_the_policy_is_the_mean_of_play():
    """u = −G(x − c_i) is what the linear actor plays, exploration aside."""
    core = lqr(4)
    learner = make_learner("ac_fp", core, seed=0, initial_belief=[0.2, 0.1])
    train(core, learner, rounds=20, seed=0, window=10, progress=False)
    observations = core.reset(seed=3)["agent"]
    policy = learner.policy()
    played = -(observations[:, :2] - policy["offsets"]) @ policy["gain"].T
    assert np.allclose(learner.mean_action(observations), played)


def test_joint_inputs_and_discounting_train_through_the_loop():
    core = lqr(6, discount_rate=0.1)
    gamma = float(np.exp(-0.1 * core.lq.dt))
    learner = make_learner("ac_fp", core, seed=2, inputs="joint", discount=gamma,
                           batch_rounds=1)
    result = train(core, learner, rounds=20, seed=0, window=10, progress=False)
    assert np.isfinite(result.history.column("mean_x")).all()
    assert learner.center.shape == (4,) and learner.average == 0.0


def test_update_without_act_uses_the_transitions_own_play():
    learner = ActorCriticFictitiousPlay(2, ACTIONS, OBSERVATIONS, seed=0, batch_rounds=1)
    observations = np.array([[0.0, 0.0, 0.5, 0.5], [1.0, 1.0, 0.5, 0.5]])
    learner.update(Transition(observations, np.ones((2, 2)), -np.ones(2), observations))
    assert learner.n == 1 and learner.belief is not None


# ----------------------------------------------------------------------------- GAE
def supply(n_agents: int = 6, max_cycles: int = 4):
    from populace.envs.plane.supply_demand import SupplyDemandCore

    return SupplyDemandCore(n_agents=n_agents, max_cycles=max_cycles)


GAE = {"state_size": 3, "actor": "mlp", "critic": "mlp", "hidden": [8], "discount": 0.9,
       "advantage": "gae"}


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_generalized_advantages_are_the_discounted_sums_of_td_errors(lam):
    """By hand: A_t = Σ_k (γλ)^k δ_{t+k}; with λ = 1 and a terminal end, the return to go
    minus the value (the sum telescopes)."""
    rng = np.random.default_rng(0)
    gamma, steps = 0.9, 5
    rewards, values = rng.normal(size=(steps, 3)), rng.normal(size=(steps + 1, 3))
    values[-1] = 0.0  # terminated: no value after the last step
    deltas = rewards + gamma * values[1:] - values[:-1]
    by_hand = np.array([[sum((gamma * lam) ** k * deltas[t + k, i] for k in range(steps - t))
                         for i in range(3)] for t in range(steps)])
    advantages = generalized_advantages(deltas, gamma * lam)
    assert advantages.shape == deltas.shape and np.allclose(advantages, by_hand)
    if lam == 1.0:
        returns = np.array([[sum(gamma**k * rewards[t + k, i] for k in range(steps - t))
                             for i in range(3)] for t in range(steps)])
        assert np.allclose(advantages, returns - values[:-1])
    if lam == 0.0:
        assert np.array_equal(advantages, deltas)


def test_gae_with_lambda_zero_is_one_td_step_per_episode():
    """λ = 0 makes the advantage δ: one GAE step per 4-step episode equals TD(0) batches of
    4 rounds, bit for bit."""
    runs = []
    for options in ({"gae_lambda": 0.0}, {"advantage": "td", "batch_rounds": 4}):
        core = supply()
        learner = make_learner("ac_fp", core, seed=3, **{**GAE, **options})
        train(core, learner, rounds=12, seed=1, window=4, progress=False)
        assert learner.n == 3 and not learner._batch
        runs.append(weights(learner))
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_gae_steps_once_per_episode_and_differs_from_td():
    core = supply()
    gae = make_learner("ac_fp", core, seed=3, **GAE)
    train(core, gae, rounds=10, seed=1, window=5, progress=False)
    assert gae.n == 2 and len(gae._batch) == 2  # two episodes done, two rounds pending
    td = make_learner("ac_fp", supply(), seed=3, **{**GAE, "gae_lambda": 0.0})
    train(supply(), td, rounds=10, seed=1, window=5, progress=False)
    first, second = weights(gae), weights(td)
    assert any(not np.array_equal(first[k], second[k]) for k in first)
    assert gae.config()["advantage"] == {"kind": "GAE", "gae_lambda": 0.95}


def test_gae_is_seeded_and_resumes_exactly_mid_episode(tmp_path):
    """Checkpointed after 10 rounds of 4-step episodes (two rounds into the third), resumed
    to 20 rounds: equal to one long run; the same seed twice gives the same state."""
    whole = make_learner("ac_fp", supply(), seed=5, **GAE)
    train(supply(), whole, rounds=20, seed=2, window=5, out_dir=tmp_path / "whole",
          progress=False)
    again = make_learner("ac_fp", supply(), seed=5, **GAE)
    train(supply(), again, rounds=20, seed=2, window=5, progress=False)
    assert same_state(again.state_dict(), whole.state_dict())
    first = make_learner("ac_fp", supply(), seed=5, **GAE)
    train(supply(), first, rounds=10, seed=2, window=5, out_dir=tmp_path / "split",
          progress=False)
    assert len(first._batch) == 2  # the episode's buffer is in the checkpoint
    resumed = make_learner("ac_fp", supply(), seed=5, **GAE)
    train(supply(), resumed, rounds=20, seed=2, window=5, out_dir=tmp_path / "split",
          resume=True, progress=False)
    assert same_state(resumed.state_dict(), whole.state_dict())
    assert whole.n == 5


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, message", [
    ({"actor": "tree"}, "actor must be one of"),
    ({"critic": "table"}, "critic must be one of"),
    ({"inputs": "sum"}, "inputs must be one of"),
    ({"action_std": 0.0}, "action_std must be in"),
    ({"discount": 1.5}, "discount must be in"),
    ({"actor_rate": -1.0}, "actor_rate must be in"),
    ({"belief_rate": 2.0}, "belief_rate must be in"),
    ({"belief_decay": 0.5}, r"belief_decay \(0.5\) must exceed actor_decay"),
    ({"critic_decay": 0.9, "belief_decay": 1.0}, "critic_decay .* must not exceed"),
    ({"horizon": 0}, "horizon must be in"),
    ({"batch_rounds": 0}, "batch_rounds must be >= 1"),
    ({"actor": "mlp", "hidden": [0]}, r"hidden\[0\] must be >= 1"),
    ({"state_size": 5}, "state_size must be at most the observation.s 4 entries"),
    ({"state_size": 1, "inputs": "offset"}, "inputs='offset' needs as many"),
    ({"initial_belief": [1.0]}, "initial_belief must be 2 finite numbers"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"normalize_rate": 0.0}, "normalize_rate must be in"),
    ({"advantage": "mc"}, "advantage must be one of"),
    ({"advantage": "gae", "gae_lambda": 1.5}, "gae_lambda must be in"),
    ({"initial_belief": [1.0, np.nan]}, "initial_belief must be finite numbers"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ActorCriticFictitiousPlay(3, ACTIONS, OBSERVATIONS, **kwargs)


# ----------------------------------------------------------------------------- the config
@pytest.mark.parametrize("kwargs, keyword, owners", [
    ({"components": 2, "output_scale": 0.01}, "output_scale=0.01", "MLPGaussian and MLPCritic"),
    ({"advantage": "gae", "batch_rounds": 5}, "batch_rounds=5", "TD"),
    ({"gae_lambda": 0.5}, "gae_lambda=0.5", "GAE"),
    ({"hidden": [8]}, r"hidden=\[8\]", "MLPGaussian, MLPTrunk and MLPCritic"),
    ({"actor": "mlp", "init_scale": 0.1}, "init_scale=0.1", "LinearGaussian and LinearTrunk"),
    ({"output_scale": 0.0}, "output_scale=0.0", "MLPGaussian and MLPCritic"),
])
def test_an_option_that_no_chosen_piece_takes_is_named(kwargs, keyword, owners):
    with pytest.raises(ValueError, match=rf"^{keyword} has no effect with the chosen pieces "
                                         rf"\(.*\); it is an option of {owners}$"):
        make_learner("ac_fp", lqr(), **kwargs)


def test_keywords_go_to_the_pieces_that_take_them():
    config = ActorCriticConfig.from_keywords(actor="mlp", critic="mlp", hidden=[8],
                                             output_scale=0.0, advantage="gae", gae_lambda=0.5)
    assert config.actor == MLPGaussian(hidden=(8,), output_scale=0.0)
    assert config.critic == MLPCritic(hidden=(8,), output_scale=0.0)
    assert config.advantage == GAEAdvantage(gae_lambda=0.5)
    mixture = ActorCriticConfig.from_keywords(components=2, actor="mlp", critic="mlp",
                                              hidden=[4], output_scale=0.1, init_scale=None)
    assert mixture.actor == Mixture(components=2, trunk=MLPTrunk(hidden=(4,)))
    assert mixture.critic == MLPCritic(hidden=(4,), output_scale=0.1)  # the critic's option
    linear = ActorCriticConfig.from_keywords(components=3, init_scale=0.2, batch_rounds=1)
    assert linear.actor == Mixture(components=3, trunk=LinearTrunk(init_scale=0.2))
    assert linear.advantage == TD(batch_rounds=1)
    assert ActorCriticConfig.from_keywords() == ActorCriticConfig()
    assert ActorCriticConfig().actor == LinearGaussian(init_scale=0.01)
    assert ActorCriticConfig().critic == QuadraticCritic()


def test_the_pieces_and_the_config_check_their_own_options():
    with pytest.raises(ValueError, match="components must be >= 2, got 1"):
        Mixture(components=1)
    with pytest.raises(TypeError, match="trunk must be a LinearTrunk or an MLPTrunk"):
        Mixture(trunk=LinearGaussian())
    with pytest.raises(TypeError, match="hidden must be a list of layer widths"):
        MLPCritic(hidden=8)
    with pytest.raises(TypeError, match=r"actor must be one of \['LinearGaussian'"):
        ActorCriticConfig(actor="linear")
    with pytest.raises(ValueError, match="output_scale must be in"):
        MLPGaussian(output_scale=-1.0)
    assert MLPGaussian(hidden=[4, 3]).hidden == (4, 3)  # frozen, hashable


def test_a_config_builds_the_same_learner_as_its_keywords():
    keywords = {"actor": "mlp", "critic": "mlp", "hidden": [8], "batch_rounds": 2,
                "learn_std": True}
    settings = ActorCriticConfig(actor=MLPGaussian(hidden=(8,)), critic=MLPCritic(hidden=(8,)),
                                 advantage=TD(batch_rounds=2), learn_std=True)
    runs = []
    for options in (keywords, {"settings": settings}):
        core = lqr()
        learner = make_learner("ac_fp", core, seed=3, **options)
        train(core, learner, rounds=12, seed=1, window=6, progress=False)
        runs.append(learner)
    assert runs[0].settings == runs[1].settings and runs[0].settings.state_size == 2
    assert same_state(runs[0].state_dict(), runs[1].state_dict())
    with pytest.raises(ValueError, match="not both"):
        make_learner("ac_fp", lqr(), settings=settings, discount=0.9)
    with pytest.raises(TypeError, match="settings must be an ActorCriticConfig"):
        make_learner("ac_fp", lqr(), settings={"discount": 0.9})


def test_the_keywords_are_the_configs_and_it_is_recorded_piece_by_piece():
    assert set(learner_options(ActorCriticFictitiousPlay)) == {"settings", *KEYWORDS}
    learner = make_learner("ac_fp", lqr(), seed=0, components=2, actor="mlp", hidden=[4])
    config = learner.config()
    assert config["actor"] == {"kind": "Mixture", "components": 2,
                               "trunk": {"kind": "MLPTrunk", "hidden": [4]}}
    assert config["critic"] == {"kind": "QuadraticCritic"}
    assert config["advantage"] == {"kind": "TD", "batch_rounds": 5}
    assert config["state_size"] == 2 and config["inputs"] == "offset"
    assert json.loads(json.dumps(config)) == config


def test_bad_spaces_and_batches_are_named():
    with pytest.raises(ValueError, match="needs a Box action_space"):
        ActorCriticFictitiousPlay(3, spaces.Discrete(3), OBSERVATIONS)
    with pytest.raises(ValueError, match="state_size="):
        ActorCriticFictitiousPlay(3, ACTIONS, spaces.Box(-1.0, 1.0, (5,)))
    learner = ActorCriticFictitiousPlay(3, ACTIONS, OBSERVATIONS, seed=0)
    with pytest.raises(ValueError, match=r"observations must have shape \(3, 4\)"):
        learner.act(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="agent 1 has non-finite observations"):
        learner.act(np.array([[0.0] * 4, [np.nan] * 4, [0.0] * 4]))
    observations = np.zeros((3, 4))
    actions = learner.act(observations)
    with pytest.raises(ValueError, match="agent 2 received a non-finite reward"):
        learner.update(Transition(observations, actions, np.array([0.0, 0.0, np.inf]),
                                  observations))
    with pytest.raises(ValueError, match="unknown keyword arguments for learner 'ac_fp'"):
        make_learner("ac_fp", lqr(), tau=3)


def test_registered_lazily_with_its_options():
    assert "ac_fp" in TORCH_LEARNERS
    options = learner_options(ActorCriticFictitiousPlay)
    assert "observation_space" not in options and "actor_rate" in options
    assert step_size(1.0, 3, 1.0, 1.0) == 0.25
    assert QuadraticFeatures(3).out_features == 9


# ----------------------------------------------------------------------------- SAC
def test_sac_trains_on_the_lqr_game_scored_by_its_metrics():
    pytest.importorskip("stable_baselines3")
    core = lqr(20, max_cycles=50)
    options = {"learning_starts": 1000, "batch_size": 64, "train_freq": 2}
    learner = make_learner("sac", core, seed=0, **options)
    result = train(core, learner, rounds=100, seed=0, window=50, progress=False)  # 2000 steps
    history = result.history
    for column in ("mean_x", "mean_y", "variance", "exploitability"):
        assert len(history.column(column)) == 2
    assert np.isfinite(history.column("variance")).all()
    assert learner.model.num_timesteps == 2000 and learner.model._n_updates == 25
    assert np.abs(learner.act(core.reset(seed=0)["agent"])).max() <= core.action_bound
    copy = make_learner("sac", core, seed=7, **options)
    copy.load_state_dict(learner.state_dict())
    observations = core.reset(seed=1)["agent"]
    assert np.array_equal(copy.mean_action(observations), learner.mean_action(observations))
    with pytest.raises(ValueError, match="sac needs Box actions"):
        from populace.envs.anonymous.contribution import ContributionCore

        make_learner("sac", ContributionCore(n_agents=3))
