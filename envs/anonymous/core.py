"""Anonymous games: N symmetric agents with finite actions (KFH's setting).

An agent's payoff depends on its own action and on the *counts* of the others' actions, never
on who played what. That lets one step cost a ``bincount`` and one gather: the payoff of every
action is tabulated once per round from the action histogram, then looked up per agent.

Payoff modes (KFH §4):

* ``"average"`` — each agent receives what it would get in expectation if it were matched with
  a uniformly random *other* agent (for the contribution game this equals u(x, mean of others)).
* ``"matching"`` — agents are paired at random each round and receive the realized payoff
  against their partner; with odd N the leftover agent is matched with a uniformly random other
  agent, whose own payoff comes from its own pair.

Information settings (KFH's "statistical information about others"), ``observe=``:

* ``"none"`` — the observation is a constant 1 in ``Box(0, 1, (1,), float32)``: nothing to
  learn from, in the shape every deep-RL library accepts (RLlib's and Tianshou's default
  networks refuse ``Discrete(1)``), and the same network input as the one-hot ``Discrete(1)``
  observation it replaces, so SB3 policies train exactly as before.
* ``"population"`` — the previous round's action frequencies of the whole population
  (``Box(0, 1, (n_actions,))``; all zeros at reset, when there is no previous round).
* ``"sample:k"`` — each agent sees the action frequencies of k others drawn uniformly with
  replacement (itself excluded) in the previous round.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol, cast

import numpy as np
from gymnasium import spaces

from populace.envs import render
from populace.envs.anonymous.equilibrium import exploitability
from populace.envs.core import Group, PopulationCore, Step
from populace.envs.metrics import ActionHistogram
from populace.envs.params import settle
from populace.envs.sizes import check_size
from populace.envs.validation import check_choice, check_int

PAYOFF_MODES = ("average", "matching")


def parse_observe(observe: object) -> tuple[str, int]:
    """``"none"``, ``"population"`` or ``"sample:k"`` -> (mode, k)."""
    if isinstance(observe, str) and observe.startswith("sample:"):
        k_text = observe.split(":", 1)[1]
        if not k_text.isdigit() or int(k_text) < 1:
            raise ValueError(f"observe='sample:k' needs an integer k >= 1, got {observe!r}")
        return "sample", int(k_text)
    if observe in ("none", "population"):
        return observe, 0
    raise ValueError(f"observe must be 'none', 'population' or 'sample:k', got {observe!r}")


class AnonymousParams(Protocol):
    """The parameters every anonymous game declares (see a game's Arguments table),
    read-only."""

    @property
    def n_agents(self) -> int: ...

    @property
    def payoff(self) -> str: ...

    @property
    def observe(self) -> str: ...

    @property
    def max_cycles(self) -> int: ...

    @property
    def render_mode(self) -> str | None: ...


def check_anonymous_params(params: AnonymousParams,
                           payoff_modes: tuple[str, ...] = PAYOFF_MODES) -> None:
    """Check (and normalize in place) the common parameters of an anonymous game's frozen
    params, from its ``__post_init__``."""
    settle(params, n_agents=check_size("n_agents", params.n_agents, minimum=2),
           payoff=check_choice("payoff", params.payoff, payoff_modes))
    parse_observe(params.observe)


class AnonymousGameCore(PopulationCore):
    """Array core of a symmetric anonymous game with ``n_actions`` actions.

    Subclasses provide :meth:`pair_payoffs` (``M[a, b]`` = payoff of playing ``a`` against
    ``b``) or override :meth:`reward_table` for games that are not pairwise.
    """

    agent_group = "agent"

    def __init__(self, params: AnonymousParams, *, n_actions: int) -> None:
        """``params``: the game's checked parameters (:func:`check_anonymous_params`)."""
        super().__init__(max_cycles=params.max_cycles, render_mode=params.render_mode)
        self.n_agents = params.n_agents
        self.n_actions = check_int("n_actions", n_actions, minimum=2)
        self.payoff = params.payoff
        self.observe = params.observe
        self.observe_mode, self.sample_size = parse_observe(params.observe)
        self.groups = (
            Group(self.agent_group, self.n_agents, spaces.Discrete(self.n_actions),
                  self._observation_space()),
        )
        self.state_space = spaces.Box(0.0, 1.0, shape=(self.n_actions,), dtype=np.float32)
        self.last_counts = np.zeros(self.n_actions, dtype=np.int64)
        # observe="none": one constant row shown to every agent (read-only, stride 0)
        self._blank = np.broadcast_to(np.ones(1, dtype=np.float32), (self.n_agents, 1))
        self._scratch: dict[str, np.ndarray] | None = None  # matching buffers, see _pairing
        self._counted: tuple[np.ndarray, np.ndarray] | None = None  # see step

    # ----------------------------------------------------------------- the game
    def pair_payoffs(self) -> np.ndarray:
        """``M[a, b]``: payoff of an agent playing ``a`` against a partner playing ``b``."""
        raise NotImplementedError(f"{type(self).__name__} is not a pairwise game")

    @cached_property
    def payoff_matrix(self) -> np.ndarray:
        return np.asarray(self.pair_payoffs(), dtype=np.float64)

    def reward_table(self, counts: np.ndarray) -> np.ndarray:
        """Payoff of each action when the whole population's action counts are ``counts``.

        Entry ``a`` is the payoff of an agent that played ``a`` (and is included in ``counts``),
        under the ``"average"`` payoff mode.
        """
        return cast(
            np.ndarray, (self.payoff_matrix @ counts - self._self_payoffs) / (self.n_agents - 1))

    @cached_property
    def _self_payoffs(self) -> np.ndarray:
        """``M[a, a]``: what an agent would get from matching itself (excluded in ``"average"``)."""
        return np.diag(self.payoff_matrix).copy()

    def expected_payoffs(self, frequencies: np.ndarray) -> np.ndarray:
        """Payoff of each action against others whose actions are distributed as ``frequencies``.

        Accepts ``(n_actions,)`` or a batch ``(..., n_actions)``; used by learners that are
        given population statistics and by the equilibrium solvers.
        """
        return cast(np.ndarray, np.asarray(frequencies, dtype=np.float64) @ self.payoff_matrix.T)

    def payoff_bounds(self) -> tuple[float, float]:
        """Smallest and largest payoff any agent can receive."""
        return float(self.payoff_matrix.min()), float(self.payoff_matrix.max())

    def reference_equilibrium(self) -> np.ndarray:
        """The symmetric equilibrium learners are measured against, as a distribution."""
        raise NotImplementedError

    def exploitability(self, frequencies: np.ndarray) -> float | np.ndarray:
        """A best reply's gain over the average payoff when actions are distributed as ρ."""
        return exploitability(self.expected_payoffs, frequencies)

    def default_policy(self, group: str) -> np.ndarray:
        """What agents play when a face is not told otherwise: the reference equilibrium."""
        self.group(group)  # a KeyError naming the groups if there is no such group
        return self.reference_equilibrium()

    def window_metrics(self) -> ActionHistogram:
        """Distance and exploitability of the window's action frequencies, and its modal action."""
        return ActionHistogram(self.agent_group, self.n_actions, self.distance,
                               self.exploitability)

    def learner_extras(self) -> tuple[str, ...]:
        return () if self.observe_mode == "none" else ("payoff_estimates",)

    def learner_extra(self, name: str, group: str, observations: np.ndarray | None
                      ) -> np.ndarray:
        """``"payoff_estimates"``: the expected payoff of every action given the action
        frequencies each agent observed, ``(n_agents, n_actions)``.

        A population observation is one row broadcast to every agent (stride 0): it is scored
        once and the result broadcast back (read-only).
        """
        if name == "payoff_estimates" and self.observe_mode == "none":
            raise ValueError(
                "payoff_estimates come from population statistics: create the game with "
                "observe='population' or observe='sample:k'"
            )
        if name not in self.learner_extras():
            return super().learner_extra(name, group, observations)
        frequencies = np.asarray(observations)
        if frequencies.ndim == 2 and frequencies.shape[0] > 1 and frequencies.strides[0] == 0:
            row = self.expected_payoffs(frequencies[0])
            return np.broadcast_to(row, (frequencies.shape[0], *row.shape))
        return self.expected_payoffs(frequencies)

    def distance(self, frequencies: np.ndarray) -> np.ndarray:
        """Distance of action frequencies from the reference equilibrium (total variation)."""
        f = np.asarray(frequencies, dtype=np.float64)
        return cast(np.ndarray, 0.5 * np.abs(f - self.reference_equilibrium()).sum(axis=-1))

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        self.last_counts = np.zeros(self.n_actions, dtype=np.int64)
        if self.observe_mode == "none":
            return {self.agent_group: self._blank}
        zeros = np.zeros((self.n_agents, self.n_actions), dtype=np.float32)
        return {self.agent_group: zeros}

    def step(self, actions: dict[str, np.ndarray]) -> Step:
        """:meth:`PopulationCore.step`, with the action check folded into the histogram the
        step needs anyway when ``actions`` is one int64 array of the right shape: ``bincount``
        refuses negative actions and returns more than ``n_actions`` bins for too large ones,
        and either sends the step down the full check, which names the agent at fault. So a
        valid step costs no pass over the actions for validation."""
        played = actions.get(self.agent_group) if type(actions) is dict else None
        if (type(played) is np.ndarray and len(actions) == 1 and played.dtype == np.int64
                and played.shape == (self.n_agents,) and not self.needs_reset):
            try:
                counts = np.bincount(played, minlength=self.n_actions)
            except (ValueError, MemoryError):  # a negative action, or an absurdly large one
                counts = None
            if counts is not None and len(counts) == self.n_actions:
                self._counted = (played, counts)
                try:
                    return self._advance(actions)  # running: needs_reset was just read
                finally:
                    self._counted = None
        return super().step(actions)

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        played = actions[self.agent_group]  # int64, validated by the base class
        counted = self._counted
        if counted is not None and counted[0] is played:  # counted by step() just now
            counts = counted[1]
        else:
            counts = np.bincount(played, minlength=self.n_actions)
        if self.payoff == "matching":
            rewards = self._matched_rewards(played)
        else:
            rewards = self.reward_table(counts).take(played)
        self.last_counts = counts
        return Step(
            observations={self.agent_group: self._observe(played, counts)},
            rewards={self.agent_group: rewards},
            terminated=False,
            truncated=False,
            info={"counts": counts},
        )

    def random_partners(self) -> np.ndarray:
        """A uniformly random pairing: ``partner[i]`` is the agent ``i`` is matched with.

        Draws ``np_random.permutation(N)``, pairs its first half with its second half and,
        with odd N, matches the leftover with ``np_random.integers(N - 1)`` (skipping itself).
        """
        return self._pairing().copy()

    def _matched_rewards(self, played: np.ndarray) -> np.ndarray:
        """Realized payoff of every agent against its partner in one random pairing."""
        partner = self._pairing()
        scratch = self._scratch
        assert scratch is not None  # built by _pairing
        compact = scratch["compact"]
        compact[...] = played  # the random gather below then reads N bytes instead of 8N
        cells = np.multiply(played, self.n_actions, out=scratch["cells"])
        cells += compact.take(partner)
        return cast(np.ndarray, self.payoff_matrix.ravel().take(cells))

    def _pairing(self) -> np.ndarray:
        """:meth:`random_partners` computed in reused buffers; valid until the next call.

        At large N the random pairing dominates a matching step, and fresh multi-megabyte
        temporaries cost page faults on every step; so the permutation, the partner index
        and the payoff cells live in buffers allocated once per core.
        """
        n = self.n_agents
        if self._scratch is None:
            compact = np.uint8 if self.n_actions <= 256 else np.int64
            self._scratch = {
                "identity": np.arange(n, dtype=np.int64),
                "order": np.empty(n, dtype=np.int64),
                "partner": np.empty(n, dtype=np.int64),
                "compact": np.empty(n, dtype=compact),
                "cells": np.empty(n, dtype=np.int64),
            }
        order, partner = self._scratch["order"], self._scratch["partner"]
        np.copyto(order, self._scratch["identity"])
        self.np_random.shuffle(order)  # what permutation(n) does, without a new array
        half = n // 2
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            leftover = order[-1]
            other = self.np_random.integers(n - 1)
            partner[leftover] = other + (other >= leftover)
        return partner

    def _observe(self, played: np.ndarray, counts: np.ndarray) -> np.ndarray:
        if self.observe_mode == "none":
            return self._blank
        if self.observe_mode == "population":
            frequencies = (counts / self.n_agents).astype(np.float32)
            return np.broadcast_to(frequencies, (self.n_agents, self.n_actions))
        return self._sampled_frequencies(played)

    def _sampled_frequencies(self, played: np.ndarray) -> np.ndarray:
        n, k, a = self.n_agents, self.sample_size, self.n_actions
        others = self.np_random.integers(n - 1, size=(n, k))
        others += others >= np.arange(n)[:, None]
        cells = (np.arange(n)[:, None] * a + played[others]).ravel()
        counts = np.bincount(cells, minlength=n * a).reshape(n, a)
        return (counts / k).astype(np.float32)

    def _observation_space(self) -> spaces.Space:
        if self.observe_mode == "none":
            return spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        return spaces.Box(0.0, 1.0, shape=(self.n_actions,), dtype=np.float32)

    # ----------------------------------------------------------------- views
    def state(self) -> np.ndarray:
        """Action frequencies of the last round (zeros before the first round)."""
        return (self.last_counts / self.n_agents).astype(np.float32)

    def action_labels(self) -> list[str]:
        return [str(a) for a in range(self.n_actions)]

    def render_ansi(self) -> str:
        """Last round's action histogram as text: one bar per action, share and count."""
        title = f"{self.metadata['name']}  round {self.cycle}  N={self.n_agents}"
        return render.histogram_text(self.last_counts, self.action_labels(), title,
                                     marked=self.reference_equilibrium())

    def render_rgb(self) -> np.ndarray:
        """Last round's action histogram as an RGB picture, labelled (see
        :func:`populace.envs.render.histogram_image`)."""
        return render.histogram_image(self.last_counts, marked=self.reference_equilibrium(),
                                      title=f"round {self.cycle}  N={self.n_agents}",
                                      labels=self.action_labels())

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"last_counts": self.last_counts.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        self.last_counts = np.asarray(state["last_counts"], dtype=np.int64).copy()
