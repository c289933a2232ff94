"""The Gaussian-mixture actor: its log-density, sampling and mean against direct computation;
ac_fp with ``components`` ≥ 2 seeded, resumed exactly, refusing bad options; and a two-site
crowding bandit whose equilibrium (half the agents at each site) the mixture learns and a
single Gaussian cannot play."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium import spaces

th = pytest.importorskip("torch")

from populace.agents import make_learner  # noqa: E402
from populace.agents.actor_critic.fictitious_play import ActorCriticFictitiousPlay  # noqa: E402
from populace.agents.actor_critic.mixture import GaussianMixture  # noqa: E402
from populace.agents.base import Transition  # noqa: E402
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore  # noqa: E402
from populace.envs.policies import PlayedByLearner  # noqa: E402
from populace.train import train  # noqa: E402
from populace.train.checkpoint import join_state, split_state  # noqa: E402


def mixture(components: int = 3, action_dim: int = 2, inputs: int = 2,
            learn_std: bool = True, seed: int = 0) -> GaussianMixture:
    """A mixture on a linear trunk with random weights, its σ's made unequal."""
    th.manual_seed(seed)
    trunk = th.nn.Linear(inputs, components * (action_dim + 1))
    head = GaussianMixture(trunk, components=components, action_dim=action_dim, std=0.5,
                           learn_std=learn_std, spread=1.0).double()
    with th.no_grad():
        head.log_std.add_(th.linspace(-0.5, 0.5, components * action_dim,
                                      dtype=th.float64).reshape(components, action_dim))
    return head


def direct_log_density(head: GaussianMixture, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """log Σ_j w_j Π_d N(a_d; μ_jd, σ_jd²), summed plainly (no log-sum-exp)."""
    with th.no_grad():
        logits, means = (t.numpy() for t in head(th.as_tensor(z)))
        std = np.exp(head.log_std.numpy())
    weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    gauss = np.exp(-0.5 * ((a[:, None, :] - means) / std) ** 2) / (math.sqrt(2 * math.pi) * std)
    with np.errstate(divide="ignore"):  # log 0 = −inf where every density underflows
        return np.log((weights * gauss.prod(axis=2)).sum(axis=1))


# ----------------------------------------------------------------------------- the mixture
def test_log_density_matches_the_direct_sum_and_stays_finite_far_away():
    head = mixture()
    rng = np.random.default_rng(0)
    z, a = rng.normal(size=(50, 2)), rng.normal(scale=2.0, size=(50, 2))
    ours = head.log_prob(th.as_tensor(z), th.as_tensor(a)).detach().numpy()
    assert np.allclose(ours, direct_log_density(head, z, a), rtol=1e-12, atol=1e-12)
    far = np.full((2, 2), 1e3)  # every component's density underflows to 0 there
    assert np.isneginf(direct_log_density(head, z[:2], far)).all()
    log_density = head.log_prob(th.as_tensor(z[:2]), th.as_tensor(far))
    assert th.isfinite(log_density).all()
    log_density.sum().backward()  # and its gradient too
    assert all(th.isfinite(p.grad).all() for p in head.parameters())


def test_it_integrates_to_one():
    head = mixture(components=2, action_dim=1, inputs=1)
    grid = np.linspace(-15.0, 15.0, 30001)
    z = np.full((len(grid), 1), 0.3)
    density = np.exp(head.log_prob(th.as_tensor(z), th.as_tensor(grid[:, None]))
                     .detach().numpy())
    assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-9)


def test_samples_follow_the_weights_means_and_spreads():
    head = mixture(components=3)
    n = 60_000
    z = np.tile([[0.4, -1.0]], (n, 1))
    samples, picked = head.sample(th.as_tensor(z), np.random.default_rng(1))
    weights = head.weights(th.as_tensor(z[:1]))[0]
    counts = np.bincount(picked, minlength=3) / n
    assert np.abs(counts - weights).max() < 4 * np.sqrt(weights * (1 - weights) / n).max()
    with th.no_grad():
        means = head(th.as_tensor(z[:1]))[1][0].numpy()
        std = np.exp(head.log_std.numpy())
    for j in range(3):
        drawn = samples[picked == j]
        assert np.allclose(drawn.mean(axis=0), means[j], atol=5 * std[j].max() / np.sqrt(
            len(drawn)))
        assert np.allclose(drawn.std(axis=0), std[j], rtol=0.05)
    assert np.allclose(head.mean(th.as_tensor(z[:1]))[0], weights @ means)
    assert np.allclose(samples.mean(axis=0), weights @ means, atol=0.03)


def test_weights_depend_on_z_row_by_row():
    head = mixture(components=2)
    z = np.array([[3.0, 0.0], [-3.0, 0.0]])
    samples, picked = head.sample(th.as_tensor(np.repeat(z, 20_000, axis=0)),
                                  np.random.default_rng(2))
    weights = head.weights(th.as_tensor(z))
    assert not np.allclose(weights[0], weights[1])
    shares = [np.mean(picked[:20_000] == 0), np.mean(picked[20_000:] == 0)]
    assert np.allclose(shares, weights[:, 0], atol=0.02)


def test_a_fixed_spread_is_a_buffer_not_a_parameter():
    head = mixture(learn_std=False)
    assert "log_std" not in dict(head.named_parameters())
    assert "log_std" in head.state_dict()


def test_a_trunk_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match=r"Linear layer with 2 × \(2 \+ 1\) outputs"):
        GaussianMixture(th.nn.Linear(2, 4), components=2, action_dim=2, std=0.1,
                        learn_std=False, spread=0.1)


# ----------------------------------------------------------------------------- in ac_fp
def lqr(n_agents: int = 10) -> MFLQRCore:
    return MFLQRCore(n_agents=n_agents)


@pytest.mark.parametrize("actor", ["linear", "mlp"])
def test_ac_fp_with_a_mixture_is_seeded_and_resumes_exactly(actor, tmp_path):
    options = {"components": 3, "actor": actor, "learn_std": True, "batch_rounds": 3,
               **({"hidden": [8]} if actor == "mlp" else {})}
    whole = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), whole, rounds=40, seed=2, window=10, out_dir=tmp_path / "whole",
          progress=False)
    again = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), again, rounds=40, seed=2, window=10, progress=False)
    first = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), first, rounds=20, seed=2, window=10, out_dir=tmp_path / "split",
          progress=False)
    assert first._batch  # a batch is pending at the checkpoint
    resumed = make_learner("ac_fp", lqr(), seed=5, **options)
    train(lqr(), resumed, rounds=40, seed=2, window=10, out_dir=tmp_path / "split",
          resume=True, progress=False)
    for other in (again, resumed):
        tree, arrays = split_state(other.state_dict())
        tree_whole, arrays_whole = split_state(whole.state_dict())
        assert tree == tree_whole and arrays.keys() == arrays_whole.keys()
        assert all(np.array_equal(arrays[k], arrays_whole[k]) for k in arrays)
    copy = make_learner("ac_fp", lqr(), seed=99, **options)
    copy.load_state_dict(join_state(*split_state(whole.state_dict())))
    observations = lqr().reset(seed=4)["agent"]
    assert np.array_equal(copy.act(observations), whole.act(observations))


def test_ac_fp_mixture_policy_is_scored_by_its_play_and_its_mean_is_the_average_move():
    core = lqr()
    learner = make_learner("ac_fp", core, seed=0, components=2)
    assert learner.policy() == PlayedByLearner(learner)  # metrics score the window's play
    observations = core.reset(seed=0)["agent"]
    learner.act(observations)  # the belief starts at what the agents see
    z = th.as_tensor(learner._inputs(observations))
    weights = learner.actor.network.weights(z)
    means = learner.actor.network(z)[1].detach().numpy()
    assert np.allclose(learner.mean_action(observations),
                       np.einsum("nk,nkd->nd", weights, means))
    result = train(core, learner, rounds=10, seed=0, window=5, progress=False)
    # scored from the fitted play (infinite while that play does not stabilize), never NaN
    assert not np.isnan(result.history.column("exploitability")).any()
    assert learner.config()["actor"]["components"] == 2


def test_ac_fp_refuses_bad_components():
    actions = spaces.Box(-1.0, 1.0, (2,))
    observations = spaces.Box(-np.inf, np.inf, (4,))
    with pytest.raises(ValueError, match="components must be >= 1, got 0"):
        ActorCriticFictitiousPlay(3, actions, observations, components=0)
    with pytest.raises(TypeError, match="components must be an int"):
        ActorCriticFictitiousPlay(3, actions, observations, components=2.0)
    two = ActorCriticFictitiousPlay(3, actions, observations, components=2, seed=0)
    with pytest.raises(ValueError, match="checkpoint was saved with"):
        ActorCriticFictitiousPlay(3, actions, observations, seed=0).load_state_dict(
            two.state_dict())


# ----------------------------------------------------------------------------- learning
SITES = np.array([-1.0, 1.0])


def crowded_sites(actions: np.ndarray) -> np.ndarray:
    """A one-shot game of two sites at ±1: an agent earns exp(−(a − s)²/(2·0.25²)) at its
    nearer site s, less the share of the population on that side. Its equilibrium puts half
    the agents near each site; everyone on one side earns at most 0, and the other side 1."""
    a = actions[:, 0]
    right = a >= 0
    share = np.where(right, right.mean(), 1.0 - right.mean())
    return np.exp(-((a - np.where(right, 1.0, -1.0)) ** 2) / (2 * 0.25**2)) - share


def site_shares(components: int, rounds: int = 300, n_agents: int = 200) -> np.ndarray:
    """Train ac_fp on :func:`crowded_sites` (every agent observes 0), then the share of one
    more round's actions within 0.3 of each site."""
    learner = ActorCriticFictitiousPlay(
        n_agents, spaces.Box(-3.0, 3.0, (1,)), spaces.Box(-np.inf, np.inf, (1,)),
        state_size=1, components=components, learn_std=True, action_std=0.1, discount=0.01,
        batch_rounds=1, seed=0)
    observations = np.zeros((n_agents, 1))
    for _ in range(rounds):
        actions = learner.act(observations)
        learner.update(Transition(observations, actions, crowded_sites(actions),
                                  observations))
    actions = learner.act(observations)[:, 0]
    return np.array([np.mean(np.abs(actions - site) <= 0.3) for site in SITES])


def test_a_mixture_occupies_both_sites_where_a_single_gaussian_cannot():
    """No Gaussian puts 30 % of its mass within 0.3 of both −1 and 1 (at best ≈ 15 % each,
    σ ≈ 1 around 0); the learned single Gaussian does not, the learned mixture does."""
    assert site_shares(components=2).min() >= 0.3
    assert site_shares(components=1).min() < 0.3
