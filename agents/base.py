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
