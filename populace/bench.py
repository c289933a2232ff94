"""Benchmarks for SPEC §6: the array core against a bare numpy kernel, the PettingZoo dict face
against the core, learners running on the core, and PettingZoo peers.

What is compared is measured side by side in one process, the samples of the two sides
interleaved, so that the ratios hold up on a noisy machine better than absolute numbers do.

* :func:`measure_core` — agent-steps/s of ``core.step({"agent": actions})`` for
  ``contribution_v0`` (``observe="none"``, pre-generated actions reused every round) and of bare
  numpy kernels doing the same arithmetic (the fastest is the baseline); every kernel's rewards
  are checked against the core's before timing.
* :func:`measure_dict` — the same core stepped through ``contribution_v0.parallel_env`` (dicts
  in and out) and directly: overhead per agent-step in µs = (dict time − core time) / N.
* :func:`measure_learner` — rounds of ``act`` → ``core.step`` → ``update``: agent-rounds/s
  over a contiguous run (so rare expensive rounds such as stage ends count in proportion),
  and the learner's memory per agent per action.
* :func:`measure_breakdown` — where the time of one core step goes.
* :func:`measure_peer` — time per agent-step of a PettingZoo env with a similar number of
  agents (needs that env's extras, e.g. pygame and scipy; skipped with the reason otherwise).

Timing: ``time.perf_counter``, warm-up calls, an inner loop long enough that each sample lasts
at least ``min_sample_s``, and the median over ``samples`` samples (the best sample is kept
too). :func:`run` pins the process to one CPU (SPEC: "on one core") unless ``--no-pin``.

    python benchmarks/run.py --quick                  # a few seconds
    python benchmarks/run.py --out benchmarks/results # the full run, saved as .md and .json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from populace.envs import contribution_v0

N_ACTIONS = contribution_v0.N_ACTIONS
FOREVER = 10**9  # max_cycles large enough that no benchmark truncates

# SPEC §6 targets
CORE_TARGET = {"average": 1e8, "matching": 2e7}  # agent-steps/s at N = 10**6
KERNEL_RATIO_TARGET = 3.0  # the core within 3x of the bare kernel
DICT_OVERHEAD_TARGET_US = 1.0  # per agent-step at N = 1000
LEARNER_TARGET = 1e7  # agent-rounds/s at N = 10**5
MEMORY_TARGET = 200.0  # bytes per agent per action

# KFH §4 stage-learner settings per payoff mode
STAGE_SETTINGS = {
    "average": {"epsilon": 0.05, "tau": 250},
    "matching": {"epsilon": 0.01, "tau": 2000},
}

Kernel = Callable[[], np.ndarray]


# ====================================================================== timing
@dataclass(frozen=True)
class Timing:
    """How long to measure: ``samples`` samples of at least ``min_sample_s`` seconds each."""

    samples: int = 15
    min_sample_s: float = 0.05
    warmup: int = 2
    learner_run_s: float = 3.0  # length of the contiguous run of a learner measurement

    @classmethod
    def quick(cls) -> Timing:
        return cls(samples=5, min_sample_s=0.01, warmup=1, learner_run_s=0.3)


@dataclass(frozen=True)
class Measured:
    """Seconds per call: the median sample and the best (least disturbed) sample."""

    median: float
    best: float


def _loops_for(fn: Callable[[], Any], min_sample_s: float) -> int:
    """Calls of ``fn`` per sample so that a sample lasts at least ``min_sample_s``."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample_s:
            return loops
        loops = max(loops * 2, int(loops * min_sample_s / max(elapsed, 1e-9) * 1.2))


def time_interleaved(fns: dict[str, Callable[[], Any]], timing: Timing) -> dict[str, Measured]:
    """Seconds per call of each function; the samples alternate between the functions."""
    for fn in fns.values():
        for _ in range(timing.warmup):
            fn()
    loops = {name: _loops_for(fn, timing.min_sample_s) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(timing.samples):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return {name: Measured(statistics.median(v), min(v)) for name, v in samples.items()}


# ====================================================================== result rows
@dataclass
class CoreRow:
    """``core.step`` against the fastest bare numpy kernel computing the same rewards."""

    payoff: str
    n_agents: int
    core_s: float  # seconds per step, median sample
    kernel_s: float
    kernel: str  # which bare kernel was fastest, and so is the baseline
    core_best_s: float
    kernel_best_s: float
    core_rate: float = 0.0  # agent-steps/s, from the medians
    kernel_rate: float = 0.0
    ratio: float = 0.0  # core time / kernel time, medians
    ratio_best: float = 0.0  # the same from the best samples
    target_rate: float | None = None
    meets_target: bool | None = None

    def __post_init__(self) -> None:
        self.core_rate = self.n_agents / self.core_s
        self.kernel_rate = self.n_agents / self.kernel_s
        self.ratio = self.core_s / self.kernel_s
        self.ratio_best = self.core_best_s / self.kernel_best_s
        if self.n_agents >= 10**6:
            self.target_rate = CORE_TARGET[self.payoff]
            self.meets_target = (
                self.core_rate >= self.target_rate and self.ratio <= KERNEL_RATIO_TARGET
            )


@dataclass
class DictRow:
    """The PettingZoo dict face against the core it wraps."""

    payoff: str
    n_agents: int
    action_type: str  # what the action dict holds: "int" (Python) or "np.int64"
    dict_s: float  # seconds per step, median sample
    core_s: float
    dict_best_s: float
    core_best_s: float
    overhead_us: float = 0.0  # per agent-step, from the medians
    overhead_best_us: float = 0.0  # per agent-step, from the best samples
    ratio: float = 0.0
    meets_target: bool | None = None

    def __post_init__(self) -> None:
        self.overhead_us = (self.dict_s - self.core_s) / self.n_agents * 1e6
        self.overhead_best_us = (self.dict_best_s - self.core_best_s) / self.n_agents * 1e6
        self.ratio = self.dict_s / self.core_s
        if self.n_agents == 1000:
            self.meets_target = self.overhead_us <= DICT_OVERHEAD_TARGET_US


@dataclass
class LearnerRow:
    """A learner playing the core: act -> step -> update."""

    learner: str
    payoff: str
    n_agents: int
    rounds: int
    total_s: float
    env_s: float  # of which inside core.step
    settings: dict[str, Any] = field(default_factory=dict)
    state_bytes_per_agent_action: float = 0.0  # the arrays a checkpoint holds
    resident_bytes_per_agent_action: float = 0.0  # every array the learner keeps, scratch too
    rate: float = 0.0  # agent-rounds/s
    env_share: float = 0.0
    meets_target: bool | None = None

    def __post_init__(self) -> None:
        self.rate = self.n_agents * self.rounds / self.total_s
        self.env_share = self.env_s / self.total_s
        if self.n_agents >= 10**5:
            self.meets_target = (
                self.rate >= LEARNER_TARGET
                and self.state_bytes_per_agent_action <= MEMORY_TARGET
            )


@dataclass
class PhaseRow:
    """One phase of a core step (:func:`measure_breakdown`); best samples."""

    payoff: str
    n_agents: int
    phase: str
    seconds: float
    share: float  # of the whole step


@dataclass
class PeerRow:
    """A PettingZoo env (not ours) with about as many agents, stepped with fixed actions."""

    env: str
    n_agents: int
    step_s: float
    us_per_agent_step: float = 0.0
    note: str = ""

    def __post_init__(self) -> None:
        self.us_per_agent_step = self.step_s / self.n_agents * 1e6


@dataclass
class Skipped:
    what: str
    reason: str


# ====================================================================== bare kernels
def average_kernels(core: Any, actions: np.ndarray) -> dict[str, Kernel]:
    """Bare numpy versions of the ``"average"`` rewards (no validation, no Step)."""
    n, m = core.n_agents, core.n_actions
    matrix = core.payoff_matrix
    diagonal = np.diag(matrix).copy()
    cost = contribution_v0.contribution_cost(m, core.cost_offset)

    def histogram_table_gather() -> np.ndarray:
        counts = np.bincount(actions, minlength=m)
        return ((matrix @ counts - diagonal) / (n - 1)).take(actions)

    def direct_formula() -> np.ndarray:  # u = 2·x·(S − x)/(N − 1) − c[x]
        others = actions.sum() - actions
        return actions * (others * (2.0 / (n - 1))) - cost.take(actions)

    return {"bincount+table+gather": histogram_table_gather, "formula": direct_formula}


def matching_kernels(core: Any, actions: np.ndarray, seed: int) -> dict[str, Kernel]:
    """Bare numpy versions of the ``"matching"`` rewards: permutation pairing + gather.

    Each kernel has its own generator and draws exactly what the core draws
    (``permutation(N)``, then ``integers(N - 1)`` for odd N), so with the same seed it pairs
    the same agents; :func:`measure_core` checks that the rewards are identical.
    """
    n, m = core.n_agents, core.n_actions
    flat = core.payoff_matrix.ravel()
    half = n // 2
    rngs = {name: np.random.default_rng(seed) for name in ("partner", "sort", "buffers")}

    def leftover(rng: np.random.Generator, order: np.ndarray) -> tuple[int, int]:
        last = int(order[-1])
        other = int(rng.integers(n - 1))
        return last, other + (other >= last)

    def partner_index() -> np.ndarray:
        rng = rngs["partner"]
        order = rng.permutation(n)
        partner = np.empty(n, dtype=np.int64)
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            last, other = leftover(rng, order)
            partner[last] = other
        return flat.take(actions * m + actions.take(partner))

    def sort_by_pair() -> np.ndarray:
        rng = rngs["sort"]
        order = rng.permutation(n)
        ordered = actions.take(order)
        first, second = ordered[:half], ordered[half : 2 * half]
        rewards = np.empty(n)
        rewards[order[:half]] = flat.take(first * m + second)
        rewards[order[half : 2 * half]] = flat.take(second * m + first)
        if n % 2:
            last, other = leftover(rng, order)
            rewards[last] = flat[actions[last] * m + actions[other]]
        return rewards

    identity = np.arange(n)
    order, partner, cells = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    compact = np.empty(n, np.uint8)

    def reused_buffers() -> np.ndarray:  # partner index with no per-call allocation but the output
        rng = rngs["buffers"]
        np.copyto(order, identity)
        rng.shuffle(order)  # = rng.permutation(n)
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            last, other = leftover(rng, order)
            partner[last] = other
        compact[...] = actions
        np.multiply(actions, m, out=cells)
        np.add(cells, compact.take(partner), out=cells)
        return flat.take(cells)

    return {"partner index": partner_index, "sort by pair": sort_by_pair,
            "partner index, reused buffers": reused_buffers}


# ====================================================================== measurements
def _actions(n_agents: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(N_ACTIONS, size=n_agents)


def _core(n_agents: int, payoff: str, seed: int) -> contribution_v0.ContributionCore:
    core = contribution_v0.ContributionCore(
        n_agents=n_agents, payoff=payoff, observe="none", max_cycles=FOREVER
    )
    core.reset(seed=seed)
    return core


def _stepper(core: Any, joint: dict[str, np.ndarray]) -> Callable[[], None]:
    def step() -> None:
        if core.step(joint).truncated:
            core.reset()

    return step


def measure_core(payoff: str, n_agents: int, timing: Timing, *, seed: int = 0) -> CoreRow:
    """``core.step`` against the fastest bare numpy kernel for the same rewards."""
    actions = _actions(n_agents, seed)
    core = _core(n_agents, payoff, seed)
    if payoff == "average":
        kernels = average_kernels(core, actions)
    else:
        kernels = matching_kernels(core, actions, seed)
    expected = core.step({"agent": actions}).rewards["agent"]
    for name, kernel in kernels.items():  # the kernels compute what the core computes
        got = kernel()
        same = np.array_equal(got, expected) if payoff == "matching" else np.allclose(got, expected)
        if not same:
            raise AssertionError(f"bare kernel {name!r} disagrees with the core ({payoff})")
    times = time_interleaved({"core": _stepper(core, {"agent": actions}), **kernels}, timing)
    fastest = min(kernels, key=lambda name: times[name].median)
    return CoreRow(payoff, n_agents, times["core"].median, times[fastest].median, fastest,
                   times["core"].best, times[fastest].best)


def measure_dict(
    payoff: str, n_agents: int, timing: Timing, *, seed: int = 0, action_type: str = "int"
) -> DictRow:
    """``parallel_env.step(dict)`` against ``core.step(array)`` on the same core."""
    env = contribution_v0.parallel_env(n_agents=n_agents, payoff=payoff, max_cycles=FOREVER)
    env.reset(seed=seed)
    actions = _actions(n_agents, seed)
    values = actions.tolist() if action_type == "int" else list(actions)  # np.int64 scalars
    by_agent = dict(zip(env.possible_agents, values, strict=True))

    def dict_step() -> None:
        env.step(by_agent)
        if not env.agents:
            env.reset()

    times = time_interleaved(
        {"dict": dict_step, "core": _stepper(env.core, {"agent": actions})}, timing
    )
    d, c = times["dict"], times["core"]
    return DictRow(payoff, n_agents, action_type, d.median, c.median, d.best, c.best)


def make_bench_learner(name: str, core: Any, seed: int) -> tuple[Any, dict[str, Any]]:
    """The learner ``name`` ("stage" or "regret") for ``core``, with KFH's settings."""
    from populace.agents import make_learner

    if name == "stage":
        settings = dict(STAGE_SETTINGS[core.payoff])
        return make_learner("stage", core, seed=seed, **settings), settings
    if name == "regret":
        learner = make_learner("regret", core, seed=seed)  # mu from the payoff bounds
        return learner, {"mu": learner.mu, "delta": learner.delta, "gamma": learner.gamma}
    raise ValueError(f"learner must be 'stage' or 'regret', got {name!r}")


def learner_bytes(learner: Any) -> tuple[int, int]:
    """(bytes of the learner's checkpoint arrays, bytes of every array it holds)."""
    state = sum(v.nbytes for v in learner.state_dict().values() if isinstance(v, np.ndarray))
    resident = sum(v.nbytes for v in vars(learner).values() if isinstance(v, np.ndarray))
    return state, resident


def measure_learner(
    name: str, payoff: str, n_agents: int, timing: Timing, *, seed: int = 0,
    whole_stage: bool = False,
) -> LearnerRow:
    """Agent-rounds/s of act -> core.step -> update over a contiguous run of rounds.

    With ``whole_stage`` the run lasts at least one stage (``tau`` rounds) of a stage learner,
    so that the stage-end update is counted in proportion.
    """
    core = _core(n_agents, payoff, seed)
    learner, settings = make_bench_learner(name, core, seed)
    env_time = 0.0

    def play_round() -> None:
        nonlocal env_time
        actions = learner.act()
        start = time.perf_counter()
        result = core.step({"agent": actions})
        env_time += time.perf_counter() - start
        learner.update(actions, result.rewards["agent"], result.observations["agent"])
        if result.truncated:
            core.reset()

    for _ in range(max(timing.warmup, 3)):
        play_round()
    min_rounds = settings.get("tau", 0) + 1 if whole_stage else 5
    rounds = 0
    env_time = 0.0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < timing.learner_run_s or rounds < min_rounds:
        play_round()
        rounds += 1
    state, resident = learner_bytes(learner)
    per = n_agents * core.n_actions
    return LearnerRow(
        name, payoff, n_agents, rounds, elapsed, env_time, settings, state / per, resident / per
    )


def measure_breakdown(
    payoff: str, n_agents: int, timing: Timing, *, seed: int = 0
) -> list[PhaseRow]:
    """Time of each phase of ``core.step``, each re-run on its own; the rest is overhead.

    Uses the best samples: a sum of separately timed medians carries all their noise.
    """
    core = _core(n_agents, payoff, seed)
    actions = _actions(n_agents, seed)
    joint = {"agent": actions}
    counts = np.bincount(actions, minlength=core.n_actions)
    phases: dict[str, Callable[[], Any]] = {
        "validate actions": lambda: core.check_actions(joint),
        "bincount": lambda: np.bincount(actions, minlength=core.n_actions),
    }
    within: dict[str, Callable[[], Any]] = {}  # parts of a phase above, not added to the sum
    if payoff == "average":
        phases["reward table + gather"] = lambda: core.reward_table(counts).take(actions)
    elif hasattr(core, "_matched_rewards"):
        phases["matched rewards"] = lambda: core._matched_rewards(actions)
        within["  of which random pairing"] = core._pairing
        identity, order = np.arange(n_agents), np.empty(n_agents, dtype=np.int64)

        def permutation() -> None:  # as the core draws it: into a reused buffer
            np.copyto(order, identity)
            core.np_random.shuffle(order)

        within["  of which the permutation"] = permutation
    else:
        phases["random pairing"] = core.random_partners
    measured = time_interleaved({"whole step": _stepper(core, joint), **phases, **within}, timing)
    times = {name: m.best for name, m in measured.items()}
    whole = times.pop("whole step")
    rest = whole - sum(times[name] for name in phases)
    rows = [PhaseRow(payoff, n_agents, name, t, t / whole) for name, t in times.items()]
    rows.append(PhaseRow(payoff, n_agents, "rest (Step, dicts, bookkeeping)", rest, rest / whole))
    rows.append(PhaseRow(payoff, n_agents, "whole step", whole, 1.0))
    return rows


def measure_peer(name: str, n_agents: int, timing: Timing, *, seed: int = 0) -> PeerRow | Skipped:
    """A PettingZoo env with about ``n_agents`` agents, stepped with action 0 for everyone."""
    try:
        if name == "sisl/pursuit_v5":
            from pettingzoo.sisl import pursuit_v5

            side = max(16, int(3 * n_agents**0.5))
            env = pursuit_v5.parallel_env(
                n_pursuers=n_agents, n_evaders=n_agents, x_size=side, y_size=side,
                max_cycles=FOREVER,
            )
            note = f"{side}x{side} grid, {n_agents} evaders; pettingzoo {_version('pettingzoo')}"
        elif name == "mpe2/simple_spread_v3":
            from mpe2 import simple_spread_v3

            env = simple_spread_v3.parallel_env(N=n_agents, max_cycles=FOREVER)
            note = f"{n_agents} landmarks, discrete actions; mpe2 {_version('mpe2')}"
        else:
            raise ValueError(f"unknown peer {name!r}")
    except ImportError as error:  # pygame, scipy and mpe2 are not populace dependencies
        return Skipped(f"peer {name} N={n_agents}", f"not installed: {error}")
    env.reset(seed=seed)
    actions = {agent: 0 for agent in env.agents}

    def step() -> None:
        env.step(actions)
        if not env.agents:
            env.reset()

    few = Timing(samples=max(3, timing.samples // 3), min_sample_s=0.0, warmup=1)
    seconds = time_interleaved({"peer": step}, few)["peer"].median
    return PeerRow(name, len(env.possible_agents), seconds, note=note)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


# ====================================================================== the suite
SECTIONS = ("core", "dict", "learners", "breakdown", "peers")


@dataclass
class Plan:
    core_sizes: tuple[int, ...]
    dict_sizes: tuple[int, ...]
    learner_sizes: tuple[int, ...]
    breakdown_size: int
    peers: tuple[tuple[str, int], ...]
    timing: Timing
    whole_stage: bool = False  # stage learners run at least one whole stage

    @classmethod
    def full(cls, dict_max: int = 10**5) -> Plan:
        dict_sizes = tuple(n for n in (10, 100, 10**3, 10**5, 10**6) if n <= dict_max)
        peers = (("sisl/pursuit_v5", 10), ("sisl/pursuit_v5", 100),
                 ("mpe2/simple_spread_v3", 10), ("mpe2/simple_spread_v3", 100))
        return cls((10, 10**3, 10**5, 10**6), dict_sizes, (10**3, 10**5), 10**6, peers,
                   Timing(), whole_stage=True)

    @classmethod
    def quick(cls) -> Plan:
        return cls((10, 10**3, 10**5), (10, 10**3), (10**3,), 10**5,
                   (("sisl/pursuit_v5", 10),), Timing.quick())


def run_suite(
    plan: Plan, sections: set[str], *, seed: int = 0, log: Callable[[str], None] = print
) -> dict[str, list]:
    """Run the chosen sections of ``plan``; the rows by section (and what was skipped)."""
    results: dict[str, list] = {name: [] for name in (*SECTIONS, "skipped")}
    t = plan.timing
    if "core" in sections:
        for payoff in ("average", "matching"):
            for n in plan.core_sizes:
                log(f"core {payoff} N={n}")
                results["core"].append(measure_core(payoff, n, t, seed=seed))
    if "dict" in sections:
        for n in plan.dict_sizes:
            log(f"dict face N={n}")
            results["dict"].append(measure_dict("average", n, t, seed=seed))
            if n == 1000:
                results["dict"].append(measure_dict("matching", n, t, seed=seed))
                results["dict"].append(
                    measure_dict("average", n, t, seed=seed, action_type="np.int64")
                )
    if "learners" in sections:
        for name in ("stage", "regret"):
            for payoff in ("average", "matching"):
                for n in plan.learner_sizes:
                    log(f"learner {name} {payoff} N={n}")
                    try:
                        results["learners"].append(measure_learner(
                            name, payoff, n, t, seed=seed, whole_stage=plan.whole_stage
                        ))
                    except ImportError as error:
                        results["skipped"].append(Skipped(f"learner {name}", str(error)))
    if "breakdown" in sections:
        for payoff in ("average", "matching"):
            log(f"breakdown {payoff} N={plan.breakdown_size}")
            results["breakdown"] += measure_breakdown(payoff, plan.breakdown_size, t, seed=seed)
    if "peers" in sections:
        for name, n in plan.peers:
            log(f"peer {name} N={n}")
            row = measure_peer(name, n, t, seed=seed)
            results["skipped" if isinstance(row, Skipped) else "peers"].append(row)
    return results


# ====================================================================== report
def _si(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e3 else f"{x:.2e}"


def _ok(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "**NO**")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows] + [""]


def _core_table(rows: list[CoreRow]) -> list[str]:
    header = ["payoff", "N", "core agent-steps/s", "(best sample)", "kernel agent-steps/s",
              "core/kernel time", "(best samples)", "baseline kernel", "core µs/step",
              "SPEC at N=10⁶"]

    def spec(r: CoreRow) -> str:
        if r.meets_target is None:
            return ""
        return f"≥{_si(r.target_rate or 0)}/s, ≤3×: {_ok(r.meets_target)}"

    return _table(header, [
        [r.payoff, r.n_agents, _si(r.core_rate), _si(r.n_agents / r.core_best_s),
         _si(r.kernel_rate), f"{r.ratio:.2f}",
         f"{r.ratio_best:.2f}", r.kernel, f"{r.core_s * 1e6:.1f}", spec(r)] for r in rows
    ])


def _dict_table(rows: list[DictRow]) -> list[str]:
    header = ["payoff", "N", "actions", "dict ms/step", "core ms/step", "dict/core",
              "overhead µs/agent-step", "(best samples)", "SPEC ≤1 µs at N=1000"]
    return _table(header, [
        [r.payoff, r.n_agents, r.action_type, f"{r.dict_s * 1e3:.3f}", f"{r.core_s * 1e3:.3f}",
         f"{r.ratio:.1f}", f"{r.overhead_us:.3f}", f"{r.overhead_best_us:.3f}",
         _ok(r.meets_target)] for r in rows
    ])


def _peer_table(rows: list[PeerRow], ours: dict[int, DictRow]) -> list[str]:
    header = ["env", "agents", "ms/step", "µs/agent-step", "ours: dict face µs/agent-step",
              "note"]

    def mine(n: int) -> str:
        return f"{ours[n].dict_s / n * 1e6:.3f}" if n in ours else ""

    return _table(header, [
        [r.env, r.n_agents, f"{r.step_s * 1e3:.2f}", f"{r.us_per_agent_step:.2f}",
         mine(r.n_agents), r.note] for r in rows
    ])


def _learner_table(rows: list[LearnerRow]) -> list[str]:
    header = ["learner", "payoff", "N", "agent-rounds/s", "env share", "rounds",
              "state B/agent/action", "resident B/agent/action", "settings", "SPEC at N=10⁵"]

    def settings(r: LearnerRow) -> str:
        return ", ".join(
            f"{k}={_si(v) if isinstance(v, float) else v}" for k, v in r.settings.items()
        )

    def spec(r: LearnerRow) -> str:
        return "" if r.meets_target is None else f"≥10⁷/s, ≤200 B: {_ok(r.meets_target)}"

    return _table(header, [
        [r.learner, r.payoff, r.n_agents, _si(r.rate), f"{r.env_share:.0%}", r.rounds,
         f"{r.state_bytes_per_agent_action:.1f}", f"{r.resident_bytes_per_agent_action:.1f}",
         settings(r), spec(r)] for r in rows
    ])


def _phase_table(rows: list[PhaseRow]) -> list[str]:
    return _table(["payoff", "N", "phase", "ms (best sample)", "share of step"], [
        [r.payoff, r.n_agents, r.phase, f"{r.seconds * 1e3:.3f}", f"{r.share:.0%}"] for r in rows
    ])


def to_markdown(results: dict[str, list], meta: dict[str, Any]) -> str:
    """The results as markdown tables."""
    pinned = f"pinned to CPU {meta['cpus']}" if meta["cpus"] else "not pinned"
    out = [f"# populace bench ({meta['mode']}, {meta['date']})", "",
           f"{meta['machine']} (1-min load {meta['load_at_start']} at start); "
           f"Python {meta['python']}, numpy {meta['numpy']}; {pinned}; "
           f"{meta['timing']['samples']} samples of ≥{meta['timing']['min_sample_s']} s, "
           "medians unless marked.", ""]
    ours = {r.n_agents: r for r in results["dict"]
            if r.payoff == "average" and r.action_type == "int"}
    sections = [
        ("core", "Array core vs bare numpy kernel (contribution_v0, observe='none')",
         _core_table),
        ("dict", "PettingZoo dict face vs the core it wraps", _dict_table),
        ("peers", "PettingZoo peers (whole step with fixed actions)",
         lambda rows: _peer_table(rows, ours)),
        ("learners", "Learner + env (act → core.step → update)", _learner_table),
        ("breakdown", "Where a core step's time goes", _phase_table),
    ]
    for key, title, table in sections:
        if results[key]:
            out += [f"## {title}", "", *table(results[key])]
    if results["skipped"]:
        out += ["## Skipped", "", *(f"- {s.what}: {s.reason}" for s in results["skipped"]), ""]
    return "\n".join(out)


def machine_info(cpus: list[int]) -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"machine": f"{model}, {os.cpu_count()} CPUs", "python": platform.python_version(),
            "numpy": np.__version__, "cpus": cpus, "load_at_start": round(load, 2)}


def _pin_to_one_cpu() -> list[int]:
    if not hasattr(os, "sched_setaffinity"):
        return []
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return [cpu]


# ====================================================================== command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``populace bench``."""
    parser.add_argument("--quick", action="store_true", help="small sizes, few samples (seconds)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, from {','.join(SECTIONS)}")
    parser.add_argument("--dict-max-agents", type=int, default=10**5,
                        help="largest N of the dict face in the full run (10**6 is allowed)")
    parser.add_argument("--samples", type=int, default=None, help="samples per measurement")
    parser.add_argument("--seed", type=int, default=0, help="seed of actions and games")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for bench-<mode>.md and bench-<mode>.json")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a measured SPEC §6 target is missed")


def run(args: argparse.Namespace) -> int:
    """Run the benchmarks ``args`` ask for, print the tables, save them with ``--out``."""
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sorted(sections - set(SECTIONS))
    if unknown:
        raise ValueError(f"--only: unknown sections {unknown}; choose from {list(SECTIONS)}")
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples}")
    plan = Plan.quick() if args.quick else Plan.full(dict_max=args.dict_max_agents)
    if args.samples is not None:
        plan.timing = Timing(**{**asdict(plan.timing), "samples": args.samples})
    cpus = [] if args.no_pin else _pin_to_one_cpu()
    meta = {"mode": "quick" if args.quick else "full", **machine_info(cpus),
            "timing": asdict(plan.timing), "seed": args.seed,
            "date": time.strftime("%Y-%m-%d %H:%M")}

    def log(text: str) -> None:
        print(f"  ... {text}", file=sys.stderr, flush=True)

    results = run_suite(plan, sections, seed=args.seed, log=log)
    report = to_markdown(results, meta)
    print(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"bench-{meta['mode']}"
        stem.with_suffix(".md").write_text(report + "\n")
        rows = {key: [asdict(row) for row in values] for key, values in results.items()}
        stem.with_suffix(".json").write_text(json.dumps({"meta": meta, **rows}, indent=1) + "\n")
        print(f"wrote {stem}.md and {stem}.json", file=sys.stderr)
    missed = [row for rows in results.values() for row in rows
              if getattr(row, "meets_target", None) is False]
    return 1 if args.check and missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="populace bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
