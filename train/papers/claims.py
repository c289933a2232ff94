"""A paper's claims beside what we measured, and the curve tests the claims are made of.

The claims are checked by a pure function of the seed-averaged curves, apart from running the
jobs, so that tests can feed it any curves: fed those of players that do not learn, every
claim must fail (SPEC §5), and every bound must lie inside what the run can reach.

The API every reproduction uses (keep it stable; extend it only by adding):

* ``Claim(claim, paper, ours, holds, baseline="", per_seed=())`` — ``baseline`` is what the
  strongest simple rule of the game (nobody trained it; same seeds) measures on the same
  check, shown in the table's "simple rule" column; ``per_seed`` the claim's verdict on each
  seed, shown as ``claim.seeds`` ("4/5") in the "seeds" column.
* :func:`holds_on_seeds` ``(per_seed, required=1.0)`` — a claim holds on every seed, or on the
  fraction ``required``, which the claim's text then states with its reason.
* :func:`beside_rule` ``(claims, rule_claims, rule)`` — the same claims checked on the rule's
  runs fill the learner's ``baseline`` column: "rule: what it measures — fails / passes too".
* :func:`seed_verdicts` ``(claims, claims_per_seed)`` — the claims checked on each seed's runs
  alone fill ``per_seed`` (the verdict ``holds`` is left as the caller decided it).
* :class:`Report` ``(name, claims, files, notes)`` — ``table()`` (Markdown, with the columns
  claim | paper | ours | simple rule | seeds | holds) and ``text(width)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from populace.text import files_line, wrap

SETTLE_BAND = 0.1  # a curve has settled once it stays within this fraction of its drop
MIN_DROP = 0.5  # ... and only if its level is at most (1 − MIN_DROP) times its first value


@dataclass(frozen=True)
class Claim:
    """One claim of a paper: what the paper says, what we measured, and whether it holds.

    Beside ours, ``baseline`` says what the strongest simple rule of the game (one nobody
    trained, run on the same seeds) measures, so a reader sees that learning is what passes.
    Where the claim is checked on each seed, ``per_seed`` holds each seed's verdict, and
    :func:`holds_on_seeds` decides the claim from them.
    """

    claim: str
    paper: str
    ours: str
    holds: bool
    baseline: str = ""
    per_seed: tuple[bool, ...] = ()

    @property
    def seeds(self) -> str:
        """``"4/5"``: on how many seeds the claim holds (empty when not checked per seed)."""
        return f"{sum(self.per_seed)}/{len(self.per_seed)}" if self.per_seed else ""


def holds_on_seeds(per_seed: tuple[bool, ...] | list[bool], required: float = 1.0) -> bool:
    """Whether a claim holds given its per-seed verdicts: on every seed by default, or on at
    least the fraction ``required`` (the claim's text must say which fraction and why).

    >>> holds_on_seeds([True, True, False]), holds_on_seeds([True, True, False], required=0.6)
    (False, True)
    """
    verdicts = np.asarray(per_seed, dtype=bool)
    return bool(len(verdicts)) and float(verdicts.mean()) >= required


def beside_rule(claims: list[Claim], rule_claims: list[Claim], rule: str) -> list[Claim]:
    """The claims with their ``baseline`` filled from ``rule_claims``, the same checks fed the
    runs of the simple rule named ``rule`` (a claim that already has a baseline keeps it).

    >>> ours = [Claim("falls", "p", "0.3", True)]
    >>> beside_rule(ours, [Claim("falls", "p", "5.1", False)], "fixed start")[0].baseline
    'fixed start: 5.1 — fails'
    """
    if len(claims) != len(rule_claims):
        raise ValueError(f"{len(claims)} claims but {len(rule_claims)} checked on the rule")
    return [claim if claim.baseline else replace(
        claim, baseline=f"{rule}: {checked.ours} — {'passes too' if checked.holds else 'fails'}")
        for claim, checked in zip(claims, rule_claims, strict=True)]


def seed_verdicts(claims: list[Claim], claims_per_seed: Sequence[list[Claim]]) -> list[Claim]:
    """The claims with ``per_seed`` filled from the same checks run on each seed alone (a
    claim that already has per-seed verdicts keeps them)."""
    for one_seed in claims_per_seed:
        if len(one_seed) != len(claims):
            raise ValueError(f"{len(claims)} claims but {len(one_seed)} checked on one seed")
    return [claim if claim.per_seed else replace(
        claim, per_seed=tuple(bool(seed[i].holds) for seed in claims_per_seed))
        for i, claim in enumerate(claims)]


@dataclass
class Report:
    name: str
    claims: list[Claim]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.claims)

    def table(self) -> str:
        """The claims as a Markdown table (wide: ``populace reproduce`` writes it to a file)."""
        lines = [
            f"## {self.name}",
            "",
            "| claim | paper | ours | simple rule | seeds | holds |",
            "|---|---|---|---|---|---|",
        ]
        lines += [f"| {c.claim} | {c.paper} | {c.ours} | {c.baseline or '–'} | {c.seeds or '–'} "
                  f"| {'yes' if c.holds else 'NO'} |" for c in self.claims]
        return "\n".join(lines)

    def text(self, width: int = 100) -> str:
        """The claims, the files written and any notes, wrapped to ``width`` columns."""
        held = sum(c.holds for c in self.claims)
        lines = [f"{self.name}: {held} of {len(self.claims)} claims hold"]
        for claim in self.claims:
            verdict = " yes  " if claim.holds else " NO   "
            lines.append(wrap(claim.claim, width, first=verdict, rest="      "))
            lines.append(wrap(claim.paper, width, first="        paper: ", rest=" " * 15))
            lines.append(wrap(claim.ours, width, first="        ours:  ", rest=" " * 15))
            if claim.baseline:
                lines.append(wrap(claim.baseline, width, first="        rule:  ", rest=" " * 15))
            if claim.per_seed:
                lines.append(f"        seeds: holds on {claim.seeds}")
        lines += [files_line(self.files, width), *(wrap(note, width) for note in self.notes)]
        return "\n".join(line for line in lines if line)


def rounds_to_reach(rounds: np.ndarray, distance: np.ndarray, threshold: float) -> int | None:
    """The first round at which the distance is at or below ``threshold`` and stays there.

    None if the curve ends above ``threshold``; ``rounds[0]`` if it never was above.
    """
    above = np.flatnonzero(distance > threshold)
    if len(above) == 0:
        return int(rounds[0])
    if above[-1] == len(distance) - 1:
        return None
    return int(rounds[above[-1] + 1])


def settling_round(rounds: np.ndarray, distance: np.ndarray) -> tuple[int | None, float]:
    """When a curve settles: the first round after which it stays within 10% of its total drop.

    The settled level is the mean of the last quarter of the curve; the band is that level plus
    a tenth of the way back to the first value. A curve settles only if it fell to at most half
    its first value and entered the band before its last quarter began, so a flat curve (players
    that do not learn) and one still falling at the end have not settled.

    Returns:
        (round, level): the settling round (None if the curve did not settle) and the level.

    >>> rounds = np.arange(250, 3001, 250)
    >>> settling_round(rounds, 0.3 + 4.8 * np.exp(-rounds / 250.0))[0]
    1000
    >>> settling_round(rounds, np.full(12, 5.1))  # uniform play: no drop, no settling
    (None, 5.1)
    >>> settling_round(rounds, 5.1 - rounds / 1000.0)[0] is None  # still falling at the end
    True
    """
    tail = max(len(distance) // 4, 1)
    level = float(distance[-tail:].mean())
    start = float(distance[0])
    if len(distance) < 2 or level > (1.0 - MIN_DROP) * start:
        return None, level
    settled = rounds_to_reach(rounds, distance, level + SETTLE_BAND * (start - level))
    if settled is None or settled > rounds[-tail - 1]:
        return None, level
    return settled, level
