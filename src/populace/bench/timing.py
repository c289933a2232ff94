"""How the benchmarks time things: interleaved samples, medians and best samples, one CPU.

What is compared is measured side by side in one process, the samples of the two sides
interleaved, so that the ratios hold up on a noisy machine better than absolute numbers do.
Each function gets warm-up calls, an inner loop long enough that each sample lasts at least
``min_sample_s``, and the median over ``samples`` samples (the best sample is kept too).
Samples are CPU time of this process (``time.process_time``) by default, so that time the
process spends waiting for a busy machine's cores does not count; ``clock="wall"`` uses
``time.perf_counter``.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

CLOCKS: dict[str, Callable[[], float]] = {"process": time.process_time,
                                          "wall": time.perf_counter}


@dataclass(frozen=True)
class Timing:
    """How long to measure: ``samples`` samples of at least ``min_sample_s`` seconds each."""

    samples: int = 15
    min_sample_s: float = 0.05
    warmup: int = 2
    learner_run_s: float = 3.0  # length of the contiguous run of a learner measurement
    clock: str = "process"  # "process": CPU time (time.process_time); "wall": perf_counter

    def timer(self) -> Callable[[], float]:
        if self.clock not in CLOCKS:
            raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {self.clock!r}")
        return CLOCKS[self.clock]

    @classmethod
    def quick(cls) -> Timing:
        return cls(samples=5, min_sample_s=0.01, warmup=1, learner_run_s=0.3)


@dataclass(frozen=True)
class Measured:
    """Seconds per call: the median sample and the best (least disturbed) sample."""

    median: float
    best: float


def _loops_for(fn: Callable[[], Any], min_sample_s: float,
               clock: Callable[[], float] = time.perf_counter) -> int:
    """Calls of ``fn`` per sample so that a sample lasts at least ``min_sample_s``."""
    loops = 1
    while True:
        start = clock()
        for _ in range(loops):
            fn()
        elapsed = clock() - start
        if elapsed >= min_sample_s:
            return loops
        loops = max(loops * 2, int(loops * min_sample_s / max(elapsed, 1e-9) * 1.2))


def time_interleaved(fns: dict[str, Callable[[], Any]], timing: Timing) -> dict[str, Measured]:
    """Seconds per call of each function; the samples alternate between the functions."""
    for fn in fns.values():
        for _ in range(timing.warmup):
            fn()
    clock = timing.timer()
    loops = {name: _loops_for(fn, timing.min_sample_s, clock) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(timing.samples):
        for name, fn in fns.items():
            start = clock()
            for _ in range(loops[name]):
                fn()
            samples[name].append((clock() - start) / loops[name])
    return {name: Measured(statistics.median(v), min(v)) for name, v in samples.items()}


def machine_info(cpus: list[int]) -> dict[str, Any]:
    """CPU model and count, Python and numpy versions, pinned CPUs and the load at start."""
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


def pin_to_one_cpu() -> list[int]:
    """Pin this process to its highest-numbered allowed CPU (SPEC: "on one core")."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return [cpu]
