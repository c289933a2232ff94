"""Actor-critic fictitious play (Mguni, Jennings & Munoz de Cote, AAMAS 2018; "MJM").

MJM compute the equilibrium of a game with very many agents by letting every agent learn a best
response to its *belief* of the mean field, while that belief follows what the agent sees on a
slower time scale: a fictitious-play process in which the best responses are learned
model-free. Their Corollary 1 and the proof of their Theorem 2 put three learners on three
time scales, fastest first:

1. **critic** — a TD(0) estimate of the agent's value, given its belief;
2. **actor** — a policy-gradient step on the policy, with the critic's TD error δ as the
   advantage (step sizes α(n));
3. **belief** — the agent's estimate m̂ of the mean field, moved towards the statistic it
   observes, ``m̂ ← m̂ + β(n)·(m̄ − m̂)`` (their eq. (24)), with β(n)/α(n) → 0 so that the
   belief looks frozen to the actor and critic (their two-time-scale argument).

How we read it (*ours* where MJM leave it open):

* **Observations.** An agent's observation is ``[own state x, observed mean-field statistic
  m̄]``; ``state_size`` says where x ends (for ``mf_lqr_v0``: position (2) then population
  mean (2)). The agent acts on its own state and its belief, never on m̄ directly: m̄ only
  feeds the belief. The belief starts at the first m̄ the agent sees (``initial_belief``
  overrides it).
* **Inputs.** ``"offset"``: the networks see ``z = x − m̂`` (needs as many numbers in m̄ as
  in x); ``"joint"``: they see ``z = [x, m̂]``.
* **Actor.** A Gaussian policy ``u ~ N(μ(z), s²I)`` with a fixed standard deviation s
  (``action_std``; MJM's Gaussian output has variance 0.1, our default). ``"linear"``:
  ``μ(z) = Wz + b``, which holds the exact best response of linear-quadratic games and makes
  :meth:`~ActorCriticFictitiousPlay.policy` a linear policy the game can score (gain and
  offset); ``"mlp"``: a small tanh network (MJM used two-layer networks), for games whose
  best response is not linear.
* **Critic.** ``"quadratic"``: V(z) linear in every monomial of z of degree 1 and 2 (the
  value of a linear-quadratic problem); ``"mlp"``: a tanh network. Semi-gradient TD(0).
* **Criterion.** ``discount=1`` (default) is the average-reward (ergodic) criterion: δ =
  r − ρ + V(z') − V(z), with the average reward ρ tracked alongside the critic; ``discount=γ <
  1`` is discounted TD, δ = r + γV(z') − V(z). A termination cuts the bootstrap; a truncation
  (time limit) does not. z' uses the same belief as z, so each TD error belongs to one
  frozen-belief problem.
* **No statistic observed** (ours). With ``state_size`` equal to the observation's length the
  agent observes no mean-field statistic (MJM's one-shot spatial game, where the mean field
  reaches an agent only through its rewards): the belief is empty and z = x.
* **Learned spread** (ours, ``learn_std=True``). The Gaussian's log standard deviation, one
  per action coordinate, is a parameter of the actor, stepped by the same policy gradient
  (∇ log π includes it); it starts at ``action_std``. A mixed equilibrium, where the
  population must spread over the plane, needs it: with a fixed s the spread of play is
  whatever s is.
* **Mixture actor** (ours, ``components=K`` ≥ 2). The actor's trunk (linear or MLP, as
  ``actor`` says) gives K means and K weight logits, and an agent draws a component, then a
  Gaussian around its mean (:class:`~populace.agents.actor_critic.mixture.GaussianMixture`; one σ
  per component and coordinate, learned with ``learn_std``); the policy gradient uses the
  mixture's log-density. MJM's actor is a single Gaussian, so agents that observe the same
  thing all aim at one bump of places; a mean-field equilibrium with two crowded places (the
  bimodal spatial game, where every agent starts near (1, 0)) is a mixed strategy that such a
  policy cannot play, and a mixture can. The components' means start N(0, ``action_std``²)
  apart: identical components would get identical gradients forever.
* **Small start** (ours, ``output_scale``). torch's default initialisation gives an MLP actor
  mean moves of a few tenths at every state, and an MLP critic slopes of that size: over a
  30-step episode of ``supply_demand_v0`` that carried the population far from
  everything rewarding before the critic had seen any data. With ``output_scale`` set, the
  output layers of the MLP actor and critic start with weights N(0, ``output_scale``²) and
  zero bias: a first policy that barely moves and a nearly flat first value.
* **Actions outside the box.** The sample is clipped to the action space before the game sees
  it; the policy gradient uses the log-density of the unclipped sample (clipping is then part
  of the environment, and the estimate stays unbiased for the clipped policy).
* **What is shared.** One actor and one critic, shared by all the agents this learner
  controls (parameter sharing: their TD errors and policy gradients are averaged into one
  step). Each agent keeps its own belief, and its action depends only on its own observation
  and that belief, so acting is decentralised in MJM's sense; learning pools experience.
* **Step sizes.** Robbins–Monro schedules ``rate/(1 + n/horizon)^decay`` over the update
  count n, one per time scale; the belief's decay must exceed the actor's (β/α → 0) and the
  critic's must not exceed the actor's. Defaults: actor and critic 0.02 with decays 0.6 and
  0.5 over ``horizon`` = 1000 updates (Adam: steps of about that size in every parameter);
  belief 0.1 with decay 0.9 over ``belief_horizon`` = 10 updates, so the belief catches up
  with the population within the first few hundred updates and is then nearly frozen. The
  actor and critic step with Adam (MJM's optimiser) or plain SGD.
* **Centering** (optional, ``normalize_rate``). When the belief lags the population, z is
  far from centred and the gradients of W and b pull together (slow, and off-diagonal gains
  appear). With ``normalize_rate`` set, the linear actor computes ``W(z − c) + b'`` with c a
  running mean of z, and b' moves by W·Δc whenever c moves, so play is unchanged: only the
  geometry of the steps is. The critic sees z − c too. Off by default: on ``mf_lqr_v0`` it
  made the population's mean oscillate (the belief's default schedule already centres z).
* **Multi-step advantage** (ours, ``advantage="gae"``). MJM's actor-critic is one-step
  (TD(0)): the actor's advantage is δ_t. With ``advantage="gae"`` the learner instead keeps
  the episode's rounds, every agent's at once as arrays of shape (T, N, ·), and when the
  episode ends (termination or truncation) computes the generalised advantage estimate
  ``A_t = Σ_k (γλ)^k δ_{t+k}`` (Schulman et al., *High-dimensional continuous control using
  generalized advantage estimation*, ICLR 2016) from the TD errors of the critic it had
  during the episode; λ = ``gae_lambda``, and λ = 1 is the Monte-Carlo return with V as
  baseline. One actor step (A·∇log π) and one critic step (towards the λ-return V + A) then
  use all T·N samples; the belief moves once per episode. Credit then reaches an action from
  every later reward of the episode, not only through the critic's slope at the next state;
  the episodes must end (every game here has a horizon), and ``batch_rounds`` is unused.
* **Batches.** Every ``batch_rounds`` rounds the stored transitions of all agents make one
  critic step, one actor step and one belief step (1: a step per round, as the paper's online
  updates); the belief then moves towards the statistic each agent saw, averaged over the
  batch's rounds. The iteration count n of all three schedules counts these steps.

Everything runs in float64 on the CPU; networks start from torch's initialisation under a seed
drawn from the learner's generator, and exploration noise comes from that generator, so one
seed gives the same weights and actions every time. That generator is derived from the seed
with a spawn key of its own: a game seeded with the same integer would otherwise draw its
noise from the very same stream, and exploration noise equal to the game's noise biases every
gradient (we saw the learner fail that way). The state (weights, optimiser moments,
beliefs, ρ, counters, the pending batch) is saved as arrays and JSON, without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from torch import nn

from populace.agents.actor_critic.mixture import GaussianMixture
from populace.agents.actor_critic.networks import build_actor, build_critic, start_small
from populace.agents.base import Learner, Transition, checkpoint_array, pick_group
from populace.agents.torch_state import (
    load_module_arrays,
    load_optimizer_arrays,
    module_arrays,
    optimizer_arrays,
)
from populace.envs.validation import check_choice, check_int, check_number

INPUTS = ("offset", "joint")
ACTORS = ("linear", "mlp")
CRITICS = ("quadratic", "mlp")
OPTIMIZERS = ("adam", "sgd")
ADVANTAGES = ("td", "gae")
DEFAULT_STD = float(np.sqrt(0.1))  # MJM: "a Gaussian output with variance 0.1"
BATCH_PARTS = 6  # z, unclipped actions, rewards, z', 1 − terminated, the statistic seen
STREAM = 0xAC0F  # spawn key of the learner's generator (see __init__)

__all__ = ["ACTORS", "ADVANTAGES", "CRITICS", "INPUTS", "OPTIMIZERS",
           "ActorCriticFictitiousPlay", "generalized_advantages",
           "step_size"]


def step_size(rate: float, n: int, horizon: float, decay: float) -> float:
    """The Robbins–Monro step ``rate/(1 + n/horizon)^decay`` after ``n`` updates.

    >>> step_size(0.1, 0, 100, 1.0), step_size(0.1, 100, 100, 1.0)
    (0.1, 0.05)
    """
    return rate / (1.0 + n / horizon) ** decay


def generalized_advantages(deltas: np.ndarray, decay: float) -> np.ndarray:
    """``A_t = Σ_{k ≥ 0} decay^k δ_{t+k}`` to the end of the episode, for TD errors ``δ`` of
    shape ``(T, ...)`` (time first; every other axis, such as the agents, is kept as it is).
    ``decay`` = γλ: λ = 0 gives δ itself, λ = 1 the Monte-Carlo return minus the value.

    >>> generalized_advantages(np.array([[1.0], [2.0], [4.0]]), 0.5).ravel().tolist()
    [3.0, 4.0, 4.0]
    """
    advantages = np.empty_like(deltas)
    running = np.zeros_like(deltas[0])
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + decay * running
        advantages[t] = running
    return advantages


@dataclass
class _Acted:
    """What :meth:`ActorCriticFictitiousPlay.act` drew, kept for the matching update."""

    observations: np.ndarray
    inputs: np.ndarray  # z of every agent
    samples: np.ndarray  # unclipped Gaussian draws
    played: np.ndarray  # what the game was given (clipped, in the space's dtype)


class ActorCriticFictitiousPlay(Learner):
    """MJM's actor-critic fictitious play for one group, vectorized over its agents.

    See the module docstring for the algorithm and what is ours.

    Args:
        n_agents: number of agents controlled (≥ 1).
        action_space: ``Box`` with one axis (each agent's action vector).
        observation_space: ``Box`` with one axis: ``[own state, observed mean-field statistic]``.
        state_size: how many leading observation entries are the agent's own state (default:
            half of the observation).
        inputs: ``"offset"`` (z = x − m̂) or ``"joint"`` (z = [x, m̂]); default offset when x
            and m̄ have the same size.
        actor: ``"linear"`` or ``"mlp"``. critic: ``"quadratic"`` or ``"mlp"``.
        hidden: widths of the hidden layers of the MLPs.
        action_std: exploration standard deviation s > 0 of every action coordinate (the
            starting value when ``learn_std``).
        learn_std: learn s by the policy gradient (module docstring, Learned spread).
        components: 1 (default) for MJM's Gaussian actor; K ≥ 2 for a mixture of K
            Gaussians whose means and weights come from the ``actor`` trunk (module
            docstring, Mixture actor).
        discount: γ in (0, 1]; 1 is the average-reward criterion.
        actor_rate, critic_rate, average_rate, belief_rate: initial step sizes of the actor
            (α), the critic, the average-reward estimate ρ and the belief (β).
        actor_decay, critic_decay, belief_decay: exponents of the schedules
            ``rate/(1 + n/horizon)^decay``; ``belief_decay`` must exceed ``actor_decay``
            (β/α → 0), and the critic's must not exceed the actor's (critic the faster).
        horizon: updates n over which the actor's, critic's and ρ's steps start to decay (> 0).
        belief_horizon: the same for the belief's steps (> 0).
        optimizer: ``"adam"`` (MJM) or ``"sgd"`` for the actor and the critic.
        batch_rounds: rounds per actor/critic step (≥ 1; with ``advantage="td"``).
        advantage: ``"td"`` (MJM: the TD error δ, a step every ``batch_rounds`` rounds) or
            ``"gae"`` (a step at every episode end; module docstring, Multi-step advantage).
        gae_lambda: λ in [0, 1] of ``advantage="gae"``.
        init_scale: standard deviation of the linear actor's initial weights (≥ 0).
        output_scale: standard deviation of the initial output-layer weights of the MLP
            actor and critic (≥ 0; module docstring, Small start), or None (default) for
            torch's initialisation.
        normalize_rate: rate in (0, 1] of the running mean of the inputs (module docstring,
            Centering), or None (default) for no centering.
        initial_belief: the belief every agent starts with (default: its first observation).
        seed: seeds the weights and the exploration noise.

    Attributes:
        belief: m̂, ``(n_agents, field_size)`` (None before the first observation).
        average: ρ, the average reward per agent and round (average-reward criterion).
        n: actor/critic updates so far (the clock of α and β).

    >>> learner = ActorCriticFictitiousPlay(
    ...     3, spaces.Box(-5.0, 5.0, (2,)), spaces.Box(-np.inf, np.inf, (4,)), seed=0)
    >>> observations = np.zeros((3, 4))
    >>> actions = learner.act(observations)
    >>> actions.shape, bool((np.abs(actions) <= 5).all())
    ((3, 2), True)
    >>> learner.update(Transition(observations, actions, -np.ones(3), observations))
    >>> sorted(learner.policy())
    ['gain', 'offset', 'offsets']
    """

    def __init__(
        self,
        n_agents: int,
        action_space: spaces.Space,
        observation_space: spaces.Space,
        *,
        state_size: int | None = None,
        inputs: str | None = None,
        actor: str = "linear",
        critic: str = "quadratic",
        hidden: Sequence[int] = (32, 32),
        action_std: float = DEFAULT_STD,
        learn_std: bool = False,
        components: int = 1,
        discount: float = 1.0,
        actor_rate: float = 0.02,
        critic_rate: float = 0.02,
        average_rate: float = 0.01,
        belief_rate: float = 0.1,
        actor_decay: float = 0.6,
        critic_decay: float = 0.5,
        belief_decay: float = 0.9,
        horizon: float = 1000.0,
        belief_horizon: float = 10.0,
        optimizer: str = "adam",
        batch_rounds: int = 5,
        advantage: str = "td",
        gae_lambda: float = 0.95,
        init_scale: float = 0.01,
        output_scale: float | None = None,
        normalize_rate: float | None = None,
        initial_belief: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        n_agents = check_int("n_agents", n_agents, minimum=1)
        action_dim = _vector_box("action_space", action_space)
        observation_dim = _vector_box("observation_space", observation_space)
        super().__init__(n_agents, action_space, seed=seed)
        # a stream of its own: a game seeded with the same integer draws from default_rng(seed),
        # and exploration noise equal to the game's noise biases every gradient
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM,)))
        self.observation_space = observation_space
        self.action_dim, self.observation_dim = action_dim, observation_dim
        self.state_size = _state_size(state_size, observation_dim)
        self.field_size = observation_dim - self.state_size
        self.inputs = _inputs(inputs, self.state_size, self.field_size)
        self.actor_kind = check_choice("actor", actor, ACTORS)
        self.critic_kind = check_choice("critic", critic, CRITICS)
        self.hidden = [check_int(f"hidden[{i}]", w, minimum=1) for i, w in enumerate(hidden)]
        self.action_std = check_number("action_std", action_std, low=0.0, low_open=True)
        if not isinstance(learn_std, bool | np.bool_):
            raise TypeError(f"learn_std must be a bool, got {type(learn_std).__name__} "
                            f"{learn_std!r}")
        self.learn_std = bool(learn_std)
        self.components = check_int("components", components, minimum=1)
        self.discount = check_number("discount", discount, low=0.0, high=1.0, low_open=True)
        self.rates = {
            name: check_number(name, value, low=0.0, low_open=True)
            for name, value in (("actor_rate", actor_rate), ("critic_rate", critic_rate),
                                ("average_rate", average_rate), ("belief_rate", belief_rate))
        }
        if self.rates["belief_rate"] > 1.0:
            raise ValueError(f"belief_rate must be in (0, 1], got {belief_rate!r}")
        self.decays = _decays(actor_decay, critic_decay, belief_decay)
        self.horizon = check_number("horizon", horizon, low=0.0, low_open=True)
        self.belief_horizon = check_number("belief_horizon", belief_horizon, low=0.0,
                                           low_open=True)
        self.optimizer_name = check_choice("optimizer", optimizer, OPTIMIZERS)
        self.batch_rounds = check_int("batch_rounds", batch_rounds, minimum=1)
        self.advantage = check_choice("advantage", advantage, ADVANTAGES)
        self.gae_lambda = check_number("gae_lambda", gae_lambda, low=0.0, high=1.0)
        self.init_scale = check_number("init_scale", init_scale, low=0.0)
        self.output_scale = None if output_scale is None else check_number(
            "output_scale", output_scale, low=0.0)
        if self.components > 1 and self.output_scale is not None:
            raise ValueError("output_scale sets the MLP heads of the Gaussian actor; with "
                             f"components={self.components} leave it None")
        self.normalize_rate = None if normalize_rate is None else check_number(
            "normalize_rate", normalize_rate, low=0.0, high=1.0, low_open=True)
        self.initial_belief = _initial_belief(initial_belief, self.field_size)
        self.low, self.high = _bounds(action_space)
        self.actor, self.critic = self._networks()
        self.optimizer = self._optimizer()
        size = self.state_size if self.inputs == "offset" else self.observation_dim
        self.center = np.zeros(size)  # running mean of the inputs z
        self.belief: np.ndarray | None = None
        if self.initial_belief is not None:
            self.belief = np.tile(self.initial_belief, (n_agents, 1))
        self.average = 0.0
        self.n = 0
        self._batch: list[tuple[np.ndarray, ...]] = []
        self._acted: _Acted | None = None

    @classmethod
    def for_game(
        cls, core: Any, group: str | None = None, *, seed: int | None = None, **kwargs: Any
    ) -> ActorCriticFictitiousPlay:
        """A learner for ``group`` of ``core`` (its Box actions and observations)."""
        chosen = pick_group(core, group)
        learner = cls(chosen.size, chosen.action_space, chosen.observation_space, seed=seed,
                      **kwargs)
        learner.group = chosen.name
        return learner

    # ------------------------------------------------------------------ construction
    def _networks(self) -> tuple[nn.Module, nn.Module]:
        """Actor and critic in float64, initialised under a seed from the learner's generator."""
        size = self.state_size if self.inputs == "offset" else self.observation_dim
        with th.random.fork_rng(devices=[]):
            th.manual_seed(int(self.rng.integers(2**62)))
            if self.components > 1:
                return self._mixture_actor(size), build_critic(self.critic_kind, size,
                                                               self.hidden).double()
            actor = build_actor(self.actor_kind, size, self.action_dim, self.hidden,
                                self.init_scale)
            critic = build_critic(self.critic_kind, size, self.hidden)
            if self.output_scale is not None:
                for kind, network in ((self.actor_kind, actor), (self.critic_kind, critic)):
                    if kind == "mlp":
                        start_small(network, self.output_scale)
        if self.learn_std:  # a parameter of the actor: its optimizer group, its checkpoint
            actor.register_parameter("log_std", nn.Parameter(
                th.full((self.action_dim,), float(np.log(self.action_std)))))
        return actor.double(), critic.double()

    def _mixture_actor(self, size: int) -> GaussianMixture:
        """K Gaussians on the ``actor`` trunk (called under the seeded torch generator)."""
        trunk = build_actor(self.actor_kind, size, self.components * (self.action_dim + 1),
                            self.hidden, self.init_scale)
        return GaussianMixture(trunk, components=self.components, action_dim=self.action_dim,
                               std=self.action_std, learn_std=self.learn_std,
                               spread=self.action_std).double()

    def _std(self) -> np.ndarray:
        """The Gaussian's standard deviation per action coordinate (now)."""
        if not self.learn_std:
            return np.full(self.action_dim, self.action_std)
        return np.exp(self.actor.get_parameter("log_std").detach().numpy())

    def _optimizer(self) -> th.optim.Optimizer:
        """One optimizer, two parameter groups: the actor's (group 0), the critic's (1)."""
        groups = [{"params": list(self.actor.parameters()), "lr": self.rates["actor_rate"]},
                  {"params": list(self.critic.parameters()), "lr": self.rates["critic_rate"]}]
        if self.optimizer_name == "adam":
            return th.optim.Adam(groups)
        return th.optim.SGD(groups)

    # ------------------------------------------------------------------ acting
    def act(self, observations: Any = None) -> np.ndarray:
        """Every agent's action: its Gaussian draw around μ(z), clipped to the action box."""
        obs = self._observations("observations", observations)
        if self.belief is None:
            self.belief = obs[:, self.state_size:].copy()
        z = self._inputs(obs)
        if isinstance(self.actor, GaussianMixture):
            samples = self.actor.sample(th.as_tensor(z), self.rng)[0]
        else:
            mean = self._mean(z)
            samples = mean + self._std() * self.rng.standard_normal(mean.shape)
        played = np.clip(samples, self.low, self.high).astype(self.action_space.dtype)
        self._acted = _Acted(obs, z, samples, played)
        return played.copy()

    def _mean(self, z: np.ndarray) -> np.ndarray:
        """μ(z) as numpy (the linear actor without a trip through torch)."""
        if isinstance(self.actor, nn.Linear):
            weight, bias = self._effective_linear()
            return z @ weight.T + bias
        if isinstance(self.actor, GaussianMixture):  # the mixture's mean, Σ_j w_j μ_j
            return self.actor.mean(th.as_tensor(z))
        with th.no_grad():
            return self.actor(th.as_tensor(self._actor_inputs(z))).numpy()

    def _actor_inputs(self, z: np.ndarray) -> np.ndarray:
        """The linear actor sees z − center (its bias follows the center: see _track_inputs);
        an MLP actor sees z itself."""
        return z - self.center if isinstance(self.actor, nn.Linear) else z

    def _effective_linear(self) -> tuple[np.ndarray, np.ndarray]:
        """(A, a) with μ(z) = Az + a: the linear actor with its centering folded in."""
        assert isinstance(self.actor, nn.Linear)
        weight = self.actor.weight.detach().numpy()
        return weight, self.actor.bias.detach().numpy() - weight @ self.center

    def _inputs(self, obs: np.ndarray) -> np.ndarray:
        """z of every agent from its observation and its belief."""
        assert self.belief is not None
        state = obs[:, : self.state_size]
        if self.inputs == "offset":
            return state - self.belief
        return np.hstack([state, self.belief])

    # ------------------------------------------------------------------ learning
    def update(self, transition: Transition) -> None:
        """Store the round; every ``batch_rounds`` rounds (``advantage="gae"``: at the end of
        every episode) step the critic and the actor; then move every agent's belief towards
        the statistic it sees after the step."""
        after = self._observations("next_observations", transition.next_observations)
        rewards = _rewards(transition.rewards, self.n_agents)
        z, samples = self._drawn(transition)
        if self.belief is None:  # update() without act(): start from what the agent saw
            self.belief = after[:, self.state_size:].copy()
        z_next = self._inputs(after)
        keep = np.full(self.n_agents, 0.0 if transition.terminated else 1.0)
        self._batch.append((z, samples, rewards, z_next, keep, after[:, self.state_size:]))
        self._acted = None
        if self.advantage == "gae":
            full = transition.terminated or transition.truncated
        else:
            full = len(self._batch) >= self.batch_rounds
        if full:
            rounds = [np.stack(parts) for parts in zip(*self._batch, strict=True)]
            self._batch = []
            if self.advantage == "gae":
                self._learn_episode(*rounds[:5])
            else:
                self._learn(*(part.reshape(-1, *part.shape[2:]) for part in rounds[:5]))
            self._move_belief(rounds[5].mean(axis=0))

    def _drawn(self, transition: Transition) -> tuple[np.ndarray, np.ndarray]:
        """(z, unclipped actions) of the round: act()'s, when the game played what it drew;
        else those of the transition's observations and actions."""
        actions = np.asarray(transition.actions, dtype=np.float64)
        expected = (self.n_agents, self.action_dim)
        if actions.shape != expected:
            raise ValueError(f"actions must have shape {expected}, got {actions.shape}")
        acted = self._acted
        if acted is not None and np.array_equal(actions, acted.played):
            before = transition.observations
            if before is None or np.array_equal(np.asarray(before), acted.observations):
                return acted.inputs, acted.samples
        if not np.isfinite(actions).all():
            bad = int(np.flatnonzero(~np.isfinite(actions).all(axis=1))[0])
            raise ValueError(f"agent {bad} played a non-finite action {actions[bad]}")
        obs = self._observations("observations", transition.observations)
        if self.belief is None:
            self.belief = obs[:, self.state_size:].copy()
        return self._inputs(obs), actions

    def _learn(self, z: np.ndarray, samples: np.ndarray, rewards: np.ndarray,
               z_next: np.ndarray, keep: np.ndarray) -> None:
        """One critic step (semi-gradient TD(0)) and one actor step (δ·∇log π), then ρ."""
        value, delta = self._td_errors(z, rewards, z_next, keep)
        self._step(z, samples, value, delta, delta)

    def _learn_episode(self, z: np.ndarray, samples: np.ndarray, rewards: np.ndarray,
                       z_next: np.ndarray, keep: np.ndarray) -> None:
        """One episode's rounds, ``(T, N, ·)``: the generalised advantages of its TD errors
        (module docstring, Multi-step advantage), then one critic and one actor step on them."""
        steps, agents = rewards.shape

        def flat(part: np.ndarray) -> np.ndarray:
            return part.reshape(steps * agents, *part.shape[2:])

        value, delta = self._td_errors(flat(z), flat(rewards), flat(z_next), flat(keep))
        advantage = generalized_advantages(delta.numpy().reshape(steps, agents),
                                           self.discount * self.gae_lambda)
        self._step(flat(z), flat(samples), value, th.as_tensor(advantage.ravel()), delta)

    def _td_errors(self, z: np.ndarray, rewards: np.ndarray, z_next: np.ndarray,
                   keep: np.ndarray) -> tuple[th.Tensor, th.Tensor]:
        """V(z) (with its gradient) and the TD errors δ = r − ρ + γ·keep·V(z') − V(z)."""
        value = self.critic(th.as_tensor(z - self.center)).squeeze(1)
        with th.no_grad():
            following = self.critic(th.as_tensor(z_next - self.center)).squeeze(1)
            delta = (th.as_tensor(rewards) - self.average
                     + self.discount * th.as_tensor(keep) * following - value)
        return value, delta

    def _step(self, z: np.ndarray, samples: np.ndarray, value: th.Tensor,
              advantage: th.Tensor, delta: th.Tensor) -> None:
        """The critic towards V + advantage, the actor along advantage·∇log π, ρ by δ."""
        self._set_rates()
        if isinstance(self.actor, GaussianMixture):
            log_density = self.actor.log_prob(th.as_tensor(z), th.as_tensor(samples))
        else:
            mean = self.actor(th.as_tensor(self._actor_inputs(z)))
            log_density = self._log_density(th.as_tensor(samples), mean)
        # the two losses share no parameter: one backward pass gives each its own gradient
        self.optimizer.zero_grad()
        (-(advantage * (value + log_density)).mean()).backward()
        self.optimizer.step()
        if self.discount == 1.0:
            rate = step_size(self.rates["average_rate"], self.n, self.horizon,
                             self.decays["critic_decay"])
            self.average += rate * float(delta.mean())
        self._track_inputs(z)
        self.n += 1

    def _log_density(self, samples: th.Tensor, mean: th.Tensor) -> th.Tensor:
        """log π(samples | z) up to a constant (with the learned log s, when learned)."""
        if not self.learn_std:
            return -((samples - mean) ** 2).sum(dim=1) / (2 * self.action_std**2)
        log_std = self.actor.get_parameter("log_std")
        return (-((samples - mean) ** 2) / (2 * th.exp(2 * log_std)) - log_std).sum(dim=1)

    def _track_inputs(self, z: np.ndarray) -> None:
        """Move the center towards the batch's mean input, at rate max(1/(n + 1),
        normalize_rate) (the first batch sets it). The linear actor's bias moves by W·Δcenter,
        so the policy stays what it was: centering changes only the geometry of the gradient
        steps (W and the bias no longer pull together), never the play."""
        if self.normalize_rate is None:
            return
        shift = max(1.0 / (self.n + 1), self.normalize_rate) * (z.mean(axis=0) - self.center)
        self.center += shift
        if isinstance(self.actor, nn.Linear):
            with th.no_grad():
                self.actor.bias.add_(self.actor.weight @ th.as_tensor(shift))

    def _set_rates(self) -> None:
        for group, name in zip(self.optimizer.param_groups, ("actor", "critic"), strict=True):
            group["lr"] = step_size(self.rates[f"{name}_rate"], self.n, self.horizon,
                                    self.decays[f"{name}_decay"])

    def _move_belief(self, observed: np.ndarray) -> None:
        """m̂ ← m̂ + β(n)·(m̄ − m̂) (MJM eq. (24)), with m̄ what each agent saw after the rounds
        of the batch, averaged, and n the updates before this one."""
        assert self.belief is not None
        beta = step_size(self.rates["belief_rate"], self.n - 1, self.belief_horizon,
                         self.decays["belief_decay"])
        self.belief += beta * (observed - self.belief)

    # ------------------------------------------------------------------ the policy
    def policy(self) -> Any:
        """Linear actor: ``{"gain": G, "offset": c, "offsets": per agent}`` with every agent
        playing ``u = −G(x − c_i)`` on average (c_i its rest point given its belief; ``offset``
        is the agents' mean c). MLP actor, or a linear one whose gain has no inverse (so no
        rest point): :meth:`mean_action`, the policy without its exploration. Mixture actor
        (``components`` ≥ 2): the learner itself, so that a game scores what it plays (the
        spatial and LQR metrics score the window's play for a learner object): its mean
        action Σ_j w_j μ_j is the population's average move, which for a bimodal policy
        lands between the modes, where few agents go."""
        if self.components > 1:
            return self
        if self.actor_kind == "mlp":
            return self.mean_action
        full, bias = self._effective_linear()
        weight = full[:, : self.state_size]
        gain = -weight
        belief = self.belief if self.belief is not None else self._zero_belief()
        if self.inputs == "offset":
            intercept = bias - belief @ weight.T
        else:
            intercept = bias + belief @ full[:, self.state_size:].T
        offsets = _rest_points(gain, intercept)
        if not np.isfinite(offsets).all():  # no rest point: score what is played instead
            return self.mean_action
        return {"gain": gain, "offset": offsets.mean(axis=0), "offsets": offsets}

    def mean_action(self, observations: Any) -> np.ndarray:
        """μ(z) of every agent for ``observations`` (the policy without its exploration).
        With no observed statistic (empty beliefs) any number of rows may be asked for: the
        action then depends on the observation alone (a game scores it at its own points)."""
        obs = self._observations("observations", observations, any_rows=self.field_size == 0)
        belief = self.belief
        if belief is None or self.field_size == 0:
            self.belief = obs[:, self.state_size:].copy()
        try:
            return self._mean(self._inputs(obs))
        finally:
            self.belief = belief

    def _zero_belief(self) -> np.ndarray:
        return np.zeros((self.n_agents, self.field_size))

    # ------------------------------------------------------------------ input checks
    def _observations(self, name: str, value: Any, *, any_rows: bool = False) -> np.ndarray:
        if value is None:
            raise ValueError(f"{name} are needed: ActorCriticFictitiousPlay acts on them")
        obs = np.asarray(value, dtype=np.float64)
        expected = (self.n_agents, self.observation_dim)
        if any_rows and obs.ndim == 2 and obs.shape[1] == self.observation_dim:
            expected = obs.shape
        if obs.shape != expected:
            raise ValueError(f"{name} must have shape {expected}, got {obs.shape}")
        finite = np.isfinite(obs).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise ValueError(f"agent {bad} has non-finite {name} {obs[bad]}")
        return obs

    # ------------------------------------------------------------------ state
    def config(self) -> dict[str, Any]:
        return {
            **super().config(), "action_dim": self.action_dim,
            "observation_dim": self.observation_dim, "state_size": self.state_size,
            "inputs": self.inputs, "actor": self.actor_kind, "critic": self.critic_kind,
            "hidden": list(self.hidden), "action_std": self.action_std,
            "learn_std": self.learn_std, "components": self.components,
            "discount": self.discount, **self.rates, **self.decays, "horizon": self.horizon,
            "belief_horizon": self.belief_horizon, "optimizer": self.optimizer_name,
            "batch_rounds": self.batch_rounds, "advantage": self.advantage,
            "gae_lambda": self.gae_lambda,
            "init_scale": self.init_scale, "output_scale": self.output_scale,
            "normalize_rate": self.normalize_rate,
            "initial_belief": None if self.initial_belief is None else self.initial_belief.tolist(),
        }

    def _arrays(self) -> dict[str, Any]:
        batch = {f"b{i}": np.stack([round_[i] for round_ in self._batch])
                 for i in range(BATCH_PARTS)} if self._batch else {}
        return {
            "actor": module_arrays(self.actor),
            "critic": module_arrays(self.critic),
            "optimizer": optimizer_arrays(self.optimizer),
            "belief": None if self.belief is None else self.belief.copy(),
            "average": self.average, "n": self.n, "batch": batch,
            "center": self.center.copy(),
        }

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        for key in ("actor", "critic", "optimizer", "belief",
                    "average", "n", "batch", "center"):
            if key not in arrays:
                raise ValueError(f"checkpoint has no {key!r} (has {sorted(arrays)})")
        load_module_arrays(self.actor, arrays["actor"], "actor")
        load_module_arrays(self.critic, arrays["critic"], "critic")
        load_optimizer_arrays(self.optimizer, arrays["optimizer"])
        belief = arrays["belief"]
        self.belief = None if belief is None else checkpoint_array(
            "belief", arrays, (self.n_agents, self.field_size), np.float64)
        self.average = float(arrays["average"])
        self.n = int(arrays["n"])
        self.center = checkpoint_array("center", arrays, (len(self.center),), np.float64)
        batch = arrays["batch"]
        rounds = len(batch["b0"]) if batch else 0
        self._batch = [tuple(np.asarray(batch[f"b{i}"][r], dtype=np.float64)
                             for i in range(BATCH_PARTS)) for r in range(rounds)]
        self._acted = None


# ---------------------------------------------------------------------- helpers
def _vector_box(name: str, space: Any) -> int:
    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        raise ValueError(
            f"ActorCriticFictitiousPlay needs a Box {name} with one axis, got {space!r}"
        )
    return int(space.shape[0])


def _state_size(state_size: int | None, observation_dim: int) -> int:
    if state_size is None:
        if observation_dim % 2:
            raise ValueError(
                f"observations have {observation_dim} entries; say how many are the agent's own "
                "state with state_size="
            )
        return observation_dim // 2
    size = check_int("state_size", state_size, minimum=1)
    if size > observation_dim:
        raise ValueError(
            f"state_size must be at most the observation's {observation_dim} entries (equal: "
            f"no mean-field statistic observed), got {size}"
        )
    return size


def _inputs(inputs: str | None, state_size: int, field_size: int) -> str:
    if inputs is None or field_size == 0:
        if inputs == "offset":
            raise ValueError("inputs='offset' needs an observed mean-field statistic; with "
                             "state_size equal to the observation's length use inputs='joint'")
        return "offset" if state_size == field_size else "joint"
    check_choice("inputs", inputs, INPUTS)
    if inputs == "offset" and state_size != field_size:
        raise ValueError(
            f"inputs='offset' needs as many mean-field numbers as state numbers; observations "
            f"have {state_size} and {field_size} (use inputs='joint')"
        )
    return inputs


def _decays(actor: float, critic: float, belief: float) -> dict[str, float]:
    decays = {name: check_number(name, value, low=0.0, high=1.0)
              for name, value in (("actor_decay", actor), ("critic_decay", critic),
                                  ("belief_decay", belief))}
    if decays["belief_decay"] <= decays["actor_decay"]:
        raise ValueError(
            f"belief_decay ({belief!r}) must exceed actor_decay ({actor!r}): the belief moves "
            "on the slower time scale, β(n)/α(n) → 0"
        )
    if decays["critic_decay"] > decays["actor_decay"]:
        raise ValueError(
            f"critic_decay ({critic!r}) must not exceed actor_decay ({actor!r}): the critic "
            "learns on the faster time scale"
        )
    return decays


def _initial_belief(value: Sequence[float] | None, size: int) -> np.ndarray | None:
    if value is None:
        return None
    belief = np.asarray(value, dtype=np.float64)
    if belief.shape != (size,) or not np.isfinite(belief).all():
        raise ValueError(f"initial_belief must be {size} finite numbers, got {value!r}")
    return belief


def _bounds(space: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)


def _rewards(rewards: Any, n_agents: int) -> np.ndarray:
    pay = np.asarray(rewards)
    if pay.shape != (n_agents,) or pay.dtype.kind not in "fiu":
        raise ValueError(f"rewards must be {n_agents} real numbers, got {pay.dtype} {pay.shape}")
    pay = pay.astype(np.float64)
    finite = np.isfinite(pay)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"agent {bad} received a non-finite reward {pay[bad]}")
    return pay


def _rest_points(gain: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """The c with ``u = −G x + a = −G(x − c)`` for each intercept a (inf if G is singular)."""
    if gain.shape[0] != gain.shape[1] or np.linalg.cond(gain) > 1e12:
        return np.full((len(intercepts), gain.shape[1]), np.inf)
    return np.linalg.solve(gain, intercepts.T).T
