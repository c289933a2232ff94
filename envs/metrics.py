"""Metrics a game declares: the columns it adds to a training run's history, and how it fills
them from one window of play.

The train loop knows nothing about any game. Every round it hands the game's
:class:`WindowMetrics` the joint actions and the step's result; when a window closes it asks
for one value per declared column, passing every group's current policy (a
:class:`PlayedPolicies`) so that a game can score policies as well as play. A window's tally is
part of a checkpoint.

**Declared action probabilities.** Any policy of a discrete group — a learner, or a fixed
policy given as the faces take one — may declare ``action_probabilities(observations) ->
(rows, n_actions)``: the probabilities with which it picks each action at each observation
(leading axis = rows), the distribution it actually samples from. SB3's discrete learners
declare their network's distribution, a probability vector given as a fixed policy declares
itself, and a callable fixed policy declares whatever its object declares. Metrics that need a
policy's probabilities at observations of their choosing (to tabulate it over a finite
observation set, say) ask for them through :func:`declared_probabilities`; a policy that
declares nothing (a plain function) cannot be tabulated, and the metrics that need it say NaN.

**Telling policies apart.** A learner's policy is one of the types of
:data:`~populace.envs.policies.LearnedPolicy`, so a game's scores dispatch on its type:
:func:`declared_probabilities` for anything that declares probabilities, :func:`action_rule`
for whatever can be called at observations of the game's choosing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from populace.envs.policies import (
    ActionFn,
    ActionFunction,
    DeclaresProbabilities,
    LearnedPolicy,
    PlayedByLearner,
    PolicyFn,
)

if TYPE_CHECKING:
    from populace.envs.core import Step

Arrays = dict[str, np.ndarray]

ScoredPolicy = LearnedPolicy | PolicyFn | None
"""A group's policy as a window's scores receive it: a learner's ``policy()`` for a learned
group, the fixed policy (as the faces play it) for any other, None if the group has none."""


class PlayedPolicies(dict[str, ScoredPolicy]):
    """Every group's policy, as a window's scores receive it: ``policies[group]`` is the
    learner's ``policy()`` for a group a learner controls, and the fixed policy (as the faces
    take it) for any other group; :attr:`players` maps each group to the object acting for it
    (the learner itself, or that fixed policy), where declared action probabilities are found.
    """

    def __init__(self, policies: Mapping[str, ScoredPolicy], players: Mapping[str, object]
                 ) -> None:
        super().__init__(policies)
        self.players = dict(players)


def probability_source(policies: Mapping[str, Any], group: str) -> ActionFn | None:
    """The ``action_probabilities`` that the policy of ``group`` declares — asked of
    ``policies[group]``, then of the group's player — or None if neither declares any."""
    players = policies.players if isinstance(policies, PlayedPolicies) else {}
    for candidate in (policies.get(group), players.get(group)):
        if isinstance(candidate, DeclaresProbabilities):
            return candidate.action_probabilities
    return None


def action_rule(policy: object) -> ActionFunction | Callable[..., Any] | None:
    """``policy`` as a rule a game may call at observations of its own choosing: a learner's
    :class:`~populace.envs.policies.ActionFunction` (called with the observations alone), or a
    fixed population policy as the faces take it (``policy(observations, rng)``, or a function
    of the observations alone); None for what cannot be called so — a probability table, a
    linear rule, a learner's own network (:class:`~populace.envs.policies.PlayedByLearner`),
    a learner object, or no policy.

    >>> action_rule(np.eye(2)) is None, action_rule(lambda obs, rng: obs) is not None
    (True, True)
    """
    if isinstance(policy, ActionFunction):
        return policy
    if policy is None or isinstance(policy, np.ndarray | dict | PlayedByLearner):
        return None
    if callable(policy) and not hasattr(policy, "act"):  # not a learner object
        return cast(Callable[..., Any], policy)
    return None


def declared_probabilities(policies: Mapping[str, Any], group: str,
                           observations: np.ndarray) -> np.ndarray | None:
    """``(rows, n_actions)``: the action probabilities the policy of ``group`` declares at
    ``observations`` (:func:`probability_source`), or None if it declares none.

    >>> class Coin:
    ...     def action_probabilities(self, observations):
    ...         return np.full((len(observations), 2), 0.5)
    >>> declared_probabilities({"agent": Coin()}, "agent", np.zeros((3, 1))).shape
    (3, 2)
    >>> declared_probabilities({"agent": lambda obs, rng: obs}, "agent", np.zeros((3, 1)))
    """
    method = probability_source(policies, group)
    return None if method is None else np.asarray(method(observations), dtype=np.float64)


class WindowMetrics:
    """A game's metric columns and the tally of one window; this base class has no columns.

    Subclasses set :attr:`columns` and override :meth:`record`, :meth:`scores`,
    :meth:`clear` and the two state methods. :attr:`headline` names the column that sums up a
    run (the one ``populace compare`` reports unless told another; default: the first) and
    :attr:`higher_is_better` the columns where more is better (the others: less is better).
    """

    columns: tuple[str, ...] = ()
    headline: str | None = None
    higher_is_better: tuple[str, ...] = ()

    def headline_column(self) -> str | None:
        """:attr:`headline`, or the first column when a game declares none."""
        return self.headline or (self.columns[0] if self.columns else None)

    def record(self, actions: Arrays, step: Step) -> None:
        """Note one round: the validated joint actions and what the core returned."""

    def scores(self, policies: Mapping[str, ScoredPolicy]) -> dict[str, float | int]:
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
