"""The networks of :class:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay`.

Torch building blocks of the actor and critic pieces (:mod:`.actors`, :mod:`.critics`): a linear
layer started small, a small tanh MLP (with an optional small start of its last layer), and the
quadratic features of the critic that is exact for the LQR game's quadratic value.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch as th
from torch import nn


class QuadraticFeatures(nn.Module):
    """Every monomial of degree 1 and 2 of the input: ``[z_i z_j (i ≤ j), z_i]``.

    >>> QuadraticFeatures(2)(th.tensor([[2.0, 3.0]], dtype=th.float64)).tolist()
    [[4.0, 6.0, 9.0, 2.0, 3.0]]
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        rows, cols = th.triu_indices(size, size)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.size = size

    @property
    def out_features(self) -> int:
        return self.size * (self.size + 3) // 2

    def forward(self, z: th.Tensor) -> th.Tensor:
        rows, cols = self.rows, self.cols
        assert isinstance(rows, th.Tensor) and isinstance(cols, th.Tensor)
        return th.cat([z[:, rows] * z[:, cols], z], dim=1)


def mlp(inputs: int, hidden: Sequence[int], outputs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(inputs, width), nn.Tanh()]
        inputs = width
    layers.append(nn.Linear(inputs, outputs))
    return nn.Sequential(*layers)


def linear(inputs: int, outputs: int, init_scale: float) -> nn.Linear:
    """A linear layer with weights N(0, init_scale²) and bias 0 (under torch's generator)."""
    layer = nn.Linear(inputs, outputs)
    with th.no_grad():
        layer.weight.normal_(0.0, init_scale)
        layer.bias.zero_()
    return layer


def start_small(network: nn.Module, scale: float) -> None:
    """Redraw the last layer of an MLP (:func:`mlp`): weights N(0, scale²), bias 0."""
    assert isinstance(network, nn.Sequential)
    head = network[-1]
    assert isinstance(head, nn.Linear)
    with th.no_grad():
        head.weight.normal_(0.0, scale)
        head.bias.zero_()


def quadratic_value(inputs: int) -> nn.Sequential:
    """V(z) linear in the quadratic features of z, starting at 0 (no constant: it cancels in
    every TD error)."""
    features = QuadraticFeatures(inputs)
    head = nn.Linear(features.out_features, 1, bias=False)
    nn.init.zeros_(head.weight)
    return nn.Sequential(features, head)
