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

from populace.envs.core import PopulationCore
from populace.envs.policies import OtherGroups
from populace.train.callbacks import call_hook
from populace.train.controllers import Controller, learned_policies, played_policies
from populace.train.progress import ProgressBar
from populace.train.results import History, MetricsRow, Timings, TrainResult
from populace.train.run_folder import RunFolder


class Runner:
    """The loop's state and the round it plays: everything a checkpoint must capture."""

    def __init__(
        self, core: PopulationCore, controllers: list[Controller], fixed: OtherGroups,
        window: int, unit: str, folder: RunFolder | None, checkpoint_every: int | None,
    ) -> None:
        self.core, self.controllers, self.fixed = core, controllers, fixed
        self.window, self.unit = window, unit
        self.folder, self.checkpoint_every = folder, checkpoint_every
        self.metrics = core.window_metrics()
        self.sizes = {g.name: g.size for g in core.groups}
        self.columns = (
            "round", "episodes", *self.metrics.columns, *(f"reward/{g}" for g in self.sizes),
            "time",
        )
        self.hooks: list[Any] = []
        self.progress_bar: ProgressBar | None = None
        self.round = 0
        self.episodes = 0
        self.window_start = 0  # in ``unit``
        self.window_rounds = 0
        self.reward_sums = dict.fromkeys(self.sizes, 0.0)
        self.observations: dict[str, Any] = {}
        self.rows: list[MetricsRow] = []
        self.elapsed_before = 0.0
        self.consistent = True  # False while a round or a window close is half done
        self.saved_round: int | None = None
        self.first_round = 0
        self.clock = time.perf_counter()

    def progress(self) -> int:
        """Rounds or episodes done, whichever the budget counts."""
        return self.round if self.unit == "rounds" else self.episodes

    # ------------------------------------------------------------------ one round
    def play_round(self) -> None:
        self.consistent = False
        core = self.core
        given: dict[str, Any] = {}
        for controller in self.controllers:
            given.update(controller.act(self.observations))
        actions = self.fixed.joint_actions(given, self.observations)
        step = core.step_checked(actions)
        for controller in self.controllers:
            controller.update(core, self.observations, actions, step)
        self.metrics.record(actions, step)
        for group, rewards in step.rewards.items():
            self.reward_sums[group] += float(rewards.sum())
        self.window_rounds += 1
        observations = step.observations
        if step.terminated or step.truncated:
            self.episodes += 1
            observations = core.reset()  # no seed: the core's generator continues
        self.observations = observations
        self.round += 1
        self.consistent = True

    def run_until(self, budget: int) -> bool:
        """Play until ``budget`` rounds or episodes; True if a callback stopped training early.

        Checkpoints (with a run folder): every ``checkpoint_every`` rounds or episodes, at the
        end, and on Ctrl-C, which is held until the current round is complete.
        """
        self.first_round, self.clock = self.round, time.perf_counter()
        try:
            with DeferredInterrupt() as interrupt:
                stopped = self._play(budget, interrupt)
        except KeyboardInterrupt:
            self._save_on_interrupt()
            raise
        finally:
            if self.progress_bar is not None:
                self.progress_bar.close()
        if self.folder is not None and self.saved_round != self.round:
            self.save()
        return stopped

    def _play(self, budget: int, interrupt: DeferredInterrupt) -> bool:
        while self.progress() < budget:
            self.play_round()
            if self.progress_bar is not None:
                self.progress_bar.update(self.progress())
            due = self.progress() - self.window_start >= self.window
            stop = due and self.close_window()
            if interrupt.requested:
                raise KeyboardInterrupt
            if stop:
                return True
        return False

    def close_window(self) -> bool:
        """Record the window's row, tell the callbacks, checkpoint if due; True to stop."""
        self.consistent = False
        values: dict[str, Any] = {"round": self.round, "episodes": self.episodes}
        values.update(self.metrics.scores(played_policies(self.controllers,
                                                          self.fixed.policies)))
        for group, size in self.sizes.items():
            values[f"reward/{group}"] = self.reward_sums[group] / (self.window_rounds * size)
        values["time"] = self.elapsed()
        row = MetricsRow({name: values[name] for name in self.columns})
        self.rows.append(row)
        self.metrics.clear()
        self.reward_sums = dict.fromkeys(self.sizes, 0.0)
        self.window_rounds = 0
        self.window_start = self.progress()
        self.consistent = True
        stop = False
        for hook in self.hooks:
            stop = bool(call_hook(hook, "on_window", row)) or stop
        if self.checkpoint_every and self.progress() % self.checkpoint_every == 0:
            self.save()
        return stop

    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self.clock)

    # ------------------------------------------------------------------ checkpoints
    def start(self, seed: int | None) -> None:
        self.observations = self.core.reset(seed=seed)

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
            "episodes": self.episodes,
            "window_start": self.window_start,
            "window_rounds": self.window_rounds,
            "reward_sums": dict(self.reward_sums),
            "metrics": self.metrics.state_dict(),
            "elapsed": self.elapsed(),
            "observations": {g: pack_observations(o) for g, o in self.observations.items()},
            "history": History.from_rows(self.rows, self.columns).as_dict(),
        }
        learners = {
            ",".join(c.groups): c.learner.state_dict() for c in self.controllers
        }
        return {"loop": loop, "core": self.core.state_dict(), "learners": learners}

    def restore(self, state: dict[str, Any], seed: int | None) -> None:
        self.core.reset(seed=seed)  # let the core build its arrays before they are overwritten
        self.core.load_state_dict(state["core"])
        for controller in self.controllers:
            controller.learner.load_state_dict(state["learners"][",".join(controller.groups)])
        loop = state["loop"]
        self.round = self.saved_round = int(loop["round"])
        self.episodes = int(loop["episodes"])
        self.window_start = int(loop["window_start"])
        self.window_rounds = int(loop["window_rounds"])
        self.reward_sums = {g: float(v) for g, v in loop["reward_sums"].items()}
        self.metrics.load_state_dict(loop["metrics"])
        self.elapsed_before = float(loop["elapsed"])
        self.observations = {g: unpack_observations(o) for g, o in loop["observations"].items()}
        self.rows = History(loop["history"]).as_rows()

    # ------------------------------------------------------------------ result
    def result(self, stopped: bool) -> TrainResult:
        seconds = time.perf_counter() - self.clock
        played = self.round - self.first_round
        rate = played / seconds if seconds > 0 else float("inf")
        agents = sum(self.sizes.values())
        timings = Timings(seconds, played, rate, rate * agents, self.elapsed())
        return TrainResult(
            rounds=self.round,
            episodes=self.episodes,
            history=History.from_rows(self.rows, self.columns),
            policies=learned_policies(self.controllers),
            timings=timings,
            run_dir=self.folder.path if self.folder else None,
            stopped_early=stopped,
            fixed_groups=tuple(self.fixed.policies),
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
