"""The critic pieces of actor-critic fictitious play: the value V(z) whose TD errors drive the
actor. Each choice carries its own options:

* :class:`QuadraticCritic` — V linear in every monomial of z of degree 1 and 2 (the value of a
  linear-quadratic problem), starting at 0;
* :class:`MLPCritic` — a small tanh network, optionally started nearly flat (``output_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from populace.agents.actor_critic.actors import check_hidden, check_output_scale
from populace.agents.actor_critic.networks import mlp, quadratic_value, start_small

__all__ = ["CriticChoice", "MLPCritic", "QuadraticCritic"]


@dataclass(frozen=True)
class QuadraticCritic:
    """V(z) linear in the quadratic features of z (no options)."""

    def network(self, inputs: int) -> nn.Module:
        return quadratic_value(inputs)

    def start_small(self, network: nn.Module) -> None:
        """Nothing to redraw: the critic starts at 0."""


@dataclass(frozen=True)
class MLPCritic:
    """V(z) a small tanh MLP."""

    hidden: tuple[int, ...] = (32, 32)
    """widths of the hidden layers"""
    output_scale: float | None = None
    """start the output layer with weights N(0, output_scale²) and bias 0 (a nearly flat first
    value); None keeps torch's initialisation"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", check_hidden(self.hidden))
        object.__setattr__(self, "output_scale", check_output_scale(self.output_scale))

    def network(self, inputs: int) -> nn.Module:
        return mlp(inputs, self.hidden, 1)

    def start_small(self, network: nn.Module) -> None:
        """Redraw the output layer small, if asked (after the actor is built)."""
        if self.output_scale is not None:
            start_small(network, self.output_scale)


CriticChoice = QuadraticCritic | MLPCritic
