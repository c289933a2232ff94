"""Mguni, Jennings & Munoz de Cote (AAMAS 2018), Experiment 2: supply with uncertain demand.

D. Mguni, J. Jennings, E. Munoz de Cote, *Decentralised learning in systems with many, many
strategic agents*, AAMAS 2018; "MJM" below. Firms (agents) place supply where a bump of demand
travels along a path for 30 steps; moving costs η|u|². MJM report (their Fig. 2) that with
η = 2 the trained agents move across to meet the path *later* and accept early losses, which
beats tracing the path, whereas with η = 0 they trace it.

``mguni-supply`` trains
:class:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay`
(``"ac_fp"``) on ``supply_demand_v0`` with η = 2 (MJM) and η = 0, N = 200 agents (MJM), our
demand scale 0.1 (below), and scores it against the game's grid mean-field equilibrium
(:meth:`~populace.envs.plane.supply_demand.SupplyDemandCore.reference_equilibrium`).

**The demand's scale** (``demand_scale``, :data:`DEMAND_SCALE`) is ours, not MJM's (the
game's docstring says why it exists), so it is chosen on the grid equilibrium's scan
below, not on the learner's success: the largest scale at which the equilibrium still shows
both claims clearly. Grid equilibrium (fictitious play to an exploitability below 10⁻³) per
scale: the step at which the mean position first comes within :data:`INTERCEPT_RADIUS` of
the demand for η = 2 and η = 0, η = 0's mean distance from step :data:`TRACE_FROM` on, and
η = 2's mean-field return beside tracing's and standing still's (N = 100, the 8 evaluation
episodes):

=====  =============  ============  ======================================
scale  meets, η=2/0   η=0 distance  η=2 return: equilibrium / trace / still
=====  =============  ============  ======================================
0.05   6 / 2          0.021         0.357 / 0.073 / 0.003
0.07   6 / 2          0.022         0.855 / 0.663 / 0.004
0.08   5 / 2          0.022         1.112 / 0.957 / 0.004
0.09   5 / 2          0.022         1.374 / 1.252 / 0.005
0.10   5 / 2          0.022         1.639 / 1.547 / 0.005
0.12   4 / 2          0.022         2.171 / 2.136 / 0.007
0.15   3 / 2          0.022         3.000 / 3.020 / 0.008
0.30   2 / 2          0.022         7.251 / 7.440 / 0.016
=====  =============  ============  ======================================

Up to 0.12 the equilibrium meets the path at least two steps later with η = 2 and
beats tracing; from 0.15 on tracing pays more (the demand outweighs the movement cost). We
take 0.1, the largest scale with a margin on both (a step more than the bound, 6 % above
tracing): twice the old 0.05, whose demand peak was a fifth of exploration's movement cost.

**The learner's set-up** (ours where MJM leave it open; :data:`LEARNER_KWARGS`). The agent
observes its own position and the time t/T, nothing else (SPEC §2.6, MJM); the actor is a
two-layer tanh MLP with a Gaussian output, as MJM's, the critic a tanh MLP, γ = 0.99 (MJM).
What we measured and changed from the defaults:

* **Small start** (``output_scale``): torch's initialisation made the first policy move every
  agent a few tenths per step, 4.6 away from the path on average by the first episode, where
  no demand reaches and nothing can be learned; started small, the first population diffuses
  around its start and some agents meet the demand.
* **A multi-step advantage** (``advantage="gae"``, λ = 0.95, one actor and critic step per
  episode; MJM's actor-critic uses the one-step TD error). The reward is paid where the agent
  stands before it moves, so with the TD error the actor learns only through the critic's
  slope; that learner never met the path (below), the episode's GAE advantages carry the
  demand met later back to the moves that led there.
* **Exploration** s = 0.15 (MJM: variance 0.1, s ≈ 0.32). It does not bias the gradient, but
  with η = 2 its movement cost, 2ηs² per step, is paid at every step and adds to every
  advantage's noise (0.4 per step with MJM's s, five times the old demand's peak).
* **Finite horizon**: time is observed, so the end of the episode is a true end, not a time
  limit; :class:`FiniteHorizonSupply` reports it as a termination, so the critic does not
  bootstrap from a value at t = T that it never learns.

**Measurement.** After training, the learned policy *without its exploration*
(:meth:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay.mean_action`) is
played by
the N agents in :data:`EVAL_EPISODES` seeded episodes, and so are two fixed policies in the
same episodes (same starts, same random path): **tracing** (every agent heads for where the
nominal path will be next step, u = clip(c(t + 1) − x)) and **standing still**. Per step t
we keep the distance ``gap_t`` = |x̄_t − c_t| of the population's mean position to the demand's
centre (this episode's), averaged over the episodes; the returns are per agent and episode.
The exploitability (per agent and episode, read on the grid game) of the learned mean policy
is the game's own column, averaged over the last quarter of the windows, and compared with the
untrained learner's.

The claims (bounds per quick/full form; where a bound depends on the start, it is read off
the grid equilibrium from that start, so that it can be met from each of MJM's starts):

* **η = 2: intercept later, and beat tracing.** The intercept step, the first t with
  gap_t ≤ :data:`INTERCEPT_RADIUS`, exists for both η and is at least :func:`lag_bound` steps
  later with η = 2 than with η = 0 (the grid equilibrium's lag less one, at least one; from
  MJM's first start the equilibrium meets at step 5 against 2, so 2); and with η = 2 the
  learned return exceeds both the tracing and the standing-still policies' in the same
  episodes.
* **η = 0: trace the path.** The mean of gap_t over t ≥ :data:`TRACE_FROM` is at most
  :data:`TRACE_DISTANCE` (grid equilibrium: 0.02), and η = 2's mean gap before that step
  exceeds η = 0's by :func:`response_bound`, half the grid equilibrium's difference (first
  start: 0.46 against 0.26, so 0.10).
* **Scored against the grid equilibrium.** For both η the learned policy's exploitability is
  at most :data:`EXPLOITABILITY_SHARE` of the untrained learner's *and below tracing's* (0.536
  with η = 2, 0.149 with η = 0, N-independent): closer to the equilibrium than the strongest
  rule nobody trained. With the learner as it is, this fails (full run: 0.982 and 0.460).

**What the learner does** (tuning runs, one seed; the full run's numbers: docs/reproductions/).
At the old scale 0.05 the one-step TD learner (actor 50 times slower than the critic, MJM's
exploration) never met the path with η = 2 and fell behind it with η = 0 (return 0.88 against
the equilibrium's 1.46); the GAE learner traced the path with η = 0 but with η = 2 stood
nearly still or came no closer than 0.24 to the demand: the demand starts 0.8 away, 3.6 of
its widths, so the value's slope there is about 10⁻³, and the demand's peak (0.08) was a fifth
of MJM's exploration's movement cost. At 0.1 (N = 100, η = 2): after 300 episodes the
population meets the path only at step 18 and returns 1.06 against tracing's 1.52, after 800
at step 9 with 1.69 (at 0.08 after 300 episodes: 0.58 against tracing's 0.94). In the full
run with 800 episodes η = 2 held (1.79 against 1.55) but η = 0 stayed 0.166 from the path
and η = 2's exploitability fell only to 50.2 % of the untrained learner's; hence 1200. The
full run (MJM's 5 starts × 6 runs) is on the reproduction's page: no claim holds on every
run (26/30, 22/30, 0/30).

**Simple rules and seeds.** Tracing and standing still are played in the learner's
evaluation episodes and scored on the grid game too (``exploitability_trace``, ``_still``);
each is fed to the claims in the learner's place (the table's simple-rule column) and fails
every one: tracing meets the path as early with η = 2 as with η = 0 (a fixed rule cannot
respond to η, which is why the η = 0 claim also asks η = 2 to stay off the path at first) and
is no less exploitable than "untrained". The full run follows MJM's design: 6 runs from each
of their 5 starts (:data:`STARTS`), for each η (60 runs of about a CPU-minute); each claim
holds only if it holds on every run, and the table's averages are the first start's.

**The gap to the equilibrium, measured** (:mod:`~populace.train.papers.supply_diagnosis`,
one full-size run per η, seed 1, ``docs/results/mguni-supply-diagnosis.md``). The learned mean
policy's exploitability ends near 1.0 (η = 2) and 0.4 (η = 0) against < 0.001 at the grid
equilibrium, above tracing's 0.536 / 0.149. One component at a time:

* *Not the network.* The same MLP fitted by least squares to the equilibrium's mean move
  scores 0.154 / 0.146 (0.094 / 0.049 on a 121² grid), six times closer than the learner.
  Nor determinism: the equilibrium's modal pure policy (:func:`modal_policy_exploitability`)
  scores 0.090 / 0.147.
* *The grid's reading, a quarter of it.* Read on finer grids (61², 121²) the learned policy
  scores 0.767 / 0.735 (η = 2) and 0.289 / 0.265 (η = 0) against 0.981 / 0.379 on the game's
  31² grid, whose rounding reads moves below 0.067 as standing still; tracing goes to 0.483 /
  0.006. The ranking does not change.
* *The last iterate, a third of it.* Mixing the mean policies of the second half's 12
  window ends, as fictitious play averages, gives 0.704 / 0.239: still above tracing.
* *The update itself.* Started from the fitted actor, with the critic first trained for 300
  episodes while the actor stood still (0.154 / 0.146 throughout), one window of learning takes
  it to 1.92 / 0.38, and it then wanders at 0.43–1.75 / 0.24–0.86 like a learner started
  from scratch. The actor-critic step (the critic's values and GAE advantages from one
  episode of N = 200 agents, at the reproduction's step sizes) moves the policy away from the
  equilibrium faster than it returns: this, not the network or the measurement, is what
  limits the learner.

Every claim is a pure function of the :class:`SupplySummary`; fed the summaries of players that
do not learn (standing still, moving at random, or all heading for the top of the arc), or the
table's fixed policies, each fails (``tests/papers/test_mguni_supply.py``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from populace.envs.core import Step
from populace.envs.plane.supply_demand import SupplyDemandCore
from populace.envs.policies import ActionFn
from populace.train.papers.claims import Claim, holds_on_seeds
from populace.train.papers.figures import save_figure
from populace.train.papers.jobs import Curve, Job, write_columns_csv
from populace.train.papers.reproduction import Reproduction

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GAME = "supply_demand_v0"
LEARNER = "ac_fp"
ETAS = (2.0, 0.0)  # MJM Exp. 2: η = 2; η = 0 for the comparison of their Fig. 2
N_AGENTS = 200  # MJM Exp. 2
DEMAND_SCALE = 0.1  # ours: the largest demand at which the grid equilibrium shows the claims
LEARNER_KWARGS = {"state_size": 3, "actor": "mlp", "critic": "mlp", "hidden": (32, 32),
                  "output_scale": 0.01, "discount": 0.99, "action_std": 0.15,
                  "advantage": "gae", "gae_lambda": 0.95,
                  "actor_rate": 0.01, "critic_rate": 0.01}
COLUMNS = ("exploitability", "mean_reward", "movement_cost", "demand_distance")
# MJM Exp. 2's start positions (the means of N(x, 0.1²)), 6 runs each; the first is the game's
STARTS = ((-0.2, 0.0), (-0.2, 0.3), (-0.39, 0.16), (-0.6, 0.0), (-0.6, 0.3))


@dataclass(frozen=True)
class Plan:
    """One form of the reproduction: ``runs`` seeds per start and η."""

    agents: int
    episodes: int
    window: int
    runs: int
    starts: tuple[tuple[float, float], ...]


QUICK = Plan(agents=100, episodes=800, window=100, runs=1, starts=STARTS[:1])
FULL = Plan(agents=N_AGENTS, episodes=1200, window=50, runs=6, starts=STARTS)
EVAL_EPISODES = 8
EVAL_SEED = 54321  # the evaluation episodes' first seed (added to the job's)
TAIL = 0.25  # final values: averages over this last fraction of the windows
POLICIES = ("learned", "trace", "still")
# Bounds, (quick, full).
INTERCEPT_RADIUS = 0.15
TRACE_FROM = 5
TRACE_DISTANCE = {True: 0.25, False: 0.15}
EXPLOITABILITY_SHARE = {True: 0.75, False: 0.5}


class FiniteHorizonSupply(SupplyDemandCore):
    """``supply_demand_v0`` whose last step is reported as a termination (module doc)."""

    def _step(self, actions: dict[str, np.ndarray]) -> Step:
        step = super()._step(actions)
        step.terminated = self.cycle + 1 >= self.max_cycles
        return step


def label(eta: float) -> str:
    return f"η={eta:g}"


def supply_jobs(quick: bool, seed: int) -> list[Job]:
    """``ac_fp`` on ``supply_demand_v0`` for each start of the plan, ``runs`` seeds each, each
    with both η of :data:`ETAS` (run r of η number k from start number s has seed
    ``seed·1000 + 100·s + 2r + k``)."""
    plan = QUICK if quick else FULL
    game_kwargs = {"n_agents": plan.agents, "demand_scale": DEMAND_SCALE}
    return [Job(label(eta), GAME, {**game_kwargs, "eta": eta, "start_mean": start}, LEARNER,
                dict(LEARNER_KWARGS), rounds=plan.episodes, window=plan.window,
                seed=seed * 1000 + 100 * s + len(ETAS) * run + k, columns=COLUMNS,
                runner=train_and_play)
            for s, start in enumerate(plan.starts) for run in range(plan.runs)
            for k, eta in enumerate(ETAS)]


def train_and_play(job: Job) -> Curve:
    """Train for ``job.rounds`` episodes on :class:`FiniteHorizonSupply`, then play the
    learned mean policy, tracing and standing still in the same seeded episodes (columns
    ``gap_<policy>`` and ``path_<policy>`` per step, ``return_<policy>``), and keep the
    untrained learner's exploitability (``initial_exploitability``) and the fixed policies'
    (``exploitability_trace``, ``exploitability_still``)."""
    from populace.agents import make_learner
    from populace.train import train

    core = FiniteHorizonSupply(**job.game_kwargs)
    env_seed, learner_seed = np.random.SeedSequence(job.seed).generate_state(2)
    learner: Any = make_learner(job.learner, core, seed=int(learner_seed), **job.learner_kwargs)
    initial = core.exploitability(learner.mean_action)
    result = train(core, learner, episodes=job.rounds, seed=int(env_seed), window=job.window,
                   progress=False)
    columns = {name: result.history.column(name) for name in job.columns}
    columns["initial_exploitability"] = np.array([initial])
    policies = {"learned": learner.mean_action, "trace": tracing(core),
                "still": lambda observations: np.zeros((len(observations), 2))}
    for name, policy in policies.items():
        gaps, path, value = play(core, policy, int(env_seed) + EVAL_SEED)
        columns[f"gap_{name}"], columns[f"path_{name}"] = gaps, path
        columns[f"return_{name}"] = np.array([value])
        if name != "learned":
            columns[f"exploitability_{name}"] = np.array([core.exploitability(policy)])
    return Curve(job, result.history.column("episodes"), columns[job.columns[0]],
                 result.timings.seconds, columns)


def tracing(core: SupplyDemandCore) -> ActionFn:
    """The policy that heads for where the nominal demand path will be next step."""
    horizon = core.max_cycles
    centres = np.stack([core.centre(t + 1, np.zeros(2), 1.0) for t in range(horizon)])

    def trace(observations: np.ndarray) -> np.ndarray:
        t = np.minimum(np.rint(observations[:, 2] * horizon).astype(np.int64), horizon - 1)
        moves: np.ndarray = centres[t] - observations[:, :2]
        return cast(np.ndarray, np.clip(moves, -core.action_bound, core.action_bound))

    return trace


def play(core: SupplyDemandCore, policy: ActionFn, seed: int,
         episodes: int = EVAL_EPISODES) -> tuple[np.ndarray, np.ndarray, float]:
    """``policy(observations)`` played by every agent in ``episodes`` episodes (seeds
    ``seed``, ``seed + 1``, ...): the mean over episodes of gap_t = |x̄_t − c_t| ``(T,)``, of
    the population's mean position ``(T, 2)``, and of the return per agent."""
    horizon = core.max_cycles
    gaps, path, total = np.zeros(horizon), np.zeros((horizon, 2)), 0.0
    for episode in range(episodes):
        observations = core.reset(seed=seed + episode)[core.agent_group]
        for t in range(horizon):
            step = core.step({core.agent_group: policy(observations)})
            mean = step.info["positions"].mean(axis=0)
            gaps[t] += float(np.hypot(*(mean - step.info["centre"])))
            path[t] += mean
            total += float(step.rewards[core.agent_group].mean())
            observations = step.observations[core.agent_group]
    return gaps / episodes, path / episodes, total / episodes


def modal_policy_exploitability(core: SupplyDemandCore) -> float:
    """The exploitability (grid game, per agent and episode) of the grid equilibrium's modal
    pure policy: at every step and node, the move most of the best responses that fictitious
    play averaged take. What a deterministic policy such as the learned mean policy can reach.
    """
    equilibrium = core.reference_equilibrium()
    game, choices = equilibrium.game, equilibrium.choices.astype(np.int64)
    counts = np.stack([(choices == move).sum(axis=0) for move in range(len(game.offsets))])
    return game.policy_exploitability(counts.argmax(axis=0))


def tail_mean(values: np.ndarray) -> float:
    """The average of the last :data:`TAIL` of a curve (at least one window).

    >>> tail_mean(np.arange(8.0))
    6.5
    """
    keep = max(int(round(len(values) * TAIL)), 1)
    return float(np.mean(values[-keep:]))


def intercept(gaps: np.ndarray) -> int | None:
    """The first step at which the gap is at most :data:`INTERCEPT_RADIUS` (None if never).

    >>> intercept(np.array([0.8, 0.4, 0.1, 0.05])), intercept(np.array([0.8, 0.5]))
    (2, None)
    """
    close = np.flatnonzero(np.asarray(gaps) <= INTERCEPT_RADIUS)
    return int(close[0]) if len(close) else None


@dataclass(frozen=True)
class EtaResult:
    """One η's numbers (seed-averaged) and the grid equilibrium's."""

    eta: float
    gaps: dict[str, np.ndarray]  # policy → gap_t per step, (T,)
    paths: dict[str, np.ndarray]  # policy → mean position per step, (T, 2)
    returns: dict[str, float]  # policy → return per agent and episode
    first_exploitability: float  # of the untrained learner's mean policy
    exploitability: float
    reference_gaps: np.ndarray  # the grid equilibrium's, to the nominal path
    reference_path: np.ndarray
    trace_exploitability: float = float("nan")  # tracing's, the strongest simple rule's

    @property
    def intercept(self) -> int | None:
        return intercept(self.gaps["learned"])

    @property
    def trace_distance(self) -> float:
        return float(np.mean(self.gaps["learned"][TRACE_FROM:]))

    @property
    def early_distance(self) -> float:
        """The mean gap over the steps before :data:`TRACE_FROM`."""
        return float(np.mean(self.gaps["learned"][:TRACE_FROM]))


@dataclass(frozen=True)
class SupplySummary:
    """What the claims see: one :class:`EtaResult` per η (seed-averaged over the first
    start's runs) and per run (``runs``, run r of both η from one start), the nominal demand
    path, the windows' curves for the figure, and each fixed policy's :class:`EtaResult` per
    η (``rules``: the same episodes, its own exploitability in both the learned and the
    untrained place)."""

    results: dict[float, EtaResult]
    nominal_path: np.ndarray  # (T, 2)
    episodes: np.ndarray
    curves: dict[float, dict[str, np.ndarray]]  # η → column → seed-averaged curve
    n_agents: int
    runs: tuple[dict[float, EtaResult], ...] = ()
    run_starts: tuple[tuple[float, float], ...] = ()  # the start of each run
    rules: dict[str, dict[float, EtaResult]] | None = None

    def per_run(self) -> tuple[SupplySummary, ...]:
        """One summary per run (the seed-averaged one when there are no runs)."""
        return tuple(replace(self, results=run, runs=(), run_starts=())
                     for run in self.runs) or (self,)

    def playing(self, policy: str) -> SupplySummary:
        """The summary with the fixed ``policy`` (``"trace"`` or ``"still"``) in the
        learner's place, on every run."""
        return replace(self, results=(self.rules or {})[policy], runs=(), run_starts=())

    @property
    def costly(self) -> EtaResult:
        return self.results[max(self.results)]

    @property
    def free(self) -> EtaResult:
        return self.results[0.0]


def reference(game_kwargs: dict) -> tuple[np.ndarray, np.ndarray]:
    """The grid equilibrium's mean position per step and its gap to the nominal path."""
    kwargs = {k: v for k, v in game_kwargs.items() if k != "n_agents"}
    core = SupplyDemandCore(n_agents=1, **kwargs)
    path = core.reference_equilibrium().mean_path()
    return path, np.hypot(*(path - nominal_path(core)).T)


def nominal_path(core: SupplyDemandCore) -> np.ndarray:
    """The demand's centre at every step, offset 0 and speed 1, ``(T, 2)``."""
    return np.stack([core.centre(t, np.zeros(2), 1.0) for t in range(core.max_cycles)])


def rule_result(result: EtaResult, runs: list[Curve], policy: str) -> EtaResult:
    """``result`` with the fixed ``policy``'s evaluation and exploitability as the learned."""
    exploitability = float(np.mean([c.columns[f"exploitability_{policy}"][0] for c in runs]))
    return replace(result, gaps={**result.gaps, "learned": result.gaps[policy]},
                   paths={**result.paths, "learned": result.paths[policy]},
                   returns={**result.returns, "learned": result.returns[policy]},
                   first_exploitability=exploitability, exploitability=exploitability)


def eta_result(runs: list[Curve]) -> EtaResult:
    """Seed-averaged numbers of one η's runs."""
    def mean(name: str) -> np.ndarray:
        averaged: np.ndarray = np.mean(
            [np.asarray(c.columns[name], dtype=np.float64) for c in runs], axis=0)
        return averaged

    job = runs[0].job
    path, gaps = reference(job.game_kwargs)
    return EtaResult(
        eta=float(job.game_kwargs["eta"]),
        gaps={name: mean(f"gap_{name}") for name in POLICIES},
        paths={name: mean(f"path_{name}") for name in POLICIES},
        returns={name: float(mean(f"return_{name}")[0]) for name in POLICIES},
        first_exploitability=float(mean("initial_exploitability")[0]),
        exploitability=tail_mean(mean("exploitability")),
        reference_gaps=gaps, reference_path=path,
        trace_exploitability=float(mean("exploitability_trace")[0])
        if all("exploitability_trace" in c.columns for c in runs) else float("nan"))


def start_of(curve: Curve) -> tuple[float, float]:
    x, y = curve.job.game_kwargs.get("start_mean", STARTS[0])
    return float(x), float(y)


def summarize(curves: list[Curve]) -> SupplySummary:
    """Group the runs by start and η; the seed averages are the first start's (MJM's first),
    the runs every start's run r of both η (``run_starts`` says whose)."""
    grouped: dict[tuple[float, float], dict[float, list[Curve]]] = {}
    for curve in curves:
        by_eta = grouped.setdefault(start_of(curve), {})
        by_eta.setdefault(float(curve.job.game_kwargs["eta"]), []).append(curve)
    first = next(iter(grouped.values()))
    results = {eta: eta_result(runs) for eta, runs in first.items()}
    per_run: list[dict[float, EtaResult]] = []
    run_starts: list[tuple[float, float]] = []
    for start, by_eta in grouped.items():
        ordered = {eta: sorted(runs, key=lambda c: c.job.seed) for eta, runs in by_eta.items()}
        for r in range(min(len(runs) for runs in ordered.values())):
            per_run.append({eta: eta_result([runs[r]]) for eta, runs in ordered.items()})
            run_starts.append(start)
    rules = None
    if all("exploitability_trace" in c.columns for c in curves):
        rules = {policy: {eta: rule_result(results[eta], runs, policy)
                          for eta, runs in first.items()} for policy in POLICIES[1:]}
    return SupplySummary(
        results=results, runs=tuple(per_run), run_starts=tuple(run_starts), rules=rules,
        nominal_path=nominal_path(SupplyDemandCore(n_agents=1)),
        episodes=curves[0].rounds,
        curves={eta: {name: np.mean([c.columns[name] for c in runs], axis=0)
                      for name in COLUMNS} for eta, runs in first.items()},
        n_agents=int(curves[0].job.game_kwargs["n_agents"]))


def lag_bound(summary: SupplySummary) -> int:
    """How many steps after η = 0 the η = 2 population must meet the path: the grid
    equilibrium's lag from this start less one, at least one (2 from MJM's first start)."""
    grid = intercept(summary.costly.reference_gaps), intercept(summary.free.reference_gaps)
    return max(1, (grid[0] or 0) - (grid[1] or 0) - 1)


def response_bound(summary: SupplySummary) -> float:
    """How much farther from the path η = 2 must stay than η = 0 over the first
    :data:`TRACE_FROM` steps: half the grid equilibrium's difference from this start."""
    def early(gaps: np.ndarray) -> float:
        return float(np.mean(gaps[:TRACE_FROM]))

    return 0.5 * (early(summary.costly.reference_gaps) - early(summary.free.reference_gaps))


def intercepts_later(summary: SupplySummary, quick: bool) -> bool:
    """Both η intercept the path, η > 0 at least :func:`lag_bound` steps later, and its return
    beats tracing and standing still."""
    costly, free = summary.costly, summary.free
    late, early = costly.intercept, free.intercept
    returns = costly.returns
    return bool(late is not None and early is not None and late >= early + lag_bound(summary)
                and returns["learned"] > max(returns["trace"], returns["still"]))


def traces(summary: SupplySummary, quick: bool) -> bool:
    """η = 0 traces the path from :data:`TRACE_FROM` on, and η = 2 does not from the start
    (its early distance exceeds η = 0's by :func:`response_bound`): a fixed rule, which plays
    the same for both η, cannot pass."""
    free, costly = summary.free, summary.costly
    return bool(free.trace_distance <= TRACE_DISTANCE[quick]
                and costly.early_distance - free.early_distance >= response_bound(summary))


def learns_best_responses(summary: SupplySummary, quick: bool) -> bool:
    """For both η, the exploitability is at most :data:`EXPLOITABILITY_SHARE` of the
    untrained learner's and below tracing's (NaN fails)."""
    share = EXPLOITABILITY_SHARE[quick]
    return all(r.exploitability <= share * r.first_exploitability
               and r.exploitability < r.trace_exploitability for r in summary.results.values())


def rule_text(summary: SupplySummary, text: Callable[[SupplySummary], str]) -> str:
    """``text(summary)`` with each fixed policy in the learner's place, labelled."""
    names = {"trace": "tracing", "still": "standing still"}
    return "; ".join(f"{names[policy]}: {text(summary.playing(policy))}"
                     for policy in (summary.rules or {}))


def per_run_text(summary: SupplySummary, text: Callable[[SupplySummary], str]) -> str:
    """``text`` of every run, grouped by start when there are several."""
    runs = summary.per_run()
    if len(runs) < 2:
        return ""
    by_start: dict[tuple[float, float], list[str]] = {}
    for start, run in zip(summary.run_starts, runs, strict=True):
        by_start.setdefault(start, []).append(text(run))
    if len(by_start) == 1:
        return "; per run: " + ", ".join(*by_start.values())
    return "; per run, by start: " + "; ".join(
        f"({x:g}, {y:g}): " + ", ".join(texts) for (x, y), texts in by_start.items())


def supply_claims(summary: SupplySummary, quick: bool) -> list[Claim]:
    """MJM Exp. 2's claims, checked on every run of :func:`summarize`'s summary (the texts
    show the seed averages; NaN fails)."""
    costly, free = summary.costly, summary.free
    runs = summary.per_run()
    later = tuple(intercepts_later(run, quick) for run in runs)
    traced = tuple(traces(run, quick) for run in runs)
    learns = tuple(learns_best_responses(run, quick) for run in runs)

    def meets(s: SupplySummary) -> str:
        verdict = "holds" if intercepts_later(s, quick) else "fails"
        return (f"{verdict}, steps {s.costly.intercept} vs {s.free.intercept}, return "
                f"{s.costly.returns['learned']:.3f}")

    def margin(s: SupplySummary) -> str:
        return f"{s.costly.returns['learned'] - s.costly.returns['trace']:+.3f}"

    def exploits(s: SupplySummary) -> str:
        return "/".join(f"{r.exploitability:.3f}" for r in s.results.values())

    grid_late, grid_early = intercept(costly.reference_gaps), intercept(free.reference_gaps)
    returns = " / ".join(f"{costly.returns[name]:.3f}" for name in POLICIES)
    share = EXPLOITABILITY_SHARE[quick]
    return [
        Claim(
            f"η = {costly.eta:g}: the mean position first comes within {INTERCEPT_RADIUS} of "
            f"the demand ≥ {lag_bound(summary)} steps later than with η = 0 (the grid "
            "equilibrium's lag less one, at least one, from each run's start), and the return "
            "beats tracing the path and standing still",
            "η > 0: agents move across and meet the path later; tracing it is too costly",
            f"step {costly.intercept} vs {free.intercept} (grid equilibrium {grid_late} vs "
            f"{grid_early}); return learned / trace / still {returns}"
            + per_run_text(summary, lambda s: f"steps {s.costly.intercept}/{s.free.intercept}"
                           f" margin over tracing {margin(s)}"),
            holds_on_seeds(later),
            baseline=rule_text(summary, meets),
            per_seed=later,
        ),
        Claim(
            f"η = 0: mean distance of the mean position to the demand from step {TRACE_FROM} "
            f"on ≤ {TRACE_DISTANCE[quick]}, while η = 2 stays off the path at first (mean "
            f"distance over steps 0–{TRACE_FROM - 1} ≥ {response_bound(summary):.2f} more than "
            "η = 0's: half the grid equilibrium's difference from each run's start)",
            "η = 0: agents trace the path",
            f"{free.trace_distance:.3f} (grid equilibrium "
            f"{np.mean(free.reference_gaps[TRACE_FROM:]):.3f}); early distances η = 2 / 0: "
            f"{costly.early_distance:.3f} / {free.early_distance:.3f} (grid "
            f"{np.mean(costly.reference_gaps[:TRACE_FROM]):.3f} / "
            f"{np.mean(free.reference_gaps[:TRACE_FROM]):.3f})"
            + per_run_text(summary, lambda s: f"{s.free.trace_distance:.3f}"),
            holds_on_seeds(traced),
            baseline=rule_text(summary, lambda s: f"{s.free.trace_distance:.3f}, early "
                               f"{s.costly.early_distance:.3f} / {s.free.early_distance:.3f}"),
            per_seed=traced,
        ),
        Claim(
            f"both η: exploitability of the learned policy ≤ {share:.0%} of the untrained "
            "learner's and below tracing's, the strongest simple rule (grid game)",
            "agents learn best responses (the mean-field equilibrium)",
            "; ".join(f"η={r.eta:g}: {r.first_exploitability:.3f} → {r.exploitability:.3f}"
                      for r in summary.results.values()) + " (grid equilibrium < 0.001; "
            "tracing " + "/".join(f"{r.trace_exploitability:.3f}" for r in
                                  summary.results.values()) + ")"
            + per_run_text(summary, exploits),
            holds_on_seeds(learns),
            baseline=rule_text(summary, exploits),
            per_seed=learns,
        ),
    ]


def save_supply(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    """``mguni-supply.csv`` (every run's columns per window), ``mguni-supply-paths.csv`` (the
    evaluation per step) and ``mguni-supply.png``."""
    windows = write_columns_csv(curves, out_dir / "mguni-supply.csv", COLUMNS, "episodes")
    paths = out_dir / "mguni-supply-paths.csv"
    with paths.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "seed", "policy", "step", "mean_x", "mean_y", "gap",
                         "return"])
        for curve in curves:
            for name in POLICIES:
                path, gaps = curve.columns[f"path_{name}"], curve.columns[f"gap_{name}"]
                value = float(curve.columns[f"return_{name}"][0])
                for t, ((x, y), gap) in enumerate(zip(path, gaps, strict=True)):
                    writer.writerow([curve.job.label, curve.job.seed, name, t, f"{x:.5f}",
                                     f"{y:.5f}", f"{gap:.5f}", f"{value:.5f}"])
    summary = summarize(curves)
    return [windows, paths, save_figure(lambda: supply_figure(summary),
                                        out_dir / "mguni-supply.png")]


def supply_figure(summary: SupplySummary) -> Figure:
    """Mean positions against the demand path (both η, the grid equilibrium dotted), the gap
    per step (tracing's dashed), and the exploitability per window (seed averages)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(14, 4.4))
    plane, gaps, curves = figure.subplots(1, 3)
    nominal = summary.nominal_path
    plane.plot(nominal[:, 0], nominal[:, 1], "--", color="purple", label="demand path")
    for eta, result in summary.results.items():
        line = plane.plot(*result.paths["learned"].T, marker=".", label=f"learned, {label(eta)}")
        colour = line[0].get_color()
        plane.plot(*result.reference_path.T, ":", color=colour, label=f"grid eq., {label(eta)}")
        gaps.plot(result.gaps["learned"], color=colour, label=f"learned, {label(eta)}")
        gaps.plot(result.reference_gaps, ":", color=colour, label=f"grid eq., {label(eta)}")
        gaps.plot(result.gaps["trace"], "--", color=colour, linewidth=0.7,
                  label=f"tracing, {label(eta)}")
        curves.plot(summary.episodes, summary.curves[eta]["exploitability"], color=colour,
                    label=label(eta))
    plane.set_aspect("equal")
    plane.set_title("mean position per step")
    gaps.axhline(INTERCEPT_RADIUS, color="grey", linewidth=0.8)
    gaps.set_xlabel("step t")
    gaps.set_title("|mean position − demand centre|")
    curves.set_xlabel("episode")
    curves.set_yscale("log")
    curves.set_title("exploitability of the learned mean policy")
    for ax in (plane, gaps, curves):
        ax.legend(fontsize=7)
    figure.suptitle("MJM Exp. 2, supply with uncertain demand: actor-critic fictitious play, "
                    f"N = {summary.n_agents}")
    return figure


REPRODUCTIONS = {
    "mguni-supply": Reproduction(
        "mguni-supply", "MJM Exp. 2: supply with uncertain demand, η = 2 meets the path "
        "later and beats tracing it, η = 0 traces it, vs the grid equilibrium", supply_jobs,
        supply_claims, save_supply, summarize=summarize),
}
