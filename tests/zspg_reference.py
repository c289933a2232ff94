"""The chain game's payoffs written straight from its rules (SPEC §2.4), one edge at a time:
the reference that ``test_zspg`` and ``test_crosschecks`` hold the package's arrays to.

Importable from the tests as ``import zspg_reference`` (``tests/conftest.py`` puts this folder
on ``sys.path``, also under ``--import-mode=importlib``, as ``make test-crosscheck`` runs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

H, T = 0, 1


def chain_payoffs(actions: Sequence[int] | np.ndarray) -> np.ndarray:
    """Every agent's payoff for pure ``actions`` (0 = H, 1 = T): dummy 0 plays T, dummy n+1
    plays H; on edge (k, k+1) agent k gets +1 if it matches k+1 and −1 otherwise, k+1 the
    negative."""
    full = (T, *(int(a) for a in actions), H)
    payoff = np.zeros(len(full))
    for k in range(len(full) - 1):
        match = 1.0 if full[k] == full[k + 1] else -1.0
        payoff[k] += match
        payoff[k + 1] -= match
    return payoff[1:-1]
