"""Fixed behaviour for the agents a face does not hand to the user.

A *population policy* may be given as

* ``None`` — the game's documented default (its reference equilibrium where one exists);
* a probability vector over a discrete action space — every agent samples i.i.d. from it;
* a callable ``policy(observations, rng) -> actions`` over the whole batch of agents;
* a learner (anything with ``act(observations)``) controlling exactly that many agents.

All sampling draws from the core's own generator, so a seed fixes everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from populace.envs.validation import check_distribution

PolicyFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def as_policy(spec: Any, action_space: spaces.Space, n_agents: int, name: str) -> PolicyFn:
    """Turn any accepted population-policy form into ``policy(observations, rng)``."""
    if hasattr(spec, "act"):
        controlled = getattr(spec, "n_agents", n_agents)
        if controlled != n_agents:
            raise ValueError(
                f"{name}: the learner controls {controlled} agents but {n_agents} need a policy"
            )
        return lambda observations, rng: np.asarray(spec.act(observations))
    if callable(spec):
        return spec
    if isinstance(action_space, spaces.Discrete):
        probabilities = check_distribution(name, spec, int(action_space.n))
        return _mixed_strategy(probabilities, int(action_space.start))
    raise TypeError(
        f"{name} must be a callable, a learner or (for discrete actions) a probability vector, "
        f"got {type(spec).__name__}"
    )


def _mixed_strategy(probabilities: np.ndarray, start: int) -> PolicyFn:
    support = np.flatnonzero(probabilities)
    if len(support) == 1:
        action = int(support[0]) + start

        def pure(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            return np.full(len(observations), action, dtype=np.int64)

        return pure
    cumulative = np.cumsum(probabilities)
    cumulative[-1] = 1.0

    def mixed(observations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        draws = rng.random(len(observations))
        return np.searchsorted(cumulative, draws, side="right").astype(np.int64) + start

    return mixed


def role_policies_for(core: Any, learning_group: str, role_policies: Any) -> dict[str, PolicyFn]:
    """One policy per group other than ``learning_group``, from ``{group: policy spec}``."""
    given = dict(role_policies or {})
    policies = {}
    for group in core.groups:
        if group.name == learning_group:
            continue
        if group.name not in given:
            raise ValueError(f"role_policies needs a policy for group {group.name!r}")
        policies[group.name] = as_policy(
            given.pop(group.name), group.action_space, group.size,
            f"role_policies[{group.name!r}]",
        )
    if given:
        raise ValueError(f"role_policies names unknown groups {sorted(given)}")
    return policies
