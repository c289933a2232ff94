"""Metrics a game declares: the columns it adds to a training run's history, and how it fills
them from one window of play.

The train loop knows nothing about any game. Every round it hands the game's
:class:`WindowMetrics` the joint actions and the step's result; when a window closes it asks
for one value per declared column, passing the learners' current policies (by group) so that a
game can score policies as well as play. A window's tally is part of a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from populace.envs.core import Step

Arrays = dict[str, np.ndarray]


class WindowMetrics:
    """A game's metric columns and the tally of one window; this base class has no columns.

    Subclasses set :attr:`columns` and override :meth:`record`, :meth:`scores`,
    :meth:`clear` and the two state methods.
    """

    columns: tuple[str, ...] = ()

    def record(self, actions: Arrays, step: Step) -> None:
        """Note one round: the validated joint actions and what the core returned."""

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        """One value per column for the window recorded so far (``policies`` by group)."""
        return {}

    def clear(self) -> None:
        """Start the next window."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


class ActionHistogram(WindowMetrics):
    """Scores of a discrete group from the histogram of the actions it played in the window.

    Columns: ``distance`` and ``exploitability`` of the window's action frequencies ρ (the
    game's own functions), the ``modal_action`` and its ``modal_share`` of plays. A step's
    ``info["counts"]``, when the core provides it, saves counting again.

    >>> tally = ActionHistogram("agent", 3, lambda rho: abs(rho[0] - 1), lambda rho: 0.0)
    >>> from populace.envs.core import Step
    >>> tally.record({"agent": np.array([0, 0, 2, 0])}, Step({}, {}, False, False))
    >>> tally.scores({})
    {'distance': 0.25, 'exploitability': 0.0, 'modal_action': 0, 'modal_share': 0.75}
    """

    columns = ("distance", "exploitability", "modal_action", "modal_share")

    def __init__(
        self,
        group: str,
        n_actions: int,
        distance: Callable[[np.ndarray], Any],
        exploitability: Callable[[np.ndarray], Any],
    ) -> None:
        self.group = group
        self.distance = distance
        self.exploitability = exploitability
        self.counts = np.zeros(n_actions, dtype=np.int64)

    def record(self, actions: Arrays, step: Step) -> None:
        counts = step.info.get("counts")
        if counts is None:
            counts = np.bincount(actions[self.group], minlength=len(self.counts))
        self.counts += counts

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        total = int(self.counts.sum())
        frequencies = self.counts / total
        modal = int(self.counts.argmax())
        return {
            "distance": float(self.distance(frequencies)),
            "exploitability": float(self.exploitability(frequencies)),
            "modal_action": modal,
            "modal_share": float(self.counts[modal] / total),
        }

    def clear(self) -> None:
        self.counts = np.zeros_like(self.counts)

    def state_dict(self) -> dict[str, Any]:
        return {"counts": self.counts.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        counts = np.asarray(state["counts"], dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise ValueError(f"checkpoint counts have shape {counts.shape}, "
                             f"expected {self.counts.shape}")
        self.counts = counts.copy()
