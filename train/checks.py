"""The checks :func:`~populace.train.train` makes of its own arguments before the first round
(the learners are checked against the game in :mod:`populace.train.controllers`)."""

from __future__ import annotations

from pathlib import Path

from populace.envs.validation import check_int


def check_arguments(
    unit: str, budget: int, seed: int | None, window: int, checkpoint_every: int | None,
    out_dir: str | Path | None, resume: bool, overwrite: bool, keep_checkpoints: int | None,
    progress: bool | None,
) -> None:
    """Reject bad values of :func:`~populace.train.train`'s arguments, naming the argument
    (the annotations say what ``train`` declares; the checks hold whatever a caller passes)."""
    check_int("rounds" if unit == "rounds" else "episodes", budget, minimum=1)
    check_int("window", window, minimum=1)
    if seed is not None:
        check_int("seed", seed, minimum=0)
    if keep_checkpoints is not None:
        check_int("keep_checkpoints", keep_checkpoints, minimum=1)
    for flag, value in (("resume", resume), ("overwrite", overwrite)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    if progress not in (None, True, False):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    if checkpoint_every is not None:
        check_int("checkpoint_every", checkpoint_every, minimum=1)
        if checkpoint_every % window:
            raise ValueError(
                f"checkpoint_every ({checkpoint_every}) must be a multiple of window ({window})"
            )
        if out_dir is None:
            raise ValueError("checkpoint_every needs out_dir (the folder checkpoints go to)")
    if out_dir is None and resume:
        raise ValueError("resume=True needs out_dir (the folder of the run to continue)")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; choose one")



def check_window_fits(unit: str, budget: int, window: int) -> None:
    """Refuse a budget shorter than one window: such a run would record no metrics row."""
    if window > budget:
        raise ValueError(
            f"window={window} is longer than the budget {unit}={budget}: no metrics row would "
            f"be recorded; pass window <= {budget} or a larger budget"
        )
