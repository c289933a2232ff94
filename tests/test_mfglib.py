"""Our grid mean-field solver against mfglib on the same discretized spatial congestion game
(:mod:`populace.bench.mfglib_peer`): the compact T = 0 encoding is the same game, mfglib's
fictitious play runs our iterates, and every mfglib solver that reaches the tolerance lands on
our equilibrium. Timing is the benchmark's job (``benchmarks/mfglib_side_by_side.py``), not
this file's.

Run by ``make test-mfglib`` in a venv of its own (mfglib needs torch); elsewhere the module is
skipped. Tolerances: every policy is ≤ 1e-3 exploitable (the solvers' stopping tolerance)
under either side's scoring; the equilibria's densities differ by at most 0.04 in L1 and
their aims by at most 0.15 (measured at most 0.023 and 0.099: different solvers stop at
different 1e-3-approximate equilibria of the same game).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mfglib", reason="mfglib is installed only by `make test-mfglib`")

from populace.bench.mfglib_peer import (  # noqa: E402
    CANDIDATES,
    CASES,
    FAMILIES,
    first_response,
    mfglib_environment,
    mfglib_exploitability,
    run_mfglib,
    run_ours,
    side_by_side,
    small_game,
)

TOLERANCE = 1e-3
IDS = [label for label, _ in CASES]


@pytest.mark.parametrize(("label", "kwargs"), CASES, ids=IDS)
def test_the_compact_encoding_scores_policies_as_we_do(label, kwargs):
    game = small_game(**kwargs)
    environment = mfglib_environment(game)
    rng = np.random.default_rng(7)
    for policy in (first_response(game), rng.dirichlet(np.ones(game.size[1]), game.size[0])):
        assert mfglib_exploitability(environment, policy) == pytest.approx(
            game.exploitability(policy), rel=1e-12, abs=1e-15)


def test_the_compact_encoding_never_asks_for_a_transition():
    environment = mfglib_environment(small_game())
    with pytest.raises(RuntimeError, match="no transition"):
        environment.prob(0, None)


@pytest.mark.parametrize(("label", "kwargs"), [c for c in CASES if c[1].get("eta") != 0.0],
                         ids=[c[0] for c in CASES if c[1].get("eta") != 0.0])
def test_mfglib_fictitious_play_runs_our_iterates_where_best_responses_never_tie(label, kwargs):
    game = small_game(**kwargs)
    ours = run_ours(game, TOLERANCE, 1000)
    theirs = run_mfglib(game, mfglib_environment(game), CANDIDATES[0], TOLERANCE, 1000)
    assert CANDIDATES[0].family == "FP"
    assert theirs.iterations == ours.iterations
    np.testing.assert_allclose(theirs.policy, ours.policy, atol=1e-12)
    assert theirs.exploitability == pytest.approx(ours.exploitability, rel=1e-9)


@pytest.mark.parametrize(("label", "kwargs"), CASES, ids=IDS)
def test_every_mfglib_solver_that_converges_lands_on_our_equilibrium(label, kwargs):
    # a 200-iteration cap (the benchmark's is 1000) keeps this short; it leaves out only slow
    # settings (prior descent at η = 1 needs 380-785 iterations where it converges at all)
    row = side_by_side(small_game(**kwargs), label=label, tolerance=TOLERANCE,
                       max_iterations=200, rounds=1)
    assert row.ours.converged and row.ours.exploitability <= TOLERANCE
    assert row.consistency <= 1e-12
    assert row.mfglib[f"FP ({CANDIDATES[0].setting})"].converged
    assert row.fastest() is not None
    assert set(FAMILIES) == {c.family for c in CANDIDATES}
    assert row.defaults == {"FP (α=1/(i+2))", "OMD (α=1)", "PriorDescent (η=1, n_inner=None)"}
    for key, a in row.agreement.items():
        assert row.mfglib[key].exploitability <= TOLERANCE, key
        assert a.ours_on_theirs <= TOLERANCE * (1 + 1e-6), key  # our scoring of its policy
        assert a.theirs_on_ours <= TOLERANCE * (1 + 1e-6), key  # its scoring of ours
        assert a.aims_l1 <= 0.15 and a.density_l1 <= 0.04, key


def test_side_by_side_needs_a_round():
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        side_by_side(small_game(), label="none", rounds=0)
