"""Text for the terminal: wrapping that keeps words and paths whole, the files a command wrote."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path


def wrap(text: str, width: int, first: str = "", rest: str = "  ") -> str:
    """``text`` wrapped to ``width`` columns, without breaking words or paths."""
    return textwrap.fill(text, width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def files_line(files: list[Path], width: int) -> str:
    """``wrote DIR/: a.csv, b.png`` for files that share a folder, else each path."""
    if not files:
        return ""
    folders = {path.parent for path in files}
    if len(folders) == 1:
        text = f"wrote {folders.pop()}{os.sep}: " + ", ".join(path.name for path in files)
    else:
        text = "wrote " + ", ".join(str(path) for path in files)
    return wrap(text, width)
