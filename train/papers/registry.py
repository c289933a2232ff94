"""Every reproduction ``populace reproduce`` knows, by name."""

from populace.train.papers import (
    alt,
    alt_continuous,
    kash,
    kash_congestion,
    leonardos,
    mguni_lqr,
    mguni_spatial,
    mguni_supply,
)
from populace.train.papers.reproduction import Reproduction

REPRODUCTIONS: dict[str, Reproduction] = {**kash.REPRODUCTIONS, **kash_congestion.REPRODUCTIONS,
                                              **leonardos.REPRODUCTIONS, **alt.REPRODUCTIONS,
                                              **alt_continuous.REPRODUCTIONS,
                                              **mguni_lqr.REPRODUCTIONS,
                                              **mguni_spatial.REPRODUCTIONS,
                                              **mguni_supply.REPRODUCTIONS}
