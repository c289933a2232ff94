"""What every Populace learner provides, and the helpers they share.

A learner controls ``n_agents`` agents with ``n_actions`` discrete actions each, all at once:
``act`` returns one action per agent, ``update`` takes one round's actions and rewards for all
of them. Learners never score themselves; the train loop does that from :meth:`Learner.policy`
and the played actions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class Learner(ABC):
    """A population of independent learners, vectorized over the agents.

    Attributes:
        n_agents: number of agents controlled.
        n_actions: number of discrete actions of each agent.
        uses_statistics: if True, the train loop passes ``payoff_estimates`` to :meth:`update`:
            the game's expected payoff of every action given each agent's observation of
            population statistics (see ``observe=`` of the anonymous games).
    """

    uses_statistics: bool = False

    def __init__(self, n_agents: int, n_actions: int, *, seed: int | None = None) -> None:
        self.n_agents = n_agents
        self.n_actions = n_actions
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def act(self, observations: np.ndarray | None = None) -> np.ndarray:
        """One action per agent, shape ``(n_agents,)``, dtype int64."""

    @abstractmethod
    def update(
        self,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: np.ndarray | None = None,
        payoff_estimates: np.ndarray | None = None,
    ) -> None:
        """Learn from one round: what each agent played and received.

        ``payoff_estimates`` (only when :attr:`uses_statistics`) has shape
        ``(n_agents, n_actions)``: the expected payoff of every action given what each agent
        observed about the population after the round.
        """

    @abstractmethod
    def policy(self) -> np.ndarray:
        """The mixed strategy each agent plays now, shape ``(n_agents, n_actions)``."""

    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]:
        """The learner's array state, by name."""

    @abstractmethod
    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_arrays` returned."""

    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments (besides the seed)."""
        return {"n_agents": self.n_agents, "n_actions": self.n_actions}

    def state_dict(self) -> dict[str, Any]:
        """Arrays plus JSON-able scalars (no pickle): enough to continue exactly."""
        return {"config": self.config(), "rng": self.rng.bit_generator.state, **self._arrays()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        config = state["config"]
        if config != self.config():
            raise ValueError(
                f"{type(self).__name__}: checkpoint was saved with {config}, "
                f"this learner has {self.config()}"
            )
        self.rng.bit_generator.state = state["rng"]
        self._load_arrays({k: v for k, v in state.items() if k not in ("config", "rng")})


def sample_actions(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of a ``(n, m)`` matrix of mixed strategies (inverse CDF)."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities)) * cumulative[:, -1]
    actions = (cumulative <= draws[:, None]).sum(axis=1)
    return np.minimum(actions, probabilities.shape[1] - 1)


# --------------------------------------------------------------------- input checks
def check_round(
    n_agents: int, n_actions: int, actions: Any, rewards: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one round given to ``update``: int64 actions in range and finite float rewards.

    Errors name the first bad agent (``agent 17 played 25 ...``).
    """
    acts = np.asarray(actions)
    if acts.shape != (n_agents,):
        raise ValueError(f"actions must have shape ({n_agents},), got {acts.shape}")
    if acts.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers, got dtype {acts.dtype}")
    if n_agents and (acts.min() < 0 or acts.max() >= n_actions):
        bad = int(np.flatnonzero((acts < 0) | (acts >= n_actions))[0])
        raise ValueError(
            f"agent {bad} played {int(acts[bad])}; expected an action in [0, {n_actions - 1}]"
        )
    pay = np.asarray(rewards)
    if pay.shape != (n_agents,):
        raise ValueError(f"rewards must have shape ({n_agents},), got {pay.shape}")
    if pay.dtype.kind not in "fiu":
        raise ValueError(f"rewards must be real numbers, got dtype {pay.dtype}")
    pay = pay.astype(np.float64, copy=False)
    finite = np.isfinite(pay)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"agent {bad} received a non-finite reward {pay[bad]}")
    return acts.astype(np.int64, copy=False), pay


def check_payoff_estimates(n_agents: int, n_actions: int, estimates: Any) -> np.ndarray:
    """Validate the ``(n_agents, n_actions)`` payoff estimates a statistics learner is given."""
    if estimates is None:
        raise ValueError(
            "this learner uses population statistics: update() needs payoff_estimates of shape "
            f"({n_agents}, {n_actions})"
        )
    est = np.asarray(estimates)
    if est.shape != (n_agents, n_actions):
        raise ValueError(
            f"payoff_estimates must have shape ({n_agents}, {n_actions}), got {est.shape}"
        )
    if est.dtype.kind not in "fiu":
        raise ValueError(f"payoff_estimates must be real numbers, got dtype {est.dtype}")
    rows = est[:1] if n_agents and est.strides[0] == 0 else est  # one row broadcast to all
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"agent {bad} has non-finite payoff estimates {est[bad]}")
    return est


def checkpoint_array(
    name: str, arrays: dict[str, Any], shape: tuple[int, ...], dtype: Any
) -> np.ndarray:
    """A fresh, writable copy of ``arrays[name]`` with the expected shape, or a ValueError."""
    if name not in arrays:
        raise ValueError(f"checkpoint has no {name!r} (has {sorted(arrays)})")
    value = np.array(arrays[name], dtype=dtype, order="C")
    if value.shape != shape:
        raise ValueError(f"checkpoint {name!r} must have shape {shape}, got {value.shape}")
    return value
