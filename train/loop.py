"""The train loop: any learner population on any single-group Populace core.

Each round the learner acts for every agent, the core steps, and the learner learns from the
round (plus, if it uses population statistics, the expected payoff of every action given what
each agent observed). Rounds count across episodes: when the core truncates, it is reset
without a seed, so its own generator carries on. Every ``window`` rounds the loop scores the
actions played in that window (KFH's ρ) and records one :class:`MetricsRow`.

>>> from populace.envs.contribution_v0 import ContributionCore
>>> from populace.agents.base import Learner
>>> class Eights(Learner):  # everyone contributes 8, the equilibrium
...     def act(self, observations=None): return np.full(self.n_agents, 8)
...     def update(self, *args): pass
...     def policy(self): return np.eye(self.n_actions)[np.full(self.n_agents, 8)]
...     def _arrays(self): return {}
...     def _load_arrays(self, arrays): pass
>>> result = train(ContributionCore(n_agents=10), Eights(10, 20), rounds=500, window=100,
...                progress=False)
>>> len(result.history), result.history.final("distance"), result.rounds
(5, 0.0, 500)
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from populace.envs.core import Group, PopulationCore
from populace.envs.equilibrium import exploitability
from populace.train.callbacks import CSVLogger, as_callbacks, call_hook, write_metrics_csv
from populace.train.checkpoint import RunFolder, load_checkpoint, open_run_folder, run_config
from populace.train.progress import ProgressBar

RESUME_KEYS = ("env", "learner", "seed", "window")  # what a resumed run must share
LEARNER_METHODS = ("act", "update", "policy", "state_dict", "load_state_dict", "config")


# =========================================================================== typed results
@dataclass(frozen=True)
class MetricsRow:
    """The scores of one metrics window (the rounds since the previous row)."""

    round: int  # rounds played when the window closed
    distance: float  # the game's distance of the window's action frequencies from equilibrium
    exploitability: float  # best-reply gain against the window's action frequencies
    mean_reward: float  # reward per agent per round over the window
    modal_action: int  # the action played most often in the window
    modal_share: float  # the share of plays that were the modal action
    time: float  # training seconds so far (wall clock, summed over resumed runs)

    def as_dict(self) -> dict[str, int | float]:
        return dataclasses.asdict(self)


COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MetricsRow))
INTEGER_COLUMNS = ("round", "modal_action")


@dataclass(frozen=True, eq=False)
class History:
    """The metrics table: one numpy column per :class:`MetricsRow` field, one entry per window."""

    round: np.ndarray
    distance: np.ndarray
    exploitability: np.ndarray
    mean_reward: np.ndarray
    modal_action: np.ndarray
    modal_share: np.ndarray
    time: np.ndarray

    columns: ClassVar[tuple[str, ...]] = COLUMNS

    @classmethod
    def from_rows(cls, rows: list[MetricsRow]) -> History:
        return cls(**{name: _column([getattr(r, name) for r in rows], name) for name in COLUMNS})

    @classmethod
    def from_columns(cls, columns: dict[str, Any]) -> History:
        return cls(**{name: _column(columns[name], name) for name in COLUMNS})

    def __len__(self) -> int:
        return len(self.round)

    def column(self, name: str) -> np.ndarray:
        """One metric over all windows."""
        if name not in COLUMNS:
            raise KeyError(f"unknown metric {name!r}; columns are {COLUMNS}")
        return getattr(self, name)

    def final(self, name: str) -> int | float:
        """The last window's value of ``name``."""
        values = self.column(name)
        if len(values) == 0:
            raise ValueError("the history is empty: no metrics window was completed")
        return values[-1].item()

    def as_rows(self) -> list[MetricsRow]:
        return [
            MetricsRow(**{name: getattr(self, name)[i].item() for name in COLUMNS})
            for i in range(len(self))
        ]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMNS}


def _column(values: Any, name: str) -> np.ndarray:
    dtype = np.int64 if name in INTEGER_COLUMNS else np.float64
    return np.asarray(values, dtype=dtype).reshape(-1)


@dataclass(frozen=True)
class Timings:
    """How long this call to :func:`train` took."""

    seconds: float  # wall time of the rounds played in this call
    rounds: int  # rounds played in this call (less than the total after a resume)
    rounds_per_second: float
    agent_rounds_per_second: float
    total_seconds: float  # training time of the whole run, summed over resumed calls


@dataclass(frozen=True)
class RunContext:
    """What callbacks learn in ``on_start``."""

    core: PopulationCore
    learner: Any
    rounds: int  # the round budget of this call
    window: int
    seed: int | None
    start_round: int  # 0, or the round a resumed run continues from
    run_dir: Path | None
    history: History  # the rows recorded before this call (a resumed run's)
    columns: tuple[str, ...] = COLUMNS


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train` returns."""

    rounds: int  # rounds played in total (fewer than asked if stopped early)
    history: History
    policy: np.ndarray  # learner.policy() at the end, (n_agents, n_actions)
    frequencies: np.ndarray  # action frequencies of the last full window (of all rounds if none)
    timings: Timings
    run_dir: Path | None
    stopped_early: bool

    def summary(self) -> str:
        t = self.timings
        done = f"{self.rounds} rounds"
        if t.rounds != self.rounds:  # a resumed run
            done += f" ({t.rounds} in this call)"
        text = (
            f"{done} in {t.seconds:.2f} s ({t.rounds_per_second:,.0f} rounds/s, "
            f"{t.agent_rounds_per_second:,.0f} agent-rounds/s)"
        )
        if len(self.history):
            h = self.history
            text += (
                f"; last window: distance {h.final('distance'):.4g}, exploitability "
                f"{h.final('exploitability'):.4g}, mean reward {h.final('mean_reward'):.4g}, "
                f"{h.final('modal_share'):.0%} play {h.final('modal_action')}"
            )
        if self.stopped_early:
            text += " (stopped early)"
        if self.run_dir is not None:
            text += f"; run folder {self.run_dir}"
        return text


# =========================================================================== the loop
def train(
    env: Any,
    learner: Any,
    rounds: int,
    *,
    seed: int | None = 0,
    window: int = 250,
    callbacks: Any = None,
    out_dir: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
    overwrite: bool = False,
    keep_checkpoints: int | None = 2,
) -> TrainResult:
    """Train ``learner`` on ``env`` for ``rounds`` rounds (counted across episodes).

    Args:
        env: a :class:`PopulationCore` or any Populace face wrapping one (PettingZoo, focal,
            vector env); the learner plays the core's single group directly, so a face's own
            population policy is not used.
        learner: a :class:`populace.agents.base.Learner` sized for that group. It is used as
            given (seed it when you build it); ``seed`` seeds the game only.
        rounds: total rounds to reach, counting those of a resumed run.
        seed: seed of the core's first reset.
        window: rounds per metrics row; a trailing partial window is not recorded.
        callbacks: hooks (see :mod:`populace.train.callbacks`).
        out_dir: run folder for ``config.json``, ``metrics.csv`` and ``checkpoints/``. A final
            checkpoint is always written there, so a finished run can be extended.
        checkpoint_every: also checkpoint every this many rounds (a multiple of ``window``).
        resume: continue from the newest checkpoint in ``out_dir`` (start afresh if none).
        progress: True always shows a progress bar on stderr, False never, None only on a
            terminal once the run has lasted a second.
        overwrite: replace a previous run in ``out_dir`` instead of refusing to.
        keep_checkpoints: how many of the newest checkpoints to keep (None: all).
    """
    _check_arguments(rounds, seed, window, checkpoint_every, out_dir, resume, overwrite,
                     keep_checkpoints, progress)
    core = unwrap_core(env)
    group = controlled_group(core, learner)
    hooks = as_callbacks(callbacks)
    config = run_config(core, learner, seed=seed, window=window, rounds=rounds,
                        checkpoint_every=checkpoint_every)
    folder = open_run_folder(out_dir, config, resume=resume, overwrite=overwrite,
                             keep=keep_checkpoints, resume_keys=RESUME_KEYS)
    runner = _Runner(core, group, learner, window, folder, checkpoint_every)
    _start_or_resume(runner, folder if resume else None, seed, rounds)
    if folder is not None:
        folder.write_config(config)
        write_metrics_csv(folder.metrics_path, COLUMNS, _row_values(runner.rows))
        hooks.insert(0, CSVLogger(folder.metrics_path, append=True))
    runner.hooks, runner.progress = hooks, _progress_bar(progress, hooks)
    context = RunContext(core, learner, rounds, window, seed, runner.round,
                         folder.path if folder else None, History.from_rows(runner.rows))
    for hook in hooks:
        call_hook(hook, "on_start", context)
    stopped = runner.run_until(rounds)
    result = runner.result(stopped)
    for hook in hooks:
        call_hook(hook, "on_end", result)
    return result


def _start_or_resume(
    runner: _Runner, folder: RunFolder | None, seed: int | None, rounds: int
) -> None:
    """Continue from the newest checkpoint in ``folder`` if there is one, else start afresh."""
    latest = folder.latest() if folder is not None else None
    if latest is None:
        runner.start(seed)
        return
    played, path = latest
    if played > rounds:
        raise ValueError(
            f"rounds={rounds} is less than the {played} rounds already played by the run in "
            f"{path.parent.parent}"
        )
    runner.restore(load_checkpoint(path), seed)


def _row_values(rows: list[MetricsRow]) -> list[list[int | float]]:
    return [[getattr(row, name) for name in COLUMNS] for row in rows]


def _progress_bar(progress: bool | None, hooks: list[Any]) -> ProgressBar | None:
    """The bar to tick every round: one the caller passed, or one made from ``progress``."""
    for hook in hooks:
        if isinstance(hook, ProgressBar):
            return hook
    if progress is False or (progress is None and not _stderr_is_tty()):
        return None
    bar = ProgressBar(force=progress)
    hooks.append(bar)
    return bar


def _stderr_is_tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class _Runner:
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
        self.scores = _Scores(core, self.n_actions)

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
            with _DeferredInterrupt() as interrupt:
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

    def _play(self, rounds: int, interrupt: _DeferredInterrupt) -> bool:
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


class _Scores:
    """Turns a window's action counts into a :class:`MetricsRow` with the game's own metrics."""

    def __init__(self, core: PopulationCore, n_actions: int) -> None:
        self.n_agents = core.groups[0].size
        uniform = np.full(n_actions, 1.0 / n_actions)
        self.distance = _probe(getattr(core, "distance", None), uniform)
        self.payoffs = _probe(getattr(core, "expected_payoffs", None), uniform)

    def row(self, round_: int, counts: np.ndarray, reward_sum: float, time_: float) -> MetricsRow:
        total = int(counts.sum())
        frequencies = counts / total
        modal = int(counts.argmax())
        return MetricsRow(
            round=round_,
            distance=float(self.distance(frequencies)) if self.distance else float("nan"),
            exploitability=(
                exploitability(self.payoffs, frequencies) if self.payoffs else float("nan")
            ),
            mean_reward=reward_sum / total,
            modal_action=modal,
            modal_share=float(counts[modal] / total),
            time=time_,
        )


def _probe(method: Any, frequencies: np.ndarray) -> Any:
    """``method`` if the core implements it, else None."""
    if method is None:
        return None
    try:
        method(frequencies)
    except NotImplementedError:
        return None
    return method


def payoff_estimates(core: PopulationCore, observations: np.ndarray) -> np.ndarray:
    """Expected payoff of every action given each agent's observed action frequencies.

    A population observation is one row broadcast to every agent (stride 0): it is scored once
    and the result broadcast back (read-only), instead of repeating the same product N times.
    """
    expected = core.expected_payoffs  # type: ignore[attr-defined]
    if observations.ndim == 2 and observations.shape[0] > 1 and observations.strides[0] == 0:
        row = expected(observations[0])
        return np.broadcast_to(row, (observations.shape[0], *row.shape))
    return expected(observations)


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


class _DeferredInterrupt:
    """Hold the first Ctrl-C until the current round is complete (a second one is immediate).

    Only installed in the main thread and when SIGINT has Python's default handler.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _DeferredInterrupt:
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


# =========================================================================== checks and config
def unwrap_core(env: Any) -> PopulationCore:
    """The :class:`PopulationCore` inside ``env`` (itself, or behind ``.core``/wrappers)."""
    current = env
    for _ in range(32):
        if isinstance(current, PopulationCore):
            return current
        inner = None
        for attribute in ("core", "unwrapped", "env", "par_env", "aec_env"):
            try:
                candidate = getattr(current, attribute, None)
            except Exception:  # some wrappers raise other errors for unknown attributes
                candidate = None
            if candidate is not None and candidate is not current:
                inner = candidate
                break
        if inner is None:
            break
        current = inner
    raise TypeError(
        "env must be a PopulationCore or a Populace env (PettingZoo, focal or vector face) "
        f"with a .core attribute; got {type(env).__name__}"
    )


def controlled_group(core: PopulationCore, learner: Any) -> Group:
    """The core's single group, after checking that ``learner`` fits it."""
    missing = [m for m in LEARNER_METHODS if not callable(getattr(learner, m, None))]
    if missing:
        raise TypeError(
            f"learner must be a populace.agents.base.Learner; {type(learner).__name__} has no "
            f"{', '.join(missing)}"
        )
    name = core.metadata.get("name", type(core).__name__)
    if len(core.groups) != 1:
        raise ValueError(
            f"train() drives games with one group; {name} has {[g.name for g in core.groups]}"
        )
    group = core.groups[0]
    space = group.action_space
    if not isinstance(space, spaces.Discrete) or int(space.start) != 0:
        raise ValueError(f"train() needs Discrete(n) actions starting at 0; {name} has {space}")
    for attribute, expected in (("n_agents", group.size), ("n_actions", int(space.n))):
        value = getattr(learner, attribute, None)
        if value != expected:
            raise ValueError(
                f"learner.{attribute} is {value} but group {group.name!r} of {name} has "
                f"{expected}; build the learner for this game"
            )
    if getattr(learner, "uses_statistics", False):
        _check_statistics(core, group, name)
    return group


def _check_statistics(core: PopulationCore, group: Group, name: str) -> None:
    observation = group.observation_space
    n_actions = int(group.action_space.n)  # type: ignore[attr-defined]
    if not isinstance(observation, spaces.Box) or observation.shape != (n_actions,):
        raise ValueError(
            f"the learner uses population statistics, but {name} observes {observation}; "
            "create the game with observe='population' or observe='sample:k'"
        )
    if not callable(getattr(core, "expected_payoffs", None)):
        raise ValueError(f"the learner uses population statistics; {name} has no expected_payoffs")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_arguments(
    rounds: Any, seed: Any, window: Any, checkpoint_every: Any, out_dir: Any, resume: Any,
    overwrite: Any, keep_checkpoints: Any, progress: Any,
) -> None:
    _check_int("rounds", rounds, 1)
    _check_int("window", window, 1)
    if seed is not None:
        _check_int("seed", seed, 0)
    if keep_checkpoints is not None:
        _check_int("keep_checkpoints", keep_checkpoints, 1)
    for flag, value in (("resume", resume), ("overwrite", overwrite)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    if progress not in (None, True, False):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    if checkpoint_every is not None:
        _check_int("checkpoint_every", checkpoint_every, 1)
        if checkpoint_every % window:
            raise ValueError(
                f"checkpoint_every ({checkpoint_every}) must be a multiple of window ({window})"
            )
        if out_dir is None:
            raise ValueError("checkpoint_every needs out_dir (the folder checkpoints go to)")
    if out_dir is None and resume:
        raise ValueError("resume=True needs out_dir (the folder of the run to continue)")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; choose one")
