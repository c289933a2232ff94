"""``mguni-supply``'s claims can fail (SPEC §5): fed the curves of players that do not learn —
everyone standing still, moving at random, or heading for the top of the arc — or the fixed
policies of the reproduction's own table (tracing, standing still) in the learner's place,
every claim fails; fed those of a population that plays like the grid equilibrium, every claim
holds, and a claim that fails on one seed of the full run fails.
Nothing is trained here, apart from the learner's small unit tests at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from populace.agents import make_learner
from populace.train.papers.jobs import Curve, Job
from populace.train.papers.mguni_supply import (
    COLUMNS,
    ETAS,
    EXPLOITABILITY_SHARE,
    FULL,
    LEARNER_KWARGS,
    N_AGENTS,
    POLICIES,
    STARTS,
    TRACE_DISTANCE,
    TRACE_FROM,
    FiniteHorizonSupply,
    intercept,
    lag_bound,
    play,
    reference,
    summarize,
    supply_claims,
    supply_jobs,
    tracing,
)
from populace.train.papers.registry import REPRODUCTIONS

QUICK = [pytest.param(True, id="quick"), pytest.param(False, id="full")]


def window_ends(job: Job) -> np.ndarray:
    return np.arange(job.window, job.rounds + 1, job.window)


def fixed_policy(play_name: str, core: FiniteHorizonSupply, rng: np.random.Generator):
    bound = core.action_bound
    if play_name == "still":
        return lambda observations: np.zeros((len(observations), 2))
    if play_name == "random":
        return lambda observations: rng.uniform(-bound, bound, (len(observations), 2))
    top = np.array([0.0, 1.0])  # "top": everyone heads for the top of the arc and waits
    return lambda observations: np.clip(top - observations[:, :2], -0.1, 0.1)


def curves_of(quick: bool, play_name: str, seed: int = 0) -> list[Curve]:
    """The curves the runner would record for ``play_name``, per job of the reproduction.

    ``still``, ``random``, ``top``: the same play every window, measured in the game itself
    (flat curves; trained and untrained exploitability equal). ``learned``: the grid
    equilibrium's mean path and gaps, a return above tracing's and standing still's, and an
    exploitability that falls from 0.6 to 0.01. Runs of one game (start and η) share their
    measurements.
    """
    rng = np.random.default_rng(seed)
    measured: dict[str, dict[str, np.ndarray]] = {}
    curves = []
    for job in supply_jobs(quick, seed):
        rounds = window_ends(job)
        game = repr(sorted(job.game_kwargs.items()))
        if game not in measured:
            measured[game] = game_columns(job, play_name, len(rounds), rng)
        columns = {name: values.copy() for name, values in measured[game].items()}
        curves.append(Curve(job, rounds, columns["exploitability"], 1.0, columns))
    return curves


def game_columns(job: Job, play_name: str, windows: int,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    core = FiniteHorizonSupply(**{**job.game_kwargs, "n_agents": 20})
    columns: dict[str, np.ndarray] = {}
    if play_name == "learned":
        path, gaps = reference(job.game_kwargs)
        columns.update({"gap_learned": gaps, "path_learned": path,
                        "return_learned": np.array([0.3]),
                        "exploitability": 0.01 + 0.6 * np.exp(-np.arange(windows)),
                        "initial_exploitability": np.array([0.6])})
        for name, policy in (("trace", tracing(core)),
                             ("still", fixed_policy("still", core, rng))):
            gaps, path, value = play(core, policy, 0, episodes=2)
            columns.update({f"gap_{name}": gaps, f"path_{name}": path,
                            f"return_{name}": np.array([min(value, 0.2)])})
    else:
        policy = fixed_policy(play_name, core, rng)
        exploitability = core.exploitability(policy)
        columns["exploitability"] = np.full(windows, exploitability)
        columns["initial_exploitability"] = np.array([exploitability])
        for name in POLICIES:
            played = policy if name == "learned" else (
                tracing(core) if name == "trace" else fixed_policy("still", core, rng))
            gaps, path, value = play(core, played, 0, episodes=2)
            columns.update({f"gap_{name}": gaps, f"path_{name}": path,
                            f"return_{name}": np.array([value])})
    for name, fixed in (("trace", tracing(core)), ("still", fixed_policy("still", core, rng))):
        columns[f"exploitability_{name}"] = np.array([core.exploitability(fixed)])
    for name in COLUMNS[1:]:
        columns[name] = np.zeros(windows)
    return columns


def holding(curves: list[Curve], quick: bool) -> list[bool]:
    return [claim.holds for claim in supply_claims(summarize(curves), quick)]


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("play_name", ["still", "random", "top"])
def test_every_claim_fails_for_players_that_do_not_learn(quick, play_name):
    claims = supply_claims(summarize(curves_of(quick, play_name)), quick)
    assert len(claims) == 3
    assert [c.claim for c in claims if c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
@pytest.mark.parametrize("policy", ["trace", "still"])
def test_every_claim_fails_for_the_fixed_policies_of_the_table(quick, policy):
    """Tracing meets the path as early with η = 2 as with η = 0 and is as exploitable as it
    was "untrained"; standing still never meets it."""
    summary = summarize(curves_of(quick, "learned"))
    claims = supply_claims(summary.playing(policy), quick)
    assert [c.claim for c in claims if c.holds] == []
    assert all(c.baseline for c in supply_claims(summary, quick))


def test_a_claim_that_fails_on_one_seed_fails():
    """Full run (MJM's 5 starts × 6 runs): one η = 0 run off the path, from the fourth start,
    fails the tracing claim on 1 of 30 runs."""
    curves = curves_of(False, "learned")
    free = [c for c in curves if c.job.game_kwargs["eta"] == 0.0]
    assert len(free) == len(STARTS) * FULL.runs == 30
    free[20].columns["gap_learned"] = free[20].columns["gap_learned"].copy()
    free[20].columns["gap_learned"][TRACE_FROM:] = 0.5
    claims = supply_claims(summarize(curves), False)
    assert claims[1].seeds == "29/30" and not claims[1].holds
    assert claims[0].seeds == claims[2].seeds == "30/30"
    assert "(-0.6, 0): " in claims[1].ours


@pytest.mark.parametrize("quick", QUICK)
def test_every_claim_holds_at_the_grid_equilibrium(quick):
    claims = supply_claims(summarize(curves_of(quick, "learned")), quick)
    assert [c.claim for c in claims if not c.holds] == []


@pytest.mark.parametrize("quick", QUICK)
def test_each_claim_fails_alone(quick):
    """Just past each bound, only that claim fails."""
    curves = curves_of(quick, "learned")
    costly = curves[0].columns  # η = 2 comes first
    free = curves[1].columns
    meet, lag = intercept(free["gap_learned"]), lag_bound(summarize(curves))
    saved = costly["gap_learned"]
    costly["gap_learned"] = saved.copy()  # η = 2 meeting the path one step too early
    costly["gap_learned"][meet + lag - 1] = 0.0
    assert holding(curves, quick) == [False, True, True]
    costly["gap_learned"] = saved
    costly["return_learned"] = costly["return_trace"] - 1e-6  # no better than tracing
    assert holding(curves, quick) == [False, True, True]
    curves = curves_of(quick, "learned")
    free = curves[1].columns
    free["gap_learned"] = free["gap_learned"].copy()
    free["gap_learned"][TRACE_FROM:] = 1.01 * TRACE_DISTANCE[quick]
    assert holding(curves, quick) == [True, False, True]
    curves = curves_of(quick, "learned")
    curves[1].columns["exploitability"] = np.full(
        len(curves[1].rounds), 1.01 * EXPLOITABILITY_SHARE[quick] * 0.6)
    assert holding(curves, quick) == [True, True, False]


@pytest.mark.parametrize("quick", QUICK)
def test_jobs_and_reference_fit_together(quick):
    jobs = supply_jobs(quick, 0)
    assert REPRODUCTIONS["mguni-supply"].jobs(quick, 0) == jobs
    assert [job.game_kwargs["eta"] for job in jobs[:2]] == list(ETAS) == [2.0, 0.0]  # MJM: η = 2
    starts = [tuple(job.game_kwargs["start_mean"]) for job in jobs]
    assert sorted(set(starts)) == sorted(STARTS[:1] if quick else STARTS)  # MJM's 5 starts
    assert len(jobs) == 2 * (1 if quick else 30) and len({job.seed for job in jobs}) == len(jobs)
    for job in jobs:
        assert job.learner == "ac_fp" and job.runner is not None and job.columns == COLUMNS
        assert job.learner_kwargs["discount"] == 0.99  # MJM
        assert len(window_ends(job)) >= 8
    if not quick:
        assert jobs[0].game_kwargs["n_agents"] == N_AGENTS == 200


@pytest.mark.slow
@pytest.mark.parametrize("start", STARTS)
def test_the_grid_equilibrium_meets_the_bounds_from_every_start(start):
    """From each of MJM's starts the grid equilibrium meets the path later with η = 2 and
    traces it with η = 0, so the per-start bounds derived from it can be met."""
    gaps = {eta: reference({"demand_scale": 0.1, "eta": eta, "start_mean": start})[1]
            for eta in ETAS}
    assert intercept(gaps[2.0]) > intercept(gaps[0.0])
    assert np.mean(gaps[0.0][TRACE_FROM:]) < 0.05
    assert np.mean(gaps[2.0][:TRACE_FROM]) > np.mean(gaps[0.0][:TRACE_FROM]) + 0.05


# ----------------------------------------------------------------------------- game pieces
def test_finite_horizon_supply_terminates_at_the_horizon_and_tracing_traces():
    core = FiniteHorizonSupply(n_agents=10, eta=0.0)
    observations = core.reset(seed=1)["agent"]
    policy = tracing(core)
    ends = []
    for _ in range(core.max_cycles):
        step = core.step({"agent": policy(observations)})
        ends.append(step.terminated)
        observations = step.observations["agent"]
    assert ends == [False] * (core.max_cycles - 1) + [True]
    gaps, path, value = play(core, policy, 3, episodes=2)
    assert gaps.shape == (30,) and path.shape == (30, 2)
    assert gaps[2:].max() < 0.2 and value > 0  # it follows the (uncertain) path closely
    assert play(core, policy, 3, episodes=2)[2] == value  # seeded: the same every time


# ----------------------------------------------------------------------------- the learner
def test_ac_fp_output_scale_starts_the_mlp_small():
    pytest.importorskip("torch")  # ac_fp is a torch learner (the baselines extra)
    core = FiniteHorizonSupply(n_agents=5)
    kwargs = {k: v for k, v in LEARNER_KWARGS.items() if k != "output_scale"}
    default = make_learner("ac_fp", core, seed=0, **kwargs)
    small = make_learner("ac_fp", core, seed=0, output_scale=0.0, **kwargs)
    observations = core.reset(seed=0)["agent"]
    assert np.abs(default.mean_action(observations)).max() > 0.01
    assert np.abs(small.mean_action(observations)).max() == 0.0
    value = small.critic(__import__("torch").as_tensor(observations)).detach().numpy()
    assert np.abs(value).max() == 0.0
    assert small.config()["actor"]["output_scale"] == 0.0
    assert default.config()["actor"]["output_scale"] is None
    again = make_learner("ac_fp", core, seed=0, output_scale=0.0, **kwargs)
    assert np.array_equal(again.act(observations), small.act(observations))
    linear = make_learner("ac_fp", core, seed=0, state_size=3, critic="mlp", output_scale=0.0)
    assert linear.config()["actor"]["kind"] == "LinearGaussian"  # an option of the MLP critic
    with pytest.raises(ValueError, match="output_scale"):
        make_learner("ac_fp", core, state_size=3, actor="mlp", output_scale=-1.0)


def test_a_pure_policy_can_come_ten_times_closer_than_the_learner():
    """The grid equilibrium's modal pure policy: exploitability 0.090 (η = 2) and 0.147
    (η = 0), against the learner's ≈ 1.0 and 0.46 — determinism is not what limits it."""
    from populace.train.papers.mguni_supply import DEMAND_SCALE, modal_policy_exploitability

    reach = {eta: modal_policy_exploitability(FiniteHorizonSupply(
        n_agents=1, eta=eta, demand_scale=DEMAND_SCALE)) for eta in ETAS}
    assert reach[2.0] == pytest.approx(0.090, abs=0.002)
    assert reach[0.0] == pytest.approx(0.147, abs=0.002)
