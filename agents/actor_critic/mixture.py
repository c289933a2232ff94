"""A Gaussian-mixture policy head: π(a | z) = Σ_j w_j(z) N(a; μ_j(z), diag σ_j²).

A single Gaussian policy puts out one bump of actions around μ(z). Agents that see the same z
then all aim at the same place, give or take the noise, so the population's play is unimodal.
A mean-field equilibrium can be multimodal all the same (two desirable places, each holding
part of the population); a mixture of K Gaussians represents such a mixed strategy directly.
This is our extension of MJM's Gaussian actor (Mguni, Jennings & Munoz de Cote, AAMAS 2018),
in the spirit of mixture-density networks (Bishop, 1994).

The trunk (any module from z to ``K·(d + 1)`` numbers) gives the K means, then the K logits of
the weights; the standard deviations σ_j, one per component and action coordinate, do not
depend on z (a parameter when learned, a buffer otherwise). Everything is a torch module, so
its ``state_dict`` is the checkpoint.
"""

from __future__ import annotations

import math

import numpy as np
import torch as th
from torch import nn


class GaussianMixture(nn.Module):
    """K Gaussian components over a ``d``-dimensional action, their means and weights from a
    trunk.

    Args:
        trunk: a module from z to ``components·(action_dim + 1)`` outputs whose last layer is
            an ``nn.Linear`` (the means first, component by component, then the logits).
        components: K ≥ 2.
        action_dim: d ≥ 1.
        std: the starting σ of every component and coordinate (> 0).
        learn_std: σ is a parameter (``log_std``, shape ``(K, d)``) or a fixed buffer.
        spread: the components' means start apart, the trunk's mean biases drawn from
            N(0, spread²) under torch's generator (identical components get identical
            gradients and never separate).

    >>> _ = th.manual_seed(0)
    >>> head = GaussianMixture(nn.Linear(2, 6), components=2, action_dim=2, std=0.5,
    ...                        learn_std=True, spread=1.0).double()
    >>> logits, means = head(th.zeros((3, 2), dtype=th.float64))
    >>> tuple(logits.shape), tuple(means.shape)
    ((3, 2), (3, 2, 2))
    >>> samples, picked = head.sample(th.zeros((3, 2), dtype=th.float64),
    ...                               np.random.default_rng(0))
    >>> samples.shape, picked.tolist()
    ((3, 2), [1, 0, 0])
    """

    def __init__(self, trunk: nn.Module, *, components: int, action_dim: int, std: float,
                 learn_std: bool, spread: float) -> None:
        super().__init__()
        last = trunk if isinstance(trunk, nn.Linear) else list(trunk.modules())[-1]
        if not isinstance(last, nn.Linear) or last.out_features != components * (action_dim + 1):
            raise ValueError(f"the trunk must end in a Linear layer with {components} × "
                             f"({action_dim} + 1) outputs")
        with th.no_grad():
            last.bias[: components * action_dim].normal_(0.0, spread)
        self.trunk = trunk
        self.components, self.action_dim = components, action_dim
        log_std = th.full((components, action_dim), math.log(std))
        if learn_std:
            self.log_std = nn.Parameter(log_std)
        else:
            self.register_buffer("log_std", log_std)

    def forward(self, z: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """(logits ``(n, K)``, means ``(n, K, d)``) of every row of z."""
        out = self.trunk(z)
        split = self.components * self.action_dim
        return out[:, split:], out[:, :split].reshape(-1, self.components, self.action_dim)

    def log_prob(self, z: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """log π(a | z) per row: log Σ_j exp(log w_j + log N(a; μ_j, σ_j²)), by log-sum-exp
        (no density underflows to 0 however far a lies from every μ_j)."""
        logits, means = self(z)
        std_log = self.log_std
        scaled = (actions[:, None, :] - means) / th.exp(std_log)
        per_coordinate = -0.5 * scaled**2 - std_log - 0.5 * math.log(2 * math.pi)
        joint = th.log_softmax(logits, dim=1) + per_coordinate.sum(dim=2)
        return th.logsumexp(joint, dim=1)

    def weights(self, z: th.Tensor) -> np.ndarray:
        """w_j(z), ``(n, K)``."""
        with th.no_grad():
            return th.softmax(self(z)[0], dim=1).numpy()

    def mean(self, z: th.Tensor) -> np.ndarray:
        """E[a | z] = Σ_j w_j μ_j, ``(n, d)``: the average action, which for well separated
        components lies between them, where the policy need not put any mass."""
        with th.no_grad():
            logits, means = self(z)
            return th.einsum("nk,nkd->nd", th.softmax(logits, dim=1), means).numpy()

    def sample(self, z: th.Tensor, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One action per row: a component j ~ w(z) by inverting the weights' cumulative sum
        at a uniform draw, then μ_j + σ_j·ε, ε ~ N(0, I) (``rng``: n uniforms, then n·d
        normals). Returns (actions ``(n, d)``, components ``(n,)``)."""
        with th.no_grad():
            logits, means = self(z)
            cumulative = th.cumsum(th.softmax(logits, dim=1), dim=1).numpy()
            means_np, std = means.numpy(), th.exp(self.log_std).numpy()
        n = len(cumulative)
        picked = (rng.random(n)[:, None] >= cumulative[:, :-1]).sum(axis=1)
        noise = rng.standard_normal((n, self.action_dim))
        return means_np[np.arange(n), picked] + std[picked] * noise, picked
