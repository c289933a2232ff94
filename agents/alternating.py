"""What the two ALTERNATING-MARL learners share (ALT, *Learning approximate Nash equilibria in
cooperative MARL via mean-field subsampling*): one learner for the warehouse's two groups
together, built from the game's model, that runs alternations of best responses until it is
done, either all at once (:meth:`AlternatingLearner.fit`) or one at every episode end of the
train loop (:meth:`AlternatingLearner.update`).

:class:`~populace.agents.alternating_marl.AlternatingMARL` (tabular: value iteration, an
UPDATE gate, convergence) and
:class:`~populace.agents.alternating_marl_continuous.ContinuousAlternatingMARL` (neural: a
classifier and TRPO, a fixed count) differ in what an alternation is and when they are done.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from populace.agents.base import MultiGroupLearner, Transition
from populace.envs.core import PopulationCore

__all__ = ["AlternatingLearner", "check_positive_ints"]


class AlternatingLearner(MultiGroupLearner):
    """Alternating best responses of the ``dispatcher`` and the ``robot`` groups.

    A subclass names the model it plans with (:attr:`model_type`, described in errors by
    :attr:`model_name`), takes it as its first argument, and says what one alternation does
    and when it is done.
    """

    groups = ("dispatcher", "robot")
    model_type: ClassVar[type]
    """the class of the game model (``core.model()``) the learner plans with"""
    model_name: ClassVar[str]
    """that model in words, for the error a game with another model gets"""
    model: object
    """the model planned with; a subclass narrows it to its :attr:`model_type`"""

    def __init__(self, model: object, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.model = model

    @classmethod
    def for_game(
        cls, core: PopulationCore, group: str | None = None, *, seed: int | None = None,
        **kwargs: object,
    ) -> AlternatingLearner:
        """The learner for both groups of a warehouse core, planning with ``core.model()``."""
        if group is not None and group not in cls.groups:
            raise ValueError(f"{cls.__name__} controls the groups {list(cls.groups)} "
                             f"together; got group={group!r}")
        model = core.model()
        if not isinstance(model, cls.model_type):
            raise TypeError(f"{cls.__name__} plans with {cls.model_name}; "
                            f"{core.metadata['name']} offers {type(model).__name__}")
        build: Callable[..., AlternatingLearner] = cls  # its keywords (Learner.for_game)
        return build(model, seed=seed, **kwargs)

    @property
    @abstractmethod
    def done(self) -> bool:
        """No alternation left to run."""

    @abstractmethod
    def alternate(self) -> object:
        """One alternation: a best response of each group to the other."""

    def fit(self) -> object:
        """Run the remaining alternations (a learner may return a record of them)."""
        while not self.done:
            self.alternate()
        return None

    def update(self, transitions: dict[str, Transition]) -> None:
        """One alternation at every episode end, until training is done."""
        first = transitions["dispatcher"]
        if (first.terminated or first.truncated) and not self.done:
            self.alternate()


def check_positive_ints(**options: int) -> None:
    """Every option a positive int, or a ValueError naming it."""
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
