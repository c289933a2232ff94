"""Run the Populace benchmarks (SPEC §6); see :mod:`populace.bench`.

    python benchmarks/run.py --quick                       # a few seconds
    python benchmarks/run.py --out benchmarks/results      # full run, writes .md and .json
"""

import os

# one core: keep BLAS/OpenMP from spreading the (tiny) matrix products over threads
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from populace.bench import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
