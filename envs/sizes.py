"""Sizes that a game can allocate, checked before any array is made.

A population of ``10**30`` agents used to fail deep inside numpy ("Maximum allowed dimension
exceeded", an ``OverflowError``), and one of ``10**10`` with a ``MemoryError`` for 75 GiB, or
not at all until the first step. :func:`check_size` refuses such a size up front, by name: it
is an integer argument whose arrays, at ``bytes_each`` bytes per unit, must fit in this
machine's memory.
"""

from __future__ import annotations

import os

from populace.envs.validation import check_int

# Bytes per agent of the arrays a game keeps or makes in a round (a few float64 numbers per
# agent: positions, observations, actions, rewards, draws): a lower bound, so that a size
# refused here could not have been played.
BYTES_PER_AGENT = 64


def memory_bytes() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_size(name: str, value: object, *, minimum: int, bytes_each: int = BYTES_PER_AGENT,
               units: str = "agents") -> int:
    """An integer size ``>= minimum`` whose arrays (``bytes_each`` bytes per unit) fit in
    memory; otherwise a ValueError naming ``name``.

    >>> check_size("n_agents", 10**30, minimum=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: n_agents=1000000000000000000000000000000 cannot be allocated: ...
    """
    size = check_int(name, value, minimum=minimum)
    needed = size * bytes_each
    available = memory_bytes()
    limit = available if available is not None else 2**63 - 1
    if needed > limit:
        where = (f"this machine's {_gib(available)} of memory" if available is not None
                 else "what an array can index")
        raise ValueError(
            f"{name}={size} cannot be allocated: {size:.3g} {units} at {bytes_each} bytes each "
            f"need {_gib(needed)}, more than {where}"
        )
    return size


def _gib(count: int | None) -> str:
    return f"{(count or 0) / 2**30:,.3g} GiB"


def check_grid_cells(value: object, *, minimum: int = 8) -> int:
    """A plane game's ``grid_cells``: the density grid has ``grid_cells``² nodes, each with a
    few float64 and complex numbers (the grid, its FFT and the kernel's)."""
    cells = check_int("grid_cells", value, minimum=minimum)
    return check_size("grid_cells", cells, minimum=minimum, bytes_each=BYTES_PER_AGENT * cells,
                      units="grid rows")
