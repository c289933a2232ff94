"""How far a joint warehouse policy is from a Nash equilibrium: each role's unilateral gain.

ALT's guarantee is an ε-approximate Nash equilibrium: neither the dispatcher nor a robot can
gain more than ε by changing its own policy. :func:`nash_gains` measures both gains of a
joint policy (the dispatcher's a table ``[s_g, rank, a_g]`` over the counts of the game's k
sampled robots, or any function of (s_g, sampled counts); the robots' a table
``[s_l, s_g, a_l]``) in the n-robot game, by simulated episodes
(:mod:`populace.envs.warehouse.sim`) with common random numbers:

* **robot** — the exact best response of one robot in its induced (s_g, s_l) MDP, the
  dispatcher's next zone estimated from the fleet's visits in the policy's own episodes
  (:func:`~populace.envs.warehouse.solvers.robot_best_response`), scored against π_l by two
  ghost fleets riding the same episodes. Exact in that MDP; a documented estimate in the game,
  where the dispatcher's next zone also depends on the fleet a robot cannot see, and where one
  deviating robot is assumed not to change the fleet (it is one of n).
* **dispatcher** — its best response among policies of (s_g, sampled counts): value iteration
  in ALT's surrogate system of the k sampled robots with ``samples`` Monte-Carlo draws per
  Bellman update (more than G-LEARN's m, so that it is near exact), played in the n-robot game
  against π_l. An estimate: the surrogate treats the k sampled robots as the whole fleet, which
  is what makes the dispatcher's problem an MDP at all (with k < n its true problem is
  partially observed; an exact solution over all count vectors of n robots is out of reach for
  n beyond a handful).

ε is the larger gain, floored at 0. Both gains are differences of two simulated means, so they
carry Monte-Carlo noise of a few hundredths at the defaults; a gain slightly below 0 means no
improvement was found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ROBOT_ACTIONS, ZONES, WarehouseModel
from populace.envs.warehouse.sim import DispatcherFn, simulate, tabular_dispatcher
from populace.envs.warehouse.solvers import (
    dispatcher_best_response,
    induced_kernel,
    robot_best_response,
)


@dataclass(frozen=True)
class NashGains:
    """The joint policy's value and each role's unilateral gain (see the module docstring)."""

    value: float
    dispatcher: float
    robot: float

    @property
    def epsilon(self) -> float:
        return max(self.dispatcher, self.robot, 0.0)


def check_table(name: str, table: np.ndarray, shape: tuple[int, ...], k: int) -> None:
    """Raise a ValueError unless ``table`` is a probability table of ``shape``."""
    if np.shape(table) != shape:
        raise ValueError(f"the {name} policy must have shape {shape} for k={k}, "
                         f"got {np.shape(table)}")
    if not np.allclose(np.sum(table, axis=-1), 1.0) or np.min(table) < 0:
        raise ValueError(f"the {name} policy's rows must be probability vectors")


def nash_gains(model: WarehouseModel, dispatcher: np.ndarray | DispatcherFn,
               robot: np.ndarray, *, rollouts: int = 200, horizon: int = 100,
               samples: int = 100, method: str = "sampled", seed: int = 0) -> NashGains:
    """The unilateral gains of the joint policy (``dispatcher``, ``robot``) over ``horizon``
    steps, from ``rollouts`` simulated episodes seeded by ``seed``.

    ``dispatcher`` is a table ``[s_g, rank, a_g]`` or any
    :data:`~populace.envs.warehouse.sim.DispatcherFn` (the simulation only asks it at the
    states its episodes visit); ``robot`` is a table ``[s_l, s_g, a_l]``. ``samples`` and
    ``method`` are the dispatcher best response's (``"rounded"``: the authors' deterministic
    operator, for k where the sampled one is too slow)."""
    space = CountVectors(model.k, ZONES)
    check_table("robot", robot, (ZONES, ZONES, ROBOT_ACTIONS), model.k)
    if callable(dispatcher):
        playing = dispatcher
    else:
        check_table("dispatcher", dispatcher, (ZONES, space.size, ZONES), model.k)
        playing = tabular_dispatcher(dispatcher, space)

    base = simulate(model, playing, robot, rollouts=rollouts, horizon=horizon,
                    rng=np.random.default_rng(seed))
    deviation = robot_best_response(model, induced_kernel(base.visits)).policy
    ghosts = simulate(model, playing, robot, rollouts=rollouts, horizon=horizon,
                      rng=np.random.default_rng(seed), ghosts=(robot, deviation))
    robot_gain = float((ghosts.ghost_returns[1] - ghosts.ghost_returns[0]).mean())
    plan = dispatcher_best_response(model, robot, space, np.random.default_rng(seed),
                                    samples=samples, method=method)
    better = simulate(model, tabular_dispatcher(plan.probabilities(), space), robot,
                      rollouts=rollouts, horizon=horizon, rng=np.random.default_rng(seed))
    return NashGains(base.value, better.value - base.value, robot_gain)
