"""Leader and followers: a test-only game with two groups, Box actions and terminations.

| Import             | `import toy_v0` (``tests/conftest.py`` puts ``tests/`` on ``sys.path``)  |
|--------------------|--------------------------------------------------------------------------|
| Actions            | followers: `Box(-1, 1, (2,), float32)`; leader: `Discrete(3)`            |
| Parallel API       | Yes                                                                      |
| Agents             | `['follower_0', ..., 'follower_{n_agents-1}', 'leader_0']`               |
| Number of agents   | `n_agents + 1`                                                           |
| Observation shape  | followers: (4,); leader: (3,)                                            |
| Gymnasium ids      | `populace_test/Toy-v0` (registered by ``tests/conftest.py`` only)        |

It is not a registered game: it gives the conformance suite and the train-loop tests what the
registered games lack (several groups, continuous actions, episodes that terminate).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, PopulationCore, Step
from populace.envs.faces import faces
from populace.envs.metrics import WindowMetrics
from populace.envs.validation import check_int, check_number

ARENA = 8.0  # every position lies in [-ARENA, ARENA]
SPEED = 0.5  # how far a follower's action of norm 1 moves it
WIND = 0.25  # the leader drifts by up to this much along x each round
JITTER = 0.1  # standard deviation of the followers' random jitter
PICTURE = 48  # side of the rgb_array picture, in pixels


class ToyCore(PopulationCore):
    """## Description

    A leader walks along the x axis of a square arena and ``n_agents`` followers try to stay
    close to it. Each round the leader steps left, stays or steps right (and drifts by a small
    random amount); every follower moves by ``0.5 * action`` plus a little random jitter.
    Positions are clipped to the arena ``[-8, 8]²``. The episode *terminates* when the leader
    reaches the boundary ``|x| >= boundary``.

    ## Action Space

    Followers: `Box(-1, 1, (2,), float32)`, the direction and speed of the move. Leader:
    `Discrete(3)`: 0 steps left, 1 stays, 2 steps right (one unit).

    ## Observation Space

    A follower sees `Box((4,), float32)`: its own position (x, y) and its offset to the leader
    (leader x − x, −y). The leader sees `Box((3,), float32)`: its own x and the followers'
    mean position.

    ## Rewards

    A follower receives minus its distance to the leader. The leader receives minus the
    followers' mean distance, plus 1 in the round it reaches the boundary.

    ## Starting State

    The leader starts at the origin; the followers uniformly in ``[-1, 1]²`` (drawn from the
    core's generator).

    ## Episode End

    1. Termination: the leader reaches ``|x| >= boundary``.
    2. Truncation: after ``max_cycles`` rounds.

    ## Arguments

    | Parameter     | Type      | Default | Description                                        |
    |---------------|-----------|---------|----------------------------------------------------|
    | `n_agents`    | int       | 4       | number of followers (≥ 1)                          |
    | `boundary`    | float     | 3.0     | the leader's \\|x\\| that ends the episode, in (0, 8] |
    | `max_cycles`  | int       | 25      | rounds per episode                                 |
    | `render_mode` | str, None | None    | `"ansi"`/`"human"` (one line), `"rgb_array"` (arena) |

    >>> core = ToyCore(n_agents=2)
    >>> observations = core.reset(seed=0)
    >>> observations["follower"].shape, observations["leader"].shape
    ((2, 4), (1, 3))
    >>> step = core.step({"follower": np.zeros((2, 2), np.float32), "leader": np.array([2])})
    >>> bool(step.terminated), round(float(step.observations["leader"][0, 0]))
    (False, 1)

    ## Version History

    * v0: Initial version.
    """

    metadata = {
        "name": "toy_v0", "render_modes": ["rgb_array", "ansi", "human"], "render_fps": 4
    }
    population_keyword = "n_agents"
    population_group = "follower"  # the first group, so the faces' default

    def __init__(
        self,
        *,
        n_agents: int = 4,
        boundary: float = 3.0,
        max_cycles: int = 25,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_cycles=max_cycles, render_mode=render_mode)
        self.n_agents = check_int("n_agents", n_agents, minimum=1)
        self.boundary = check_number("boundary", boundary, low=0.0, high=ARENA, low_open=True)
        follower_view = np.array([ARENA, ARENA, 2 * ARENA, ARENA], dtype=np.float32)
        self.groups = (
            Group("follower", self.n_agents, spaces.Box(-1.0, 1.0, (2,), np.float32),
                  spaces.Box(-follower_view, follower_view, dtype=np.float32)),
            Group("leader", 1, spaces.Discrete(3),
                  spaces.Box(-ARENA, ARENA, (3,), np.float32)),
        )
        self.leader_x = 0.0
        self.followers = np.zeros((self.n_agents, 2))

    # ----------------------------------------------------------------- dynamics
    def _reset(self) -> dict[str, np.ndarray]:
        self.leader_x = 0.0
        self.followers = self.np_random.uniform(-1.0, 1.0, size=(self.n_agents, 2))
        return self._observe()

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        step = float(actions["leader"][0] - 1) + self.np_random.uniform(-WIND, WIND)
        self.leader_x = float(np.clip(self.leader_x + step, -ARENA, ARENA))
        jitter = self.np_random.normal(0.0, JITTER, size=self.followers.shape)
        moved = self.followers + SPEED * actions["follower"] + jitter
        self.followers = np.clip(moved, -ARENA, ARENA)
        distance = self.distances()
        terminated = abs(self.leader_x) >= self.boundary
        leader_reward = float(terminated) - distance.mean()
        return Step(
            observations=self._observe(),
            rewards={"follower": -distance, "leader": np.array([leader_reward])},
            terminated=terminated,
            truncated=False,
            info={"mean_distance": float(distance.mean())},
        )

    def distances(self) -> np.ndarray:
        """Every follower's distance to the leader."""
        return np.hypot(self.leader_x - self.followers[:, 0], self.followers[:, 1])

    def _observe(self) -> dict[str, np.ndarray]:
        offset = np.column_stack([self.leader_x - self.followers[:, 0], -self.followers[:, 1]])
        follower = np.hstack([self.followers, offset]).astype(np.float32)
        mean = self.followers.mean(axis=0)
        leader = np.array([[self.leader_x, mean[0], mean[1]]], dtype=np.float32)
        return {"follower": follower, "leader": np.clip(leader, -ARENA, ARENA)}

    # ----------------------------------------------------------------- declared hooks
    def window_metrics(self) -> ToyMetrics:
        return ToyMetrics()

    # ----------------------------------------------------------------- views
    @cached_property
    def state_space(self) -> spaces.Box:
        return spaces.Box(-ARENA, ARENA, (1 + 2 * self.n_agents,), np.float32)

    def state(self) -> np.ndarray:
        """The leader's x, then every follower's (x, y)."""
        return np.concatenate([[self.leader_x], self.followers.ravel()]).astype(np.float32)

    def render_ansi(self) -> str:
        return (
            f"{self.metadata['name']}  round {self.cycle}  leader x={self.leader_x:+.2f}  "
            f"mean follower distance {self.distances().mean():.2f}\n"
        )

    def render_rgb(self) -> np.ndarray:
        """The arena from above: followers blue, the leader red, the boundary grey."""
        image = np.full((PICTURE, PICTURE, 3), 255, dtype=np.uint8)
        image[:, pixels(np.array([-self.boundary, self.boundary]))] = (160, 160, 160)
        image[pixels(-self.followers[:, 1]), pixels(self.followers[:, 0])] = (52, 101, 164)
        image[pixels(np.zeros(1)), pixels(np.array([self.leader_x]))] = (204, 0, 0)
        return image

    # ----------------------------------------------------------------- checkpoints
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"leader_x": np.array(self.leader_x), "followers": self.followers.copy()}

    def _load_state_arrays(self, state: dict[str, Any]) -> None:
        self.leader_x = float(state["leader_x"])
        followers = np.array(state["followers"], dtype=np.float64)
        if followers.shape != (self.n_agents, 2):
            raise ValueError(
                f"checkpoint followers have shape {followers.shape}, expected ({self.n_agents}, 2)"
            )
        self.followers = followers


def pixels(coordinates: np.ndarray) -> np.ndarray:
    """Pixel indices of arena coordinates along one axis of the picture."""
    scaled = (np.asarray(coordinates) + ARENA) / (2 * ARENA) * (PICTURE - 1)
    return np.clip(np.round(scaled), 0, PICTURE - 1).astype(np.int64)


class ToyMetrics(WindowMetrics):
    """``follower_distance``: the followers' mean distance to the leader, averaged over the
    window's rounds; ``termination_rate``: the share of the window's rounds that ended an
    episode by termination."""

    columns = ("follower_distance", "termination_rate")

    def __init__(self) -> None:
        self.clear()

    def record(self, actions: Mapping[str, np.ndarray], step: Step) -> None:
        self.rounds += 1
        self.distance_sum += step.info["mean_distance"]
        self.terminations += int(step.terminated)

    def scores(self, policies: Mapping[str, Any]) -> dict[str, float | int]:
        return {
            "follower_distance": self.distance_sum / self.rounds,
            "termination_rate": self.terminations / self.rounds,
        }

    def clear(self) -> None:
        self.rounds = 0
        self.distance_sum = 0.0
        self.terminations = 0

    def state_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "distance_sum": self.distance_sum,
                "terminations": self.terminations}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rounds = int(state["rounds"])
        self.distance_sum = float(state["distance_sum"])
        self.terminations = int(state["terminations"])


raw_env, parallel_env, env, focal_env, vector_env = faces(ToyCore)
