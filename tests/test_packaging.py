"""The declared dependency floors are ones the code works with (``make test-minimums`` runs
the conformance suite on exactly these versions, in a venv of its own)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def floors() -> dict[str, tuple[int, ...]]:
    """``{package: version}`` of every ``name>=version`` in pyproject's dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement.strip())
        assert match, f"{requirement!r}: declare each dependency as name>=floor"
        found[match[1].lower()] = tuple(int(part) for part in match[2].split("."))
    return found


def test_every_dependency_has_a_floor_the_code_needs():
    declared = floors()
    assert set(declared) == {"numpy", "gymnasium", "pettingzoo", "tqdm"}
    assert declared["gymnasium"] >= (1, 1)  # gymnasium.vector.AutoresetMode (envs/vector.py)


def test_make_test_minimums_installs_the_floors():
    makefile = (ROOT / "Makefile").read_text()
    target = makefile[makefile.index("\ntest-minimums:"):]
    assert "$(FLOORS)" in target and "tests/test_conformance.py" in target
    assert '["project"]["dependencies"]' in makefile  # FLOORS is read from pyproject.toml
