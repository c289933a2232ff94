"""Pictures of a population without a plotting dependency: action histograms as text or RGB.

Both pictures scale the bars to the most played action, so a population spread over many
actions still shows readable bars, and both print the numbers beside them: the text picture
each action's share and count, the RGB picture each action's label under its bar and its
share in percent above it (a game passes the same labels to both), drawn with a tiny
built-in 3×5 pixel font (:func:`draw_text`).
"""

from __future__ import annotations

import numpy as np

BAR = (52, 101, 164)
EQUILIBRIUM = (204, 0, 0)
BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)

# A 3×5 pixel font: each glyph is five rows of three pixels ("#" = ink), upper case only.
_GLYPHS = {
    "0": "### #.# #.# #.# ###", "1": ".#. ##. .#. .#. ###", "2": "### ..# ### #.. ###",
    "3": "### ..# .## ..# ###", "4": "#.# #.# ### ..# ..#", "5": "### #.. ### ..# ###",
    "6": "### #.. ### #.# ###", "7": "### ..# .#. .#. .#.", "8": "### #.# ### #.# ###",
    "9": "### #.# ### ..# ###", "A": ".#. #.# ### #.# #.#", "B": "##. #.# ##. #.# ##.",
    "C": ".## #.. #.. #.. .##", "D": "##. #.# #.# #.# ##.", "E": "### #.. ##. #.. ###",
    "F": "### #.. ##. #.. #..", "G": ".## #.. #.# #.# .##", "H": "#.# #.# ### #.# #.#",
    "I": "### .#. .#. .#. ###", "J": "..# ..# ..# #.# .#.", "K": "#.# #.# ##. #.# #.#",
    "L": "#.. #.. #.. #.. ###", "M": "#.# ### ### #.# #.#", "N": "##. #.# #.# #.# #.#",
    "O": ".#. #.# #.# #.# .#.", "P": "##. #.# ##. #.. #..", "Q": ".#. #.# #.# ##. .##",
    "R": "##. #.# ##. #.# #.#", "S": ".## #.. .#. ..# ##.", "T": "### .#. .#. .#. .#.",
    "U": "#.# #.# #.# #.# ###", "V": "#.# #.# #.# #.# .#.", "W": "#.# #.# ### ### #.#",
    "X": "#.# #.# .#. #.# #.#", "Y": "#.# #.# .#. .#. .#.", "Z": "### ..# .#. #.. ###",
    "%": "#.# ..# .#. #.. #.#", "=": "... ### ... ### ...", "-": "... ... ### ... ...",
    ".": "... ... ... ... .#.", ":": "... .#. ... .#. ...", "<": "..# .#. #.. .#. ..#",
    "_": "... ... ... ... ###", "/": "..# ..# .#. #.. #..", " ": "... ... ... ... ...",
}
FONT = {
    char: np.array([[pixel == "#" for pixel in row] for row in rows.split()])
    for char, rows in _GLYPHS.items()
}
GLYPH_HEIGHT, GLYPH_WIDTH = 5, 3


# --------------------------------------------------------------------- text
def bar_lengths(counts: np.ndarray, width: int) -> np.ndarray:
    """Bar length per action: proportional to its count, the most played action ``width``
    long, and every action someone played at least 1 long."""
    counts = np.asarray(counts)
    largest = max(int(counts.max(initial=0)), 1)
    lengths = np.round(counts * (width / largest)).astype(int)
    return np.where(counts > 0, np.maximum(lengths, 1), 0)


def histogram_text(
    counts: np.ndarray, labels: list[str], title: str, width: int = 40,
    marked: np.ndarray | None = None,
) -> str:
    """One line per action: label, a bar scaled to the most played action, share and count.

    Actions with positive mass in ``marked`` (e.g. the reference equilibrium) end with ``*``.

    >>> print(histogram_text(np.array([90, 9, 1]), ["a", "b", "c"], "t", width=10), end="")
    t
    a |##########|  90.0%   90
    b |#         |   9.0%    9
    c |#         |   1.0%    1
    """
    counts = np.asarray(counts)
    shares = counts / max(int(counts.sum()), 1)
    label_width = max(len(label) for label in labels)
    count_width = len(str(int(counts.max(initial=0))))
    stars = ["  *" if m else "" for m in (np.zeros(len(counts)) if marked is None else marked)]
    lines = [title]
    for label, length, share, count, star in zip(
        labels, bar_lengths(counts, width), shares, counts, stars, strict=True
    ):
        bar = "#" * int(length)
        lines.append(
            f"{label:>{label_width}} |{bar:<{width}}| {share:6.1%} {int(count):>{count_width + 2}}"
            f"{star}"
        )
    if marked is not None and np.any(marked):
        lines.append("* reference equilibrium")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- pixels
def text_width(text: str, scale: int = 1) -> int:
    """Width in pixels of ``text`` drawn by :func:`draw_text`."""
    return max(len(text) * (GLYPH_WIDTH + 1) - 1, 0) * scale


def draw_text(
    image: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int] = INK,
    scale: int = 1,
) -> None:
    """Draw ``text`` (upper-cased; unknown characters as blanks) into ``image`` in place, its
    top-left corner at column ``x``, row ``y``; pixels outside the image are dropped."""
    glyphs = [FONT.get(char, FONT[" "]) for char in text.upper()]
    if not glyphs:
        return
    spacer = np.zeros((GLYPH_HEIGHT, 1), dtype=bool)
    row = np.hstack([part for glyph in glyphs for part in (glyph, spacer)][:-1])
    mask = np.kron(row, np.ones((scale, scale), dtype=bool)).astype(bool)
    height, width = image.shape[:2]
    top, left = max(y, 0), max(x, 0)
    bottom, right = min(y + mask.shape[0], height), min(x + mask.shape[1], width)
    if bottom <= top or right <= left:
        return
    visible = mask[top - y : bottom - y, left - x : right - x]
    image[top:bottom, left:right][visible] = color


def histogram_image(
    counts: np.ndarray, marked: np.ndarray | None = None, height: int = 200,
    bar_width: int | None = None, title: str = "", labels: list[str] | None = None,
) -> np.ndarray:
    """An ``(height, n_actions * bar_width, 3)`` uint8 bar chart of the action counts.

    Bars are scaled to the most played action. Each action's label (default: its number; the
    labels of :func:`histogram_text`, shortened to fit the column) is written under its
    column and its share in whole percent above its bar (``<1`` where that rounds to 0);
    ``title`` along the top where it fits. Actions with positive mass in ``marked`` (e.g. the
    reference equilibrium) get a red strip under their bar. ``bar_width`` defaults to 16
    pixels, wider for games with few actions (at least 160 pixels in all).
    """
    counts = np.asarray(counts)
    n_actions = len(counts)
    bar_width = bar_width or max(16, -(-160 // n_actions))
    if text_width(title) > n_actions * bar_width - 4:
        title = ""
    image = np.empty((height, n_actions * bar_width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    labels = [str(a) for a in range(n_actions)] if labels is None else list(labels)
    if len(labels) != n_actions:
        raise ValueError(f"{n_actions} actions but {len(labels)} labels")
    labels = [_fitted(label, bar_width - 2) for label in labels]
    widest = max(labels, key=text_width)
    label_scale = 2 if text_width(widest, 2) <= bar_width - 4 else 1
    axis = height - GLYPH_HEIGHT * label_scale - 8  # the bars stand on this row
    top = GLYPH_HEIGHT + 4 + (GLYPH_HEIGHT + 2 if title else 0)  # room for title and shares
    bar_heights = bar_lengths(counts, max(axis - 4 - top, 1))
    rows = np.arange(height)[:, None]
    columns = np.repeat(np.arange(n_actions), bar_width)
    gutter = (np.arange(n_actions * bar_width) % bar_width) >= bar_width - 2
    filled = (rows >= axis - 4 - bar_heights[columns][None, :]) & (rows < axis - 4) & ~gutter
    image[filled] = BAR
    if marked is not None:
        strip = np.repeat(np.asarray(marked) > 0, bar_width) & ~gutter
        image[axis - 3 : axis, strip] = EQUILIBRIUM
    _label_columns(image, counts, bar_heights, axis, bar_width, label_scale, labels)
    if title:
        draw_text(image, title, 2, 2)
    return image


def _label_columns(
    image: np.ndarray, counts: np.ndarray, bar_heights: np.ndarray, axis: int, bar_width: int,
    label_scale: int, labels: list[str],
) -> None:
    """Action labels under the columns, shares in percent above the bars that have any (with
    a ``%`` sign where it fits)."""
    shares = counts / max(int(counts.sum()), 1)
    usable = bar_width - 2  # the gutter stays blank
    for action, (share, bar) in enumerate(zip(shares, bar_heights, strict=True)):
        left = action * bar_width
        label = labels[action]
        draw_text(image, label, left + (usable - text_width(label, label_scale)) // 2,
                  axis + 2, scale=label_scale)
        if share > 0:
            whole = int(round(share * 100))
            percent = str(whole) if whole >= 1 else "<1"
            if text_width(percent + "%") <= usable:
                percent += "%"
            y = axis - 4 - int(bar) - GLYPH_HEIGHT - 2
            draw_text(image, percent, left + (usable - text_width(percent)) // 2, y)


def _fitted(label: str, width: int) -> str:
    """``label`` cut to the characters that fit ``width`` pixels at scale 1.

    >>> _fitted("scissors", 14), _fitted("H", 14)
    ('SCI', 'H')
    """
    fits = max((width + 1) // (GLYPH_WIDTH + 1), 1)
    return label.upper()[:fits]
