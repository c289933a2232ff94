"""Write the parts of the site's game and learner pages that the code knows best.

``make docs`` runs this before ``mkdocs build`` (with every extra installed, so that the torch
learners are judged too); each game's page includes ``docs/generated/game-<game>.md`` (its
ids, its metric columns, the learners that fit it) and each learner's page
``docs/generated/learner-<name>.md`` (the games it fits, its options), both gitignored. The
fit is the one ``populace list`` prints (``populace.cli.fitting_learners``: the learner built
with its defaults on the game at its defaults), so the pages cannot drift from the command;
the options are :func:`populace.agents.learner_options` with their defaults.

    python docs/generated_parts.py [OUT_DIR]
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from populace.agents import BASELINES, learner_class, learner_names, learner_options
from populace.cli import fitting_learners
from populace.envs.registry import GAMES, make_core

OUT_DIR = Path(__file__).parent / "generated"


def games_fitted(name: str) -> list[str]:
    """The games the learner ``name`` plays whole, then those where it plays one group: what
    ``populace list`` says, read per learner."""
    fitted = []
    for game in GAMES:
        fit = fitting_learners(game, [name])
        if "extra not installed" in fit:
            raise RuntimeError(f"{name} needs an extra that is not installed: {fit}")
        parts = fit.split("; ")
        groups = [f"`{part.split(':')[0]}`" for part in parts if part.endswith(f": {name}")]
        if name in parts:
            fitted.append(f"`{game}`")
        elif groups:
            fitted.append(f"`{game}` (one group with `--group`: {' or '.join(groups)})")
    return fitted


def option_defaults(cls: type) -> dict[str, str]:
    """Each option of ``cls`` (as :func:`learner_options` lists them) and its default."""
    defaults: dict[str, str] = {}
    for function in (cls.__init__, getattr(cls, "for_game", cls.__init__)):
        for parameter in inspect.signature(function).parameters.values():
            if parameter.default is not parameter.empty:
                defaults.setdefault(parameter.name, repr(parameter.default))
    return {option: defaults.get(option, "required") for option in learner_options(cls)}


def learner_page_part(name: str) -> str:
    """The generated part of the learner's page: the games it fits and its options."""
    fitted = games_fitted(name)
    lines = ["**Fits** (with its defaults, on each game at its defaults, as `populace list` "
             "checks): " + (", ".join(fitted) if fitted else "no registered game") + ".", ""]
    if name in BASELINES:
        from populace.agents.sb3.learner import SB3Learner

        cls: type = SB3Learner
        decided = {"env", "algorithm"}  # make_learner passes the game and the name
        lines += [f"`make_learner({name!r}, core, ...)` passes the options below to "
                  "`SB3Learner`, and every other keyword to the Stable-Baselines3 algorithm.", ""]
    else:
        cls, decided = learner_class(name), set()
    options = {key: value for key, value in option_defaults(cls).items() if key not in decided}
    lines += ["| option | default |", "|---|---|"]
    lines += [f"| `{option}` | `{default}` |" for option, default in options.items()]
    if "None" in options.values():
        lines += ["", "`None`: the learner picks (the reference below says what)."]
    return "\n".join(lines) + "\n"


def game_page_part(game: str) -> str:
    """The generated part of a game's page: its ids, metric columns and fitting learners."""
    tally = make_core(game).window_metrics()
    higher = set(tally.higher_is_better)
    columns = [f"`{column}`" + (" (higher is better)" if column in higher else "")
               for column in tally.columns]
    return "\n".join([
        f"**Ids**: PettingZoo `populace/{game}` (parallel and AEC), Gymnasium "
        f"`populace/{GAMES[game]}` (`make`: the focal view, `make_vec`: the population).",
        "",
        "**Metric columns** (one row per window in `metrics.csv`; `populace compare` reports "
        f"`{tally.headline_column()}` unless given `--metric`): " + ", ".join(columns) + ".",
        "",
        "**Learners that fit** (as `populace list` prints; `GROUP: ...` fit one group, with "
        f"`--group GROUP`): {fitting_learners(game, learner_names())}.",
    ]) + "\n"


def main(out_dir: Path = OUT_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for game in GAMES:
        path = out_dir / f"game-{game}.md"
        path.write_text(game_page_part(game))
        print(f"wrote {path}")
    for name in learner_names():
        path = out_dir / f"learner-{name}.md"
        path.write_text(learner_page_part(name))
        print(f"wrote {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR)
