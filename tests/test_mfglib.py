"""Our grid mean-field solver against mfglib's fictitious play on the same discretized spatial
congestion game (:mod:`populace.bench.mfglib_peer`): both reach the same equilibrium, and ours
is at least 10× faster.

Run by ``make test-mfglib`` in a venv of its own (mfglib needs torch); elsewhere the module is
skipped. Tolerances: each side's policy has exploitability ≤ 1e-3 (the solvers' stopping
tolerance) under the *other* side's scoring too, and the two equilibria's densities m differ
by at most 0.05 in L1, their aims ν by at most 0.1. Both start from the same policy and run
the same iterates until best responses tie: mfglib splits a tie evenly, ours takes the first
node, so from there they stop at different points near the same equilibrium (measured: ν and
m identical with η > 0; with η = 0, α = 2, Σ|ν − ν'| = 0.059 and ∫|m − m'| = 0.019, both
policies ≤ 1e-3 exploitable under either scoring).
"""

from __future__ import annotations

import pytest

pytest.importorskip("mfglib", reason="mfglib is installed only by `make test-mfglib`")

from populace.bench.mfglib_peer import CASES, side_by_side, small_game  # noqa: E402

TOLERANCE = 1e-3


@pytest.mark.parametrize(("label", "kwargs"), CASES[:3], ids=[c[0] for c in CASES[:3]])
def test_same_equilibrium_as_mfglib_and_ten_times_faster(label, kwargs):
    row = side_by_side(small_game(**kwargs), label=label, tolerance=TOLERANCE)
    assert row.ours_exploitability <= TOLERANCE
    assert row.mfglib_exploitability <= TOLERANCE
    assert row.mfglib_on_ours <= TOLERANCE * (1 + 1e-6)  # mfglib's scoring of our policy
    assert row.ours_on_mfglib <= TOLERANCE * (1 + 1e-6)  # ours of mfglib's
    assert row.aims_l1 <= 0.1 and row.density_l1 <= 0.05
    assert row.speedup >= 10
