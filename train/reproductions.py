"""Every reproduction ``populace reproduce`` knows, by name."""

from populace.train import kash, kash_congestion, leonardos
from populace.train.reproduce import Reproduction

REPRODUCTIONS: dict[str, Reproduction] = {**kash.REPRODUCTIONS, **kash_congestion.REPRODUCTIONS,
                                              **leonardos.REPRODUCTIONS}
