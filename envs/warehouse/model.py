"""The tabular warehouse's known dynamics (ALT App. G.1; constants from the authors' code).

A dispatcher (global agent) with zone s_g ∈ {0..4} and action a_g ∈ {0..4} (the zone to
prioritise), and n robots (local agents) with zone s_l ∈ {0..4} on a ring and action a_l ∈
{stay, up, down}. Every transition is a softmax over logits:

* dispatcher: 0.1 everywhere, +3.0 at a_g, +0.5 at s_g;
* robot: 0.1 everywhere, +3.5 at s_l, +1.5 at s_l + 1 (up) or s_l − 1 (down), mod 5, and
  +0.3 at the dispatcher's zone (its *pull*).

Rewards: r_g = 1; r_l = base + bonus[a_l], base = 10 when s_l = s_g else 2 / (1 + d) with d the
ring distance, bonus = (0, +0.5, −0.3). The system reward is r_g + (1/n) Σ_i r_l.

:class:`WarehouseModel` holds these tables; it is what ``WarehouseCore.model()`` gives the
learners that plan (ALTERNATING-MARL). :func:`chain_value` computes exactly the expected
discounted system return of policies that do not look at the other robots, from the 25-state
chain of (s_g, one robot) — the source of the sanity values in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

ZONES = 5
ROBOT_ACTIONS = 3  # 0 stay, 1 up (+1), 2 down (−1)
ACTION_BONUS = np.array([0.0, 0.5, -0.3])
PULLS = ("next", "current")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return cast(np.ndarray, shifted / shifted.sum(axis=-1, keepdims=True))


def dispatcher_kernel() -> np.ndarray:
    """P_g[s_g, a_g, s_g'], shape (5, 5, 5)."""
    logits = np.full((ZONES, ZONES, ZONES), 0.1)
    zones = np.arange(ZONES)
    logits[:, zones, zones] += 3.0  # toward the chosen zone
    logits[zones, :, zones] += 0.5  # inertia
    return softmax(logits)


def robot_kernel() -> np.ndarray:
    """P_l[s_l, s_g, a_l, s_l'], shape (5, 5, 3, 5); s_g is the zone that pulls the robot."""
    logits = np.full((ZONES, ZONES, ROBOT_ACTIONS, ZONES), 0.1)
    zones = np.arange(ZONES)
    logits[zones, :, :, zones] += 3.5  # robots mostly stay
    logits[zones, :, 1, (zones + 1) % ZONES] += 1.5
    logits[zones, :, 2, (zones - 1) % ZONES] += 1.5
    logits[:, zones, :, zones] += 0.3  # the dispatcher's pull
    return softmax(logits)


def ring_distance() -> np.ndarray:
    """d[s_l, s_g]: distance between zones on the ring of five."""
    gap = np.abs(np.arange(ZONES)[:, None] - np.arange(ZONES)[None, :])
    return cast(np.ndarray, np.minimum(gap, ZONES - gap))


def robot_reward() -> np.ndarray:
    """r_l[s_l, s_g, a_l], shape (5, 5, 3)."""
    d = ring_distance()
    base = np.where(d == 0, 10.0, 2.0 / (1.0 + d))
    return cast(np.ndarray, base[:, :, None] + ACTION_BONUS)


@dataclass(frozen=True)
class WarehouseModel:
    """The warehouse's transition and reward tables, for learners that plan.

    Attributes:
        dispatcher_kernel: P_g[s_g, a_g, s_g'].
        robot_kernel: P_l[s_l, pull zone, a_l, s_l'].
        dispatcher_reward: r_g[s_g, a_g] (all ones).
        robot_reward: r_l[s_l, s_g, a_l].
        n_robots: n; k: the dispatcher's sample size; gamma: the discount factor.
        pull: ``"next"`` — the robots are pulled toward s_g(t+1), as the authors' simulator
            does (the dispatcher moves first); ``"current"`` — toward s_g(t), as their
            planning code assumes.
        start_concentration: the robots' start zones are i.i.d. from p ~ Dirichlet(this · 1).
    """

    dispatcher_kernel: np.ndarray
    robot_kernel: np.ndarray
    dispatcher_reward: np.ndarray
    robot_reward: np.ndarray
    n_robots: int
    k: int
    gamma: float
    pull: str
    start_concentration: float

    @classmethod
    def build(cls, *, n_robots: int, k: int, gamma: float, pull: str,
              start_concentration: float = 0.3) -> WarehouseModel:
        return cls(dispatcher_kernel(), robot_kernel(), np.ones((ZONES, ZONES)), robot_reward(),
                   n_robots, k, gamma, pull, start_concentration)

    def robot_step(self, robot_policy: np.ndarray) -> np.ndarray:
        """M[s_g(t), s_g(t+1), s_l, s_l']: one robot's zone kernel under ``robot_policy``
        (π_l[s_l, s_g, a_l]), given the dispatcher's zone now and next (the pull uses one of
        them, by :attr:`pull`)."""
        # the robot's action looks at s_g(t); the pull at s_g(t) or s_g(t+1)
        by_pull = np.einsum("lga,lpam->gplm", robot_policy, self.robot_kernel)
        if self.pull == "next":
            return cast(np.ndarray, by_pull)
        zones = np.arange(ZONES)
        return np.repeat(by_pull[zones, zones][:, None], ZONES, axis=1)

    def robot_mean_reward(self, robot_policy: np.ndarray) -> np.ndarray:
        """r̃_l[s_l, s_g] = Σ_a π_l(a | s_l, s_g) r_l(s_l, s_g, a)."""
        return cast(np.ndarray, np.einsum("lga,lga->lg", robot_policy, self.robot_reward))


def chain_value(model: WarehouseModel, dispatcher_policy: np.ndarray,
                robot_policy: np.ndarray, horizon: int) -> float:
    """The exact expected discounted system return over ``horizon`` steps when the dispatcher
    plays ``dispatcher_policy[s_g, a_g]`` (blind to the robots) and every robot
    ``robot_policy[s_l, s_g, a_l]``.

    The robots are exchangeable and independent given the dispatcher's path, so the expected
    system reward r_g + (1/n) Σ r_l equals that of one robot: this is a 25-state Markov chain
    on (s_g, s_l), started from s_g uniform and s_l uniform (the mean of the Dirichlet).
    """
    step = model.robot_step(robot_policy)  # [g, g', l, l']
    kernel = np.einsum("ga,gah,ghlm->glhm", dispatcher_policy, model.dispatcher_kernel, step)
    reward = (np.einsum("ga,ga->g", dispatcher_policy, model.dispatcher_reward)[:, None]
              + model.robot_mean_reward(robot_policy).T)  # [g, l]
    mass = np.full((ZONES, ZONES), 1.0 / ZONES**2)
    total, discount = 0.0, 1.0
    for _ in range(horizon):
        total += discount * float((mass * reward).sum())
        mass = np.einsum("gl,glhm->hm", mass, kernel)
        discount *= model.gamma
    return total
