"""Best responses in the tabular warehouse: the dispatcher's over (s_g, counts of k sampled
robots) and a robot's over (s_l, s_g). ALT's G-LEARN and L-LEARN are built on these, and the
ε-Nash gains (:mod:`populace.envs.warehouse.nash`) measure with them.

**Dispatcher** (ALT §3.2, "Offline Learning (I)"). With the robots' policy π_l fixed, the
dispatcher plans in the surrogate system of the k sampled robots: state (s_g, c), c the count
vector of the k robots (ranked by :class:`~populace.envs.warehouse.count_vectors.CountVectors`),
reward
r_g(s_g, a_g) + (1/k) Σ_j c_j r̃_l(j, s_g), and the k robots moving independently under π_l.
The Bellman operator's expectation over the next counts is replaced by the mean of ``samples``
Monte-Carlo draws per (s_g, s_g', c) — ALT's empirical operator with m samples. The draws are
made once per solve and reused by every iteration (ours: the empirical operator is then a fixed
γ-contraction with a fixed point, as the analysis treats it); the expectation over s_g' is
exact (the 5×5 kernel is known). ``method="rounded"`` is the authors' code instead: one
deterministic next count vector, the mean-field expectation c·M rounded to integers by largest
remainders (their code stores m but never draws).

**Robot** (ALT §3.2, "Offline Learning (II)"; exact solution ours). With the dispatcher fixed,
a robot's induced MDP has state (s_g, s_l); the dispatcher's next zone follows
P̄(s_g' | s_g, s_l), estimated from the fleet's visits in simulated play (the dispatcher reacts
to the hidden fleet, which a robot only sees through s_g). Value iteration on these 25 states
gives its exact best response (a pure policy); the authors' code returns a softmax of the
Q-values at temperature max(0.3, Q-range/3) from a kernel of 200 Monte-Carlo draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ROBOT_ACTIONS, ZONES, WarehouseModel

METHODS = ("sampled", "rounded")


@dataclass(frozen=True)
class DispatcherPlan:
    """A solved dispatcher MDP: ``q[s_g, rank, a_g]``, ``values = q.max(-1)``, the greedy
    ``actions[s_g, rank]`` (ties to the lowest zone) and the iterations it took."""

    q: np.ndarray
    values: np.ndarray
    actions: np.ndarray
    iterations: int

    def probabilities(self) -> np.ndarray:
        """The greedy policy as one-hot rows, ``(5, S, 5)``."""
        return cast(np.ndarray, np.eye(ZONES)[self.actions])


def next_ranks(model: WarehouseModel, robot_policy: np.ndarray, space: CountVectors,
               samples: int, rng: np.random.Generator) -> np.ndarray:
    """``[s_g, s_g', rank, sample]``: the ranks of ``samples`` next count vectors of the k
    robots of every count vector, drawn robot by robot (one uniform each).

    The rank needs only the bar positions b_j = #(robots landing in zones ≤ j) + j, and a
    robot lands in a zone ≤ j exactly when its uniform falls below its cumulative probability
    of zone j, so each b_j is one comparison per robot (no next zones are built)."""
    step = model.robot_step(robot_policy)  # [g, g', l, l']
    robots = space.agents()  # (S, k)
    pairs = [(g, h) for g in range(ZONES) for h in range(ZONES)]
    if model.pull == "current":  # the next zone does not move the robots: draw once per g
        pairs = [(g, 0) for g in range(ZONES)]
    out = np.empty((ZONES, ZONES, space.size, samples), dtype=np.int32)
    for g, h in pairs:
        cumulative = np.cumsum(step[g, h], axis=-1).astype(np.float32)  # [l, l']
        u = rng.random((space.size, samples, space.k), dtype=np.float32)
        rank = np.zeros((space.size, samples), dtype=np.int64)
        for j in range(ZONES - 1):
            below = np.count_nonzero(u < cumulative[robots, j][:, None, :], axis=-1)
            rank += space.binomial(below + j, j + 1)
        out[g, h] = rank
        if model.pull == "current":
            out[g, :] = rank
    return out


def rounded_ranks(model: WarehouseModel, robot_policy: np.ndarray,
                  space: CountVectors) -> np.ndarray:
    """``[s_g, s_g', rank, 1]``: the authors' deterministic next count vector, c·M rounded to
    integers summing to k by the largest-remainder method."""
    step = model.robot_step(robot_policy)
    out = np.empty((ZONES, ZONES, space.size, 1), dtype=np.int32)
    for g in range(ZONES):
        for h in range(ZONES):
            expected = space.vectors @ step[g, h]
            floored = np.floor(expected).astype(np.int64)
            deficit = space.k - floored.sum(axis=1)
            order = np.argsort(np.argsort(-(expected - floored), axis=1, kind="stable"),
                               axis=1, kind="stable")
            out[g, h, :, 0] = space.rank(floored + (order < deficit[:, None]))
    return out


def surrogate_reward(model: WarehouseModel, robot_policy: np.ndarray,
                     space: CountVectors) -> np.ndarray:
    """``R[s_g, rank, a_g] = r_g(s_g, a_g) + (1/k) Σ_j c_j r̃_l(j, s_g)``."""
    local = space.vectors @ model.robot_mean_reward(robot_policy) / space.k  # (S, g)
    return cast(np.ndarray, model.dispatcher_reward[:, None, :] + local.T[:, :, None])


def solve_dispatcher(model: WarehouseModel, robot_policy: np.ndarray, space: CountVectors,
                     ranks: np.ndarray, *, iterations: int = 100, tol: float = 1e-6,
                     start: np.ndarray | None = None) -> DispatcherPlan:
    """Value iteration with next counts ``ranks[s_g, s_g', rank, sample]`` (each sample
    weighing equally), from ``start`` values (zeros by default), until the sup-norm change is
    below ``tol`` or after ``iterations`` sweeps."""
    reward = surrogate_reward(model, robot_policy, space)
    values = np.zeros((ZONES, space.size)) if start is None else start.copy()
    offsets = (np.arange(ZONES) * space.size)[None, :, None, None]
    by_sample = np.ascontiguousarray(  # [sample, g, g', S]: one gather per sample is fastest
        (offsets + ranks).transpose(3, 0, 1, 2), dtype=np.int32)
    kernel = model.dispatcher_kernel  # [g, a, g']
    q = reward
    sweeps = 0
    for sweeps in range(1, iterations + 1):  # noqa: B007 - the count is reported
        after = expected_values(values, by_sample)  # [g, g', S]
        q = np.einsum("gah,ghs->gsa", kernel, after)
        q *= model.gamma  # in place: at k = 50, q is 63 MB
        q += reward
        new = q.max(axis=-1)
        change = float(np.abs(new - values).max())
        values = new
        if change < tol:
            break
    return DispatcherPlan(q, values, q.argmax(axis=-1), sweeps)


def expected_values(values: np.ndarray, by_sample: np.ndarray) -> np.ndarray:
    """The mean over samples of ``values.ravel()[by_sample[s]]``."""
    flat = values.ravel()
    total = np.take(flat, by_sample[0])
    for indices in by_sample[1:]:
        total += np.take(flat, indices)
    return cast(np.ndarray, total / len(by_sample))


def dispatcher_best_response(model: WarehouseModel, robot_policy: np.ndarray,
                             space: CountVectors, rng: np.random.Generator, *,
                             samples: int = 30, method: str = "sampled", iterations: int = 100,
                             tol: float = 1e-6, start: np.ndarray | None = None) -> DispatcherPlan:
    """G-LEARN's solve: draw the next counts (or round them), then value iteration."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    ranks = (next_ranks(model, robot_policy, space, samples, rng) if method == "sampled"
             else rounded_ranks(model, robot_policy, space))
    return solve_dispatcher(model, robot_policy, space, ranks, iterations=iterations, tol=tol,
                            start=start)


def induced_kernel(visits: np.ndarray) -> np.ndarray:
    """P̄[s_g, s_l, s_g'] from robot-step tallies; a (s_g, s_l) never visited borrows the
    kernel of s_g over all robots, and an unvisited s_g stays put."""
    visits = np.asarray(visits, dtype=np.float64)
    by_zone = visits.sum(axis=1, keepdims=True)  # (g, 1, g')
    fallback = np.where(by_zone.sum(-1, keepdims=True) > 0, by_zone,
                        np.eye(ZONES)[:, None, :])
    chosen = np.where(visits.sum(-1, keepdims=True) > 0, visits,
                      np.broadcast_to(fallback, visits.shape))
    return cast(np.ndarray, chosen / chosen.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class RobotPlan:
    """A solved robot MDP: ``q[s_l, s_g, a_l]``, ``values[s_l, s_g]`` and the pure best
    response ``policy[s_l, s_g, a_l]`` (one-hot; ties to the lowest action)."""

    q: np.ndarray
    values: np.ndarray
    policy: np.ndarray


def robot_q(model: WarehouseModel, kernel: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One Bellman backup of the robot's induced MDP: ``q[s_l, s_g, a_l]``."""
    pulls = np.arange(ZONES)[None, :] if model.pull == "next" else np.arange(ZONES)[:, None]
    pull = np.broadcast_to(pulls, (ZONES, ZONES))  # [g, g'] -> the zone that pulls
    moves = model.robot_kernel[:, pull]  # [l, g, g', a, l']
    future = np.einsum("lghan,hn->lgha", moves, values.T)  # V[s_g', s_l'] inside
    return cast(
        np.ndarray, model.robot_reward + model.gamma * np.einsum("glh,lgha->lga", kernel, future))


def robot_values(model: WarehouseModel, kernel: np.ndarray, policy: np.ndarray | None = None,
                 *, tol: float = 1e-10, iterations: int = 5000) -> np.ndarray:
    """``values[s_l, s_g]`` of ``policy`` (None: the optimal values) in the induced MDP."""
    values = np.zeros((ZONES, ZONES))
    for _ in range(iterations):
        q = robot_q(model, kernel, values)
        new = q.max(axis=-1) if policy is None else (q * policy).sum(axis=-1)
        change = float(np.abs(new - values).max())
        values = new
        if change < tol:
            break
    return values


def robot_best_response(model: WarehouseModel, kernel: np.ndarray) -> RobotPlan:
    """L-LEARN's solve: exact value iteration in the induced (s_g, s_l) MDP."""
    values = robot_values(model, kernel)
    q = robot_q(model, kernel, values)
    return RobotPlan(q, values, np.eye(ROBOT_ACTIONS)[q.argmax(axis=-1)])
