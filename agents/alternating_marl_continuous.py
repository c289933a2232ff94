"""ALTERNATING-MARL with small neural policies for the continuous warehouse (ALT App. G.2).

The alternation of :mod:`populace.agents.alternating_marl`, with function approximation as ALT
G.2 describes it (two-layer tanh MLPs of 64 units, float64 torch on the CPU):

* **G-LEARN** — a contextual-bandit classifier: ``g_samples`` fresh starts of the game, each
  seen through the histogram of k robots sampled without replacement, labelled with the whole
  fleet's modal bin; the dispatcher's network (histogram → 5 logits; it does not see s_g, as
  in the authors' code) is fitted by cross-entropy with Adam (learning rate 3·10⁻³, gradient
  norm clipped at 1) for ``g_epochs`` epochs of minibatches. It acts by its argmax.
* **L-LEARN** — TRPO for the robots' shared network ((s_l, s_g) → 3 logits): ``l_episodes``
  episodes of ``l_horizon`` steps of the whole n-robot fleet are simulated at once, the
  dispatcher fixed; in each, robot 0 is the representative that samples its action while every
  other robot plays the current policy's argmax (read, for speed, from a 401 × 401 grid of
  (s_l, s_g) evaluated once per update: spacing 0.01, a fifth of a move; ours). Discounted
  Monte-Carlo returns minus a critic (MSE-fitted for ``critic_epochs`` Adam steps per update,
  value-loss coefficient 0.5) give advantages, normalized; the natural-gradient step solves
  F x = g by ``cg_iters`` conjugate-gradient iterations with Fisher-vector products of the mean
  KL (damping 0.1), scales it to the KL radius δ = 0.01 and backtracks (halving,
  ``backtracks`` times) to the largest step that
  improves the surrogate with KL ≤ 1.5 δ.

Each alternation does one of each; there is no UPDATE gate here (ALT G.2 runs a fixed T = 30).
Robots act by their policy's argmax once trained (the evaluation protocol of the authors' code).
The optimizers start afresh at every phase, so a checkpoint is the networks' weights, the
counters and the generator (arrays and JSON, no pickle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch as th
from torch import nn

from populace.agents.alternating import AlternatingLearner, check_positive_ints
from populace.agents.base import checkpoint_array
from populace.envs.policies import ActionFn, DeclaredPolicy
from populace.envs.warehouse.warehouse_continuous import (
    BINS,
    LIMIT,
    MOVES,
    ContinuousModel,
    bin_shares,
)

HIDDEN = 64
LEARNING_RATE = 3e-3
KL_RADIUS, DAMPING, ACCEPT_KL = 0.01, 0.1, 1.5
VALUE_COEF = 0.5
MINIBATCH = 256
GRID = 401  # the other robots' greedy actions are read from a grid of this many points a side


def mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN),
                         nn.Tanh(), nn.Linear(HIDDEN, outputs)).double()


def flat_parameters(net: nn.Module) -> th.Tensor:
    return th.cat([p.data.reshape(-1) for p in net.parameters()])


def set_flat_parameters(net: nn.Module, flat: th.Tensor) -> None:
    start = 0
    for p in net.parameters():
        p.data.copy_(flat[start:start + p.numel()].reshape(p.shape))
        start += p.numel()


def conjugate_gradient(
    product: Callable[[th.Tensor], th.Tensor], b: th.Tensor, iterations: int
) -> th.Tensor:
    """Solve ``product(x) = b`` approximately (CG from x = 0)."""
    x = th.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr = r @ r
    for _ in range(iterations):
        ap = product(p)
        alpha = rr / (p @ ap + 1e-12)
        x += alpha * p
        r -= alpha * ap
        new = r @ r
        if new < 1e-12:
            break
        p = r + (new / rr) * p
        rr = new
    return x


class GreedyPolicy(DeclaredPolicy):
    """A group's greedy play: ``policy(observations)`` gives its actions, and
    ``action_probabilities(observations)`` the same actions as one-hot rows."""

    def __init__(self, choose: ActionFn, n_actions: int) -> None:
        super().__init__(choose, self.one_hot)
        self.choose = choose
        self.n_actions = n_actions

    def one_hot(self, observations: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, np.eye(self.n_actions)[self.choose(observations)])


class ContinuousAlternatingMARL(AlternatingLearner):
    """ALTERNATING-MARL for ``warehouse_continuous_v0`` (see the module docstring).

    Args:
        model: the game's :class:`~populace.envs.warehouse.warehouse_continuous.ContinuousModel`.
        alternations: T [30, as ALT G.2].
        g_samples: G-LEARN's data [3000].
        g_epochs: G-LEARN's epochs [20].
        l_episodes: TRPO's episodes per update [120].
        l_horizon: the length of those episodes [40].
        cg_iters: TRPO's conjugate-gradient iterations [10].
        backtracks: TRPO's line-search backtracks [10].
        critic_epochs: the critic's Adam steps per update [5].
        seed: seeds the learner's generator, from which the networks' initial weights, the
            simulations and the representative's draws all come.
    """

    model_type = ContinuousModel
    model_name = "the continuous warehouse's model"
    model: ContinuousModel

    def __init__(self, model: ContinuousModel, *, alternations: int = 30, g_samples: int = 3000,
                 g_epochs: int = 20, l_episodes: int = 120, l_horizon: int = 40,
                 cg_iters: int = 10, backtracks: int = 10, critic_epochs: int = 5,
                 seed: int | None = None) -> None:
        super().__init__(model, seed=seed)
        check_positive_ints(alternations=alternations, g_samples=g_samples, g_epochs=g_epochs,
                            l_episodes=l_episodes, l_horizon=l_horizon, cg_iters=cg_iters,
                            backtracks=backtracks, critic_epochs=critic_epochs)
        self.alternations, self.g_samples, self.g_epochs = alternations, g_samples, g_epochs
        self.l_episodes, self.l_horizon = l_episodes, l_horizon
        self.cg_iters, self.backtracks, self.critic_epochs = cg_iters, backtracks, critic_epochs
        th.manual_seed(int(self.rng.integers(2**62)))
        self.dispatcher_net, self.robot_net, self.critic = mlp(BINS, BINS), mlp(2, 3), mlp(2, 1)
        self.done_alternations = 0

    @property
    def done(self) -> bool:
        return self.done_alternations >= self.alternations

    def alternate(self) -> None:
        """One G-LEARN and one L-LEARN (no UPDATE gate: ALT G.2 runs a fixed T)."""
        self.g_learn()
        self.l_learn()
        self.done_alternations += 1

    # ----------------------------------------------------------------- G-LEARN
    def g_learn(self) -> None:
        """Cross-entropy of the dispatcher's network on (sampled histogram, true mode)."""
        _, robots = self.model.reset(self.g_samples, self.rng)
        inputs = th.from_numpy(self.model.histograms(robots, self.rng))
        labels = th.from_numpy(bin_shares(robots).argmax(axis=1))
        optimizer = th.optim.Adam(self.dispatcher_net.parameters(), lr=LEARNING_RATE)
        for _ in range(self.g_epochs):
            order = th.from_numpy(self.rng.permutation(self.g_samples))
            for batch in order.split(MINIBATCH):
                loss = nn.functional.cross_entropy(self.dispatcher_net(inputs[batch]),
                                                   labels[batch])
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.dispatcher_net.parameters(), 1.0)
                optimizer.step()

    def dispatch_histograms(self, shares: np.ndarray) -> np.ndarray:
        with th.no_grad():
            return cast(
                np.ndarray, self.dispatcher_net(th.from_numpy(shares)).argmax(dim=1).numpy())

    # ----------------------------------------------------------------- L-LEARN
    def robot_logits(self, observations: np.ndarray) -> th.Tensor:
        logits: th.Tensor = self.robot_net(
            th.from_numpy(np.ascontiguousarray(observations, np.float64)))
        return logits

    def greedy_table(self) -> np.ndarray:
        """The robots' greedy action on a :data:`GRID` × :data:`GRID` grid of (s_l, s_g)."""
        axis = np.linspace(-LIMIT, LIMIT, GRID)
        points = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
        with th.no_grad():
            return self.robot_logits(points).argmax(1).numpy().reshape(GRID, GRID)

    @staticmethod
    def greedy_moves(table: np.ndarray, reference: np.ndarray, robots: np.ndarray) -> np.ndarray:
        """Every robot's greedy action, read from ``table`` at the nearest grid point."""
        scale = (GRID - 1) / (2 * LIMIT)
        rows = np.rint((robots + LIMIT) * scale).astype(np.int64)
        columns = np.rint((reference + LIMIT) * scale).astype(np.int64)
        return table[rows, columns[:, None]]

    def collect(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Representative episodes: observations (E·T, 2), actions (E·T,), returns (E·T,)."""
        model, episodes, horizon = self.model, self.l_episodes, self.l_horizon
        reference, robots = model.reset(episodes, self.rng)
        table = self.greedy_table()
        seen = np.empty((episodes, horizon, 2))
        chosen = np.empty((episodes, horizon), dtype=np.int64)
        rewards = np.empty((episodes, horizon))
        for t in range(horizon):
            targets = self.dispatch_histograms(model.histograms(robots, self.rng))
            moves = self.greedy_moves(table, reference, robots)
            seen[:, t, 0], seen[:, t, 1] = robots[:, 0], reference
            with th.no_grad():
                probabilities = th.softmax(self.robot_logits(seen[:, t]), 1).numpy()
            u = self.rng.random(episodes)[:, None]
            moves[:, 0] = (u >= np.cumsum(probabilities, axis=1)[:, :-1]).sum(axis=1)
            chosen[:, t] = moves[:, 0]
            reference, robots, _, earned = model.step(reference, robots, targets, moves, self.rng)
            rewards[:, t] = earned[:, 0]
        returns = np.zeros_like(rewards)
        running = np.zeros(episodes)
        for t in reversed(range(horizon)):
            running = rewards[:, t] + model.gamma * running
            returns[:, t] = running
        return seen.reshape(-1, 2), chosen.reshape(-1), returns.reshape(-1)

    def l_learn(self) -> None:
        """One TRPO update of the robots' network, and the critic's fit."""
        seen, chosen, returns = self.collect()
        observations = th.from_numpy(seen)
        actions = th.from_numpy(chosen)
        targets = th.from_numpy(returns)
        with th.no_grad():
            advantages = targets - self.critic(observations).squeeze(1)
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            old_log = th.log_softmax(self.robot_net(observations), 1)
        self.trpo_step(observations, actions, advantages, old_log)
        self.fit_critic(observations, targets)

    def trpo_step(self, observations: th.Tensor, actions: th.Tensor, advantages: th.Tensor,
                  old_log: th.Tensor) -> None:
        net = self.robot_net

        def surrogate() -> th.Tensor:
            log = th.log_softmax(net(observations), 1)
            ratio = th.exp(log.gather(1, actions[:, None]).squeeze(1)
                           - old_log.gather(1, actions[:, None]).squeeze(1))
            return (ratio * advantages).mean()

        def kl() -> th.Tensor:
            log = th.log_softmax(net(observations), 1)
            return (old_log.exp() * (old_log - log)).sum(1).mean()

        parameters = list(net.parameters())
        gradient = th.cat([g.reshape(-1) for g in th.autograd.grad(surrogate(), parameters)])

        def fisher(vector: th.Tensor) -> th.Tensor:
            grads = th.autograd.grad(kl(), parameters, create_graph=True)
            flat = th.cat([g.reshape(-1) for g in grads])
            second = th.autograd.grad(flat @ vector, parameters)
            return th.cat([g.reshape(-1) for g in second]) + DAMPING * vector

        direction = conjugate_gradient(fisher, gradient, self.cg_iters)
        curvature = direction @ fisher(direction)
        if not th.isfinite(curvature) or curvature <= 0:
            return
        step = th.sqrt(2 * KL_RADIUS / curvature) * direction
        start = flat_parameters(net)
        with th.no_grad():
            before = surrogate()
            for shrink in 0.5 ** np.arange(self.backtracks):
                set_flat_parameters(net, start + float(shrink) * step)
                if surrogate() > before and kl() <= ACCEPT_KL * KL_RADIUS:
                    return
            set_flat_parameters(net, start)

    def fit_critic(self, observations: th.Tensor, targets: th.Tensor) -> None:
        optimizer = th.optim.Adam(self.critic.parameters(), lr=LEARNING_RATE)
        for _ in range(self.critic_epochs):
            loss = VALUE_COEF * ((self.critic(observations).squeeze(1) - targets) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.critic.parameters(), 1.0)
            optimizer.step()

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, rollouts: int, horizon: int, seed: int) -> tuple[np.ndarray, float]:
        """Discounted system returns of ``rollouts`` episodes (greedy robots and dispatcher),
        and the dispatcher's mode accuracy."""
        rng = np.random.default_rng(seed)
        reference, robots = self.model.reset(rollouts, rng)
        table = self.greedy_table()
        total, discount, hits = np.zeros(rollouts), 1.0, 0
        for _ in range(horizon):
            targets = self.dispatch_histograms(self.model.histograms(robots, rng))
            hits += int((targets == bin_shares(robots).argmax(axis=1)).sum())
            moves = self.greedy_moves(table, reference, robots)
            reference, robots, earned_g, earned_l = self.model.step(reference, robots, targets,
                                                                    moves, rng)
            total += discount * (earned_g + earned_l.mean(axis=1))
            discount *= self.model.gamma
        return total, hits / (rollouts * horizon)

    # ----------------------------------------------------------------- online execution
    def act(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        shares = np.asarray(observations["dispatcher"], dtype=np.float64)[:, 1:]
        seen = np.asarray(observations["robot"], dtype=np.float64)
        with th.no_grad():
            moves = self.robot_logits(seen).argmax(1).numpy()
        return {"dispatcher": self.dispatch_histograms(shares).astype(np.int64),
                "robot": moves.astype(np.int64)}

    def policy(self) -> dict[str, GreedyPolicy]:
        """Per group, a callable giving its greedy actions for a batch of observations, which
        declares them as one-hot ``action_probabilities`` (:mod:`populace.envs.metrics`):
        the learner plays its networks' argmax, so that is the distribution it samples from."""
        return {"dispatcher": GreedyPolicy(lambda obs: self.act(
                    {"dispatcher": obs, "robot": np.zeros((0, 2))})["dispatcher"], BINS),
                "robot": GreedyPolicy(lambda obs: self.act(
                    {"dispatcher": np.zeros((0, 6)), "robot": obs})["robot"], len(MOVES))}

    # ----------------------------------------------------------------- checkpoints
    def config(self) -> dict[str, Any]:
        return {"n_robots": self.model.n_robots, "k": self.model.k, "gamma": self.model.gamma,
                "alternations": self.alternations, "g_samples": self.g_samples,
                "g_epochs": self.g_epochs, "l_episodes": self.l_episodes,
                "l_horizon": self.l_horizon, "cg_iters": self.cg_iters,
                "backtracks": self.backtracks, "critic_epochs": self.critic_epochs}

    def _nets(self) -> dict[str, nn.Module]:
        return {"dispatcher": self.dispatcher_net, "robot": self.robot_net, "critic": self.critic}

    def _arrays(self) -> dict[str, Any]:
        arrays: dict[str, Any] = {"done_alternations": self.done_alternations}
        for name, net in self._nets().items():
            arrays[f"{name}_weights"] = flat_parameters(net).numpy().copy()
        return arrays

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        for name, net in self._nets().items():
            size = int(flat_parameters(net).numel())
            weights = checkpoint_array(f"{name}_weights", arrays, (size,), np.float64)
            set_flat_parameters(net, th.from_numpy(weights))
        self.done_alternations = int(arrays["done_alternations"])


__all__ = ["ContinuousAlternatingMARL", "MOVES"]
