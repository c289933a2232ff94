"""Many warehouse episodes at once, in counts: the evaluator of ALT's policies.

The robots are exchangeable and, given the dispatcher's path, move independently, so the
fleet's zone counts are a sufficient state: each step the robots in zone z split over the
three actions by a multinomial draw, and the robots of each (zone, action) split over the next
zones by another. This has exactly the law of simulating the n robots one by one (as
:class:`~populace.envs.warehouse.warehouse.WarehouseCore` does), at O(zones²·actions) per episode
and step instead of O(n), with every episode of a batch stepped together by numpy.

*Ghost* robots measure what one robot would earn with another policy: a ghost fleet follows the
dispatcher's zone process and its own policy, but is neither counted in the system reward nor
sampled by the dispatcher (one robot among n changes the fleet by 1/n; ALT's best-response
argument makes the same approximation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ZONES, WarehouseModel

DispatcherFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Rollouts:
    """What a batch of episodes produced.

    Attributes:
        returns: ``(R,)`` discounted system return of each episode.
        ghost_returns: per ghost policy, ``(R,)`` a ghost robot's mean discounted return.
        visits: ``(5, 5, 5)`` robot-steps tallied by (s_g, s_l, s_g'): the fleet's view of the
            dispatcher's next zone, for the robots' induced MDP (ALT §3.1).
        mode_match: share of steps on which the dispatcher chose the fleet's modal zone.
    """

    returns: np.ndarray
    ghost_returns: list[np.ndarray] = field(default_factory=list)
    visits: np.ndarray = field(default_factory=lambda: np.zeros((ZONES,) * 3))
    mode_match: float = float("nan")

    @property
    def value(self) -> float:
        return float(self.returns.mean())


def tabular_dispatcher(probabilities: np.ndarray, space: CountVectors) -> DispatcherFn:
    """A dispatcher playing ``probabilities[s_g, rank(counts), a_g]`` (one-hot: deterministic)."""
    return dispatcher_from_rows(lambda zones, counts: probabilities[zones, space.rank(counts)])


def dispatcher_from_rows(rows_of: Callable[[np.ndarray, np.ndarray], np.ndarray]
                         ) -> DispatcherFn:
    """A dispatcher drawing a_g by inverse CDF from ``rows_of(s_g (R,), sampled counts (R, 5))
    -> (R, 5)`` action probabilities; when every row is one-hot it draws nothing."""

    def act(zones: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        rows = rows_of(zones, counts)
        if np.all((rows == 0) | (rows == 1)):
            return cast(np.ndarray, rows.argmax(axis=1))
        cumulative = np.cumsum(rows, axis=1)
        return cast(np.ndarray, (rng.random(len(zones))[:, None] >= cumulative[:, :-1]).sum(axis=1))

    return act


def sample_counts(counts: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Zone counts of k robots drawn without replacement from each row of ``counts`` (the
    multivariate hypergeometric, as successive hypergeometric marginals)."""
    left = counts.sum(axis=1)
    wanted = np.full(len(counts), k, dtype=np.int64)
    out = np.zeros_like(counts)
    for zone in range(ZONES - 1):
        out[:, zone] = rng.hypergeometric(counts[:, zone], left - counts[:, zone], wanted)
        left = left - counts[:, zone]
        wanted = wanted - out[:, zone]
    out[:, -1] = wanted
    return out


def move(counts: np.ndarray, zones: np.ndarray, next_zones: np.ndarray, policy: np.ndarray,
         model: WarehouseModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One step of a fleet in counts: ``(action counts (R, 5, 3), next counts (R, 5))``."""
    acted = rng.multinomial(counts, policy[:, zones].transpose(1, 0, 2))  # (R, 5, 3)
    pull = next_zones if model.pull == "next" else zones
    kernel = model.robot_kernel[:, pull].transpose(1, 0, 2, 3)  # (R, 5, 3, 5)
    return acted, rng.multinomial(acted, kernel).sum(axis=(1, 2))


def simulate(
    model: WarehouseModel,
    dispatcher: DispatcherFn,
    robot_policy: np.ndarray,
    *,
    rollouts: int,
    horizon: int,
    rng: np.random.Generator,
    ghosts: Sequence[np.ndarray] = (),
    ghost_fleet: int = 1000,
) -> Rollouts:
    """Play ``rollouts`` episodes of ``horizon`` steps at once.

    Args:
        model: the game (n robots, k sampled, the pull order, γ).
        dispatcher: ``act(s_g (R,), sampled counts (R, 5), rng) -> a_g (R,)``.
        robot_policy: π_l[s_l, s_g, a_l], every robot's.
        ghosts: robot policies to score as ghost fleets of ``ghost_fleet`` robots each; they
            draw from a generator of their own, so the episodes do not depend on them.
    """
    n, reward = model.n_robots, model.robot_reward
    ghost_rng = np.random.default_rng(rng.integers(2**63))  # ghosts leave the episodes alone
    zones = rng.integers(ZONES, size=rollouts)
    shares = rng.dirichlet(np.full(ZONES, model.start_concentration), size=rollouts)
    counts = rng.multinomial(n, shares)
    ghost_counts = [ghost_rng.multinomial(ghost_fleet, shares) for _ in ghosts]
    returns = np.zeros(rollouts)
    ghost_returns = [np.zeros(rollouts) for _ in ghosts]
    visits = np.zeros((ZONES * ZONES, ZONES))
    matches, discount = 0, 1.0
    cumulative = np.cumsum(model.dispatcher_kernel, axis=-1)
    for _ in range(horizon):
        targets = dispatcher(zones, sample_counts(counts, model.k, rng), rng)
        matches += int((targets == counts.argmax(axis=1)).sum())
        next_zones = (rng.random(rollouts)[:, None] >= cumulative[zones, targets][:, :-1]).sum(1)
        acted, next_counts = move(counts, zones, next_zones, robot_policy, model, rng)
        earned = (acted * reward[:, zones].transpose(1, 0, 2)).sum(axis=(1, 2))
        returns += discount * (model.dispatcher_reward[zones, targets] + earned / n)
        np.add.at(visits, zones * ZONES + next_zones, counts)
        for i, policy in enumerate(ghosts):
            acted, ghost_counts[i] = move(ghost_counts[i], zones, next_zones, policy, model,
                                          ghost_rng)
            ghost_earned = (acted * reward[:, zones].transpose(1, 0, 2)).sum(axis=(1, 2))
            ghost_returns[i] += discount * ghost_earned / ghost_fleet
        zones, counts = next_zones, next_counts
        discount *= model.gamma
    by_zone = visits.reshape(ZONES, ZONES, ZONES).transpose(0, 2, 1).copy()  # [s_g, s_l, s_g']
    return Rollouts(returns, ghost_returns, by_zone, matches / (rollouts * horizon))
