"""One name per thing across games: preset names, action labels on every render face, and the
install line a missing extra points to."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from populace.agents import INSTALL_BASELINES, make_learner
from populace.envs import render
from populace.envs.anonymous.contribution import ContributionCore
from populace.envs.anonymous.matrix import MatrixCore
from populace.envs.zero_sum.zspg_network import ZSPGNetworkCore

ROOT = Path(__file__).resolve().parents[1]


def played(core, rounds: int = 3, seed: int = 0) -> list:
    """Observations and rewards of a few rounds of uniform play."""
    rng = np.random.default_rng(seed)
    out = [core.reset(seed=seed)]
    for _ in range(rounds):
        actions = {g.name: rng.integers(0, g.action_space.n, g.size) for g in core.groups}
        step = core.step(actions)
        out.append((step.observations, step.rewards))
    return out


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(a, b)


def test_rock_paper_scissors_has_one_name_in_both_games():
    for name in ("rps", "rock_paper_scissors"):
        zspg = ZSPGNetworkCore(game=name)
        matrix = MatrixCore(game=name, n_agents=4)
        assert zspg.n_agents == 2 and zspg.n_actions == 3
        assert matrix.action_labels() == ["rock", "paper", "scissors"]
    assert same(played(ZSPGNetworkCore(game="rps")),
                played(ZSPGNetworkCore(game="rock_paper_scissors")))
    assert same(played(MatrixCore(game="rps", n_agents=4)),
                played(MatrixCore(game="rock_paper_scissors", n_agents=4)))


def test_an_unknown_preset_lists_the_canonical_names():
    with pytest.raises(ValueError, match="rock_paper_scissors"):
        ZSPGNetworkCore(game="paper")
    with pytest.raises(ValueError, match="rock_paper_scissors"):
        MatrixCore(game="paper", n_agents=4)


@pytest.mark.parametrize(("core", "labels"), [
    (ZSPGNetworkCore(render_mode="rgb_array"), ["H", "T"]),
    (MatrixCore(game="stag_hunt", n_agents=6, render_mode="rgb_array"), ["stag", "hare"]),
    (ContributionCore(n_agents=6, render_mode="rgb_array"), [str(a) for a in range(20)]),
], ids=["zspg", "matrix", "contribution"])
def test_the_picture_labels_actions_as_the_text_does(core, labels):
    played(core)
    text = core.render_ansi()
    assert all(f"{label} |" in text for label in labels)
    image = core.render_rgb()
    counts = core._histogram() if hasattr(core, "_histogram") else core.last_counts
    drawn = dict(title=f"round {core.cycle}  " + ("n" if isinstance(core, ZSPGNetworkCore)
                                                  else "N") + f"={core.n_agents}")
    if not isinstance(core, ZSPGNetworkCore):
        drawn["marked"] = core.reference_equilibrium()
    assert np.array_equal(image, render.histogram_image(counts, labels=labels, **drawn))
    numbered = render.histogram_image(counts, **drawn)
    assert np.array_equal(image, numbered) == (labels == [str(a) for a in range(len(labels))])


def test_labels_are_cut_to_their_column_and_must_match_the_actions():
    image = render.histogram_image(np.array([3, 1, 2]), labels=["rock", "paper", "scissors"])
    assert image.shape == (200, 3 * 54, 3)
    with pytest.raises(ValueError, match="3 actions but 2 labels"):
        render.histogram_image(np.array([3, 1, 2]), labels=["a", "b"])


def test_a_missing_extra_gives_the_readmes_install_line(monkeypatch):
    assert "pip install torch==2.13.0 && pip install" in INSTALL_BASELINES
    readme = (ROOT / "README.md").read_text()
    assert "pip install torch==2.13.0 && pip install -e \".[baselines" in readme
    core = ContributionCore(n_agents=4)
    monkeypatch.setitem(sys.modules, "stable_baselines3", None)
    monkeypatch.setitem(sys.modules, "populace.agents.sb3.learner", None)
    with pytest.raises(ImportError, match="pip install torch==2.13.0 && pip install"):
        make_learner("ppo", core)
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "populace.agents.actor_critic.fictitious_play", None)
    with pytest.raises(ImportError, match=r"'ac_fp' needs torch.*torch==2\.13\.0"):
        make_learner("ac_fp", core)


def test_a_broken_import_inside_populace_is_not_called_a_missing_extra(monkeypatch):
    """Only a package of the extra that is absent earns the install hint; any other import
    error is raised as it is."""
    import importlib

    real = importlib.import_module

    def broken(name, *args):
        if name == "populace.agents.actor_critic.fictitious_play":
            raise ImportError("cannot import name 'x' from 'populace.agents.actor_critic'",
                              name="populace.agents.actor_critic")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ImportError, match="cannot import name 'x'") as raised:
        make_learner("ac_fp", ContributionCore(n_agents=4))
    assert "pip install" not in str(raised.value)
