"""ALTERNATING-MARL (ALT, *Learning approximate Nash equilibria in cooperative MARL via
mean-field subsampling*, §3 and App. G.1): alternating best responses of a dispatcher that sees
k sampled robots and of the robots' shared policy.

One *alternation* is

1. **G-LEARN** — with the robots' policy π_l fixed, the dispatcher's best response over
   (s_g, counts of k sampled robots) by value iteration with m Monte-Carlo samples per Bellman
   update (:func:`~populace.envs.warehouse.solvers.dispatcher_best_response`;
   ``method="rounded"`` is the authors' deterministic mean-field rounding instead);
2. **UPDATE** — the proposal is accepted only if the estimated joint value (the mean
   discounted system return of simulated episodes, common random numbers for old and new)
   improves by more than ``update_tol``;
3. **L-LEARN** — with the dispatcher fixed, the exact best response of a representative robot
   in its induced (s_g, s_l) MDP, the dispatcher's next zone estimated from the fleet's visits
   in those same simulated episodes (:func:`~populace.envs.warehouse.solvers.robot_best_response`);
4. **UPDATE** again for the robots' proposal.

Training stops after ``alternations`` alternations (T), or earlier when neither proposal is
accepted (the best-response dynamics has converged within the tolerance). Execution is online:
the dispatcher maps its observation — s_g and the counts of the k robots the game sampled this
step — to its planned action; each robot plays π_l(· | s_l, s_g).

In the train loop the learner plans with the game's model (``core.model()``), one alternation
at every episode end until it is done; :meth:`AlternatingMARL.fit` runs them all at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from populace.agents.alternating import AlternatingLearner, check_positive_ints
from populace.agents.base import checkpoint_array
from populace.envs.policies import sample_actions
from populace.envs.warehouse.count_vectors import CountVectors
from populace.envs.warehouse.model import ROBOT_ACTIONS, ZONES, WarehouseModel
from populace.envs.warehouse.sim import Rollouts, simulate, tabular_dispatcher
from populace.envs.warehouse.solvers import (
    METHODS,
    dispatcher_best_response,
    induced_kernel,
    robot_best_response,
)

MAX_STATES = 2_000_000  # (s_g, count vector) states G-LEARN agrees to enumerate


@dataclass(frozen=True)
class Alternation:
    """What one alternation did: the joint value before, each proposal's value and whether
    UPDATE accepted it."""

    value: float
    dispatcher_value: float
    dispatcher_accepted: bool
    robot_value: float
    robot_accepted: bool


class AlternatingMARL(AlternatingLearner):
    """ALTERNATING-MARL for the tabular warehouse (groups ``dispatcher`` and ``robot``).

    Args:
        model: the game's :class:`~populace.envs.warehouse.model.WarehouseModel`.
        alternations: T, the most alternations [10, as in ALT; the authors' code uses 5].
        samples: m, Monte-Carlo samples per Bellman update [30].
        iterations: value-iteration sweeps per G-LEARN [100]; tol: their stopping change [1e-6].
        method: ``"sampled"`` (ALT) or ``"rounded"`` (the authors' code).
        update_tol: the improvement UPDATE requires to accept a proposal [0.01].
        update_rollouts: simulated episodes per joint-value estimate [50];
        update_horizon: their length [100].
        seed: seeds the learner's generator (the samples, the simulations, the robots' draws).
    """

    model_type = WarehouseModel
    model_name = "a warehouse model"
    model: WarehouseModel

    def __init__(
        self,
        model: WarehouseModel,
        *,
        alternations: int = 10,
        samples: int = 30,
        iterations: int = 100,
        tol: float = 1e-6,
        method: str = "sampled",
        update_tol: float = 0.01,
        update_rollouts: int = 50,
        update_horizon: int = 100,
        seed: int | None = None,
    ) -> None:
        super().__init__(model, seed=seed)
        check_positive_ints(alternations=alternations, samples=samples, iterations=iterations,
                            update_rollouts=update_rollouts, update_horizon=update_horizon)
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        states = ZONES * count_states(model.k)
        if states > MAX_STATES:
            raise ValueError(
                f"k={model.k} gives {states} (s_g, count vector) states, more than G-LEARN "
                f"enumerates ({MAX_STATES}); choose a smaller k"
            )
        self.space = CountVectors(model.k, ZONES)
        self.alternations, self.samples, self.iterations, self.tol = (
            alternations, samples, iterations, tol)
        self.method, self.update_tol = method, update_tol
        self.update_rollouts, self.update_horizon = update_rollouts, update_horizon
        self.dispatcher = np.full((ZONES, self.space.size, ZONES), 1.0 / ZONES)
        self.robot = np.full((ZONES, ZONES, ROBOT_ACTIONS), 1.0 / ROBOT_ACTIONS)
        self.values = np.zeros((ZONES, self.space.size))  # G-LEARN's warm start
        self.history: list[Alternation] = []
        self.converged = False
        self.g_learn_seconds = 0.0  # wall time spent in G-LEARN (not checkpointed)

    # ----------------------------------------------------------------- planning
    @property
    def done(self) -> bool:
        return self.converged or len(self.history) >= self.alternations

    def fit(self) -> list[Alternation]:
        """Run the remaining alternations; return the history of all of them."""
        super().fit()
        return self.history

    def evaluate(self, dispatcher: np.ndarray, robot: np.ndarray, seed: int,
                 rollouts: int | None = None, horizon: int | None = None) -> Rollouts:
        """Simulated episodes of a joint policy (``seed`` fixes them: common random numbers)."""
        return simulate(self.model, tabular_dispatcher(dispatcher, self.space), robot,
                        rollouts=rollouts or self.update_rollouts,
                        horizon=horizon or self.update_horizon, rng=np.random.default_rng(seed))

    def alternate(self) -> Alternation:
        """One G-LEARN, UPDATE, L-LEARN, UPDATE round (see the module docstring)."""
        seed = int(self.rng.integers(2**63))  # this alternation's common random numbers
        current = self.evaluate(self.dispatcher, self.robot, seed)
        before = current.value
        started = time.perf_counter()
        plan = dispatcher_best_response(
            self.model, self.robot, self.space, self.rng, samples=self.samples,
            method=self.method, iterations=self.iterations, tol=self.tol, start=self.values)
        self.g_learn_seconds += time.perf_counter() - started
        proposal = plan.probabilities()
        proposed = self.evaluate(proposal, self.robot, seed)
        take_dispatcher = proposed.value > current.value + self.update_tol
        if take_dispatcher:
            self.dispatcher, self.values, current = proposal, plan.values, proposed
        robot_plan = robot_best_response(self.model, induced_kernel(current.visits))
        robot_run = self.evaluate(self.dispatcher, robot_plan.policy, seed)
        take_robot = robot_run.value > current.value + self.update_tol
        if take_robot:
            self.robot = robot_plan.policy
        step = Alternation(before, proposed.value, bool(take_dispatcher),
                           robot_run.value, bool(take_robot))
        self.history.append(step)
        self.converged = not (take_dispatcher or take_robot)
        return step

    # ----------------------------------------------------------------- online execution
    def act(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"dispatcher": self.dispatch(observations["dispatcher"]),
                "robot": self.move(observations["robot"])}

    def dispatch(self, observations: np.ndarray) -> np.ndarray:
        """Actions for dispatcher observations ``(m, 6)``: s_g and the sampled counts."""
        seen = np.asarray(observations)
        zones, counts = seen[:, 0].astype(np.int64), seen[:, 1:].astype(np.int64)
        wrong = counts.sum(axis=1) != self.space.k
        if wrong.any():
            bad = int(np.flatnonzero(wrong)[0])
            raise ValueError(f"dispatcher_{bad} observed counts {counts[bad].tolist()}, which "
                             f"do not sum to k={self.space.k}")
        rows = self.dispatcher[zones, self.space.rank(counts)]
        return sample_actions(rows, self.rng).astype(np.int64)

    def move(self, observations: np.ndarray) -> np.ndarray:
        """Actions for robot observations ``(n, 2)``: own zone and the dispatcher's."""
        seen = np.asarray(observations).astype(np.int64)
        return sample_actions(self.robot[seen[:, 0], seen[:, 1]], self.rng).astype(np.int64)

    def policy(self) -> dict[str, Any]:
        """``dispatcher[s_g, rank, a_g]`` (ranks of :class:`CountVectors`) and
        ``robot[s_l, s_g, a_l]``, as probabilities."""
        return {"dispatcher": self.dispatcher.copy(), "robot": self.robot.copy()}

    # ----------------------------------------------------------------- checkpoints
    def config(self) -> dict[str, Any]:
        return {"n_robots": self.model.n_robots, "k": self.model.k, "pull": self.model.pull,
                "gamma": self.model.gamma, "alternations": self.alternations,
                "samples": self.samples, "iterations": self.iterations, "tol": self.tol,
                "method": self.method, "update_tol": self.update_tol,
                "update_rollouts": self.update_rollouts, "update_horizon": self.update_horizon}

    def _arrays(self) -> dict[str, Any]:
        history = np.array([[h.value, h.dispatcher_value, h.dispatcher_accepted, h.robot_value,
                             h.robot_accepted] for h in self.history]).reshape(-1, 5)
        return {"dispatcher": self.dispatcher.copy(), "robot": self.robot.copy(),
                "values": self.values.copy(), "history": history,
                "converged": np.array(self.converged)}

    def _load_arrays(self, arrays: dict[str, Any]) -> None:
        size = self.space.size
        self.dispatcher = checkpoint_array("dispatcher", arrays, (ZONES, size, ZONES), float)
        self.robot = checkpoint_array("robot", arrays, (ZONES, ZONES, ROBOT_ACTIONS), float)
        self.values = checkpoint_array("values", arrays, (ZONES, size), float)
        rows = np.asarray(arrays["history"], dtype=float).reshape(-1, 5)
        self.history = [Alternation(float(a), float(b), bool(c), float(d), bool(e))
                        for a, b, c, d, e in rows]
        self.converged = bool(np.asarray(arrays["converged"]))


def count_states(k: int) -> int:
    """C(k + 4, 4): the count vectors of k robots over the five zones."""
    return comb(k + ZONES - 1, ZONES - 1)
