"""Static checks in the test run: mypy over ``populace.envs``, ``populace.agents`` and
``populace.train``, and ruff over the repository (both configured in pyproject).

The three folders are mapped into the package by setuptools, which mypy cannot follow; the
test assembles the package as mypy expects it, from links to the real files, and checks that.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPED = ("envs", "agents", "train")


def test_mypy_is_clean(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    # the SB3 adapters are checked against SB3's own types, so they need the baselines extra
    pytest.importorskip("stable_baselines3", reason="needs the baselines extra")
    package = tmp_path / "populace"
    package.mkdir()
    for entry in (ROOT / "src" / "populace").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder in MAPPED:
        (package / folder).symlink_to(ROOT / folder)
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(tmp_path / ".mypy_cache")]
    for folder in MAPPED:
        command += ["-p", f"populace.{folder}"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    shutil.rmtree(package)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_is_clean() -> None:
    pytest.importorskip("ruff", reason="ruff is in the test extra")
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
