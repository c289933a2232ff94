"""The advantage pieces of actor-critic fictitious play: what multiplies ∇log π in the actor's
step, and when the learner steps.

* :class:`TD` — MJM's one-step actor-critic: the advantage is the TD error δ_t, and the
  learner steps every ``batch_rounds`` rounds;
* :class:`GAE` — the generalised advantage estimate ``A_t = Σ_k (γλ)^k δ_{t+k}`` to the end of
  the episode (Schulman et al., *High-dimensional continuous control using generalized
  advantage estimation*, ICLR 2016), one step at every episode end.

Both see the TD errors of a batch of rounds as one tensor of shape ``(T·N,)``, rounds first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch as th

from populace.envs.validation import check_int, check_number

__all__ = ["GAE", "TD", "AdvantageChoice", "generalized_advantages"]


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


@dataclass(frozen=True)
class TD:
    """The TD error δ as the advantage (MJM), a step every ``batch_rounds`` rounds."""

    batch_rounds: int = 5
    """rounds per critic, actor and belief step (1: a step per round, as MJM's online updates)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "batch_rounds",
                           check_int("batch_rounds", self.batch_rounds, minimum=1))

    def ready(self, rounds: int, episode_over: bool) -> bool:
        """Step now, with ``rounds`` rounds stored?"""
        return rounds >= self.batch_rounds

    def advantages(self, deltas: th.Tensor, rounds: int, discount: float) -> th.Tensor:
        return deltas


@dataclass(frozen=True)
class GAE:
    """The generalised advantage estimate over each episode, a step at every episode end
    (termination or truncation: the episodes must end)."""

    gae_lambda: float = 0.95
    """λ in [0, 1]: 0 gives TD's δ, 1 the Monte-Carlo return with V as baseline"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "gae_lambda",
                           check_number("gae_lambda", self.gae_lambda, low=0.0, high=1.0))

    def ready(self, rounds: int, episode_over: bool) -> bool:
        return episode_over

    def advantages(self, deltas: th.Tensor, rounds: int, discount: float) -> th.Tensor:
        by_round = deltas.numpy().reshape(rounds, -1)
        return th.as_tensor(generalized_advantages(by_round, discount * self.gae_lambda).ravel())


AdvantageChoice = TD | GAE
