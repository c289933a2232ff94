"""Pictures a person can read: bars scaled to the most played action with the numbers beside
them, labelled RGB frames, and a human mode that prints."""

from __future__ import annotations

import re

import numpy as np
import pytest

from populace.envs import contribution_v0, matrix_v0, render
from populace.envs.render import FONT, INK, draw_text, histogram_image, histogram_text, text_width

SPREAD = np.array([8, 6, 10, 17, 8, 9, 10, 12, 9, 6, 6, 16, 16, 7, 12, 10, 11, 9, 8, 10])


def bars(text: str) -> dict[int, tuple[int, str]]:
    """``{action: (bar length, rest of the line)}`` from a text histogram."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"\s*(\d+) \|(#*) *\|(.*)", line)
        if match:
            found[int(match[1])] = (len(match[2]), match[3])
    return found


def test_a_spread_population_draws_readable_bars():
    """200 agents spread over 20 actions (largest share 8.5%): the most played action gets the
    full width, every other a proportional bar, and each line its share and count."""
    drawn = bars(histogram_text(SPREAD, [str(a) for a in range(20)], "title", width=40))
    assert drawn[3][0] == 40  # the most played action
    assert all(length >= 14 for length, _ in drawn.values())  # 6/17 of the width at least
    assert drawn[0][0] == round(8 / 17 * 40)
    share, count = drawn[3][1].split()
    assert share == "8.5%" and count == "17"


def test_a_single_agent_still_shows():
    counts = np.zeros(20, dtype=int)
    counts[8], counts[0] = 999, 1
    drawn = bars(histogram_text(counts, [str(a) for a in range(20)], "t"))
    assert drawn[8][0] == 40 and drawn[0][0] == 1 and drawn[5][0] == 0
    assert drawn[0][1].split() == ["0.1%", "1"]


def test_the_game_marks_its_reference_equilibrium():
    env = contribution_v0.parallel_env(n_agents=3, render_mode="ansi")
    env.reset(seed=0)
    env.step({"agent_0": 8, "agent_1": 8, "agent_2": 2})
    text = env.render()
    assert "round 1" in text and "* reference equilibrium" in text
    assert bars(text)[8][1].split() == ["66.7%", "2", "*"]


def ink_columns(image: np.ndarray, rows: slice) -> np.ndarray:
    """The image columns with label ink in ``rows``."""
    return np.flatnonzero((image[rows] == INK).all(axis=-1).any(axis=0))


def test_the_rgb_frame_is_labelled():
    image = histogram_image(SPREAD, marked=np.eye(20)[8], title="round 1")
    height, width, _ = image.shape
    assert width == 20 * 16
    bottom = ink_columns(image, slice(height - 14, height))  # action numbers under the bars
    assert {column // 16 for column in bottom} == set(range(20))
    top = ink_columns(image, slice(0, 8))  # the title
    assert len(top) and top.max() < text_width("ROUND 1") + 4
    # each action's number is drawn from its own glyphs: columns 0 and 1 differ
    assert not np.array_equal(image[-14:, 0:16], image[-14:, 16:32])


def test_the_shares_are_written_above_the_bars():
    counts = np.array([62, 37, 1, 0])
    image = histogram_image(counts, bar_width=16)
    expected = np.full_like(image, 255)
    draw_text(expected, "62%", 0, 0)
    glyphs = (expected[:5, :11] == INK).all(axis=-1)
    column = image[:, :16]
    inked = (column == INK).all(axis=-1)
    rows = [r for r in range(image.shape[0] - 5) if inked[r : r + 5, 1:12].any()]
    assert any(np.array_equal(inked[r : r + 5, 1:12], glyphs) for r in rows)
    assert not (image[:, 48:62] == INK).all(axis=-1)[: image.shape[0] - 20].any()  # no share


def test_the_font_covers_digits_letters_and_signs():
    for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ%=-.:<_/ ":
        assert FONT[char].shape == (5, 3)
    assert len({FONT[c].tobytes() for c in "0123456789"}) == 10
    picture = np.zeros((7, 20, 3), np.uint8)
    draw_text(picture, "n=5", -2, 1, color=(1, 2, 3))  # lower case and clipping are fine
    assert (picture == (1, 2, 3)).all(axis=-1).any()


@pytest.mark.parametrize("factory", [contribution_v0.parallel_env, matrix_v0.parallel_env])
def test_human_mode_prints_every_round(factory, capsys):
    env = factory(n_agents=4, render_mode="human")
    env.reset(seed=0)
    assert "round 0" in capsys.readouterr().out
    env.step({agent: 1 for agent in env.agents})
    assert "round 1" in capsys.readouterr().out
    assert env.render() is None and "round 1" in capsys.readouterr().out
    assert "human" in env.metadata["render_modes"]


def test_bar_lengths_keep_every_played_action_visible():
    lengths = render.bar_lengths(np.array([1000000, 1, 0, 500000]), 40)
    assert lengths.tolist() == [40, 1, 0, 20]
    assert render.bar_lengths(np.zeros(3, int), 40).tolist() == [0, 0, 0]
