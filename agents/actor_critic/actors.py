"""The actor pieces of actor-critic fictitious play: the policy every agent of the group plays.

Each choice is a frozen dataclass that carries its own options and nothing else, so an option
another choice would ignore cannot be written down:

* :class:`LinearGaussian` — ``u ~ N(Wz + b, s²I)``: MJM's choice, which holds the exact best
  response of linear-quadratic games (the learner then reports a gain and an offset);
* :class:`MLPGaussian` — ``u ~ N(μ(z), s²I)`` with μ a small tanh network (MJM used two-layer
  networks), optionally started small (``output_scale``);
* :class:`Mixture` — K Gaussians whose means and weight logits come from a linear or MLP trunk
  (:class:`LinearTrunk`, :class:`MLPTrunk`; ours, see
  :class:`~populace.agents.actor_critic.mixture.GaussianMixture`).

``build`` turns a choice into an :class:`Actor`: its torch module and how it draws actions,
scores their log-density for the policy gradient and summarises its play. The spread ``s``
(``action_std``, learned or not) is an option of every actor, so it lives in the learner's
config (:class:`~populace.agents.actor_critic.config.ActorCriticConfig`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np
import torch as th
from torch import nn

from populace.agents.actor_critic.mixture import GaussianMixture
from populace.agents.actor_critic.networks import linear, mlp, start_small
from populace.envs.validation import check_int, check_number

__all__ = ["Actor", "ActorChoice", "LinearGaussian", "LinearTrunk", "MLPGaussian", "MLPTrunk",
           "Mixture", "check_hidden", "check_output_scale"]


def check_hidden(value: object) -> tuple[int, ...]:
    """Hidden-layer widths as a tuple of ints ≥ 1 (errors name ``hidden[i]``)."""
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise TypeError(f"hidden must be a list of layer widths, got {value!r}")
    return tuple(check_int(f"hidden[{i}]", width, minimum=1) for i, width in enumerate(value))


def check_output_scale(value: object) -> float | None:
    return None if value is None else check_number("output_scale", value, low=0.0)


# ---------------------------------------------------------------------- the choices
@dataclass(frozen=True)
class LinearTrunk:
    """A linear map from z to the mixture's means and logits."""

    init_scale: float = 0.01
    """standard deviation of the initial weights (the bias starts at 0)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "init_scale",
                           check_number("init_scale", self.init_scale, low=0.0))

    def network(self, inputs: int, outputs: int) -> nn.Module:
        return linear(inputs, outputs, self.init_scale)


@dataclass(frozen=True)
class MLPTrunk:
    """A tanh MLP from z to the mixture's means and logits."""

    hidden: tuple[int, ...] = (32, 32)
    """widths of the hidden layers"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", check_hidden(self.hidden))

    def network(self, inputs: int, outputs: int) -> nn.Module:
        return mlp(inputs, self.hidden, outputs)


@dataclass(frozen=True)
class LinearGaussian:
    """μ(z) = Wz + b, a Gaussian around it (MJM)."""

    init_scale: float = 0.01
    """standard deviation of the initial weights W (b starts at 0)"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "init_scale",
                           check_number("init_scale", self.init_scale, low=0.0))

    def build(self, inputs: int, action_dim: int, action_std: float,
              learn_std: bool) -> LinearActor:
        return LinearActor(linear(inputs, action_dim, self.init_scale), action_dim, action_std,
                           learn_std)


@dataclass(frozen=True)
class MLPGaussian:
    """μ(z) a small tanh MLP, a Gaussian around it."""

    hidden: tuple[int, ...] = (32, 32)
    """widths of the hidden layers"""
    output_scale: float | None = None
    """start the output layer with weights N(0, output_scale²) and bias 0 (a first policy that
    barely moves); None keeps torch's initialisation"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", check_hidden(self.hidden))
        object.__setattr__(self, "output_scale", check_output_scale(self.output_scale))

    def build(self, inputs: int, action_dim: int, action_std: float,
              learn_std: bool) -> MLPActor:
        return MLPActor(mlp(inputs, self.hidden, action_dim), action_dim, action_std, learn_std,
                        self.output_scale)


@dataclass(frozen=True)
class Mixture:
    """K Gaussians, their means and weights from a trunk; their means start
    N(0, ``action_std``²) apart (identical components would get identical gradients)."""

    components: int = 2
    """K ≥ 2 (one Gaussian is :class:`LinearGaussian` or :class:`MLPGaussian`)"""
    trunk: LinearTrunk | MLPTrunk = LinearTrunk()
    """the map from z to the K means and K logits"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "components",
                           check_int("components", self.components, minimum=2))
        if not isinstance(self.trunk, LinearTrunk | MLPTrunk):
            raise TypeError(f"trunk must be a LinearTrunk or an MLPTrunk, got {self.trunk!r}")

    def build(self, inputs: int, action_dim: int, action_std: float,
              learn_std: bool) -> MixtureActor:
        trunk = self.trunk.network(inputs, self.components * (action_dim + 1))
        return MixtureActor(GaussianMixture(trunk, components=self.components,
                                            action_dim=action_dim, std=action_std,
                                            learn_std=learn_std, spread=action_std))


ActorChoice = LinearGaussian | MLPGaussian | Mixture


# ---------------------------------------------------------------------- the built actors
class Actor(ABC):
    """A built actor: its torch module (``network``, the checkpoint's ``"actor"``) and how it
    draws, scores and summarises actions. ``z`` are the agents' inputs ``(n, ·)`` and
    ``center`` the learner's running mean of them (zeros unless it centres its inputs)."""

    scored_by_play: ClassVar[bool] = False
    """the game scores the learner's play, not a summary of the policy (see
    :meth:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay.policy`)"""

    def __init__(self, network: nn.Module) -> None:
        self.network = network

    @abstractmethod
    def sample(self, z: np.ndarray, center: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One unclipped action per row of z, its noise from ``rng``."""

    @abstractmethod
    def mean(self, z: np.ndarray, center: np.ndarray) -> np.ndarray:
        """The average action per row of z (the policy without its exploration)."""

    @abstractmethod
    def log_density(self, z: np.ndarray, center: np.ndarray, samples: th.Tensor) -> th.Tensor:
        """log π(samples | z) per row, up to a constant, with its gradient."""

    @abstractmethod
    def std(self) -> np.ndarray:
        """The standard deviations now (per action coordinate; per component for a mixture)."""

    def start_small(self) -> None:  # noqa: B027 (a hook: most actors have nothing to do)
        """Redraw the output layer small, if the choice asks for it (after the critic is built:
        the order of the draws under the learner's torch seed)."""

    def follow_center(self, shift: np.ndarray) -> None:  # noqa: B027 (a hook, as above)
        """The center moved by ``shift``: keep the play as it was."""

    def linear_form(self, center: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(A, a) with mean action Az + a, or None when the mean is not linear in z."""
        return None


class GaussianActor(Actor):
    """``u ~ N(μ(z), s²I)``: s fixed, or its log a parameter ``log_std`` of the network."""

    def __init__(self, network: nn.Module, action_dim: int, action_std: float,
                 learn_std: bool) -> None:
        super().__init__(network)
        self.action_dim, self.action_std, self.learn_std = action_dim, action_std, learn_std
        if learn_std:  # a parameter of the actor: its optimizer group, its checkpoint
            network.register_parameter("log_std", nn.Parameter(
                th.full((action_dim,), float(np.log(action_std)))))

    @abstractmethod
    def _mean_tensor(self, z: np.ndarray, center: np.ndarray) -> th.Tensor:
        """μ(z) as a tensor with its gradient."""

    def sample(self, z: np.ndarray, center: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mean = self.mean(z, center)
        return mean + self.std() * rng.standard_normal(mean.shape)

    def std(self) -> np.ndarray:
        if not self.learn_std:
            return np.full(self.action_dim, self.action_std)
        return cast(np.ndarray, np.exp(self.network.get_parameter("log_std").detach().numpy()))

    def log_density(self, z: np.ndarray, center: np.ndarray, samples: th.Tensor) -> th.Tensor:
        mean = self._mean_tensor(z, center)
        if not self.learn_std:
            return -((samples - mean) ** 2).sum(dim=1) / (2 * self.action_std**2)
        log_std = self.network.get_parameter("log_std")
        return (-((samples - mean) ** 2) / (2 * th.exp(2 * log_std)) - log_std).sum(dim=1)


class LinearActor(GaussianActor):
    """μ(z) = W(z − c) + b′ with c the center: b′ follows c, so centering changes the geometry
    of the gradient steps (W and the bias no longer pull together), never the play."""

    network: nn.Linear

    def _mean_tensor(self, z: np.ndarray, center: np.ndarray) -> th.Tensor:
        return cast(th.Tensor, self.network(th.as_tensor(z - center)))

    def mean(self, z: np.ndarray, center: np.ndarray) -> np.ndarray:
        weight, bias = self.linear_form(center)
        return cast(np.ndarray, z @ weight.T + bias)

    def linear_form(self, center: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = self.network.weight.detach().numpy()
        return weight, self.network.bias.detach().numpy() - weight @ center

    def follow_center(self, shift: np.ndarray) -> None:
        with th.no_grad():
            self.network.bias.add_(self.network.weight @ th.as_tensor(shift))


class MLPActor(GaussianActor):
    """μ(z) an MLP of z itself."""

    def __init__(self, network: nn.Module, action_dim: int, action_std: float, learn_std: bool,
                 output_scale: float | None) -> None:
        super().__init__(network, action_dim, action_std, learn_std)
        self.output_scale = output_scale

    def _mean_tensor(self, z: np.ndarray, center: np.ndarray) -> th.Tensor:
        return cast(th.Tensor, self.network(th.as_tensor(z)))

    def mean(self, z: np.ndarray, center: np.ndarray) -> np.ndarray:
        with th.no_grad():
            return cast(np.ndarray, self.network(th.as_tensor(z)).numpy())

    def start_small(self) -> None:
        if self.output_scale is not None:
            start_small(self.network, self.output_scale)


class MixtureActor(Actor):
    """A :class:`~populace.agents.actor_critic.mixture.GaussianMixture` of z itself. Its
    average action lies between its modes, where few agents go, so the game scores its play."""

    scored_by_play = True
    network: GaussianMixture

    def sample(self, z: np.ndarray, center: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.network.sample(th.as_tensor(z), rng)[0]

    def mean(self, z: np.ndarray, center: np.ndarray) -> np.ndarray:
        return self.network.mean(th.as_tensor(z))

    def log_density(self, z: np.ndarray, center: np.ndarray, samples: th.Tensor) -> th.Tensor:
        return self.network.log_prob(th.as_tensor(z), samples)

    def std(self) -> np.ndarray:
        return cast(np.ndarray, np.exp(self.network.log_std.detach().numpy()))
