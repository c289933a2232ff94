"""MkDocs hooks for the Populace site (loaded by ``hooks:`` in mkdocs.yml).

The games' docstrings carry doctests (``>>>`` lines and their output) in their running text,
in the way ``help()`` and ``pytest --doctest-modules`` read them. Markdown would take a ``>>>``
line for a quotation and ``x[0, 1:]`` inside it for a link, so a preprocessor fences every
doctest run as a ``pycon`` code block before the fenced-code extension sees the page; this
applies to the Markdown pages and, through mkdocstrings, to every rendered docstring.
"""

from __future__ import annotations

from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

FENCE_MARKS = ("```", "~~~")


def fence_doctests(lines: list[str]) -> list[str]:
    """``lines`` with each run of doctest lines (a ``>>>`` line and what follows it up to a
    blank line) inside a ``pycon`` fence; lines already inside a fence are left alone.

    >>> fence_doctests(["text", ">>> 1 + 1", "2", "", "more"])
    ['text', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'more']
    """
    out: list[str] = []
    in_fence = in_doctest = False
    for line in lines:
        stripped = line.strip()
        if in_doctest and not stripped:
            out += ["```", ""]
            in_doctest = False
        if not in_doctest and stripped.startswith(FENCE_MARKS):
            in_fence = not in_fence
        elif not in_fence and not in_doctest and stripped.startswith(">>>"):
            out += ["", "```pycon"]
            in_doctest = True
        out.append(line.strip() if in_doctest else line)
    if in_doctest:
        out.append("```")
    return out


class DoctestFencer(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return fence_doctests(lines)


class DoctestFences(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's name)
        # above the fenced-code preprocessors (priority 25 to 30), so they fence the result
        md.preprocessors.register(DoctestFencer(md), "populace_doctests", 40)


@event_priority(100)  # before mkdocstrings reads the extension list
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestFences())
    return config
