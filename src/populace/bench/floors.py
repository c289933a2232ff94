"""A floor for every game: the least numpy that computes what one core step returns.

A *floor* is a bare kernel for one round of a registered game: the same arithmetic as the
core, written once on plain arrays, with no validation, no :class:`~populace.envs.core.Step`,
no bookkeeping. It starts from the core's current state and draws its randomness from a
generator in the core's state, so its first call returns what ``core.step`` returns next
(rewards, observations that vary, the next state); :func:`check_floor` holds it to that.
The kernel keeps its inputs (each call replays the same round with fresh draws), so it can
be timed against the core side by side (:mod:`populace.bench.game_floors`).

What each floor computes (``n`` agents, default game):

* ``contribution_v0`` (average payoff): ``bincount`` of the actions, one 20×20 matrix-vector
  product into the reward of each action, a gather.
* ``matrix_v0`` (random matching): a shuffle into a reused buffer, the partner index, one
  gather of the partners' actions (as bytes) and one of the payoff cells.
* ``congestion_v0`` (serial cost sharing): ``bincount`` of the demands, one 20×20
  matrix-vector product with Φ(q, p) = q² − max(q − p, 0)² (the serial share is
  Σ_j Φ(q_i, q_j)/N under C(s) = s²/N), one division by N, the value table minus it, a
  gather: the core's numbers bit for bit.
* ``zspg_network_v0`` (default chain, sampled): two shifted comparisons give each agent's
  payoff of H (its neighbours' actions, dummies padded), T pays the negative; the
  general edge-array kernel is :func:`populace.bench.zspg.edge_kernel`.
* ``mf_lqr_v0``: the completed-square reward on points as complex numbers, the move and the
  new mean (:func:`populace.bench.lqr.lqr_kernels`, the fastest of three).
* ``spatial_congestion_v0``: land, bin onto the grid, one FFT smoothing, interpolate,
  reward, next starts (:func:`populace.bench.spatial.spatial_kernel`).
* ``supply_demand_v0``: the same density of the current positions (the direct kernel sum
  below 64 agents, binned FFT from there, :class:`~populace.envs.plane.density.DensityEstimator`),
  the moving demand bump over (1 + m)^α, the move cost, the noisy move.
* ``warehouse_v0``: the robots' rewards by one gather from the zone's reward slice, the
  dispatcher's reward, the next zone, the next robot zones by four threshold gathers from
  the 15-row cumulative table and compares, the dispatcher's sample, the observations.
* ``warehouse_continuous_v0``: the robots' Gaussian rewards and move costs, the modal bin,
  the reference's and robots' noisy moves with clipping, the dispatcher's sample and
  histogram, the observations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from populace.bench.lqr import lqr_kernels
from populace.bench.spatial import spatial_kernel
from populace.envs import registry
from populace.envs.anonymous.congestion import CongestionCore
from populace.envs.anonymous.core import AnonymousGameCore
from populace.envs.core import PopulationCore
from populace.envs.mean_field_lqr.mf_lqr import MFLQRCore
from populace.envs.plane.rewards import bump, congested
from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.envs.plane.supply_demand import SupplyDemandCore
from populace.envs.warehouse.warehouse import WarehouseCore
from populace.envs.warehouse.warehouse_continuous import WarehouseContinuousCore
from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore

Outputs = dict[str, np.ndarray]
Kernel = Callable[[], Outputs]

FOREVER = 10**9  # max_cycles large enough that no benchmark truncates


@dataclass
class FloorCase:
    """One game at one size: its core (reset), the joint action it steps with, the floor."""

    game: str
    core: Any
    joint: dict[str, np.ndarray]
    make_floor: Callable[[], Kernel]  # a floor from the core's current state
    what: str  # what the floor computes, in a few words
    rtol: float = 0.0  # 0: the floor's outputs equal the core's bit for bit
    outputs: Callable[[Any, Any], Outputs] = lambda core, step: {}


def fresh_rng(core: PopulationCore) -> np.random.Generator:
    """A generator in the core's current state (the same next draws)."""
    rng = np.random.default_rng()
    rng.bit_generator.state = core.np_random.bit_generator.state
    return rng


def rewards_of(group: str) -> Callable[[Any, Any], Outputs]:
    return lambda core, step: {"rewards": step.rewards[group]}


# ----------------------------------------------------------------------- anonymous games
def average_floor(core: AnonymousGameCore, played: np.ndarray) -> Kernel:
    """The average-payoff round of a pairwise anonymous game."""
    m, matrix = core.n_actions, core.payoff_matrix
    diagonal = np.diag(matrix).copy()
    scale = core.n_agents - 1

    def run() -> Outputs:
        counts = np.bincount(played, minlength=m)
        return {"rewards": ((matrix @ counts - diagonal) / scale).take(played)}

    return run


def matching_floor(core: AnonymousGameCore, played: np.ndarray) -> Kernel:
    """The random-matching round: the core's permutation draws, buffers allocated once."""
    n, m = core.n_agents, core.n_actions
    flat = core.payoff_matrix.ravel()
    half = n // 2
    rng = fresh_rng(core)
    identity, order = np.arange(n), np.empty(n, np.int64)
    partner, cells = np.empty(n, np.int64), np.empty(n, np.int64)
    compact = played.astype(np.uint8 if m <= 256 else np.int64)

    def run() -> Outputs:
        np.copyto(order, identity)
        rng.shuffle(order)
        partner[order[:half]] = order[half : 2 * half]
        partner[order[half : 2 * half]] = order[:half]
        if n % 2:
            last = int(order[-1])
            other = int(rng.integers(n - 1))
            partner[last] = other + (other >= last)
        np.multiply(played, m, out=cells)
        np.add(cells, compact.take(partner), out=cells)
        return {"rewards": flat.take(cells)}

    return run


def congestion_floor(core: CongestionCore, played: np.ndarray) -> Kernel:
    """Values minus the shares Σ_b counts[b]·Φ(a, b)/N: one matrix-vector product of
    integers, one division."""
    a = np.arange(core.n_actions, dtype=np.float64)
    q, p = a[:, None], a[None, :]
    phi = q * p if core.mechanism == "acp" else q * q - np.maximum(q - p, 0.0) ** 2
    values, m, n = core.values, core.n_actions, float(core.n_agents)

    def run() -> Outputs:
        counts = np.bincount(played, minlength=m)
        return {"rewards": (values - (phi @ counts) / n).take(played)}

    return run


# ----------------------------------------------------------------------- zero-sum network
def chain_floor(core: ZSPGNetworkCore, played: np.ndarray) -> Kernel:
    """The chain's payoff vectors and rewards from the neighbours' actions (sampled mode)."""
    n = core.n_agents
    padded = np.empty(n + 2)
    padded[0], padded[-1] = -1.0, 1.0  # dummy 0 plays T, dummy n + 1 plays H: ±1 for H/T
    rows = 2 * np.arange(n)

    def run() -> Outputs:
        np.subtract(1.0, 2.0 * played, out=padded[1:-1])  # +1 for H, −1 for T
        vectors = np.empty((n, 2))
        np.subtract(padded[2:], padded[:-2], out=vectors[:, 0])  # match right, mismatch left
        np.subtract(0.0, vectors[:, 0], out=vectors[:, 1])
        return {"vectors": vectors, "rewards": vectors.ravel().take(played + rows)}

    return run


# ----------------------------------------------------------------------- plane games
def lqr_floor(core: MFLQRCore, u: np.ndarray) -> Kernel:
    kernel = lqr_kernels(core, u)["complex"]

    def run() -> Outputs:
        rewards, positions, mean = kernel()
        return {"rewards": rewards, "positions": positions, "mean": mean}

    return run


def spatial_floor(core: SpatialCongestionCore, u: np.ndarray) -> Kernel:
    kernel = spatial_kernel(core, u)

    def run() -> Outputs:
        rewards, starts = kernel()
        return {"rewards": rewards, "starts": starts}

    return run


def supply_floor(core: SupplyDemandCore, u: np.ndarray) -> Kernel:
    """One supply-demand round from the core's positions (the density as the core does it:
    linear binning, FFT smoothing, bilinear interpolation)."""
    positions = core.positions.copy()
    n, density = len(positions), core.density
    centre = core.centre(core.cycle)
    variance, scale, alpha = core.demand_variance, core.demand_scale, core.alpha
    eta, sigma = core.eta, core.sigma
    rng = fresh_rng(core)

    def run() -> Outputs:
        m = density(positions)  # the estimator's own choice: direct sum or binned FFT
        rewards = congested(scale * bump(positions, (centre[0], centre[1]), variance), m, alpha)
        rewards -= eta * (u[:, 0] * u[:, 0] + u[:, 1] * u[:, 1])
        moved = positions + u + sigma * rng.standard_normal((n, 2))
        return {"rewards": rewards, "positions": moved}

    return run


# ----------------------------------------------------------------------- warehouses
def warehouse_floor(core: WarehouseCore, joint: dict[str, np.ndarray]) -> Kernel:
    """One warehouse round with the zone's reward slice and the cumulative table gathered
    per (zone, move) cell, then the dispatcher's sample and the observations."""
    from populace.envs.warehouse.model import ROBOT_ACTIONS, ZONES

    target, moves = int(joint["dispatcher"][0]), joint["robot"]
    robots, zone, n = core.robots.copy(), core.zone, core.n_agents
    tables = core.tables
    cumulative_global = np.cumsum(tables.dispatcher_kernel, axis=-1)
    cumulative = np.cumsum(tables.robot_kernel, axis=-1)  # [s_l, pull zone, a_l, next]
    cell = robots * ROBOT_ACTIONS + moves  # (s_l, a_l) pairs, as the core holds them fixed here
    rng = fresh_rng(core)

    def run() -> Outputs:
        rewards = tables.robot_reward[:, zone, :].ravel().take(cell)
        system = float(tables.dispatcher_reward[zone, target] + rewards.mean())
        row = cumulative_global[zone, target]
        nxt = min(int(np.searchsorted(row, rng.random(), side="right")), ZONES - 1)
        pull = nxt if core.pull == "next" else zone
        thresholds = cumulative[:, pull, :, :-1].reshape(-1, ZONES - 1)
        u = rng.random(n)
        after = (u >= thresholds[:, 0].take(cell)).view(np.int8).astype(np.int64)
        for k in range(1, ZONES - 1):
            after += u >= thresholds[:, k].take(cell)
        counts = np.bincount(after, minlength=ZONES)
        sample = rng.multivariate_hypergeometric(counts, core.k)
        observed = np.empty((n, 2), dtype=np.float32)
        observed[:, 0] = after
        observed[:, 1] = nxt
        return {"rewards": rewards, "system": np.array([system]), "robots": after,
                "sample": sample, "robot_obs": observed}

    return run


def warehouse_continuous_floor(
    core: WarehouseContinuousCore, joint: dict[str, np.ndarray]
) -> Kernel:
    """One continuous-warehouse round: rewards, modal bin, noisy moves, sample, observations."""
    from populace.envs.warehouse import warehouse_continuous as wc

    target, moves = int(joint["dispatcher"][0]), wc.MOVES.take(joint["robot"])
    robots, reference, n, k = core.robots.copy(), core.reference, core.n_agents, core.k
    scale = -1.0 / (2 * wc.LOCAL_WIDTH**2)
    move_cost = wc.MOVE_COST * np.abs(moves)
    rng = fresh_rng(core)

    def run() -> Outputs:
        gap = robots - reference
        rewards = wc.LOCAL_SCALE * np.exp(gap * gap * scale) - move_cost
        system = float(wc.global_reward(reference, target) + rewards.mean())
        modal = int(wc.bin_counts(robots).argmax())
        moved = reference + wc.STEER * (wc.TARGETS[target] - reference)
        after_ref = float(np.clip(moved + rng.normal(0.0, wc.GLOBAL_NOISE), -wc.LIMIT, wc.LIMIT))
        stepped = robots + moves + rng.normal(0.0, wc.LOCAL_NOISE, n)
        np.clip(stepped, -wc.LIMIT, wc.LIMIT, out=stepped)
        sample = stepped[rng.choice(n, k, replace=False)]
        shares = (wc.bin_counts(sample) / k).astype(np.float32)
        observed = np.empty((n, 2), dtype=np.float32)
        observed[:, 0] = stepped
        observed[:, 1] = after_ref
        return {"rewards": rewards, "system": np.array([system]), "modal": np.array([modal]),
                "robots": stepped, "shares": shares, "robot_obs": observed}

    return run


# ----------------------------------------------------------------------- the cases
def _warehouse_outputs(core: Any, step: Any) -> Outputs:
    return {"rewards": step.rewards["robot"], "system": step.rewards["dispatcher"],
            "robots": core.robots, "sample": core.sample,
            "robot_obs": step.observations["robot"]}


def _continuous_outputs(core: Any, step: Any) -> Outputs:
    return {"rewards": step.rewards["robot"], "system": step.rewards["dispatcher"],
            "modal": np.array([step.info["mode_hit"]]), "robots": core.robots,
            "shares": step.observations["dispatcher"][0, 1:],
            "robot_obs": step.observations["robot"]}


GAMES = tuple(registry.GAMES)


def floor_case(game: str, n_agents: int, *, seed: int = 0) -> FloorCase:
    """The default ``game`` with ``n_agents`` agents, reset with ``seed``, its actions drawn
    from ``seed``, and its floor."""
    rng = np.random.default_rng(seed)
    kwargs: dict[str, Any] = {"n_agents": n_agents, "max_cycles": FOREVER}
    if game in ("contribution_v0", "congestion_v0", "matrix_v0"):
        kwargs["observe"] = "none"
    core: Any = registry.make_core(game, **kwargs)  # its class depends on game
    core.reset(seed=seed)
    n = n_agents
    if game in ("contribution_v0", "matrix_v0", "congestion_v0"):
        played = rng.integers(core.n_actions, size=n)
        builder = {"contribution_v0": average_floor, "matrix_v0": matching_floor,
                   "congestion_v0": congestion_floor}[game]
        what = {"contribution_v0": "bincount, 20×20 matvec, gather",
                "matrix_v0": "shuffle, partner index, two gathers",
                "congestion_v0": "bincount, 20×20 matvec, divide, gather"}[game]
        return FloorCase(game, core, {"agent": played}, lambda: builder(core, played), what,
                         0.0, rewards_of("agent"))
    if game == "zspg_network_v0":
        played = rng.integers(2, size=n)
        return FloorCase(game, core, {"agent": played}, lambda: chain_floor(core, played),
                         "two shifted differences, a gather", 0.0,
                         lambda core, step: {"vectors": step.observations["agent"],
                                             "rewards": step.rewards["agent"]})
    if game == "mf_lqr_v0":
        u = rng.uniform(-1.0, 1.0, size=(n, 2)) * (core.action_bound / 10)
        return FloorCase(game, core, {"agent": u}, lambda: lqr_floor(core, u),
                         "completed-square reward, noisy move, mean", 1e-12,
                         lambda core, step: {"rewards": step.rewards["agent"],
                                             "positions": core.positions, "mean": core.mean})
    if game == "spatial_congestion_v0":
        u = rng.normal(-0.8, 0.3, size=(n, 2)) * [1.0, 0.5]
        return FloorCase(game, core, {"agent": u}, lambda: spatial_floor(core, u),
                         "land, bin, FFT smooth, interpolate, reward, redraw", 1e-9,
                         lambda core, step: {"rewards": step.rewards["agent"],
                                             "starts": core.starts})
    if game == "supply_demand_v0":
        u = np.clip(rng.normal(0.0, 0.2, size=(n, 2)), -core.action_bound, core.action_bound)
        return FloorCase(game, core, {"agent": u}, lambda: supply_floor(core, u),
                         "density (direct or FFT), bump reward, noisy move", 1e-9,
                         lambda core, step: {"rewards": step.rewards["agent"],
                                             "positions": core.positions})
    if game == "warehouse_v0":
        joint = {"dispatcher": rng.integers(5, size=1), "robot": rng.integers(3, size=n)}
        return FloorCase(game, core, joint, lambda: warehouse_floor(core, joint),
                         "gathers from small tables, threshold compares, sample", 0.0,
                         _warehouse_outputs)
    if game == "warehouse_continuous_v0":
        joint = {"dispatcher": rng.integers(5, size=1), "robot": rng.integers(3, size=n)}
        return FloorCase(game, core, joint, lambda: warehouse_continuous_floor(core, joint),
                         "Gaussian rewards, bins, noisy moves, sample", 1e-12,
                         _continuous_outputs)
    raise ValueError(f"unknown game {game!r}; choose one of {list(GAMES)}")


def check_floor(case: FloorCase) -> Kernel:
    """Run the floor once from the core's state, step the core, raise unless the floor's
    outputs equal the core's (bit for bit, or within ``case.rtol``); return a fresh floor
    built from the core's new state, for timing."""
    floor = case.make_floor()
    got = floor()
    step = case.core.step(case.joint)
    expected = case.outputs(case.core, step)
    for name, want in expected.items():
        have = np.asarray(got[name])
        want = np.asarray(want)
        if name == "modal":  # the core reports whether the target hit the modal bin
            have = np.asarray([int(case.joint["dispatcher"][0]) == int(have[0])])
        same = (have.shape == want.shape and (
            np.array_equal(have, want) if case.rtol == 0.0
            else np.allclose(have, want, rtol=case.rtol, atol=case.rtol)))
        if not same:
            raise AssertionError(f"{case.game}: the floor's {name!r} disagrees with the core's")
    return case.make_floor()
