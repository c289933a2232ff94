"""The network zero-sum game's window metrics: KL to the QRE and NashConv."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from populace.envs.core import Step
from populace.envs.metrics import WindowMetrics

if TYPE_CHECKING:
    from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore

KL_FLOOR = 1e-12  # empirical frequencies are floored here before KL


class ZSPGMetrics(WindowMetrics):
    """``kl_to_qre`` and ``nash_conv`` of the learners' policies, or of the window's play.

    ``policies["agent"]``, when it is an ``(n, m)`` (or one shared ``(m,)``) array of mixed
    strategies, is scored; otherwise the window's empirical strategies are: each agent's
    action frequencies (sampled) or the mean of its submitted mixed strategies (expected).
    Empirical strategies can put 0 on an action, which would make the KL infinite: they are
    floored at 1e-12 and renormalized before the KL (NashConv uses them as they are).
    """

    columns = ("kl_to_qre", "nash_conv")

    def __init__(self, core: ZSPGNetworkCore) -> None:
        self.core = core
        self.totals = np.zeros((core.n_agents, core.n_actions))
        self.rounds = 0

    def record(self, actions: dict[str, np.ndarray], step: Step) -> None:
        played = np.asarray(actions[self.core.agent_group])
        if played.ndim == 1:
            np.add.at(self.totals.ravel(), played + self.core._rows, 1.0)
        else:
            self.totals += played
        self.rounds += 1

    def strategies(self, policies: Mapping[str, Any]) -> np.ndarray | None:
        """The profile to score: the learners' policies if usable, else the window's play."""
        policy = policies.get(self.core.agent_group)
        shape = (self.core.n_agents, self.core.n_actions)
        if isinstance(policy, np.ndarray) and policy.shape in (shape, shape[1:]):
            return np.broadcast_to(np.asarray(policy, dtype=np.float64), shape)
        if self.rounds == 0:
            return None
        return self.totals / self.rounds

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        x = self.strategies(policies)
        if x is None:
            return {"kl_to_qre": float("nan"), "nash_conv": float("nan")}
        floored = np.maximum(x, KL_FLOOR)
        floored = floored / floored.sum(axis=1, keepdims=True)
        return {"kl_to_qre": self.core.kl_to_qre(floored), "nash_conv": self.core.nash_conv(x)}

    def clear(self) -> None:
        self.totals = np.zeros_like(self.totals)
        self.rounds = 0

    def state_dict(self) -> dict[str, Any]:
        return {"totals": self.totals.copy(), "rounds": self.rounds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        totals = np.asarray(state["totals"], dtype=np.float64)
        if totals.shape != self.totals.shape:
            raise ValueError(f"checkpoint totals have shape {totals.shape}, "
                             f"expected {self.totals.shape}")
        self.totals = totals.copy()
        self.rounds = int(state["rounds"])
