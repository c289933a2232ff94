"""Our grid mean-field solver side by side with mfglib's fictitious play, damped fictitious
play, online mirror descent and prior descent on the same one-shot grid game, encoded
compactly for mfglib (SPEC §6); see :mod:`populace.bench.mfglib_peer`. CPU time, one thread,
ours and mfglib's solvers timed in turns. Needs mfglib (``make test-mfglib`` builds its venv):

    .venv-mfglib/bin/python benchmarks/mfglib_side_by_side.py [rounds]
"""

import os
import sys

# one thread each: torch and numpy would otherwise spread over every core
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from populace.bench.mfglib_peer import main  # noqa: E402

if __name__ == "__main__":
    main(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 5)
