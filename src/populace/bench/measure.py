"""The measurements of ``contribution_v0`` and its learners, each returning typed rows.

* :func:`measure_core` — agent-steps/s of ``core.step({"agent": actions})`` (``observe="none"``,
  pre-generated actions reused every round) and of the bare numpy kernels of
  :mod:`populace.bench.kernels` (the fastest is the baseline); every kernel's rewards are
  checked against the core's before timing.
* :func:`measure_dict` — the same core stepped through ``contribution_v0.parallel_env`` (dicts
  in and out) and directly: overhead per agent-step in µs = (dict time − core time) / N.
* :func:`measure_learner` — rounds of ``act`` → ``core.step`` → ``update``: agent-rounds/s
  over a contiguous run (so rare expensive rounds such as stage ends count in proportion),
  CPU time, and the learner's memory per agent per action; on ``contribution_v0`` (20
  actions) or ``matrix_v0``'s prisoner's dilemma (two actions, where the 10⁷ target is read).
* :func:`measure_breakdown` — where the time of one core step goes.
* :func:`measure_peer` — time per agent-step of a PettingZoo env with a similar number of
  agents (needs that env's extras, e.g. pygame and scipy; skipped with the reason otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from populace.agents.base import Learner, MultiGroupLearner, Transition
from populace.bench.kernels import average_kernels, matching_kernels
from populace.bench.rows import CoreRow, DictRow, LearnerRow, PeerRow, PhaseRow, Skipped
from populace.bench.timing import Timing, time_interleaved
from populace.envs import contribution_v0
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.anonymous.matrix import MatrixCore
from populace.envs.core import PopulationCore

FOREVER = 10**9  # max_cycles large enough that no benchmark truncates

# KFH §4 stage-learner settings per payoff mode
STAGE_SETTINGS = {
    "average": {"epsilon": 0.05, "tau": 250},
    "matching": {"epsilon": 0.01, "tau": 2000},
}


def _actions(n_agents: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(contribution_v0.N_ACTIONS, size=n_agents)


def _core(n_agents: int, payoff: str, seed: int) -> contribution_v0.ContributionCore:
    core = contribution_v0.ContributionCore(
        n_agents=n_agents, payoff=payoff, observe="none", max_cycles=FOREVER
    )
    core.reset(seed=seed)
    return core


def stepper(core: PopulationCore, joint: dict[str, np.ndarray]) -> Callable[[], None]:
    """One ``core.step(joint)`` per call, resetting the core when an episode ends."""

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
    times = time_interleaved({"core": stepper(core, {"agent": actions}), **kernels}, timing)
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
        {"dict": dict_step, "core": stepper(env.core, {"agent": actions})}, timing
    )
    d, c = times["dict"], times["core"]
    return DictRow(payoff, n_agents, action_type, d.median, c.median, d.best, c.best)


def two_action_core(n_agents: int, payoff: str, seed: int) -> MatrixCore:
    """``matrix_v0``'s prisoner's dilemma: the two-action game of the learner targets."""
    from populace.envs import matrix_v0

    core = matrix_v0.MatrixCore(n_agents=n_agents, game="prisoners_dilemma", payoff=payoff,
                                observe="none", max_cycles=FOREVER)
    core.reset(seed=seed)
    return core


def make_bench_learner(name: str, core: AnonymousGameCore, seed: int
                       ) -> tuple[Learner, dict[str, Any]]:
    """The learner ``name`` ("stage", "regret" or "smooth_q") for ``core``, with KFH's
    settings (smooth_q: its defaults)."""
    from populace.agents import RegretMatching, make_learner

    if name == "smooth_q":
        smooth = cast(Learner, make_learner("smooth_q", core, seed=seed))  # one group
        return smooth, {"alpha": getattr(smooth, "alpha", None)}

    if name == "stage":
        settings: dict[str, Any] = dict(STAGE_SETTINGS[core.payoff])
        return cast(Learner, make_learner("stage", core, seed=seed, **settings)), settings
    if name == "regret":
        learner = cast(RegretMatching, make_learner("regret", core, seed=seed))  # mu: bounds
        return learner, {"mu": learner.mu, "delta": learner.delta, "gamma": learner.gamma}
    raise ValueError(f"learner must be 'stage' or 'regret', got {name!r}")


def learner_bytes(learner: Learner | MultiGroupLearner) -> tuple[int, int]:
    """(bytes of the learner's checkpoint arrays, bytes of every array it holds)."""
    state = sum(v.nbytes for v in learner.state_dict().values() if isinstance(v, np.ndarray))
    resident = sum(v.nbytes for v in vars(learner).values() if isinstance(v, np.ndarray))
    return state, resident


def measure_learner(
    name: str, payoff: str, n_agents: int, timing: Timing, *, seed: int = 0,
    whole_stage: bool = False, after_rounds: int = 0, game: str = "contribution_v0",
) -> LearnerRow:
    """Agent-rounds/s of act -> core.step -> update over a contiguous run of rounds.

    With ``whole_stage`` the run lasts at least one stage (``tau`` rounds) of a stage learner,
    so that the stage-end update is counted in proportion. ``after_rounds`` untimed rounds are
    played first, to time a learner that has settled rather than one that starts from uniform.
    """
    if game == "contribution_v0":
        core: Any = _core(n_agents, payoff, seed)
    elif game == "matrix_v0":
        core = two_action_core(n_agents, payoff, seed)
    else:
        raise ValueError(f"game must be 'contribution_v0' or 'matrix_v0', got {game!r}")
    learner, settings = make_bench_learner(name, core, seed)
    settings = {"game": game, **settings}
    env_time = 0.0

    def play_round() -> None:
        nonlocal env_time
        actions = learner.act()
        start = time.process_time()
        result = core.step({"agent": actions})
        env_time += time.process_time() - start
        learner.update(Transition.of_round(actions, result.rewards["agent"]))
        if result.truncated:
            core.reset()

    for _ in range(max(timing.warmup, 3, after_rounds)):
        play_round()
    min_rounds = settings.get("tau", 0) + 1 if whole_stage else 5
    rounds = 0
    env_time = 0.0
    start = time.process_time()
    while (elapsed := time.process_time() - start) < timing.learner_run_s or rounds < min_rounds:
        play_round()
        rounds += 1
    state, resident = learner_bytes(learner)
    per = n_agents * core.n_actions
    return LearnerRow(
        name, payoff, n_agents, rounds, elapsed, env_time, settings, state / per, resident / per,
        after_rounds=after_rounds,
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
    else:
        phases["matched rewards"] = lambda: core._matched_rewards(actions)
        within["  of which random pairing"] = core._pairing
        identity, order = np.arange(n_agents), np.empty(n_agents, dtype=np.int64)

        def permutation() -> None:  # as the core draws it: into a reused buffer
            np.copyto(order, identity)
            core.np_random.shuffle(order)

        within["  of which the permutation"] = permutation
    measured = time_interleaved({"whole step": stepper(core, joint), **phases, **within}, timing)
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
