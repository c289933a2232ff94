"""A paper reproduction: run many seeded training jobs, draw the figure, check the claims.

A reproduction returns a :class:`~populace.train.papers.claims.Report` whose table puts what
the paper says beside what we measured, and whether the claim holds. ``populace reproduce NAME
[--quick]`` writes that table to ``NAME-claims.md``, prints it narrowed to the terminal, and
exits non-zero if a claim fails, which is how the ``--quick`` forms run in CI.

A reproduction whose claims read seed-averaged curves (the default ``summarize``) can set
``per_seed``: the same claims are then also checked on each run alone (the i-th run of every
label, :func:`~populace.train.papers.jobs.seed_runs`), and the table says on how many runs
each holds; the verdict stays the one on the averaged curves, as the paper draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from populace.train.papers.claims import Claim, Report, seed_verdicts
from populace.train.papers.figures import NO_FIGURES
from populace.train.papers.jobs import Curve, Job, mean_curves, run_jobs, seed_runs

PER_SEED_NOTE = ("holds: checked on the seed-averaged curves, as the paper draws them; seeds: "
                 "on how many single runs the same check also holds")


@dataclass(frozen=True)
class Reproduction:
    """A paper's experiment in three parts, so that its claim checks can be tested alone.

    Attributes:
        name: what ``populace reproduce`` calls it.
        summary: one line for ``populace list``.
        jobs: ``jobs(quick, seed)``, the seeded runs; runs that share a label are averaged.
        claims: ``claims(summary, quick)``, the paper's claims checked against the summary of
            the curves and nothing else.
        save: ``save(curves, out_dir)`` writes the CSV and figures and returns their paths
            (None for a figure skipped because matplotlib is missing).
        summarize: ``summarize(curves)``, what the claims see: by default the seed-averaged
            curves (:func:`mean_curves`, :data:`Means`).
        per_seed: also check the claims on each run alone (the i-th run of every label,
            summarized the same way) and show on how many they hold.
    """

    name: str
    summary: str
    jobs: Callable[[bool, int], list[Job]]
    claims: Callable[[Any, bool], list[Claim]]
    save: Callable[[list[Curve], Path], list[Path | None]]
    summarize: Callable[[list[Curve]], Any] = field(default=lambda curves: mean_curves(curves))
    per_seed: bool = False

    def check(self, curves: list[Curve], quick: bool) -> list[Claim]:
        """The claims on the summary of ``curves`` (with per-run verdicts if ``per_seed``)."""
        claims = self.claims(self.summarize(curves), quick)
        if not self.per_seed:
            return claims
        return seed_verdicts(claims, [self.claims(self.summarize(one), quick)
                                      for one in seed_runs(curves)])

    def run(
        self, *, quick: bool, out_dir: Path, seed: int = 0, workers: int | None = None,
        progress: bool | None = None,
    ) -> Report:
        """Run the jobs, write the files (and ``<name>-claims.md``) and check the claims."""
        out_dir.mkdir(parents=True, exist_ok=True)
        curves = run_jobs(self.jobs(quick, seed), workers, progress=progress)
        saved = self.save(curves, out_dir)
        report = Report(self.name, self.check(curves, quick),
                        [path for path in saved if path is not None],
                        [PER_SEED_NOTE] if self.per_seed else [])
        claims_file = out_dir / f"{self.name}-claims.md"
        claims_file.write_text(report.table() + "\n", encoding="utf-8")
        report.files.append(claims_file)
        if None in saved:
            report.notes.append(NO_FIGURES)
        return report
