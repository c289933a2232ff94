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
* **Actor** (:mod:`.actors`). A Gaussian policy ``u ~ N(μ(z), s²I)`` with a fixed standard
  deviation s (``action_std``; MJM's Gaussian output has variance 0.1, our default).
  ``LinearGaussian`` (``actor="linear"``): ``μ(z) = Wz + b``, which holds the exact best
  response of linear-quadratic games and makes :meth:`~ActorCriticFictitiousPlay.policy` a
  linear policy the game can score (gain and offset); ``MLPGaussian`` (``actor="mlp"``): a
  small tanh network (MJM used two-layer networks), for games whose best response is not
  linear.
* **Critic** (:mod:`.critics`). ``QuadraticCritic``: V(z) linear in every monomial of z of
  degree 1 and 2 (the value of a linear-quadratic problem); ``MLPCritic``: a tanh network.
  Semi-gradient TD(0).
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
* **Mixture actor** (ours, ``Mixture``; ``components=K`` ≥ 2). The actor's trunk (linear or MLP, as
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
* **Multi-step advantage** (ours, ``GAE``, ``advantage="gae"``; :mod:`.advantage`). MJM's
  actor-critic is one-step (TD(0)): the actor's advantage is δ_t. With ``advantage="gae"`` the
  learner instead keeps the episode's rounds, every agent's at once as arrays of shape (T, N, ·),
  and when the episode ends (termination or truncation) computes the generalised advantage estimate
  ``A_t = Σ_k (γλ)^k δ_{t+k}`` (Schulman et al., *High-dimensional continuous control using
  generalized advantage estimation*, ICLR 2016) from the TD errors of the critic it had during the
  episode; λ = ``gae_lambda``, and λ = 1 is the Monte-Carlo return with V as baseline. One actor
  step (A·∇log π) and one critic step (towards the λ-return V + A) then use all T·N samples; the
  belief moves once per episode. Credit then reaches an action from every later reward of the
  episode, not only through the critic's slope at the next state; the episodes must end (every game
  here has a horizon), and ``batch_rounds`` is no option.
* **Batches** (``TD``, MJM's advantage). Every ``batch_rounds`` rounds the stored transitions of all
  agents make one critic step, one actor step and one belief step (1: a step per round, as the
  paper's online updates); the belief then moves towards the statistic each agent saw, averaged over
  the batch's rounds. The iteration count n of all three schedules counts these steps.

The options are one frozen :class:`~populace.agents.actor_critic.config.ActorCriticConfig`
(CleanRL's ``Args``, with the actor, critic and advantage as swappable pieces that carry their
own options), or the flat keywords of ``make_learner("ac_fp", core, **keywords)`` mapped onto
it: an option none of the chosen pieces has (``output_scale`` with a mixture actor and a
quadratic critic, ``batch_rounds`` with ``advantage="gae"``) is an error naming it.

Everything runs in float64 on the CPU; networks start from torch's initialisation under a seed
drawn from the learner's generator, and exploration noise comes from that generator, so one
seed gives the same weights and actions every time. That generator is derived from the seed
with a spawn key of its own: a game seeded with the same integer would otherwise draw its
noise from the very same stream, and exploration noise equal to the game's noise biases every
gradient (we saw the learner fail that way). The state (weights, optimiser moments,
beliefs, ρ, counters, the pending batch) is saved as arrays and JSON, without pickle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import ArrayLike
from torch import nn

from populace.agents.actor_critic.actors import Actor, GaussianActor
from populace.agents.actor_critic.advantage import generalized_advantages
from populace.agents.actor_critic.config import (
    ACTORS,
    ADVANTAGES,
    CRITICS,
    DEFAULT_STD,
    INPUTS,
    KEYWORDS,
    OPTIMIZERS,
    ActorCriticConfig,
)
from populace.agents.base import Learner, Transition, checkpoint_array, pick_group
from populace.agents.torch_state import (
    load_module_arrays,
    load_optimizer_arrays,
    module_arrays,
    optimizer_arrays,
)
from populace.envs.core import PopulationCore
from populace.envs.policies import ActionFunction, LearnedPolicy, LinearRule, PlayedByLearner
from populace.envs.validation import check_int

BATCH_PARTS = 6  # z, unclipped actions, rewards, z', 1 − terminated, the statistic seen
STREAM = 0xAC0F  # spawn key of the learner's generator (see __init__)
Mean = TypeVar("Mean", np.ndarray, th.Tensor)  # the actor's mean as numbers or as a tensor

__all__ = ["ACTORS", "ADVANTAGES", "CRITICS", "DEFAULT_STD", "INPUTS", "OPTIMIZERS",
           "ActorCriticConfig", "ActorCriticFictitiousPlay", "generalized_advantages",
           "step_size"]


def step_size(rate: float, n: int, horizon: float, decay: float) -> float:
    """The Robbins–Monro step ``rate/(1 + n/horizon)^decay`` after ``n`` updates.

    >>> step_size(0.1, 0, 100, 1.0), step_size(0.1, 100, 100, 1.0)
    (0.1, 0.05)
    """
    return cast(float, rate / (1.0 + n / horizon) ** decay)


@dataclass
class _Acted:
    """What :meth:`ActorCriticFictitiousPlay.act` drew, kept for the matching update."""

    observations: np.ndarray
    inputs: np.ndarray  # z of every agent
    samples: np.ndarray  # unclipped draws
    played: np.ndarray  # what the game was given (clipped, in the space's dtype)


class ActorCriticFictitiousPlay(Learner):
    """MJM's actor-critic fictitious play for one group, vectorized over its agents.

    See the module docstring for the algorithm and what is ours. The options are an
    :class:`~populace.agents.actor_critic.config.ActorCriticConfig` (``settings=``), or the
    flat keywords below, which map onto one (a keyword that none of the chosen pieces takes,
    such as ``output_scale`` with a mixture actor and a quadratic critic or ``batch_rounds``
    with ``advantage="gae"``, is an error naming it). A keyword left out, or None, takes the
    config's default (in brackets).

    Args:
        n_agents: number of agents controlled (≥ 1).
        action_space: ``Box`` with one axis (each agent's action vector).
        observation_space: ``Box`` with one axis: ``[own state, observed mean-field statistic]``.
        settings: every option as one config (then no keyword below).
        state_size: how many leading observation entries are the agent's own state [half of
            the observation; from a game, its ``own_state_size``].
        inputs: ``"offset"`` (z = x − m̂) or ``"joint"`` (z = [x, m̂]) [offset when x and m̄
            have the same size].
        actor: ``"linear"`` or ``"mlp"``: the Gaussian's mean, or a mixture's trunk
            ["linear"]. components: 1 for MJM's Gaussian actor, K ≥ 2 for a mixture of K
            Gaussians (module docstring, Mixture actor) [1].
        critic: ``"quadratic"`` or ``"mlp"`` ["quadratic"].
        advantage: ``"td"`` (MJM: the TD error δ, a step every ``batch_rounds`` rounds) or
            ``"gae"`` (a step at every episode end; module docstring, Multi-step advantage)
            ["td"].
        hidden: widths of the hidden layers of the MLP actor (or trunk) and MLP critic
            [(32, 32)].
        init_scale: standard deviation of the initial weights of the linear actor (or trunk)
            [0.01].
        output_scale: standard deviation of the initial output-layer weights of the MLP
            Gaussian actor and the MLP critic (module docstring, Small start) [None: torch's
            initialisation].
        batch_rounds: rounds per step with ``advantage="td"`` [5].
        gae_lambda: λ in [0, 1] of ``advantage="gae"`` [0.95].
        action_std: exploration standard deviation s > 0 of every action coordinate (the
            starting value when ``learn_std``) [√0.1].
        learn_std: learn s by the policy gradient (module docstring, Learned spread) [False].
        discount: γ in (0, 1]; 1 is the average-reward criterion [1].
        actor_rate: initial step size α of the actor [0.02].
        critic_rate: initial step size of the critic [0.02].
        average_rate: initial step size of the average-reward estimate ρ [0.01].
        belief_rate: initial step size β of the belief [0.1].
        actor_decay: exponent of the actor's schedule ``rate/(1 + n/horizon)^decay`` [0.6].
        critic_decay: the same for the critic; it must not exceed the actor's [0.5].
        belief_decay: the same for the belief; it must exceed ``actor_decay`` (β/α → 0) [0.9].
        horizon: updates n over which the actor's, critic's and ρ's steps start to decay
            [1000].
        belief_horizon: the same for the belief's steps [10].
        optimizer: ``"adam"`` (MJM) or ``"sgd"`` for the actor and the critic ["adam"].
        normalize_rate: rate in (0, 1] of the running mean of the inputs (module docstring,
            Centering) [None: no centering].
        initial_belief: the belief every agent starts with [its first observation].
        seed: seeds the weights and the exploration noise.

    Attributes:
        settings: the config, with ``state_size`` and ``inputs`` filled in.
        actor: the built :class:`~populace.agents.actor_critic.actors.Actor` (its torch
            module is ``actor.network``). critic: the critic's torch module.
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
        settings: ActorCriticConfig | None = None,
        state_size: int | None = None,
        inputs: str | None = None,
        actor: str | None = None,
        components: int | None = None,
        critic: str | None = None,
        advantage: str | None = None,
        hidden: Sequence[int] | None = None,
        init_scale: float | None = None,
        output_scale: float | None = None,
        batch_rounds: int | None = None,
        gae_lambda: float | None = None,
        action_std: float | None = None,
        learn_std: bool | None = None,
        discount: float | None = None,
        actor_rate: float | None = None,
        critic_rate: float | None = None,
        average_rate: float | None = None,
        belief_rate: float | None = None,
        actor_decay: float | None = None,
        critic_decay: float | None = None,
        belief_decay: float | None = None,
        horizon: float | None = None,
        belief_horizon: float | None = None,
        optimizer: str | None = None,
        normalize_rate: float | None = None,
        initial_belief: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        # the flat keywords, exactly those of ActorCriticConfig.from_keywords
        given = {name: value for name, value in locals().items()
                 if name in KEYWORDS and value is not None}
        n_agents = check_int("n_agents", n_agents, minimum=1)
        action_dim = _vector_box("action_space", action_space)
        observation_dim = _vector_box("observation_space", observation_space)
        super().__init__(n_agents, action_space, seed=seed)
        # a stream of its own: a game seeded with the same integer draws from default_rng(seed),
        # and exploration noise equal to the game's noise biases every gradient
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM,)))
        self.observation_space = observation_space
        self.action_dim, self.observation_dim = action_dim, observation_dim
        self.settings = self._bind(_settings(settings, given))
        self.state_size = cast(int, self.settings.state_size)
        self.field_size = observation_dim - self.state_size
        self.inputs = cast(str, self.settings.inputs)
        self.low, self.high = _bounds(action_space)
        self.actor, self.critic = self._networks()
        self.optimizer = self._optimizer()
        size = self.state_size if self.inputs == "offset" else self.observation_dim
        self.center = np.zeros(size)  # running mean of the inputs z
        self.belief: np.ndarray | None = None
        if self.settings.initial_belief is not None:
            self.belief = np.tile(np.asarray(self.settings.initial_belief), (n_agents, 1))
        self.average = 0.0
        self.n = 0
        self._batch: list[tuple[np.ndarray, ...]] = []
        self._acted: _Acted | None = None

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> ActorCriticFictitiousPlay:
        """A learner for ``group`` of ``core`` (its Box actions and observations); ``state_size``
        defaults to the game's :meth:`~populace.envs.core.PopulationCore.own_state_size`."""
        chosen = pick_group(core, group)
        settings = kwargs.get("settings")
        if isinstance(settings, ActorCriticConfig) and settings.state_size is None:
            kwargs["settings"] = replace(settings, state_size=core.own_state_size(chosen.name))
        elif settings is None and kwargs.get("state_size") is None:
            kwargs["state_size"] = core.own_state_size(chosen.name)
        build: Callable[..., ActorCriticFictitiousPlay] = cls  # the keywords are checked there
        learner = build(chosen.size, chosen.action_space, chosen.observation_space, seed=seed,
                        **kwargs)
        learner.group = chosen.name
        return learner

    # ------------------------------------------------------------------ construction
    def _bind(self, settings: ActorCriticConfig) -> ActorCriticConfig:
        """``settings`` checked against the observations, ``state_size`` and ``inputs``
        filled in."""
        state_size = _state_size(settings.state_size, self.observation_dim)
        field_size = self.observation_dim - state_size
        belief = settings.initial_belief
        if belief is not None and len(belief) != field_size:
            raise ValueError(f"initial_belief must be {field_size} finite numbers, got "
                             f"{list(belief)!r}")
        return replace(settings, state_size=state_size,
                       inputs=_inputs(settings.inputs, state_size, field_size))

    def _networks(self) -> tuple[Actor, nn.Module]:
        """Actor and critic in float64, initialised under a seed from the learner's generator
        (in this order: the actor, the critic, then their small starts)."""
        size = self.state_size if self.inputs == "offset" else self.observation_dim
        settings = self.settings
        with th.random.fork_rng(devices=[]):
            th.manual_seed(int(self.rng.integers(2**62)))
            actor = settings.actor.build(size, self.action_dim, settings.action_std,
                                         settings.learn_std)
            critic = settings.critic.network(size)
            actor.start_small()
            settings.critic.start_small(critic)
        actor.network.double()
        return actor, critic.double()

    def _optimizer(self) -> th.optim.Optimizer:
        """One optimizer, two parameter groups: the actor's (group 0), the critic's (1)."""
        groups = [{"params": list(self.actor.network.parameters()),
                   "lr": self.settings.actor_rate},
                  {"params": list(self.critic.parameters()), "lr": self.settings.critic_rate}]
        if self.settings.optimizer == "adam":
            return th.optim.Adam(groups)
        return th.optim.SGD(groups)

    # ------------------------------------------------------------------ acting
    def act(self, observations: ArrayLike | None = None) -> np.ndarray:
        """Every agent's action: its draw from the actor, clipped to the action box."""
        obs = self._observations("observations", observations)
        if self.belief is None:
            self.belief = obs[:, self.state_size:].copy()
        z = self._inputs(obs)
        samples = self.actor.sample(z, self.center, self.rng)
        played = np.clip(samples, self.low, self.high).astype(self.action_space.dtype)
        self._acted = _Acted(obs, z, samples, played)
        return cast(np.ndarray, played.copy())

    def _inputs(self, obs: np.ndarray) -> np.ndarray:
        """z of every agent from its observation and its belief."""
        assert self.belief is not None
        state = obs[:, : self.state_size]
        if self.inputs == "offset":
            return cast(np.ndarray, state - self.belief)
        return np.hstack([state, self.belief])

    # ------------------------------------------------------------------ learning
    def update(self, transition: Transition) -> None:
        """Store the round; when the advantage piece says so (``"td"``: every
        ``batch_rounds`` rounds; ``"gae"``: at every episode end) step the critic and the
        actor; then move every agent's belief towards the statistic it sees after the step."""
        after = self._observations("next_observations", transition.next_observations)
        rewards = _rewards(transition.rewards, self.n_agents)
        z, samples = self._drawn(transition)
        if self.belief is None:  # update() without act(): start from what the agent saw
            self.belief = after[:, self.state_size:].copy()
        z_next = self._inputs(after)
        keep = np.full(self.n_agents, 0.0 if transition.terminated else 1.0)
        self._batch.append((z, samples, rewards, z_next, keep, after[:, self.state_size:]))
        self._acted = None
        episode_over = bool(transition.terminated or transition.truncated)
        if self.settings.advantage.ready(len(self._batch), episode_over):
            rounds = [np.stack(parts) for parts in zip(*self._batch, strict=True)]
            self._batch = []
            self._learn(*rounds[:5])
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
        """The batch's rounds, ``(T, N, ·)``: TD errors of all T·N samples (semi-gradient
        TD(0)), the advantage piece's advantages of them, one critic and one actor step."""
        rounds = len(rewards)

        def flat(part: np.ndarray) -> np.ndarray:
            return part.reshape(-1, *part.shape[2:])

        z, samples = flat(z), flat(samples)
        value, delta = self._td_errors(z, flat(rewards), flat(z_next), flat(keep))
        advantage = self.settings.advantage.advantages(delta, rounds, self.settings.discount)
        self._step(z, samples, value, advantage, delta)

    def _td_errors(self, z: np.ndarray, rewards: np.ndarray, z_next: np.ndarray,
                   keep: np.ndarray) -> tuple[th.Tensor, th.Tensor]:
        """V(z) (with its gradient) and the TD errors δ = r − ρ + γ·keep·V(z') − V(z)."""
        value = self.critic(th.as_tensor(z - self.center)).squeeze(1)
        with th.no_grad():
            following = self.critic(th.as_tensor(z_next - self.center)).squeeze(1)
            delta = (th.as_tensor(rewards) - self.average
                     + self.settings.discount * th.as_tensor(keep) * following - value)
        return value, delta

    def _step(self, z: np.ndarray, samples: np.ndarray, value: th.Tensor,
              advantage: th.Tensor, delta: th.Tensor) -> None:
        """The critic towards V + advantage, the actor along advantage·∇log π, ρ by δ."""
        self._set_rates()
        log_density = self.actor.log_density(z, self.center, th.as_tensor(samples))
        # the two losses share no parameter: one backward pass gives each its own gradient
        self.optimizer.zero_grad()
        (-(advantage * (value + log_density)).mean()).backward()
        self.optimizer.step()
        settings = self.settings
        if settings.discount == 1.0:
            rate = step_size(settings.average_rate, self.n, settings.horizon,
                             settings.critic_decay)
            self.average += rate * float(delta.mean())
        self._track_inputs(z)
        self.n += 1

    def _track_inputs(self, z: np.ndarray) -> None:
        """Move the center towards the batch's mean input, at rate max(1/(n + 1),
        normalize_rate) (the first batch sets it); the actor keeps its play as it was
        (:meth:`~populace.agents.actor_critic.actors.Actor.follow_center`)."""
        rate = self.settings.normalize_rate
        if rate is None:
            return
        shift = max(1.0 / (self.n + 1), rate) * (z.mean(axis=0) - self.center)
        self.center += shift
        self.actor.follow_center(shift)

    def _set_rates(self) -> None:
        settings = self.settings
        for group, (rate, decay) in zip(
                self.optimizer.param_groups,
                ((settings.actor_rate, settings.actor_decay),
                 (settings.critic_rate, settings.critic_decay)), strict=True):
            group["lr"] = step_size(rate, self.n, settings.horizon, decay)

    def _move_belief(self, observed: np.ndarray) -> None:
        """m̂ ← m̂ + β(n)·(m̄ − m̂) (MJM eq. (24)), with m̄ what each agent saw after the rounds
        of the batch, averaged, and n the updates before this one."""
        assert self.belief is not None
        settings = self.settings
        beta = step_size(settings.belief_rate, self.n - 1, settings.belief_horizon,
                         settings.belief_decay)
        self.belief += beta * (observed - self.belief)

    # ------------------------------------------------------------------ the policy
    def policy(self) -> LearnedPolicy:
        """Linear actor: a :class:`~populace.envs.policies.LinearRule` ``{"gain": G, "offset":
        c, "offsets": per agent}`` with every agent playing ``u = −G(x − c_i)`` on average (c_i
        its rest point given its belief; ``offset`` is the agents' mean c). MLP actor, or a
        linear one whose gain has no inverse (so no rest point): :meth:`mean_action`, the
        policy without its exploration, as an :class:`~populace.envs.policies.ActionFunction`.
        Mixture actor (``components`` ≥ 2): :class:`~populace.envs.policies.PlayedByLearner`,
        so that a game scores what it plays: its mean action Σ_j w_j μ_j is the population's
        average move, which for a bimodal policy lands between the modes, where few agents
        go."""
        if self.actor.scored_by_play:
            return PlayedByLearner(self)
        form = self.actor.linear_form(self.center)
        if form is None:
            return ActionFunction(self.mean_action)
        full, bias = form
        weight = full[:, : self.state_size]
        gain = -weight
        belief = self.belief if self.belief is not None else self._zero_belief()
        if self.inputs == "offset":
            intercept = bias - belief @ weight.T
        else:
            intercept = bias + belief @ full[:, self.state_size:].T
        offsets = _rest_points(gain, intercept)
        if not np.isfinite(offsets).all():  # no rest point: score what is played instead
            return ActionFunction(self.mean_action)
        return LinearRule(gain=gain, offset=offsets.mean(axis=0), offsets=offsets)

    def mean_action(self, observations: ArrayLike) -> np.ndarray:
        """μ(z) of every agent for ``observations`` (the policy without its exploration; a
        mixture's Σ_j w_j μ_j). With no observed statistic (empty beliefs) any number of rows
        may be asked for: the action then depends on the observation alone (a game scores it
        at its own points)."""
        return self._mean_at(observations, self.actor.mean)

    def mean_tensor(self, observations: ArrayLike) -> th.Tensor:
        """:meth:`mean_action` as a tensor with its gradient, to fit a Gaussian actor to given
        moves by supervised learning (a mixture's mean is no single network output)."""
        if not isinstance(self.actor, GaussianActor):
            raise TypeError(f"mean_tensor needs a Gaussian actor, not {type(self.actor).__name__}")
        return self._mean_at(observations, self.actor._mean_tensor)

    def _mean_at(self, observations: ArrayLike,
                 mean: Callable[[np.ndarray, np.ndarray], Mean]) -> Mean:
        """``mean(z, center)`` for ``observations``, each agent's belief its own observed
        statistic when there is none yet (or no statistic at all)."""
        obs = self._observations("observations", observations, any_rows=self.field_size == 0)
        belief = self.belief
        if belief is None or self.field_size == 0:
            self.belief = obs[:, self.state_size:].copy()
        try:
            return mean(self._inputs(obs), self.center)
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
        return {**super().config(), "action_dim": self.action_dim,
                "observation_dim": self.observation_dim, **self.settings.as_dict()}

    def _arrays(self) -> dict[str, Any]:
        batch = {f"b{i}": np.stack([round_[i] for round_ in self._batch])
                 for i in range(BATCH_PARTS)} if self._batch else {}
        return {
            "actor": module_arrays(self.actor.network),
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
        load_module_arrays(self.actor.network, arrays["actor"], "actor")
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
def _settings(settings: ActorCriticConfig | None, keywords: dict[str, Any]) -> ActorCriticConfig:
    """The config: ``settings`` as given, or the one the flat keywords describe."""
    if settings is None:
        return ActorCriticConfig.from_keywords(**keywords)
    if not isinstance(settings, ActorCriticConfig):
        raise TypeError(f"settings must be an ActorCriticConfig, got {settings!r}")
    if keywords:
        raise ValueError(f"give the options as settings= or as keywords, not both (got "
                         f"settings and {sorted(keywords)})")
    return settings


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
    if state_size > observation_dim:
        raise ValueError(
            f"state_size must be at most the observation's {observation_dim} entries (equal: "
            f"no mean-field statistic observed), got {state_size}"
        )
    return state_size


def _inputs(inputs: str | None, state_size: int, field_size: int) -> str:
    if inputs is None or field_size == 0:
        if inputs == "offset":
            raise ValueError("inputs='offset' needs an observed mean-field statistic; with "
                             "state_size equal to the observation's length use inputs='joint'")
        return "offset" if state_size == field_size else "joint"
    if inputs == "offset" and state_size != field_size:
        raise ValueError(
            f"inputs='offset' needs as many mean-field numbers as state numbers; observations "
            f"have {state_size} and {field_size} (use inputs='joint')"
        )
    return inputs


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
