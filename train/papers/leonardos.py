"""Leonardos, Piliouras & Spendlove (NeurIPS 2021), §5 and App. C: smooth Q-learning with
exploration in zero-sum polymatrix games.

S. Leonardos, G. Piliouras, K. Spendlove, *Exploration-exploitation in multi-agent
competition: convergence with bounded rationality*, NeurIPS 2021; "LPS" below.

LPS study the continuous-time Q-learning dynamics (their equation (7); SPEC §2.4), so most
runs here integrate them with :func:`~populace.agents.smooth_q_dynamics.integrate_smooth_q`
(RK4 in logits, step 0.05) from random interior starting points, one per seed; in
``leonardos-zspg`` the discrete :class:`~populace.agents.smooth_q.SmoothQLearner` also plays
the game through the train loop (expected feedback) and must reach the same QRE.

* ``leonardos-amps`` — asymmetric matching pennies: without exploration the dynamics cycle
  around the Nash equilibrium (the KL divergence from it is conserved: they neither approach
  it nor stop); exploration by either agent alone makes them converge to one rest point.
* ``leonardos-zspg`` — the 7-agent chain: with every T_k > 0 every run reaches the same QRE
  and Σ_k KL(QRE ‖ x_k) falls exponentially, at a fitted rate of at least min T_k (Theorem
  4.1); with T = 0 the odd agents settle on H and the even agents anywhere (a different point
  per run); when only agents 1–3 explore, the even agent 2 settles on one point but the far
  even agents 4 and 6 still end somewhere different in every run (agent 4's end points
  spread far less than agent 6's; see :func:`zspg_claims`).
* ``leonardos-selection`` — the 3-agent chain, where agents 1 and 3 share a stake of 2 split
  by agent 2's mix: exploration schedules that end at T = 0 (each agent draws ETE or CLR-1)
  select agent 2 ≈ uniform and a fair split; without exploration, the split is arbitrary.

Time is in the dynamics' own units; the ``round`` column of the CSV holds it. Each claim is a
pure function of the runs (:data:`Runs`); fed runs of players that do not learn (uniform or
fixed strategies), every claim fails (``tests/papers/test_leonardos.py``). The table's "simple rule"
column is each claim checked on the *fixed start*: every run kept at the random interior point
it starts from (:func:`fixed_start`, no learning), which must fail; claims made of one
verdict per run say on how many runs (one seed each) they hold.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from populace.agents.smooth_q import schedule_factor
from populace.agents.smooth_q_dynamics import integrate_smooth_q
from populace.envs.zero_sum.polymatrix import PolymatrixGame, build_game
from populace.envs.zero_sum.solvers import kl_divergence, nash_conv, qre
from populace.train.papers.claims import Claim, beside_rule
from populace.train.papers.figures import save_figure
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.reproduction import Reproduction

Runs = dict[str, list[Curve]]
"""The runs of a reproduction by label, in seed order; the claims see nothing else."""

DT = 0.05  # RK4 step of the dynamics
RECORD_EVERY = 20  # steps between recorded points: one per unit of time
H, T = 0, 1  # the chain's actions

# AMPs
AMPS_T = 0.5  # the exploring agent's rate
CONSERVED = 0.01  # T = 0: KL to the Nash equilibrium stays within 1 % of its start ...
STILL_MOVING = 0.05  # ... and agent x's P(H) still sweeps at least this range at the end
REST = 1e-6  # a rest point: every |dx/dt| below this
INTERIOR = 1e-3  # ... where the exploring agent plays every action at least this often
SAME_POINT = 1e-3  # runs that reach "the same" point agree within this (max-norm)
# the chain
CHAIN_T = 0.2  # every agent's rate when all explore
NEAR_T = 0.1  # agents 1–3's rate when only they explore
REACHED = 1e-8  # final Σ KL(QRE ‖ x) of a run that reached the QRE
FIT_RANGE = (1e-10, 1e-2)  # the KL values the decay rate is fitted over
NASH = 0.05  # NashConv of an end point that is a Nash equilibrium
ANYWHERE = 0.1  # T = 0: even agents' end points range over at least this
SETTLED = 0.02  # agent 2's end points (only agents 1–3 explore) range over at most this;
# agents 4 and 6 have not settled on one outcome when theirs range over more
# selection (n = 3)
SELECTION_T = 1.0  # peak exploration rate of ETE and CLR-1
SELECTION_HORIZON = 100  # the schedules reach T = 0 at this time
STAKE = 1.9  # agents 1 and 3 together earn at least this (the stake is 2)
FAIR = 0.2  # a fair split: u1/u3 within 1 ± this in every run
UNIFORM = 0.05  # agent 2 ends with |P(H) − ½| at most this, on average
ARBITRARY = 0.2  # no exploration: agent 1's share of the stake ranges over at least this

# ----------------------------------------------------------------------------- running
def dynamics_jobs(
    label: str, game_kwargs: dict[str, Any], rates: dict[str, Any], duration: float, runs: int,
    seed: int, record_every: int = RECORD_EVERY,
) -> list[Job]:
    """``runs`` integrations of the dynamics on one game, labelled ``label``, each from its
    own random interior start. ``rates``: ``temperature`` (a number or one per agent) and
    optionally per-agent ``schedule`` names and their ``horizon`` (in time units). A point is
    recorded every ``record_every`` steps."""
    base = Job(label, "zspg_network_v0", game_kwargs, "dynamics", rates,
               rounds=int(round(duration / DT)), window=record_every, seed=0,
               columns=("kl",), record_policy=True, runner=run_dynamics)
    return [replace(base, seed=seed * 1000 + run) for run in range(runs)]


def run_dynamics(job: Job) -> Curve:
    """Integrate the dynamics of ``job`` (see :func:`dynamics_jobs`); the curve is Σ KL to
    the QRE at the job's rates when they are constant and positive, else NaN."""
    started = time.perf_counter()
    game = game_of(job)
    start = np.random.default_rng(job.seed).dirichlet(np.ones(game.n_actions), game.n_agents)
    path = integrate_smooth_q(game.payoff_vectors, start, exploration_rates(job, game.n_agents),
                              dt=DT, steps=job.rounds, record_every=job.window)
    kl = np.full(len(path.times), np.nan)
    rates = np.broadcast_to(np.asarray(job.learner_kwargs["temperature"], float),
                            (game.n_agents,))
    if "schedule" not in job.learner_kwargs and np.all(rates > 0):
        target = qre(game, rates).strategies
        kl = np.array([kl_divergence(target, x) for x in path.strategies])
    return Curve(job, path.times, kl, time.perf_counter() - started,
                 {"kl": kl, "policy": path.strategies})


def game_of(job: Job) -> PolymatrixGame:
    """The polymatrix game of a job's ``game_kwargs``."""
    return build_game(job.game_kwargs.get("game", "chain"), job.game_kwargs.get("n_agents"))


def exploration_rates(job: Job, n_agents: int) -> np.ndarray | Callable[[float], np.ndarray]:
    """The job's T_k: constant, or ``t ↦ T_k·f_k(t)`` for per-agent schedules, tabulated once
    at every time an RK4 step evaluates (multiples of DT/2), so a call is a lookup."""
    peak = np.broadcast_to(np.asarray(job.learner_kwargs["temperature"], float), (n_agents,))
    schedules = job.learner_kwargs.get("schedule")
    if schedules is None:
        return peak.copy()
    times = np.arange(2 * job.rounds + 1) * (DT / 2)
    horizon = job.learner_kwargs["horizon"]
    table = peak * np.stack([schedule_factor(name, times, horizon) for name in schedules],
                            axis=1)

    def rates(t: float) -> np.ndarray:
        return cast(np.ndarray, table[min(int(round(2 * t / DT)), len(table) - 1)])

    return rates


def group_runs(curves: list[Curve]) -> Runs:
    runs: Runs = {}
    for curve in curves:
        runs.setdefault(curve.job.label, []).append(curve)
    return runs


def fixed_start(runs: Runs) -> Runs:
    """The runs of players that never learn: every run held at the profile it starts from
    (and its Σ KL at its first value), on the same seeds and times."""
    held: Runs = {}
    for label, curves in runs.items():
        held[label] = []
        for curve in curves:
            policy = curve.columns["policy"]
            points = len(curve.rounds)
            distance = np.full(points, curve.distance[0])
            held[label].append(replace(curve, distance=distance, columns={
                **curve.columns, "kl": distance,
                "policy": np.broadcast_to(policy[0], (points, *policy.shape[1:]))}))
    return held


def against_fixed_start(
    check: Callable[[Runs, bool], list[Claim]],
) -> Callable[[Runs, bool], list[Claim]]:
    """``check`` with its "simple rule" column: the same claims checked on :func:`fixed_start`."""

    def claims(runs: Runs, quick: bool) -> list[Claim]:
        return beside_rule(check(runs, quick), check(fixed_start(runs), quick), "fixed start")

    return claims


def end_points(runs: list[Curve]) -> np.ndarray:
    """Every run's last profile, ``(runs, n, m)``."""
    return np.stack([curve.columns["policy"][-1] for curve in runs])


def velocity(game: PolymatrixGame, x: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """dx/dt of the dynamics (SPEC §2.4) at the profile ``x``; zero at a rest point."""
    r = game.payoff_vectors(x)
    logs = np.log(np.maximum(x, 1e-300))
    mean_r = (x * r).sum(axis=1, keepdims=True)
    mean_log = (x * logs).sum(axis=1, keepdims=True)
    return cast(np.ndarray, x * (r - mean_r - rates[:, None] * (logs - mean_log)))


def decay_rate(times: np.ndarray, kl: np.ndarray) -> float:
    """Slope of −ln KL against time, least squares over the points with KL in
    :data:`FIT_RANGE`; 0 when fewer than three points are in it (no decay to fit)."""
    inside = (kl >= FIT_RANGE[0]) & (kl <= FIT_RANGE[1])
    if inside.sum() < 3:
        return 0.0
    slope = np.polyfit(times[inside], np.log(kl[inside]), 1)[0]
    return float(-slope)


def spread(values: np.ndarray) -> float:
    """Range (max − min) of values over runs."""
    return float(np.max(values) - np.min(values))


# ----------------------------------------------------------------------------- AMPs
def amps_jobs(quick: bool, seed: int) -> list[Job]:
    runs, duration = (3, 100.0) if quick else (10, 300.0)
    amps, fine = {"game": "amps"}, 2  # record every 0.1: the figure draws smooth cycles
    return (dynamics_jobs("no exploration", amps, {"temperature": 0.0}, duration, runs, seed,
                          fine)
            + dynamics_jobs("x explores", amps, {"temperature": [AMPS_T, 0.0]}, duration, runs,
                            seed, fine)
            + dynamics_jobs("y explores", amps, {"temperature": [0.0, AMPS_T]}, duration, runs,
                            seed, fine))


def amps_claims(runs: Runs, quick: bool) -> list[Claim]:
    game = build_game("amps", None)
    nash = np.array([[1 / 3, 2 / 3], [1 / 3, 2 / 3]])
    cycling = runs["no exploration"]
    drifts, sweeps = [], []
    for curve in cycling:
        kl = np.array([kl_divergence(nash, x) for x in curve.columns["policy"]])
        with np.errstate(invalid="ignore", divide="ignore"):  # a pure start: KL is infinite
            drift = float(np.abs(kl / kl[0] - 1).max())
        drifts.append(drift if np.isfinite(drift) else np.inf)
        late = curve.columns["policy"][len(kl) // 2 :, 0, H]
        sweeps.append(spread(late))
    cycles = max(drifts) <= CONSERVED and min(sweeps) >= STILL_MOVING
    claims = [Claim(
        "AMPs, T = 0: the dynamics cycle around the Nash equilibrium",
        "Fig. 2, panel 1: cycles around the unique NE",
        f"KL to the NE conserved within {max(drifts):.1e} (bound {CONSERVED:g}); x's P(H) "
        f"still sweeps ≥ {min(sweeps):.2f} in the second half (bound {STILL_MOVING:g})",
        cycles,
        per_seed=tuple(bool(d <= CONSERVED and w >= STILL_MOVING)
                       for d, w in zip(drifts, sweeps, strict=True)),
    )]
    for explorer, label in enumerate(("x explores", "y explores")):
        rates = np.where(np.arange(2) == explorer, AMPS_T, 0.0)
        ends = end_points(runs[label])
        speeds = np.array([float(np.abs(velocity(game, x, rates)).max()) for x in ends])
        gaps = np.abs(ends - ends[0]).max(axis=(1, 2))
        leasts = ends[:, explorer].min(axis=1)
        speed, gap, least = float(speeds.max()), float(gaps.max()), float(leasts.min())
        claims.append(Claim(
            f"AMPs, only {label.split()[0]} explores (T = {AMPS_T:g}): the dynamics converge",
            "Fig. 2, panels 2–4: exploration by one agent suffices",
            f"every run ends at a rest point (|dx/dt| ≤ {speed:.1e}, bound {REST:g}; the "
            f"explorer plays each action w.p. ≥ {least:.2f}, bound {INTERIOR:g}), the same in "
            f"every run (within {gap:.1e}); x's P(H) = {ends[0, 0, H]:.4f}, y's "
            f"{ends[0, 1, H]:.4f}",
            speed <= REST and least >= INTERIOR and gap <= SAME_POINT,
            per_seed=tuple(bool(ok) for ok in (speeds <= REST) & (leasts >= INTERIOR)
                           & (gaps <= SAME_POINT)),
        ))
    return claims


# ----------------------------------------------------------------------------- the chain
NEAR = np.array([NEAR_T] * 3 + [0.0] * 4)


def zspg_jobs(quick: bool, seed: int) -> list[Job]:
    runs, duration = (4, 100.0) if quick else (10, 300.0)
    chain = {"n_agents": 7}
    jobs = (dynamics_jobs(f"all explore (T = {CHAIN_T:g})", chain, {"temperature": CHAIN_T},
                          duration, runs, seed)
            + dynamics_jobs("no exploration", chain, {"temperature": 0.0}, duration, runs, seed)
            + dynamics_jobs("agents 1–3 explore", chain, {"temperature": NEAR.tolist()},
                            duration, runs, seed))
    learner = Job(
        "smooth Q-learner (T = 0.2)", "zspg_network_v0",
        {"n_agents": 7, "feedback": "expected", "temperatures": CHAIN_T},
        "smooth_q", {"temperature": CHAIN_T, "alpha": 0.05, "initial_scale": 1.0},
        rounds=400 if quick else 2000, window=20, seed=0,
        columns=("kl_to_qre", "nash_conv"), record_policy=True)
    return jobs + [replace(learner, seed=seed * 1000 + run) for run in range(runs)]


def zspg_claims(runs: Runs, quick: bool) -> list[Claim]:
    game = build_game("chain", 7)
    explore = runs[f"all explore (T = {CHAIN_T:g})"]
    final_kl = [float(curve.distance[-1]) for curve in explore]
    first_kl = min(float(curve.distance[0]) for curve in explore)
    rates = [decay_rate(curve.rounds, curve.distance) for curve in explore]
    learner_kl = [float(curve.distance[-1]) for curve in runs["smooth Q-learner (T = 0.2)"]]
    reached = tuple(bool(kl <= REACHED and curve.distance[0] > FIT_RANGE[1])
                    for kl, curve in zip(final_kl, explore, strict=True))
    claims = [
        Claim(f"n = 7, every T_k = {CHAIN_T:g}: every run reaches the same QRE",
              "Fig. 5, right: a unique outcome (Theorem 4.1)",
              f"Σ KL(QRE ‖ x) from ≥ {first_kl:.2f} to ≤ {max(final_kl):.1e} in every run "
              f"(bound {REACHED:g}); the discrete learner, through the train loop: ≤ "
              f"{max(learner_kl):.1e}",
              max(final_kl + learner_kl) <= REACHED and first_kl > FIT_RANGE[1],
              per_seed=reached),
        Claim("... and Σ KL decays exponentially, at a rate ≥ min T_k",
              "Theorem 4.1: rate at least T_min",
              f"fitted rates {min(rates):.2f}–{max(rates):.2f} per unit time "
              f"(T_min = {CHAIN_T:g})",
              min(rates) >= CHAIN_T, per_seed=tuple(bool(r >= CHAIN_T) for r in rates)),
    ]
    ends = end_points(runs["no exploration"])
    worst = max(nash_conv(game, x) for x in ends)
    ranges = [spread(ends[:, k, H]) for k in (1, 3, 5)]
    claims.append(Claim(
        "n = 7, T = 0: odd agents end at H, the even agents anywhere",
        "Fig. 5, left: a different mixed action for the even agents in every run",
        f"every end point is a Nash equilibrium (NashConv ≤ {worst:.1e}, bound {NASH:g}); even "
        f"agents' P(H) range over runs: {', '.join(f'{r:.2f}' for r in ranges)} (bound "
        f"{ANYWHERE:g})",
        worst <= NASH and min(ranges) >= ANYWHERE,
    ))
    ends = end_points(runs["agents 1–3 explore"])
    near, fourth, far = (spread(ends[:, k, H]) for k in (1, 3, 5))
    claims.append(Claim(
        f"n = 7, only agents 1–3 explore (T = {NEAR_T:g}): agent 2 settles on one outcome, "
        "the far even agents 4 and 6 do not",
        "Fig. 5, middle: agents 4 and 6 end differently in every run",
        f"range of P(H) over runs: agent 2 {near:.4f} (settled: ≤ {SETTLED:g}), agent 4 "
        f"{fourth:.3f} (not settled: > {SETTLED:g}), agent 6 {far:.2f} (≥ {ANYWHERE:g})",
        near <= SETTLED < fourth and far >= ANYWHERE,
    ))
    return claims


# ----------------------------------------------------------------------------- selection
def selection_jobs(quick: bool, seed: int) -> list[Job]:
    runs = 4 if quick else 20
    duration = 1.5 * SELECTION_HORIZON
    chain = {"n_agents": 3}
    draw = np.random.default_rng(seed)
    jobs = dynamics_jobs("no exploration", chain, {"temperature": 0.0}, duration, runs, seed)
    for run in range(runs):  # each agent draws its schedule, as LPS App. C.5 match them
        schedules = draw.choice(["ete", "clr1"], size=3).tolist()
        rates = {"temperature": SELECTION_T, "schedule": schedules,
                 "horizon": SELECTION_HORIZON}
        job = dynamics_jobs("ETE / CLR-1 exploration", chain, rates, duration, 1, seed)[0]
        jobs.append(replace(job, seed=seed * 1000 + run))
    return jobs


def selection_claims(runs: Runs, quick: bool) -> list[Claim]:
    game = build_game("chain", 3)
    claims = []
    ends = end_points(runs["ETE / CLR-1 exploration"])
    payoffs = np.array([game.expected_payoffs(x) for x in ends])
    stake = float((payoffs[:, 0] + payoffs[:, 2]).min())
    ratios = payoffs[:, 0] / np.where(payoffs[:, 2] == 0, np.nan, payoffs[:, 2])
    unfair = float(np.nanmax(np.abs(ratios - 1))) if np.isfinite(ratios).any() else np.inf
    off_uniform = float(np.abs(ends[:, 1, H] - 0.5).mean())
    with np.errstate(invalid="ignore"):  # a run with u3 = 0 has no ratio: it fails
        each = ((np.abs(ends[:, 1, H] - 0.5) <= UNIFORM) & (payoffs[:, 0] + payoffs[:, 2] >= STAKE)
                & (np.abs(ratios - 1) <= FAIR))
    claims.append(Claim(
        "n = 3, exploration that ends at T = 0 (ETE or CLR-1 per agent): agent 2 ends near "
        "uniform, agents 1 and 3 split the stake fairly",
        "App. C.5, Fig. 10: ratio of utilities ≈ 1",
        f"mean |P(H) − ½| of agent 2: {off_uniform:.3f} (bound {UNIFORM:g}); u1 + u3 ≥ "
        f"{stake:.3f} (bound {STAKE:g}); u1/u3 within 1 ± {unfair:.3f} (bound {FAIR:g})",
        off_uniform <= UNIFORM and stake >= STAKE and unfair <= FAIR,
        per_seed=tuple(bool(ok) for ok in each),
    ))
    ends = end_points(runs["no exploration"])
    payoffs = np.array([game.expected_payoffs(x) for x in ends])
    stake = float((payoffs[:, 0] + payoffs[:, 2]).min())
    shares = payoffs[:, 0] / np.maximum(payoffs[:, 0] + payoffs[:, 2], 1e-12)
    low, high = float(shares.min()), float(shares.max())
    claims.append(Claim(
        "n = 3, no exploration: arbitrary splits",
        "Fig. 5 / App. C.5: any split of the stake",
        f"u1 + u3 ≥ {stake:.3f} (bound {STAKE:g}); agent 1's share ranges over "
        f"{low:.2f}–{high:.2f} over runs (bound: a range of {ARBITRARY:g})",
        stake >= STAKE and high - low >= ARBITRARY,
    ))
    return claims


# ----------------------------------------------------------------------------- files
def save_runs(stem: str, title: str) -> Callable[[list[Curve], Path], list[Path | None]]:
    """A ``save`` writing ``stem``.csv and ``stem``.png (:func:`write_runs_csv`,
    :func:`plot_runs`)."""

    def save(curves: list[Curve], out_dir: Path) -> list[Path | None]:
        runs = group_runs(curves)
        files = [write_runs_csv(curves, out_dir / f"{stem}.csv"),
                 plot_runs(runs, out_dir / f"{stem}.png", title)]
        if max(c.columns["policy"].shape[1] for c in curves) > 2:
            files.append(plot_end_points(runs, out_dir / f"{stem}-ends.png", title))
        return files

    return save


CSV_POINTS = 101  # at most this many points per run in the CSV (evenly thinned)


def write_runs_csv(curves: list[Curve], path: Path) -> Path:
    """One row per run and recorded time: P(first action) of every agent, and Σ KL."""
    agents = max(curve.columns["policy"].shape[1] for curve in curves)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "seed", "time", "sum_kl",
                         *(f"p1_agent_{k + 1}" for k in range(agents))])
        for curve in curves:
            policy = curve.columns["policy"]
            keep = np.unique(np.linspace(0, len(curve.rounds) - 1, CSV_POINTS).astype(int))
            for point in keep:
                writer.writerow([curve.job.label, curve.job.seed, f"{curve.rounds[point]:g}",
                                 f"{curve.distance[point]:.6g}",
                                 *(f"{p:.6f}" for p in policy[point, :, 0])])
    return path


def plot_runs(runs: Runs, path: Path, title: str) -> Path | None:
    """One panel per label. Two agents: the path of (x's P(first action), y's) of every run,
    its end marked. More: every run's P(first action) of each agent against time."""

    def draw() -> Any:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(4.2 * len(runs), 3.8))
        axes = figure.subplots(1, len(runs), squeeze=False)[0]
        for ax, (label, curves) in zip(axes, runs.items(), strict=True):
            if curves[0].columns["policy"].shape[1] == 2:
                _phase_panel(ax, curves)
            else:
                _time_panel(ax, curves)
            ax.set_title(label, fontsize=9)
        if axes[-1].get_legend_handles_labels()[0]:
            axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        figure.suptitle(title)
        return figure

    return save_figure(draw, path)


def plot_end_points(runs: Runs, path: Path, title: str) -> Path | None:
    """One panel per label, a box of every agent's final P(H) over the runs (a point per run
    beside it), so agents that settle show a flat box; for the 7-agent chain this is the form
    of LPS Fig. 5's top row."""

    def draw() -> Any:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(4.2 * len(runs), 3.4))
        axes = figure.subplots(1, len(runs), squeeze=False)[0]
        for ax, (label, curves) in zip(axes, runs.items(), strict=True):
            ends = end_points(curves)[:, :, H]
            agents = np.arange(1, ends.shape[1] + 1)
            ax.boxplot(ends, positions=agents, widths=0.5)
            ax.plot(np.broadcast_to(agents + 0.3, ends.shape).ravel(), ends.ravel(), ".",
                    color="C0", markersize=3, alpha=0.6)
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("agent")
            ax.set_ylabel("final P(H) over runs")
            ax.set_ylim(-0.02, 1.02)
        figure.suptitle(f"{title}: where every run ends")
        return figure

    return save_figure(draw, path)


def _phase_panel(ax: Any, curves: list[Curve]) -> None:
    for curve in curves:
        policy = curve.columns["policy"]
        line, = ax.plot(policy[:, 0, 0], policy[:, 1, 0], linewidth=0.5, alpha=0.6)
        ax.plot(policy[-1, 0, 0], policy[-1, 1, 0], "o", color=line.get_color(), markersize=4)
    ax.set_xlabel("x: P(first action)")
    ax.set_ylabel("y: P(first action)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")


def _time_panel(ax: Any, curves: list[Curve]) -> None:
    for curve in curves:
        policy = curve.columns["policy"]
        for agent in range(policy.shape[1]):
            ax.plot(curve.rounds, policy[:, agent, 0], color=f"C{agent % 10}", linewidth=0.8,
                    alpha=0.7, label=f"agent {agent + 1}" if curve is curves[0] else None)
    ax.set_xlabel("time" if curves[0].job.runner else "round")
    ax.set_ylabel("P(H)")
    ax.set_ylim(-0.02, 1.02)


REPRODUCTIONS = {
    "leonardos-amps": Reproduction(
        "leonardos-amps", "LPS Fig. 2: AMPs cycle without exploration, converge when one "
        "agent explores", amps_jobs, against_fixed_start(amps_claims),
        save_runs("leonardos-amps", "Asymmetric matching pennies: Q-learning dynamics"),
        summarize=group_runs),
    "leonardos-zspg": Reproduction(
        "leonardos-zspg", "LPS Fig. 5: the 7-agent chain with all, none or some agents "
        "exploring", zspg_jobs, against_fixed_start(zspg_claims),
        save_runs("leonardos-zspg", "7-agent chain: P(H) per agent"), summarize=group_runs),
    "leonardos-selection": Reproduction(
        "leonardos-selection", "LPS App. C.5: ETE/CLR-1 exploration selects the fair split "
        "in the 3-agent chain", selection_jobs, against_fixed_start(selection_claims),
        save_runs("leonardos-selection", "3-agent chain: equilibrium selection"),
        summarize=group_runs),
}
