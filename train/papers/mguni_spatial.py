"""Mguni, Jennings & Munoz de Cote (AAMAS 2018), Experiment 1: spatial congestion.

D. Mguni, J. Jennings, E. Munoz de Cote, *Decentralised learning in systems with many, many
strategic agents*, AAMAS 2018; "MJM" below. In their first experiment 1000 agents pick where
to stand in the plane; a desirable spot is worth less the more crowded it is (crowd aversion
α). MJM report, after 2000 episodes of their actor-critic fictitious play, that rewards and
policy stabilize, that the population spreads more the larger α (their figures for α = 1, 2,
3), and that with two desirable bumps the agents occupy both.

``mguni-spatial`` trains
:class:`~populace.agents.actor_critic.fictitious_play.ActorCriticFictitiousPlay`
(``"ac_fp"``) on ``spatial_congestion_v0`` with η = 0 (MJM's Experiment 1 has no movement
cost; SPEC's default η = 0.5 makes the far bump too expensive to reach, and the grid
equilibrium's spread then no longer grows with α). Each round is one one-shot episode; the
agent observes only its own start, so the learner runs with no observed statistic
(``state_size=2``: the mean field reaches it through the rewards) and learns its Gaussian's
spread (``learn_std=True``: a mixed equilibrium needs it), as a contextual bandit
(``discount`` 0.01, so the TD error is the reward minus the critic's baseline).

The claims, scored against the grid mean-field equilibrium
(:meth:`~populace.envs.plane.spatial_congestion.SpatialCongestionCore.reference_equilibrium`):

* **stabilize**: in every game the exploitability of the play (the last quarter's windows)
  is at most half that of the untrained learner's play (one round sampled before training:
  the first window is already mostly learned), and the mean reward and the spread move by
  less than :data:`DRIFT` between the third and the last quarter of the run;
* **spread grows with α** (single bump): the learned spreads increase with α, each is
  within :data:`SPREAD_TOLERANCE` of the grid equilibrium's, and the play's exploitability
  is at most :data:`EXPLOITABILITY`;
* **both peaks** (bimodal reward): at least :data:`PEAK_SHARE` of the agents, playing the
  learned policy, land within :data:`PEAK_RADIUS` of each bump.

**The bimodal game needs a mixture actor (our extension).** MJM's actor is a single
Gaussian. Every agent starts near (1, 0), so all of them feed it nearly the same input and
it puts out one bump of aims: trained on the bimodal game it learns one wide Gaussian centred
on the valley (−0.5, 0) between the bumps, covering both but heaping where neither is (full
run: 16 % / 32 % / 20 % of the agents near peak / valley / peak against the grid
equilibrium's 21 % / 14 % / 20 %, exploitability 0.099, five times the single-bump games'; an
MLP actor learned the same). The equilibrium there is a mixed strategy with a mode at each
bump, which no unimodal policy with identical starts can play. So the bimodal job runs
``ac_fp`` with a mixture of two Gaussians (``components=2``,
:mod:`populace.agents.actor_critic.mixture`), trained by the same actor-critic update with the
mixture's log-density. Its components start narrow (``action_std`` 0.1): started at 0.3 they
overlap, get the same gradients, and one of them takes all the weight before they part
(measured: the single wide bump again). The single-bump games keep MJM's single Gaussian: a
mixture there learned the same spreads and exploitability (quick runs: 0.083 / 0.137 / 0.181
against 0.083 / 0.138 / 0.183).

**Simple rules on the same seeds.** Two policies nobody trained play every game on the
learner's seeds, scored by the same columns and shown as their own rows: **aim at the peak**
(every agent moves to the nearest desirability peak, (0, 0) in both games, within its action
box) and **stay** (u = 0). Each is fed to the claims (the table's simple-rule column): both
fail every claim.

**Seeds.** The full run trains :data:`FULL`'s runs per game; each claim is checked on every
run (the seeds column) and holds only if it holds on all of them; the table's numbers are the
seed averages.

Every claim is a pure function of the :class:`SpatialSummary`; fed the curves of players that
do not learn (the rules, or moving at random), each fails (``tests/papers/test_mguni_spatial.py``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from populace.train.papers.claims import Claim, holds_on_seeds
from populace.train.papers.figures import save_figure
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.reproduction import Reproduction

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from populace.agents.base import Learner
    from populace.envs.plane.spatial_congestion import SpatialCongestionCore
    from populace.envs.policies import Acts

GAME = "spatial_congestion_v0"
LEARNER = "ac_fp"
ALPHAS = (1.0, 2.0, 3.0)  # MJM Exp. 1
ETA = 0.0  # MJM Exp. 1: no movement cost
BIMODAL_ALPHA = 1.0
# the bimodal game's bumps and the valley between them
PLACES = {"left": (-1.0, 0.0), "valley": (-0.5, 0.0), "right": (0.0, 0.0)}
SHARES = tuple(f"share_{name}" for name in PLACES)
LEARNER_KWARGS = {"state_size": 2, "learn_std": True, "discount": 0.01, "batch_rounds": 1,
                  "action_std": 0.3}
# the bimodal game: two Gaussians (ours, see above), narrow at the start so that they part
BIMODAL_KWARGS = {**LEARNER_KWARGS, "components": 2, "action_std": 0.1}
COLUMNS = ("exploitability", "density_distance", "mean_reward", "spread", "mean_x", "mean_y")
QUICK = {"runs": 1, "agents": 200, "rounds": 200, "window": 20}
FULL = {"runs": 5, "agents": 1000, "rounds": 2000, "window": 100}  # MJM: N = 1000, 2000
TAIL = 0.25  # final values: averages over this last fraction of the windows
SAMPLE_SEED = 12345  # the evaluation round's seed (added to the job's)
# Bounds, (quick, full).
EXPLOITABILITY = {True: 0.06, False: 0.04}
DRIFT = {True: 0.10, False: 0.05}
SPREAD_TOLERANCE = {True: 0.30, False: 0.20}
PEAK_RADIUS = 0.25
PEAK_SHARE = 0.10
RULES = ("aim at the peak", "stay")  # the simple rules, played on the learner's seeds


def label(reward: str, alpha: float) -> str:
    return f"{reward} α={alpha:g}"


def spatial_jobs(quick: bool, seed: int) -> list[Job]:
    """``ac_fp`` on the single-bump game for every α, and with a mixture actor on the
    bimodal one; then each of :data:`RULES` on every game and seed."""
    plan = QUICK if quick else FULL
    games = [("single", alpha) for alpha in ALPHAS] + [("bimodal", BIMODAL_ALPHA)]
    seeds = [seed * 1000 + run for run in range(plan["runs"])]
    jobs, rules = [], []
    for reward, alpha in games:
        base = Job(label(reward, alpha), GAME,
                   {"n_agents": plan["agents"], "alpha": alpha, "eta": ETA, "reward": reward},
                   LEARNER, dict(BIMODAL_KWARGS if reward == "bimodal" else LEARNER_KWARGS),
                   rounds=plan["rounds"], window=plan["window"],
                   seed=0, columns=COLUMNS, runner=train_and_sample)
        jobs += [replace(base, seed=s) for s in seeds]
        for rule in RULES:
            ruled = replace(base, learner="rule", learner_kwargs={"rule": rule},
                            runner=play_rule)
            rules += [replace(ruled, seed=s) for s in seeds]
    return jobs + rules


def rule_moves(core: SpatialCongestionCore, rule: str, starts: np.ndarray) -> np.ndarray:
    """The moves of a simple rule: ``"aim at the peak"`` (the nearest desirability peak,
    within the action box) or ``"stay"``."""
    if rule == "stay":
        return np.zeros_like(starts)
    if rule != "aim at the peak":
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    centres = np.asarray(core.centres, dtype=np.float64)
    nearest = np.argmin(((starts[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    return cast(
        np.ndarray, np.clip(centres[nearest] - starts, -core.action_bound, core.action_bound))


def play_rule(job: Job) -> Curve:
    """Play the rule ``job.learner_kwargs["rule"]`` for one seeded round per window (its play
    does not change, so more rounds would only average the game's noise), with the same
    columns as :func:`train_and_sample`; its "untrained" exploitability is its own."""
    from populace.envs.registry import make_core

    core = cast("SpatialCongestionCore", make_core(job.game, **job.game_kwargs))
    env_seed, _ = np.random.SeedSequence(job.seed).generate_state(2)
    rule = job.learner_kwargs["rule"]
    rounds = np.arange(job.window, job.rounds + 1, job.window)
    rows = [rule_round(core, rule, int(env_seed) + k)[1] for k in range(len(rounds))]
    columns = {name: np.array([float(row[name]) for row in rows]) for name in job.columns}
    columns["initial_exploitability"] = columns["exploitability"][:1].copy()
    landings = rule_round(core, rule, int(env_seed) + SAMPLE_SEED)[0]
    for name, place in zip(SHARES, PLACES.values(), strict=True):
        columns[name] = np.array([share_near(landings, place)])
    return Curve(job, rounds, columns[job.columns[0]], 0.0, columns)


def rule_round(core: SpatialCongestionCore, rule: str, seed: int) -> tuple[np.ndarray, dict]:
    """One seeded round of a rule's play: the landings and the game's window metrics."""
    starts = core.reset(seed=seed)[core.agent_group]
    actions = {core.agent_group: rule_moves(core, rule, starts)}
    step = core.step(actions)
    metrics = core.window_metrics()
    metrics.record(actions, step)
    return step.info["landings"], metrics.scores({})


def train_and_sample(job: Job) -> Curve:
    """Train as :func:`~populace.train.papers.jobs.run_job` does, then play the learned policy
    (exploration included: it is the mixed strategy) for one more round, seeded, and keep the
    share of landings within :data:`PEAK_RADIUS` of each bimodal bump and of the valley
    between them (:data:`PLACES`; columns :data:`SHARES`, one value each)."""
    from populace.agents import make_learner
    from populace.envs.registry import make_core
    from populace.train import train

    core = cast("SpatialCongestionCore", make_core(job.game, **job.game_kwargs))
    env_seed, learner_seed = np.random.SeedSequence(job.seed).generate_state(2)
    learner = cast("Learner", make_learner(job.learner, core, seed=int(learner_seed),
                                           **job.learner_kwargs))  # the game's one group
    initial = sampled_round(core, learner, int(env_seed) + SAMPLE_SEED)[1]["exploitability"]
    result = train(core, learner, rounds=job.rounds, seed=int(env_seed), window=job.window,
                   progress=False)
    columns = {name: result.history.column(name) for name in job.columns}
    columns["initial_exploitability"] = np.array([initial])
    landings = sampled_round(core, learner, int(env_seed) + SAMPLE_SEED)[0]
    for name, place in zip(SHARES, PLACES.values(), strict=True):
        columns[name] = np.array([share_near(landings, place)])
    return Curve(job, result.history.column("round"), columns[job.columns[0]],
                 result.timings.seconds, columns)


def sampled_round(core: SpatialCongestionCore, learner: Acts, seed: int
                  ) -> tuple[np.ndarray, dict]:
    """One round of the learner's play (seeded game): the landings, and the game's window
    metrics of that round (exploitability of the empirical play, spread, ...)."""
    starts = core.reset(seed=seed)[core.agent_group]
    actions = {core.agent_group: learner.act(starts)}
    step = core.step(actions)
    metrics = core.window_metrics()
    metrics.record(actions, step)
    return step.info["landings"], metrics.scores({})


def share_near(points: np.ndarray, centre: tuple[float, float]) -> float:
    """The fraction of ``points`` within :data:`PEAK_RADIUS` of ``centre``.

    >>> share_near(np.array([[0.0, 0.0], [1.0, 0.0]]), (0.0, 0.1))
    0.5
    """
    offsets = np.asarray(points, dtype=np.float64) - np.asarray(centre)
    return float(np.mean(np.hypot(offsets[:, 0], offsets[:, 1]) <= PEAK_RADIUS))


def tail_mean(values: np.ndarray, start: float = 1 - TAIL, stop: float = 1.0) -> float:
    """The average of a curve over the fraction [start, stop) of its windows (≥ 1 window).

    >>> tail_mean(np.arange(8.0)), tail_mean(np.arange(8.0), 0.5, 0.75)
    (6.5, 4.5)
    """
    n = len(values)
    first = min(int(round(n * start)), n - 1)
    last = max(int(round(n * stop)), first + 1)
    return float(np.mean(values[first:last]))


@dataclass(frozen=True)
class GameResult:
    """One game's numbers: learned (seed-averaged) and the grid reference's."""

    label: str
    reward: str
    alpha: float
    first_exploitability: float  # of the untrained learner's play
    exploitability: float
    drift: float  # the larger relative move of mean reward and spread, third → last quarter
    spread: float
    reference_spread: float
    shares: tuple[float, ...]  # landings near each of PLACES
    reference_shares: tuple[float, ...]  # the grid equilibrium's aims near each


@dataclass(frozen=True)
class SpatialSummary:
    """What the claims see: one :class:`GameResult` per game (seed-averaged), the same per
    run (``seeds``), each rule's (seed-averaged), and the learner's curves for the figure."""

    games: dict[str, GameResult]
    rounds: np.ndarray
    curves: dict[str, dict[str, np.ndarray]]  # label → column → seed-averaged curve
    seeds: tuple[dict[str, GameResult], ...] = ()
    rules: dict[str, dict[str, GameResult]] = field(default_factory=dict)
    rule_curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def playing(self, rule: str) -> SpatialSummary:
        """The same summary with the rule's results in the learner's place."""
        return replace(self, games=self.rules[rule], seeds=(self.rules[rule],))

    def per_seed(self) -> tuple[dict[str, GameResult], ...]:
        return self.seeds or (self.games,)

    def single(self) -> list[GameResult]:
        return sorted((g for g in self.games.values() if g.reward == "single"),
                      key=lambda g: g.alpha)

    def bimodal(self) -> GameResult:
        return next(g for g in self.games.values() if g.reward == "bimodal")


def reference(game_kwargs: dict) -> tuple[float, tuple[float, ...]]:
    """The grid equilibrium's spread and its aims' mass near each of :data:`PLACES`."""
    from populace.envs.plane.spatial_congestion import SpatialCongestionCore

    kwargs = {k: v for k, v in game_kwargs.items() if k != "n_agents"}
    equilibrium = SpatialCongestionCore(n_agents=1, **kwargs).reference_equilibrium()
    nodes, mass = equilibrium.game.grid.nodes, equilibrium.aims.ravel()
    shares = tuple(float(mass[np.hypot(*(nodes - np.asarray(c)).T) <= PEAK_RADIUS].sum())
                   for c in PLACES.values())
    return equilibrium.spread(), shares


def relative_drift(values: np.ndarray) -> float:
    """|last quarter − third quarter| / |last quarter| of a curve (inf if it is 0)."""
    late, before = tail_mean(values), tail_mean(values, 0.5, 0.75)
    return abs(late - before) / abs(late) if late else float("inf")


def game_result(runs: list[Curve]) -> GameResult:
    """Seed-averaged numbers of one game's runs."""
    job = runs[0].job
    mean = {name: np.mean([c.columns[name] for c in runs], axis=0)
            for name in (*COLUMNS, *SHARES, "initial_exploitability")}
    spread, shares = reference(job.game_kwargs)
    return GameResult(
        label=job.label, reward=job.game_kwargs["reward"], alpha=job.game_kwargs["alpha"],
        first_exploitability=float(mean["initial_exploitability"][0]),
        exploitability=tail_mean(mean["exploitability"]),
        drift=max(relative_drift(mean["mean_reward"]), relative_drift(mean["spread"])),
        spread=tail_mean(mean["spread"]), reference_spread=spread,
        shares=tuple(float(mean[name][0]) for name in SHARES),
        reference_shares=shares)


def by_game(curves: list[Curve]) -> dict[str, list[Curve]]:
    grouped: dict[str, list[Curve]] = {}
    for curve in curves:
        grouped.setdefault(curve.job.label, []).append(curve)
    return grouped


def summarize(curves: list[Curve]) -> SpatialSummary:
    """Group the learner's runs by game and reduce each to a :class:`GameResult` (seed
    average, and per seed); likewise each rule's."""
    learned = by_game([c for c in curves if c.job.learner != "rule"])
    seeds = sorted({c.job.seed for runs in learned.values() for c in runs})
    rules = {rule: by_game([c for c in curves if c.job.learner_kwargs.get("rule") == rule])
             for rule in RULES}
    return SpatialSummary(
        games={name: game_result(runs) for name, runs in learned.items()},
        rounds=curves[0].rounds,
        curves={name: {column: np.mean([c.columns[column] for c in runs], axis=0)
                       for column in COLUMNS} for name, runs in learned.items()},
        seeds=tuple({name: game_result([c for c in runs if c.job.seed == seed])
                     for name, runs in learned.items()} for seed in seeds),
        rules={rule: {name: game_result(runs) for name, runs in games.items()}
               for rule, games in rules.items() if games},
        rule_curves={f"{rule}, {name}": {column: np.mean([c.columns[column] for c in runs],
                                                         axis=0) for column in COLUMNS}
                     for rule, games in rules.items() for name, runs in games.items()})


def stabilizes(game: GameResult, quick: bool) -> bool:
    """Exploitability halved, reward and spread settled (NaN fails)."""
    return bool(game.exploitability <= 0.5 * game.first_exploitability
                and game.drift <= DRIFT[quick])


def all_stabilize(games: dict[str, GameResult], quick: bool) -> bool:
    return all(stabilizes(g, quick) for g in games.values())


def single_games(games: dict[str, GameResult]) -> list[GameResult]:
    return sorted((g for g in games.values() if g.reward == "single"), key=lambda g: g.alpha)


def spread_grows(games: dict[str, GameResult], quick: bool) -> bool:
    """The single-bump spreads increase with α, each within :data:`SPREAD_TOLERANCE` of the
    grid equilibrium's, with exploitability at most :data:`EXPLOITABILITY` (NaN fails)."""
    single = single_games(games)
    errors = [abs(g.spread - g.reference_spread) / g.reference_spread for g in single]
    return bool(np.all(np.diff([g.spread for g in single]) > 0)
                and max(errors) <= SPREAD_TOLERANCE[quick]
                and max(g.exploitability for g in single) <= EXPLOITABILITY[quick])


def bimodal_game(games: dict[str, GameResult]) -> GameResult:
    return next(g for g in games.values() if g.reward == "bimodal")


def occupies_both_peaks(game: GameResult) -> bool:
    """Each bump holds at least :data:`PEAK_SHARE` of the landings, and more than the
    valley between them (a population spread evenly across both, or heaped in the valley,
    does not occupy the peaks)."""
    left, valley, right = game.shares
    return bool(min(left, right) >= PEAK_SHARE and min(left, right) > valley)


def rule_text(summary: SpatialSummary, text: Callable[[dict[str, GameResult]], str]) -> str:
    """``text(games)`` of each rule's seed-averaged results, labelled."""
    return "; ".join(f"{rule}: {text(games)}" for rule, games in summary.rules.items())


def spatial_claims(summary: SpatialSummary, quick: bool) -> list[Claim]:
    """MJM Exp. 1's claims, checked on every seed of :func:`summarize`'s summary (the texts
    show the seed averages)."""
    games, single, bimodal = list(summary.games.values()), summary.single(), summary.bimodal()
    tolerance, bound = SPREAD_TOLERANCE[quick], EXPLOITABILITY[quick]
    shares = " / ".join(f"{share:.0%}" for share in bimodal.shares)
    grid = " / ".join(f"{share:.0%}" for share in bimodal.reference_shares)
    seeds = summary.per_seed()
    stable = tuple(all_stabilize(g, quick) for g in seeds)
    grows = tuple(spread_grows(g, quick) for g in seeds)
    peaks = tuple(occupies_both_peaks(bimodal_game(g)) for g in seeds)

    def verdict(ok: bool) -> str:
        return "holds" if ok else "fails"

    return [
        Claim(
            f"rewards and policy stabilize: exploitability at most half the untrained play's, "
            f"reward and spread "
            f"move < {DRIFT[quick]:.0%} over the last half (every game)",
            "rewards and policy stabilize within 2000 episodes",
            "; ".join(f"{g.label}: {g.first_exploitability:.3f} → {g.exploitability:.4f}, "
                      f"drift {g.drift:.1%}" for g in games),
            holds_on_seeds(stable),
            baseline=rule_text(summary, lambda g: verdict(all_stabilize(g, quick)) + ", "
                               + ", ".join(f"{x.exploitability:.3f}" for x in g.values())),
            per_seed=stable,
        ),
        Claim(
            f"single bump: spread grows with α, each within {tolerance:.0%} of the grid "
            f"equilibrium's, and exploitability ≤ {bound}",
            "spread grows with α ∈ {1, 2, 3} (figures)",
            "; ".join(f"α={g.alpha:g}: {g.spread:.3f} (grid {g.reference_spread:.3f}), "
                      f"exploitability {g.exploitability:.4f}" for g in single),
            holds_on_seeds(grows),
            baseline=rule_text(summary, lambda g: verdict(spread_grows(g, quick)) + ", spreads "
                               + ", ".join(f"{x.spread:.3f}" for x in single_games(g))),
            per_seed=grows,
        ),
        Claim(
            f"bimodal: each peak holds ≥ {PEAK_SHARE:.0%} of the agents (within "
            f"{PEAK_RADIUS}) and more than the valley between them",
            "agents occupy both peaks",
            f"(−1, 0) / valley (−0.5, 0) / (0, 0): {shares} (grid equilibrium {grid}); "
            f"exploitability {bimodal.exploitability:.3f}",
            holds_on_seeds(peaks),
            baseline=rule_text(summary, lambda g: verdict(occupies_both_peaks(
                bimodal_game(g))) + ", " + " / ".join(f"{x:.0%}" for x in bimodal_game(g).shares)),
            per_seed=peaks,
        ),
    ]


def save_spatial(curves: list[Curve], out_dir: Path) -> list[Path | None]:
    """``mguni-spatial.csv`` (every run's columns per window, and its peak shares; the
    learner's and the rules') and ``mguni-spatial.png``."""
    path = out_dir / "mguni-spatial.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "policy", "seed", "round", *COLUMNS, *SHARES])
        for curve in curves:
            shares = [f"{curve.columns[k][0]:.4f}" for k in SHARES]
            policy = curve.job.learner_kwargs.get("rule", curve.job.learner)
            for i, round_ in enumerate(curve.rounds):
                writer.writerow([curve.job.label, policy, curve.job.seed, int(round_),
                                 *(f"{curve.columns[name][i]:.6g}" for name in COLUMNS),
                                 *shares])
    summary = summarize(curves)
    return [path, save_figure(lambda: spatial_figure(summary), out_dir / "mguni-spatial.png")]


def spatial_figure(summary: SpatialSummary) -> Figure:
    """Exploitability and spread per window, every game (seed averages), the grid spreads
    dotted; the rules' exploitability dashed."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    for name, columns in summary.curves.items():
        left.plot(summary.rounds, columns["exploitability"], label=name)
        line = right.plot(summary.rounds, columns["spread"], label=name)
        right.axhline(summary.games[name].reference_spread, color=line[0].get_color(),
                      linestyle=":", linewidth=1)
    for name, columns in summary.rule_curves.items():
        if name.startswith(RULES[0]):
            left.plot(summary.rounds, columns["exploitability"], linestyle="--", linewidth=0.8,
                      label=name)
    left.set_yscale("log")
    left.set_title("exploitability of the window's play")
    right.set_title("spread E|x − E x|² (dotted: grid equilibrium)")
    for ax in (left, right):
        ax.set_xlabel("episode")
        ax.legend(fontsize=7)
    figure.suptitle("MJM Exp. 1, spatial congestion: actor-critic fictitious play (η = 0)")
    return figure


REPRODUCTIONS = {
    "mguni-spatial": Reproduction(
        "mguni-spatial", "MJM Exp. 1: spatial congestion, learned spread per α and the "
        "bimodal game vs the grid equilibrium", spatial_jobs, spatial_claims, save_spatial,
        summarize=summarize),
}
