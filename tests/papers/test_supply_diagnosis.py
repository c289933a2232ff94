"""The pieces of mguni-supply's diagnosis measure what they say (nothing is trained long)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from populace.agents import make_learner  # noqa: E402
from populace.train import train  # noqa: E402
from populace.train.papers.mguni_supply import (  # noqa: E402
    DEMAND_SCALE,
    LEARNER_KWARGS,
    FiniteHorizonSupply,
    tracing,
)
from populace.train.papers.supply_diagnosis import (  # noqa: E402
    SecondHalfMixture,
    fit_to_equilibrium,
    grid_exploitability,
    report,
)


@pytest.fixture(scope="module")
def core() -> FiniteHorizonSupply:
    return FiniteHorizonSupply(n_agents=20, demand_scale=DEMAND_SCALE, eta=2.0)


def test_the_game_s_own_grid_reads_as_the_game_does(core):
    policy = tracing(core)
    assert grid_exploitability(core, policy, 31) == core.exploitability(policy)


@pytest.mark.slow
def test_fitting_the_actor_brings_it_towards_the_equilibrium(core):
    learner = make_learner("ac_fp", core, seed=3, **dict(LEARNER_KWARGS))
    untrained = core.exploitability(learner.mean_action)
    error = fit_to_equilibrium(learner, core, steps=300)
    assert error < 1e-2
    assert core.exploitability(learner.mean_action) < 0.5 * untrained


def test_the_second_half_mixture_keeps_one_flow_per_window_and_scores_their_average(core):
    learner = make_learner("ac_fp", core, seed=3, **dict(LEARNER_KWARGS))
    mixture = SecondHalfMixture(core, learner, episodes=4)
    train(core, learner, episodes=4, seed=0, window=1, callbacks=mixture, progress=False)
    assert len(mixture.flows) == len(mixture.costs) == 2  # windows 3 and 4
    game = core.reference_equilibrium().game
    last = game.exploitability(mixture.flows[-1], mixture.costs[-1])
    assert last == pytest.approx(core.exploitability(learner.mean_action))
    assert np.isfinite(mixture.exploitability())


def test_the_report_has_a_row_per_policy_and_a_column_per_grid():
    result = {"eta": 2.0, "seed": 1, "cells": (31, 61), "fit_error": 1e-4, "mixture": 0.5,
              "windows": 12, "warmed": 0.15, "from_fitted": np.array([1.5, 0.9]),
              "from_fitted_end": 0.9,
              "rows": {"learned": [1.0, 0.7], "tracing": [0.5, 0.5]}}
    text = report([result])
    assert "| learned | 1.000 | 0.700 |" in text and "31² grid | 61² grid" in text
    assert "1.50, 0.90" in text
