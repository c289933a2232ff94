"""The state of a training run and the rounds it plays: what a checkpoint captures and restores.

:func:`populace.train.train` checks its arguments, builds a :class:`Runner` and hands it the
callbacks; the runner plays rounds, closes metrics windows and writes checkpoints.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from typing import Any

import numpy as np

from populace.envs.core import Group, PopulationCore
from populace.train.callbacks import call_hook
from populace.train.checkpoint import RunFolder
from populace.train.progress import ProgressBar
from populace.train.results import History, MetricsRow, Timings, TrainResult
from populace.train.scores import Scores, payoff_estimates


class Runner:
    """The loop's state and the round it plays: everything a checkpoint must capture."""

    def __init__(
        self, core: PopulationCore, group: Group, learner: Any, window: int,
        folder: RunFolder | None, checkpoint_every: int | None,
    ) -> None:
        self.core, self.learner, self.window = core, learner, window
        self.name = group.name
        self.n_agents = group.size
        self.n_actions = int(group.action_space.n)  # type: ignore[attr-defined]
        self.folder, self.checkpoint_every = folder, checkpoint_every
        self.uses_statistics = bool(getattr(learner, "uses_statistics", False))
        self.hooks: list[Any] = []
        self.progress: ProgressBar | None = None
        self.round = 0
        self.window_start = 0
        self.counts = np.zeros(self.n_actions, dtype=np.int64)
        self.reward_sum = 0.0
        self.observations: np.ndarray = np.zeros(0)
        self.rows: list[MetricsRow] = []
        self.last_frequencies: np.ndarray | None = None
        self.elapsed_before = 0.0
        self.consistent = True  # False while a round or a window close is half done
        self.saved_round: int | None = None
        self.first_round = 0
        self.clock = time.perf_counter()
        self.scores = Scores(core, self.n_actions)

    # ------------------------------------------------------------------ one round
    def play_round(self) -> None:
        self.consistent = False
        core, learner, name = self.core, self.learner, self.name
        actions = learner.act(self.observations)
        step = core.step({name: actions})
        next_observations = step.observations[name]
        rewards = step.rewards[name]
        estimates = payoff_estimates(core, next_observations) if self.uses_statistics else None
        learner.update(actions, rewards, next_observations, estimates)
        counts = step.info.get("counts")
        if counts is None:
            counts = np.bincount(np.asarray(actions), minlength=self.n_actions)
        self.counts += counts
        self.reward_sum += float(rewards.sum())
        if step.terminated or step.truncated:
            next_observations = core.reset()[name]  # no seed: the core's generator continues
        self.observations = next_observations
        self.round += 1
        self.consistent = True

    def run_until(self, rounds: int) -> bool:
        """Play up to ``rounds``; True if a callback stopped training early.

        Checkpoints (with a run folder): every ``checkpoint_every`` rounds, at the end, and on
        Ctrl-C, which is held until the current round is complete.
        """
        self.first_round, self.clock = self.round, time.perf_counter()
        try:
            with DeferredInterrupt() as interrupt:
                stopped = self._play(rounds, interrupt)
        except KeyboardInterrupt:
            self._save_on_interrupt()
            raise
        finally:
            if self.progress is not None:
                self.progress.close()
        if self.folder is not None and self.saved_round != self.round:
            self.save()
        return stopped

    def _play(self, rounds: int, interrupt: DeferredInterrupt) -> bool:
        while self.round < rounds:
            self.play_round()
            if self.progress is not None:
                self.progress.update(self.round)
            stop = self.round - self.window_start >= self.window and self.close_window()
            if interrupt.requested:
                raise KeyboardInterrupt
            if stop:
                return True
        return False

    def close_window(self) -> bool:
        """Record the window's row, tell the callbacks, checkpoint if due; True to stop."""
        self.consistent = False
        row = self.scores.row(self.round, self.counts, self.reward_sum, self.elapsed())
        self.rows.append(row)
        self.last_frequencies = self.counts / self.counts.sum()
        self.counts = np.zeros_like(self.counts)
        self.reward_sum = 0.0
        self.window_start = self.round
        self.consistent = True
        stop = False
        for hook in self.hooks:
            stop = bool(call_hook(hook, "on_window", row)) or stop
        if self.checkpoint_every and self.round % self.checkpoint_every == 0:
            self.save()
        return stop

    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self.clock)

    # ------------------------------------------------------------------ checkpoints
    def start(self, seed: int | None) -> None:
        self.observations = self.core.reset(seed=seed)[self.name]

    def save(self) -> None:
        assert self.folder is not None
        self.folder.save(self.round, self.state_dict())
        self.saved_round = self.round

    def _save_on_interrupt(self) -> None:
        if self.folder is None or self.saved_round == self.round:
            return
        if not self.consistent:
            warnings.warn(
                f"interrupted in the middle of round {self.round + 1}; no checkpoint written "
                "for it (resume continues from the previous checkpoint)",
                stacklevel=3,
            )
            return
        self.save()

    def state_dict(self) -> dict[str, Any]:
        loop = {
            "round": self.round,
            "window_start": self.window_start,
            "counts": self.counts.copy(),
            "reward_sum": self.reward_sum,
            "elapsed": self.elapsed(),
            "observations": pack_observations(self.observations),
            "history": History.from_rows(self.rows).as_dict(),
            "last_frequencies": self.last_frequencies,
        }
        return {"loop": loop, "core": self.core.state_dict(), "learner": self.learner.state_dict()}

    def restore(self, state: dict[str, Any], seed: int | None) -> None:
        self.core.reset(seed=seed)  # let the core build its arrays before they are overwritten
        self.core.load_state_dict(state["core"])
        self.learner.load_state_dict(state["learner"])
        loop = state["loop"]
        self.round = self.saved_round = int(loop["round"])
        self.window_start = int(loop["window_start"])
        self.counts = np.asarray(loop["counts"], dtype=np.int64).copy()
        self.reward_sum = float(loop["reward_sum"])
        self.elapsed_before = float(loop["elapsed"])
        self.observations = unpack_observations(loop["observations"])
        self.rows = History.from_columns(loop["history"]).as_rows()
        frequencies = loop["last_frequencies"]
        self.last_frequencies = None if frequencies is None else np.asarray(frequencies)

    # ------------------------------------------------------------------ result
    def result(self, stopped: bool) -> TrainResult:
        seconds = time.perf_counter() - self.clock
        played = self.round - self.first_round
        rate = played / seconds if seconds > 0 else float("inf")
        timings = Timings(seconds, played, rate, rate * self.n_agents, self.elapsed())
        frequencies = self.last_frequencies
        if frequencies is None:
            total = self.counts.sum()
            frequencies = self.counts / total if total else np.zeros(self.n_actions)
        return TrainResult(
            rounds=self.round,
            history=History.from_rows(self.rows),
            policy=np.asarray(self.learner.policy()),
            frequencies=frequencies,
            timings=timings,
            run_dir=self.folder.path if self.folder else None,
            stopped_early=stopped,
        )


def pack_observations(observations: np.ndarray) -> dict[str, Any]:
    """Observations for a checkpoint, keeping a broadcast view as one row."""
    arr = np.asarray(observations)
    if arr.ndim >= 1 and arr.shape[0] > 1 and arr.strides[0] == 0:
        return {"broadcast": True, "row": arr[0].copy(), "size": arr.shape[0]}
    return {"broadcast": False, "array": arr.copy()}


def unpack_observations(state: dict[str, Any]) -> np.ndarray:
    if state["broadcast"]:
        row = np.asarray(state["row"])
        return np.broadcast_to(row, (int(state["size"]), *row.shape))
    return np.asarray(state["array"])


class DeferredInterrupt:
    """Hold the first Ctrl-C until the current round is complete (a second one is immediate).

    Only installed in the main thread and when SIGINT has Python's default handler.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> DeferredInterrupt:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.requested and exc_type is None:  # Ctrl-C after the last check: not lost
            raise KeyboardInterrupt
