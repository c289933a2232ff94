"""OpenSpiel's mean-field solvers beside ours: a second peer, on the nearest games (they differ).

OpenSpiel (Lanctot et al., 2019) ships mean-field games with fictitious play and online mirror
descent written in Python over its game trees. Its nearest game to ours is
``mfg_crowd_modelling_2d`` (a 10×10 grid, horizon 10, five moves, a crowd-aversion reward
−log m); ours is ``spatial_congestion_v0``'s grid game (one shot: each of 25 quadrature starts
chooses an aim among 121² nodes, reward desirability / (1 + m)^α minus the move cost), solved
by :func:`populace.envs.plane.spatial_equilibrium.solve` (fictitious play). The games are not
the same, so the comparison is of cost per solver iteration and of the exploitability reached
(OpenSpiel's NashConv, ours the grid exploitability), each in CPU time on one thread.

Run it twice, once per side::

    python3.11 -m venv .venv-openspiel && .venv-openspiel/bin/pip install open_spiel
    OMP_NUM_THREADS=1 .venv-openspiel/bin/python benchmarks/openspiel_side_by_side.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/openspiel_side_by_side.py
"""

from __future__ import annotations

import importlib.util
import time

CHECKPOINTS = (1, 10, 30)  # OpenSpiel iterations at which NashConv is measured


def openspiel_rows() -> None:
    import pyspiel
    from open_spiel.python.mfg.algorithms import fictitious_play, mirror_descent, nash_conv

    game = pyspiel.load_game("mfg_crowd_modelling_2d")
    solvers = {"fictitious play": lambda: fictitious_play.FictitiousPlay(game),
               "mirror descent": lambda: mirror_descent.MirrorDescent(game, lr=1.0)}
    for name, make in solvers.items():
        solver, spent, done = make(), 0.0, 0
        for target in CHECKPOINTS:
            start = time.process_time()
            while done < target:
                solver.iteration()
                done += 1
            spent += time.process_time() - start
            gap = nash_conv.NashConv(game, solver.get_policy()).nash_conv()
            print(f"| OpenSpiel {name} | mfg_crowd_modelling_2d 10×10, T=10 | {done} | "
                  f"{spent:.2f} | {spent / done * 1e3:.0f} | {gap:.3g} |", flush=True)


def populace_rows() -> None:
    from populace.envs.plane.spatial_congestion import SpatialCongestionCore
    from populace.envs.plane.spatial_equilibrium import solve

    for alpha in (1.0, 3.0):
        game = SpatialCongestionCore(alpha=alpha).grid_game()
        start = time.process_time()
        equilibrium = solve(game)
        spent = time.process_time() - start
        steps, gap = max(equilibrium.iterations, 1), equilibrium.exploitability
        starts, aims = game.size
        print(f"| Populace fictitious play | spatial_congestion_v0 α={alpha:g}, {starts} starts × "
              f"{aims} aims | {steps} | {spent:.2f} | {spent / steps * 1e3:.2f} | {gap:.3g} |",
              flush=True)


def main() -> None:
    print("| solver | game | iterations | CPU s | CPU ms / iteration | exploitability |")
    print("|---|---|---|---|---|---|")
    if importlib.util.find_spec("pyspiel") is not None:
        openspiel_rows()
    else:
        populace_rows()


if __name__ == "__main__":
    main()
