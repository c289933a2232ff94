"""A congestion step against a sort of the same demands: at N=10^6 a step should stay within
a small factor of the sort itself.
:func:`measure_congestion` times, interleaved in one run on one demand array,

* ``CongestionCore.step`` for each mechanism (``observe="none"``; the core prices demands
  through the O(N + A) histogram of :func:`~populace.envs.anonymous.congestion.share_table`),
* ``np.sort(demands)``, the yardstick, and
* :func:`~populace.envs.anonymous.congestion.serial_cost_shares`, the per-agent reference formula
  (one sort and two cumsums),

after checking that each core's rewards equal v(q) minus the per-agent reference shares.
"""

from __future__ import annotations

import numpy as np

from populace.bench.measure import FOREVER, stepper
from populace.bench.rows import CongestionRow
from populace.bench.timing import Timing, time_interleaved
from populace.envs import congestion_v0

MECHANISMS = congestion_v0.MECHANISMS


def _core(n_agents: int, mechanism: str, seed: int) -> congestion_v0.CongestionCore:
    core = congestion_v0.CongestionCore(
        n_agents=n_agents, mechanism=mechanism, observe="none", max_cycles=FOREVER
    )
    core.reset(seed=seed)
    return core


def measure_congestion(n_agents: int, timing: Timing, *, seed: int = 0) -> list[CongestionRow]:
    """One row per mechanism: its step against ``np.sort`` of the same ``n_agents`` demands."""
    demands = np.random.default_rng(seed).integers(congestion_v0.N_ACTIONS, size=n_agents)
    joint = {"agent": demands}
    cores = {mechanism: _core(n_agents, mechanism, seed) for mechanism in MECHANISMS}
    for mechanism, core in cores.items():  # the step computes what the reference computes
        expected = core.values.take(demands) - core.cost_shares(demands)
        if not np.allclose(core.step(joint).rewards["agent"], expected):
            raise AssertionError(f"congestion {mechanism} step disagrees with the reference")
    times = time_interleaved(
        {
            **{f"step {mechanism}": stepper(core, joint) for mechanism, core in cores.items()},
            "sort": lambda: np.sort(demands),
            "reference": lambda: congestion_v0.serial_cost_shares(demands),
        },
        timing,
    )
    sort, reference = times["sort"], times["reference"]
    steps = {mechanism: times[f"step {mechanism}"] for mechanism in MECHANISMS}
    return [
        CongestionRow(mechanism, n_agents, step.median, sort.median, reference.median,
                      step.best, sort.best)
        for mechanism, step in steps.items()
    ]
