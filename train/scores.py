"""The game's own metrics, as the train loop uses them: a window's :class:`MetricsRow`, and the
expected payoffs handed to learners that use population statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from populace.envs.core import PopulationCore
from populace.envs.equilibrium import exploitability
from populace.train.results import MetricsRow


class Scores:
    """Turns a window's action counts into a :class:`MetricsRow` with the game's own metrics.

    A core that lacks ``distance`` or ``expected_payoffs`` (or raises ``NotImplementedError``
    from it) gets NaN in the matching column.
    """

    def __init__(self, core: PopulationCore, n_actions: int) -> None:
        uniform = np.full(n_actions, 1.0 / n_actions)
        self.distance = _probe(getattr(core, "distance", None), uniform)
        self.payoffs = _probe(getattr(core, "expected_payoffs", None), uniform)

    def row(self, round_: int, counts: np.ndarray, reward_sum: float, time_: float) -> MetricsRow:
        total = int(counts.sum())
        frequencies = counts / total
        modal = int(counts.argmax())
        return MetricsRow(
            round=round_,
            distance=float(self.distance(frequencies)) if self.distance else float("nan"),
            exploitability=(
                exploitability(self.payoffs, frequencies) if self.payoffs else float("nan")
            ),
            mean_reward=reward_sum / total,
            modal_action=modal,
            modal_share=float(counts[modal] / total),
            time=time_,
        )


def _probe(method: Any, frequencies: np.ndarray) -> Any:
    """``method`` if the core implements it, else None."""
    if method is None:
        return None
    try:
        method(frequencies)
    except NotImplementedError:
        return None
    return method


def payoff_estimates(core: PopulationCore, observations: np.ndarray) -> np.ndarray:
    """Expected payoff of every action given each agent's observed action frequencies.

    A population observation is one row broadcast to every agent (stride 0): it is scored once
    and the result broadcast back (read-only), instead of repeating the same product N times.
    """
    expected = core.expected_payoffs  # type: ignore[attr-defined]
    if observations.ndim == 2 and observations.shape[0] > 1 and observations.strides[0] == 0:
        row = expected(observations[0])
        return np.broadcast_to(row, (observations.shape[0], *row.shape))
    return expected(observations)
