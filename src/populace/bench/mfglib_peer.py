"""Our grid mean-field solver side by side with mfglib's solvers on the same discretized spatial
congestion game (SPEC §6: the same game, the same equilibrium, timed in CPU time).

mfglib (Guo, Hu, Zhang et al., *MFGLib: a library for mean-field games*, 2023) solves
finite-state, finite-action, finite-horizon mean-field games. The grid game of
``spatial_congestion_v0`` (:class:`~populace.envs.plane.spatial_equilibrium.GridGame`) is one
shot, so it is handed to mfglib compactly, with horizon **T = 0** (a single decision time):

* **states** are the S quadrature starts, ``mu0`` their weights w_s;
* **actions** are the G aim nodes y;
* **reward** at t = 0, given mfglib's mean field L (the joint law of start and aim): the aims
  ν = Σ_s L[s, ·] become the density m by the same smoothing our solver uses, and
  r(s, y) = R(y) − ½η|y − x_s|² (:meth:`GridGame.value_of_aims`, :attr:`GridGame.costs`);
* **transition**: none is ever evaluated with T = 0 (mfglib's ``Environment`` still asks for
  a transition function; ours raises if it is ever called).

So mfglib's Q-function is the payoff matrix r itself and its exploitability is our
exploitability of the same policy (checked to rounding by ``tests/test_mfglib.py``).

**The solvers.** Ours is fictitious play (:func:`~populace.envs.plane.spatial_equilibrium.solve`,
no hyperparameter), checking its exploitability every iteration as mfglib's ``solve`` does.
mfglib's iterative solvers run on a small grid of their hyperparameters each (:data:`CANDIDATES`:
fictitious play, damped fictitious play, online mirror descent, prior descent), all to the same
exploitability tolerance (``atol``, ``rtol = 0``) and iteration cap. Fictitious play, damped
fictitious play and mirror descent start from our first policy π₀ (the best response to an
empty plane): from there mfglib's fictitious play runs the very iterates ours does. Prior
descent starts from the uniform policy (its default): it multiplies its prior by exp(Q/η), so
a pure π₀ would never move.

**The comparison** (:func:`side_by_side`): every candidate and ours are timed in turns
(``rounds`` of them, CPU time by ``time.process_time``, the median kept); a candidate that does
not reach the tolerance within the cap is dropped after the first round. Two ratios are
reported per game: against mfglib's fictitious play (the same algorithm and iterates, so a
ratio of cost per iteration) and against mfglib's **fastest** candidate that converged (the
best algorithm *and* hyperparameter for that very game, chosen in hindsight — a bound in
mfglib's favour). Agreement: each side's exploitability of the other's policy and the L1
distance of the aims ν and densities m.

mfglib needs torch and is no dependency of Populace: it runs in a venv of its own
(``make test-mfglib``; torch 2.13.0 first). This module imports it only when called.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from populace.envs.plane.spatial_congestion import SpatialCongestionCore
from populace.envs.plane.spatial_equilibrium import GridGame, solve


def _torch() -> Any:
    return importlib.import_module("torch")


def _mfglib(module: str) -> Any:
    """``mfglib.<module>``; ``mfglib.alg`` goes first (importing ``mfglib.scoring`` first is
    a circular import in mfglib 0.3.0)."""
    importlib.import_module("mfglib.alg")
    return importlib.import_module(f"mfglib.{module}")


@contextmanager
def float64_torch() -> Iterator[None]:
    """Torch's default dtype set to float64 inside (mfglib builds its tensors in it)."""
    torch = _torch()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(default)


def _no_transition(env: object, t: int, mean_field: object) -> object:
    raise RuntimeError("the one-shot grid game has no transition (mfglib horizon T = 0)")


def mfglib_environment(game: GridGame) -> object:
    """The grid game as an ``mfglib.env.Environment`` with T = 0, in float64 (module doc)."""
    torch = _torch()
    environment = _mfglib("env").Environment
    starts, nodes = game.size
    cells = game.grid.cells
    costs = torch.as_tensor(game.costs, dtype=torch.float64)

    def reward(env: object, t: int, mean_field: Any) -> Any:
        aims = mean_field.sum(dim=0).detach().cpu().numpy().reshape(cells, cells)
        values = game.value_of_aims(game.spread(aims))
        return torch.as_tensor(values, dtype=torch.float64)[None, :] - costs

    r_max = float(game.bumps.max() * len(game.centres) + game.costs.max())
    return environment(T=0, S=(starts,), A=(nodes,),
                       mu0=torch.as_tensor(game.weights, dtype=torch.float64), r_max=r_max,
                       reward_fn=reward, transition_fn=_no_transition)


def to_mfglib(policy: np.ndarray) -> object:
    """Our ``(S, G)`` grid policy as mfglib's ``(T + 1, S, G)`` tensor (T = 0)."""
    torch = _torch()
    return torch.as_tensor(policy, dtype=torch.float64)[None].clone()


def from_mfglib(pi: object) -> np.ndarray:
    """mfglib's ``(1, S, G)`` policy tensor as our ``(S, G)`` grid policy (rows renormalized
    against rounding)."""
    policy = cast(Any, pi)[0].detach().cpu().numpy().astype(np.float64)
    return cast(np.ndarray, policy / policy.sum(axis=1, keepdims=True))


def first_response(game: GridGame) -> np.ndarray:
    """The best response to an empty plane: where our fictitious play starts, and (given as
    ``pi_0``) mfglib's too, so that both run the same iterates (mfglib's damped update with
    step 1/(i + 2) from π₀ is our running average of best responses)."""
    empty = np.zeros((game.grid.cells,) * 2)
    return game.best_response(game.value_of_aims(empty)[None, :] - game.costs)


@dataclass(frozen=True)
class Candidate:
    """One mfglib solver (a class of ``mfglib.alg``) at one hyperparameter setting."""

    family: str  # "FP", "damped FP", "OMD" or "PriorDescent"
    setting: str  # its hyperparameters, as printed
    algorithm: str  # the class in mfglib.alg
    params: tuple[tuple[str, float | int | None], ...] = ()  # its keyword arguments
    uniform_start: bool = False  # start from the uniform policy instead of π₀
    default: bool = False  # mfglib's own default settings for the algorithm

    def make(self) -> object:
        """A fresh solver."""
        return getattr(_mfglib("alg"), self.algorithm)(**dict(self.params))


def _candidates() -> tuple[Candidate, ...]:
    fp = [Candidate("FP", "α=1/(i+2)", "FictitiousPlay", default=True)]
    damped = [Candidate("damped FP", f"α={a:g}", "FictitiousPlay", (("alpha", a),))
              for a in (0.1, 0.2, 0.5)]
    omd = [Candidate("OMD", f"α={a:g}", "OnlineMirrorDescent", (("alpha", a),),
                     default=a == 1.0) for a in (1.0, 10.0, 100.0)]
    prior = [Candidate("PriorDescent", f"η={eta:g}, n_inner={inner}", "PriorDescent",
                       (("eta", eta), ("n_inner", inner)), uniform_start=True,
                       default=eta == 1.0 and inner is None)
             for eta in (0.01, 0.1, 1.0) for inner in (None, 5)]
    return (*fp, *damped, *omd, *prior)


# mfglib's defaults are FP, OMD α = 1 and PriorDescent η = 1, n_inner = None (damped FP has
# no default step); the others are the settings that converge fastest on some of CASES
CANDIDATES: tuple[Candidate, ...] = _candidates()
FAMILIES = ("FP", "damped FP", "OMD", "PriorDescent")


@dataclass
class Run:
    """One solver's run to the tolerance, with its timings over the rounds (CPU seconds)."""

    solver: str  # "ours" or "family (setting)"
    iterations: int  # steps after the start
    exploitability: float  # the solver's own score of its last policy
    converged: bool
    policy: np.ndarray = field(repr=False)
    times: list[float] = field(default_factory=list, repr=False)

    @property
    def cpu_s(self) -> float:
        return statistics.median(self.times)


@dataclass
class Agreement:
    """How close mfglib's equilibrium is to ours."""

    ours_on_theirs: float  # our exploitability of mfglib's policy
    theirs_on_ours: float  # mfglib's exploitability of our policy
    aims_l1: float  # Σ|ν − ν'|
    density_l1: float  # ∫|m − m'|


@dataclass
class SideBySide:
    """One game solved by ours and every mfglib candidate; ratios are mfglib ÷ ours in CPU
    time (module doc)."""

    label: str
    starts: int
    nodes: int
    tolerance: float
    ours: Run
    mfglib: dict[str, Run]  # by "family (setting)", every candidate
    agreement: dict[str, Agreement]  # by the same key, the converged candidates
    consistency: float  # |mfglib's score of our policy − ours|: the two games are one

    defaults: frozenset[str] = frozenset()  # keys of the candidates at mfglib's defaults

    def fastest(self, family: str | None = None, *, defaults_only: bool = False) -> Run | None:
        """mfglib's fastest converged candidate (of one family, or of all; of those at
        mfglib's default settings only, if asked)."""
        runs = [r for key, r in self.mfglib.items()
                if r.converged and (family is None or r.solver.startswith(family + " ("))
                and (not defaults_only or key in self.defaults)]
        return min(runs, key=lambda r: r.cpu_s, default=None)

    def ratio(self, family: str | None = None, *, defaults_only: bool = False) -> float:
        """The fastest's CPU time ÷ ours (NaN when none converged)."""
        best = self.fastest(family, defaults_only=defaults_only)
        return np.nan if best is None else best.cpu_s / self.ours.cpu_s


def run_ours(game: GridGame, tolerance: float, max_iterations: int) -> Run:
    """Our fictitious play to ``tolerance``, checked every iteration, timed once."""
    start = time.process_time()
    found = solve(game, iterations=max_iterations, tolerance=tolerance, check_every=1)
    spent = time.process_time() - start
    return Run("ours", found.iterations - 1, found.exploitability,  # steps after π₀
               found.exploitability <= tolerance, found.policy, [spent])


def run_mfglib(game: GridGame, environment: object, candidate: Candidate, tolerance: float,
               max_iterations: int) -> Run:
    """One mfglib candidate to ``tolerance`` (``atol``, ``rtol = 0``), timed once."""
    starts, nodes = game.size
    pi_0 = (np.full((starts, nodes), 1.0 / nodes) if candidate.uniform_start
            else first_response(game))
    solver = cast(Any, candidate.make())
    with float64_torch():
        begin = to_mfglib(pi_0)
        start = time.process_time()
        pis, expls, _ = solver.solve(environment, pi_0=begin, max_iter=max_iterations,
                                     atol=tolerance, rtol=0.0)
        spent = time.process_time() - start
    return Run(f"{candidate.family} ({candidate.setting})", len(expls) - 1, float(expls[-1]),
               float(expls[-1]) <= tolerance, from_mfglib(pis[-1]), [spent])


def mfglib_exploitability(environment: object, policy: np.ndarray) -> float:
    """mfglib's own exploitability score of our grid ``policy``."""
    scoring = _mfglib("scoring")
    with float64_torch():
        return float(scoring.exploitability_score(environment, to_mfglib(policy)))


def agreement(game: GridGame, environment: object, ours: np.ndarray,
              theirs: np.ndarray) -> Agreement:
    area = game.grid.spacing**2
    return Agreement(
        ours_on_theirs=game.exploitability(theirs),
        theirs_on_ours=mfglib_exploitability(environment, ours),
        aims_l1=float(np.abs(game.aims(theirs) - game.aims(ours)).sum()),
        density_l1=float(np.abs(game.density(theirs) - game.density(ours)).sum() * area))


def side_by_side(game: GridGame, *, label: str, tolerance: float = 1e-3,
                 max_iterations: int = 1000, rounds: int = 3,
                 candidates: tuple[Candidate, ...] = CANDIDATES) -> SideBySide:
    """Solve ``game`` with ours and every candidate to ``tolerance``, timed in turns over
    ``rounds`` (module doc)."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    environment = mfglib_environment(game)
    game.payoffs(first_response(game))  # the game's cached kernels, built before any timing
    ours: Run | None = None
    theirs: dict[str, Run] = {}
    for _ in range(rounds):
        fresh = run_ours(game, tolerance, max_iterations)
        if ours is None:
            ours = fresh
        else:
            ours.times += fresh.times
        for candidate in candidates:
            key = f"{candidate.family} ({candidate.setting})"
            if key in theirs and not theirs[key].converged:
                continue
            run = run_mfglib(game, environment, candidate, tolerance, max_iterations)
            if key in theirs:
                theirs[key].times += run.times
            else:
                theirs[key] = run
    assert ours is not None
    agreements = {key: agreement(game, environment, ours.policy, run.policy)
                  for key, run in theirs.items() if run.converged}
    consistency = abs(mfglib_exploitability(environment, ours.policy) - ours.exploitability)
    defaults = frozenset(f"{c.family} ({c.setting})" for c in candidates if c.default)
    return SideBySide(label, game.size[0], game.size[1], tolerance, ours, theirs, agreements,
                      consistency, defaults)


def small_game(**kwargs: float | str | int) -> GridGame:
    """The default spatial congestion game on a coarse grid: ``grid_cells`` 13 over
    [−2, 2]², bandwidth 0.3 (``start_points`` per axis, 1 by default)."""
    start_points = int(kwargs.pop("start_points", 1))
    settings: dict[str, Any] = {"grid_cells": 13, "grid_half_width": 2.0, "bandwidth": 0.3,
                                **kwargs}
    return GridGame.of(SpatialCongestionCore(n_agents=1, **settings), start_points=start_points)


CASES: tuple[tuple[str, dict[str, float | str | int]], ...] = (
    ("α=1, η=0.5, 1 start", {}),
    ("α=3, η=0.5, 1 start", {"alpha": 3.0}),
    ("α=2, η=0, 1 start", {"alpha": 2.0, "eta": 0.0}),
    ("bimodal, η=0, 1 start", {"reward": "bimodal", "eta": 0.0}),
    ("α=1, η=0.5, 4 starts", {"start_points": 2}),
)


def _cell(run: Run | None) -> str:
    if run is None:
        return "—"
    return f"{run.cpu_s * 1e3:.1f} ({run.iterations})"


def timing_table(rows: list[SideBySide]) -> str:
    """CPU ms (iterations) of ours and of each mfglib family's fastest setting, and the two
    ratios, as markdown."""
    header = ["game (13×13 grid)", "S×G", "ours ms (FP steps)",
              *(f"mfglib {family} ms (steps)" for family in FAMILIES),
              "mfglib's fastest", "÷ ours", "at mfglib's defaults ÷ ours"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        best, untuned = r.fastest(), r.fastest(defaults_only=True)
        lines.append("| " + " | ".join([
            r.label, f"{r.starts}×{r.nodes}", _cell(r.ours),
            *(_cell(r.fastest(family)) for family in FAMILIES),
            "—" if best is None else best.solver, f"{r.ratio():.1f}×",
            "—" if untuned is None else
            f"{r.ratio(defaults_only=True):.1f}× ({untuned.solver.split(' (')[0]})"]) + " |")
    return "\n".join(lines)


def agreement_table(rows: list[SideBySide]) -> str:
    """Exploitabilities both ways and the L1 gaps, for mfglib's FP and its fastest run."""
    header = ["game", "mfglib run", "its expl.", "ours on its policy", "mfglib on ours",
              "ours expl.", "Σ|ν−ν'|", "∫|m−m'|"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        shown = {run.solver: run for run in (r.fastest("FP"), r.fastest()) if run is not None}
        for key, run in shown.items():
            a = r.agreement[key]
            lines.append(
                f"| {r.label} | {key} | {run.exploitability:.2e} | {a.ours_on_theirs:.2e} | "
                f"{a.theirs_on_ours:.2e} | {r.ours.exploitability:.2e} | {a.aims_l1:.3f} | "
                f"{a.density_l1:.3f} |")
    return "\n".join(lines)


def main(rounds: int = 5) -> None:
    """Print both tables for :data:`CASES` (one torch thread)."""
    _torch().set_num_threads(1)
    rows = []
    for label, kwargs in CASES:
        rows.append(side_by_side(small_game(**kwargs), label=label, rounds=rounds))
        print(f"  ... {label}: consistency {rows[-1].consistency:.1e}", flush=True)
    print(timing_table(rows))
    print()
    print(agreement_table(rows))
