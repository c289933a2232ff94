"""How far a joint policy of the continuous warehouse is from a Nash equilibrium: an estimate
of each role's unilateral gain, by simulated episodes of the whole fleet (:class:`ContinuousModel`,
all episodes batched) with common random numbers.

The continuous state rules out the exact best responses of the tabular game
(:mod:`populace.envs.warehouse.nash`); :func:`continuous_gains` estimates both gains instead.

**Robot.** A deviating robot is one of n. It changes the fleet the dispatcher samples only when
it is among the k robots drawn (probability k/n a step: 0.2 % for k = 1, 15 % for k = 75 at
n = 500), and then moves one of k counts; we neglect that, so the robot faces a Markov decision
process in (s_l, s_g) alone. Its own coordinate moves by the known law
s_l' = clip(s_l + δ + N(0, 0.04²)); s_g's next value depends on the dispatcher's target, which
we estimate as the frequency of each target per cell of s_g over simulated episodes of the
joint policy, pooled over the whole episode (a stationary average: the kernel ignores that the
fleet, hence the dispatcher's choice at a given s_g, changes over an episode). Both axes are cut
into :data:`CELLS` cells of [−2, 2]; the Gaussian moves are integrated over the cells (the
clipped mass goes to the end cells). Backward induction over the metric's finite horizon gives
a time-indexed best response on that grid. It is then *scored in the game*: two sets of ghost
robots ride fresh episodes of the fleet (ghosts do not enter the dispatcher's sample), starting
where randomly picked robots start and sharing every noise draw; one set plays the policy, the
other the best response. The gain is the mean difference of their discounted returns
Σ_{t<H} γ^t r_l, with its standard error over episodes. Since the best response is only the
best on the grid and for the pooled kernel, the robot gain it scores errs low, never high
(beyond Monte-Carlo noise).

**Dispatcher.** Its state (s_g and all n positions) is too large for a best response. We
measure the best *single-step* deviation instead: at a few steps t of the policy's own
episodes, each of the five targets is tried for that one step, after which everybody follows
the joint policy for ``lookahead`` steps, all branches sharing their noise. The target that
looks best in one replicate of these rollouts is scored on a second, independent replicate, so
the estimate carries no bias from picking the largest of five noisy values. The gain of
deviating at step t is γ^t times its mean advantage over episodes, and the dispatcher's gain is
the largest over the steps tried. Rollouts stop after ``lookahead`` steps (what differs later,
discounted by γ^lookahead, is left out). This deviation chooses its target knowing the whole
fleet, which the game's dispatcher does not see (it sees k sampled robots), and it deviates once
only: up to that truncation it is a lower bound on the ε of a dispatcher that saw the fleet,
and only an estimate of the game's (a plainly exploitable dispatcher, one pointing at random,
shows a clear gain; a consistently wrong one, whose deviation would need many steps to pay, can
show little).

ε is the larger gain, floored at 0. Policies are given as anything that declares
``action_probabilities(observations)`` (:mod:`populace.envs.metrics`) or as a function of a
batch of observations returning actions (read as one-hot probabilities). The robots' policy is
tabulated once on a :data:`TABLE` × :data:`TABLE` grid of (s_l, s_g) and read at the nearest
point, as ``alternating_marl_continuous`` reads its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from populace.envs.policies import DeclaresProbabilities
from populace.envs.warehouse.warehouse_continuous import (
    BINS,
    GLOBAL_NOISE,
    LIMIT,
    LOCAL_NOISE,
    MOVES,
    STEER,
    TARGETS,
    ContinuousModel,
    local_reward,
)

CELLS = 81  # cells a side of the robot's best-response grid: width 4/81 ≈ 0.049, about a move
TABLE = 401  # points a side at which the robots' policy is tabulated (spacing 0.01)

ProbabilityFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ContinuousGains:
    """Each role's estimated unilateral gain and its standard error (module docstring)."""

    dispatcher: float
    dispatcher_se: float
    robot: float
    robot_se: float

    @property
    def epsilon(self) -> float:
        return max(self.dispatcher, self.robot, 0.0)


def probabilities_of(policy: object, role: str, n_actions: int) -> ProbabilityFn:
    """The role's action probabilities as a function of a batch of observations: the
    policy's declared ``action_probabilities``
    (:class:`~populace.envs.policies.DeclaresProbabilities`), or its actions read as one-hot
    rows."""
    declared = (policy.action_probabilities if isinstance(policy, DeclaresProbabilities)
                else None)
    if declared is None and not callable(policy):
        raise ValueError(f"the {role} policy must be callable or declare "
                         f"action_probabilities, got {type(policy).__name__}")

    def probabilities(observations: np.ndarray) -> np.ndarray:
        if declared is not None:
            p = np.asarray(declared(observations), dtype=np.float64)
        else:
            actions = np.asarray(cast(ProbabilityFn, policy)(observations))  # callable
            if actions.shape != (len(observations),) or not np.all(
                    (actions >= 0) & (actions < n_actions)):
                raise ValueError(f"the {role} policy must return one action in "
                                 f"0..{n_actions - 1} per observation")
            p = np.eye(n_actions)[actions.astype(np.int64)]
        if p.shape != (len(observations), n_actions) or p.min() < 0 or not np.allclose(
                p.sum(axis=1), 1.0):
            raise ValueError(f"the {role} policy's probabilities must be rows of "
                             f"{n_actions} non-negative numbers summing to 1, got shape "
                             f"{p.shape}")
        return p

    return probabilities


def robot_table(robot: ProbabilityFn) -> np.ndarray:
    """The robots' probabilities on the :data:`TABLE` grid, ``[s_l, s_g, move]``."""
    axis = np.linspace(-LIMIT, LIMIT, TABLE)
    points = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return robot(points.astype(np.float32)).reshape(TABLE, TABLE, len(MOVES))


def nearest(positions: np.ndarray, points: int) -> np.ndarray:
    """Index of the nearest of ``points`` evenly spaced points of [−2, 2]."""
    return np.rint((positions + LIMIT) * (points - 1) / (2 * LIMIT)).astype(np.int64)


def cell_of(positions: np.ndarray) -> np.ndarray:
    """Index of the :data:`CELLS` equal cells of [−2, 2] holding each position."""
    return np.clip(((positions + LIMIT) * CELLS / (2 * LIMIT)).astype(np.int64), 0, CELLS - 1)


def draw(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``(..., n_actions)`` probabilities."""
    cumulative = np.cumsum(probabilities, axis=-1)[..., :-1]
    return cast(
        np.ndarray, (rng.random(probabilities.shape[:-1])[..., None] >= cumulative).sum(axis=-1))


@dataclass(frozen=True)
class JointPlay:
    """The joint policy in the simulator: the dispatcher's probabilities, and the robots'
    cumulative probabilities of their first two moves on the :data:`TABLE` grid, flattened
    (``[s_l · TABLE + s_g, move]``)."""

    model: ContinuousModel
    dispatcher: ProbabilityFn
    cumulative: np.ndarray

    @classmethod
    def of(cls, model: ContinuousModel, dispatcher: ProbabilityFn, table: np.ndarray
           ) -> JointPlay:
        cumulative = np.cumsum(table, axis=-1)[..., :-1].reshape(TABLE * TABLE, -1)
        return cls(model, dispatcher, cumulative)

    def targets(self, reference: np.ndarray, robots: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        shares = self.model.histograms(robots, rng)
        observations = np.concatenate([reference[:, None], shares], axis=1)
        return draw(self.dispatcher(observations.astype(np.float32)), rng)

    def moves(self, reference: np.ndarray, positions: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        cells = nearest(positions, TABLE) * TABLE + nearest(reference, TABLE)[:, None]
        below = self.cumulative[cells]
        return cast(np.ndarray, (rng.random(positions.shape)[..., None] >= below).sum(axis=-1))


# --------------------------------------------------------------------------- robot
def normal_cdf(x: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0))))


def cell_kernel(means: np.ndarray, sd: float) -> np.ndarray:
    """``[..., cell']``: the probability that clip(mean + N(0, sd²)) lands in each cell."""
    inner = np.linspace(-LIMIT, LIMIT, CELLS + 1)[1:-1]
    below = normal_cdf((inner - means[..., None]) / sd)
    edges = np.concatenate([np.zeros(means.shape + (1,)), below,
                            np.ones(means.shape + (1,))], axis=-1)
    mass = np.diff(edges, axis=-1)
    mass[mass < 1e-12] = 0.0  # the far tails would only slow the sums (subnormal numbers)
    return cast(np.ndarray, mass / mass.sum(axis=-1, keepdims=True))


def target_frequencies(play: JointPlay, episodes: int, horizon: int,
                       rng: np.random.Generator) -> np.ndarray:
    """``[cell of s_g, target]``: how often the dispatcher picks each target per cell,
    pooled over simulated episodes; an unvisited cell gets the overall frequencies."""
    counts = np.zeros((CELLS, BINS))
    reference, robots = play.model.reset(episodes, rng)
    for _ in range(horizon):
        targets = play.targets(reference, robots, rng)
        np.add.at(counts, (cell_of(reference), targets), 1.0)
        moves = play.moves(reference, robots, rng)
        reference, robots, _, _ = play.model.step(reference, robots, targets, moves, rng)
    overall = counts.sum(axis=0) / counts.sum()
    seen = counts.sum(axis=1, keepdims=True)
    return cast(np.ndarray, np.where(seen > 0, counts / np.maximum(seen, 1.0), overall))


def robot_best_response(frequencies: np.ndarray, gamma: float, horizon: int) -> np.ndarray:
    """``[t, cell of s_l, cell of s_g]``: the best move at each step, by backward induction
    in the robot's grid MDP with the dispatcher's targets drawn from ``frequencies``."""
    centres = -LIMIT + (np.arange(CELLS) + 0.5) * (2 * LIMIT / CELLS)
    steered = centres[:, None] + STEER * (TARGETS[None, :] - centres[:, None])
    global_kernel = np.einsum("ga,gah->gh", frequencies, cell_kernel(steered, GLOBAL_NOISE))
    local_kernel = cell_kernel(centres[None, :] + MOVES[:, None], LOCAL_NOISE)  # [a, l, l']
    rewards = np.stack([local_reward(centres[:, None], centres[None, :], np.full(1, move))
                        for move in MOVES])  # [a, l, g]
    value = np.zeros((CELLS, CELLS))
    plan = np.empty((horizon, CELLS, CELLS), dtype=np.int64)
    for t in reversed(range(horizon)):
        ahead = np.einsum("mh,gh->mg", value, global_kernel)  # einsum: small, BLAS threads
        q = rewards + gamma * np.einsum("alm,mg->alg", local_kernel, ahead)  # cost more here
        plan[t] = q.argmax(axis=0)
        value = q.max(axis=0)
    return plan


def robot_gain(play: JointPlay, plan: np.ndarray, episodes: int, ghosts: int,
               rng: np.random.Generator) -> tuple[float, float]:
    """Mean (and standard error) of the best response's discounted return minus the
    policy's, by two ghost fleets sharing their starts and noise in the same episodes."""
    model, horizon = play.model, len(plan)
    reference, robots = model.reset(episodes, rng)
    picked = rng.integers(model.n_robots, size=(episodes, ghosts))
    playing = np.take_along_axis(robots, picked, axis=1)
    deviating = playing.copy()
    earned = np.zeros((2, episodes, ghosts))
    discount = 1.0
    for t in range(horizon):
        targets = play.targets(reference, robots, rng)
        own = play.moves(reference, playing, rng)
        best = plan[t, cell_of(deviating), cell_of(reference)[:, None]]
        earned[0] += discount * local_reward(playing, reference[:, None], MOVES[own])
        earned[1] += discount * local_reward(deviating, reference[:, None], MOVES[best])
        noise = rng.normal(0.0, LOCAL_NOISE, playing.shape)
        playing = np.clip(playing + MOVES[own] + noise, -LIMIT, LIMIT)
        deviating = np.clip(deviating + MOVES[best] + noise, -LIMIT, LIMIT)
        moves = play.moves(reference, robots, rng)
        reference, robots, _, _ = model.step(reference, robots, targets, moves, rng)
        discount *= model.gamma
    per_episode = (earned[1] - earned[0]).mean(axis=1)
    return float(per_episode.mean()), standard_error(per_episode)


def standard_error(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


# --------------------------------------------------------------------------- dispatcher
def rollout_values(play: JointPlay, reference: np.ndarray, robots: np.ndarray,
                   first: int | None, lookahead: int, seed: Sequence[int]) -> np.ndarray:
    """Discounted system reward of ``lookahead`` steps from each episode's state, the first
    target forced to ``first`` (None: the policy's); the same ``seed`` gives every branch the
    same draws."""
    rng = np.random.default_rng(list(seed))
    total, discount = np.zeros(len(reference)), 1.0
    for step in range(lookahead):
        targets = play.targets(reference, robots, rng)
        if step == 0 and first is not None:
            targets = np.full(len(reference), first)
        moves = play.moves(reference, robots, rng)
        reference, robots, earned_g, earned_l = play.model.step(reference, robots, targets,
                                                                moves, rng)
        total += discount * (earned_g + earned_l.mean(axis=1))
        discount *= play.model.gamma
    return total


def dispatcher_gain(play: JointPlay, episodes: int, times: Sequence[int], lookahead: int,
                    seed: int) -> tuple[float, float]:
    """The best single-step deviation's gain (and its standard error) over ``times``."""
    rng = np.random.default_rng([seed, 2])
    model = play.model
    reference, robots = model.reset(episodes, rng)
    best = (-math.inf, math.nan)
    for t in range(max(times) + 1):
        if t in times:
            values = [[rollout_values(play, reference, robots, first, lookahead,
                                      (seed, 3, t, replicate))
                       for first in (None, *range(BINS))] for replicate in (0, 1)]
            chosen = np.argmax(np.stack(values[0][1:]), axis=0)
            advantage = np.stack(values[1][1:])[chosen, np.arange(episodes)] - values[1][0]
            gain = model.gamma**t * advantage
            if gain.mean() > best[0]:
                best = (float(gain.mean()), standard_error(gain))
        targets = play.targets(reference, robots, rng)
        moves = play.moves(reference, robots, rng)
        reference, robots, _, _ = model.step(reference, robots, targets, moves, rng)
    return best


# --------------------------------------------------------------------------- both
def continuous_gains(model: ContinuousModel, dispatcher: object, robot: object, *,
                     episodes: int = 64, horizon: int = 100, ghosts: int = 16,
                     times: Sequence[int] = (0, 10), lookahead: int = 20,
                     seed: int = 0) -> ContinuousGains:
    """Both roles' estimated gains from the joint policy (``dispatcher``, ``robot``) over
    ``horizon`` steps (module docstring): the robots' grid best response fitted on
    ``episodes`` episodes and scored on as many fresh ones with ``ghosts`` ghost pairs each;
    the dispatcher's single-step deviations at the steps ``times``, looking ``lookahead``
    steps ahead. Same ``seed``, same result."""
    for name, value in (("episodes", episodes), ("horizon", horizon), ("ghosts", ghosts),
                        ("lookahead", lookahead)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if episodes < 2:
        raise ValueError(f"episodes must be at least 2 for a standard error, got {episodes}")
    last = horizon - lookahead  # a deviation's rollout must end within the episode
    if not times or any(not isinstance(t, int) or not 0 <= t <= last for t in times):
        raise ValueError(f"times must be steps in 0..{last} (horizon - lookahead), "
                         f"got {times!r}")
    play = JointPlay.of(model, probabilities_of(dispatcher, "dispatcher", BINS),
                     robot_table(probabilities_of(robot, "robot", len(MOVES))))
    frequencies = target_frequencies(play, episodes, horizon, np.random.default_rng([seed, 0]))
    plan = robot_best_response(frequencies, model.gamma, horizon)
    robot_mean, robot_se = robot_gain(play, plan, episodes, ghosts,
                                      np.random.default_rng([seed, 1]))
    dispatcher_mean, dispatcher_se = dispatcher_gain(play, episodes, tuple(times), lookahead,
                                                     seed)
    return ContinuousGains(dispatcher_mean, dispatcher_se, robot_mean, robot_se)
