"""The benchmark results as markdown: one table per section, with the targets they meet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from populace.bench.rows import (
    SORT_RATIO_TARGET,
    CongestionRow,
    CoreRow,
    DictRow,
    FaceRow,
    FloorRow,
    LearnerRow,
    LQRRow,
    PeerRow,
    PhaseRow,
    ZSPGRow,
)


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


def _congestion_table(rows: list[CongestionRow]) -> list[str]:
    header = ["mechanism", "N", "step ms", "np.sort ms", "step/sort", "(best samples)",
              "agent-steps/s", "serial_cost_shares ms", "reference/sort",
              f"≤{SORT_RATIO_TARGET:g}× sort at N=10⁶"]
    return _table(header, [
        [r.mechanism, r.n_agents, f"{r.step_s * 1e3:.3f}", f"{r.sort_s * 1e3:.3f}",
         f"{r.ratio:.2f}", f"{r.ratio_best:.2f}", _si(r.rate), f"{r.reference_s * 1e3:.3f}",
         f"{r.reference_ratio:.2f}", _ok(r.meets_target)] for r in rows
    ])


def _zspg_table(rows: list[ZSPGRow]) -> list[str]:
    header = ["feedback", "N", "step ms", "edge kernel ms", "step/kernel", "(best samples)",
              "chain kernel ms", "step/chain kernel", "agent-steps/s", "≤3× kernel at N=10⁵"]
    return _table(header, [
        [r.feedback, r.n_agents, f"{r.step_s * 1e3:.3f}", f"{r.kernel_s * 1e3:.3f}",
         f"{r.ratio:.2f}", f"{r.ratio_best:.2f}", f"{r.chain_kernel_s * 1e3:.3f}",
         f"{r.chain_ratio:.2f}", _si(r.rate), _ok(r.meets_target)] for r in rows
    ])


def _lqr_table(rows: list[LQRRow]) -> list[str]:
    header = ["N", "step ms", "kernel ms", "step/kernel", "(best samples)", "baseline kernel",
              "agent-steps/s", "≤3× kernel at N=10⁶"]
    return _table(header, [
        [r.n_agents, f"{r.step_s * 1e3:.3f}", f"{r.kernel_s * 1e3:.3f}", f"{r.ratio:.2f}",
         f"{r.ratio_best:.2f}", r.kernel, _si(r.rate), _ok(r.meets_target)] for r in rows
    ])


def _floor_table(rows: list[FloorRow]) -> list[str]:
    header = ["game", "N", "core µs/step", "floor µs/step", "core/floor", "(best samples)",
              "core agent-steps/s", "target", "meets", "the floor computes"]
    return _table(header, [
        [r.game, r.n_agents, f"{r.step_s * 1e6:.1f}", f"{r.floor_s * 1e6:.1f}",
         f"{r.ratio:.2f}", f"{r.ratio_best:.2f}", _si(r.rate),
         "" if r.target is None else f"≤{r.target:g}×", _ok(r.meets_target), r.floor]
        for r in rows
    ])


def _face_table(rows: list[FaceRow]) -> list[str]:
    header = ["game", "agents", "dict µs/step", "core µs/step", "(dict − core) µs/agent-step",
              "face's own work µs/agent-step", "≤1 µs at N ≥ 100"]
    return _table(header, [
        [r.game, r.n_agents, f"{r.dict_s * 1e6:.1f}", f"{r.core_s * 1e6:.1f}",
         f"{r.difference_us:.3f}", f"{r.overhead_us:.3f}", _ok(r.meets_target)] for r in rows
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
    header = ["learner", "payoff", "N", "agent-rounds/s", "env share", "timed rounds", "after",
              "state B/agent/action", "resident B/agent/action", "settings", "SPEC at N=10⁵"]

    def settings(r: LearnerRow) -> str:
        return ", ".join(
            f"{k}={_si(v) if isinstance(v, float) else v}" for k, v in r.settings.items()
        )

    def spec(r: LearnerRow) -> str:
        return "" if r.meets_target is None else f"≥10⁷/s, ≤200 B: {_ok(r.meets_target)}"

    return _table(header, [
        [r.learner, r.payoff, r.n_agents, _si(r.rate), f"{r.env_share:.0%}", r.rounds,
         r.after_rounds,
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
           f"{meta['timing']['samples']} samples of ≥{meta['timing']['min_sample_s']} s "
           f"({meta['timing'].get('clock', 'process')} clock), medians unless marked.", ""]
    ours = {r.n_agents: r for r in results["dict"]
            if r.payoff == "average" and r.action_type == "int"}
    sections: list[tuple[str, str, Callable[[list], list[str]]]] = [
        ("floors", "Every game's core step vs its floor (CPU time, interleaved)", _floor_table),
        ("faces", "Every game's dict face vs its core (CPU time, interleaved)", _face_table),
        ("core", "Array core vs bare numpy kernel (contribution_v0, observe='none')",
         _core_table),
        ("congestion", "Congestion step vs a sort (congestion_v0, observe='none')",
         _congestion_table),
        ("zspg", "Network zero-sum polymatrix step vs bare kernels (zspg_network_v0 chain)",
         _zspg_table),
        ("lqr", "Mean-field LQR step vs bare numpy kernels (mf_lqr_v0)", _lqr_table),
        ("spatial", "Spatial congestion step vs a bare numpy kernel (spatial_congestion_v0)",
         _lqr_table),
        ("dict", "PettingZoo dict face vs the core it wraps", _dict_table),
        ("peers", "PettingZoo peers (whole step with fixed actions)",
         lambda rows: _peer_table(rows, ours)),
        ("learners", "Learner + env (act → core.step → update)", _learner_table),
        ("breakdown", "Where a core step's time goes", _phase_table),
    ]
    for key, title, table in sections:
        if results.get(key):
            out += [f"## {title}", "", *table(results[key])]
    if results.get("skipped"):
        out += ["## Skipped", "", *(f"- {s.what}: {s.reason}" for s in results["skipped"]), ""]
    return "\n".join(out)
