"""The documentation runs: every ```python block of README.md and docs/**/*.md is executed,
and every game, learner and reproduction has its page on the site.

A block that needs an optional package opens with a marker comment naming the modules it
imports, e.g. ``# docs: needs torch, stable_baselines3``; it is skipped when one is missing
(and run everywhere else). Each block runs in a fresh namespace, in a temporary folder (what it
writes under ``runs/`` stays there).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from populace.agents import BASELINES, learner_names
from populace.envs.registry import GAMES
from populace.train.papers.registry import REPRODUCTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
NEEDS = re.compile(r"^#\s*docs:\s*needs\s+(.+)$")


def markdown_files() -> list[Path]:
    generated = DOCS / "generated"
    return [ROOT / "README.md"] + sorted(
        path for path in DOCS.rglob("*.md") if generated not in path.parents
    )


def python_blocks() -> list[tuple[str, int, str]]:
    """(file relative to the root, line of the opening fence, code) of every python block."""
    blocks = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((str(path.relative_to(ROOT)), line, match.group(1)))
    return blocks


def needed_modules(code: str) -> list[str]:
    """The modules a block's ``# docs: needs ...`` marker names (none without a marker)."""
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    match = NEEDS.match(first.strip())
    return [name.strip() for name in match.group(1).split(",")] if match else []


BLOCKS = python_blocks()


def test_the_docs_have_python_blocks() -> None:
    assert len(BLOCKS) >= 2, "README.md and docs/ should show Python"
    assert needed_modules("# docs: needs torch, stable_baselines3\nimport torch") == [
        "torch", "stable_baselines3"]
    assert needed_modules("import numpy") == []


@pytest.mark.parametrize(("file", "line", "code"), BLOCKS,
                         ids=[f"{file}:{line}" for file, line, _ in BLOCKS])
def test_python_block_runs(file: str, line: int, code: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for module in needed_modules(code):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{file}:{line} needs {module}, not installed")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{file}:{line}", "exec"), {"__name__": "__docs__"})


def test_every_game_learner_and_reproduction_has_a_page() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [f"games/{game}.md" for game in GAMES]
    pages += [f"reproductions/{name}.md" for name in REPRODUCTIONS]
    pages += [f"learners/{'sb3' if name in BASELINES else name}.md" for name in learner_names()]
    for page in pages:
        assert (DOCS / page).is_file(), f"docs/{page} is missing"
        assert page in nav, f"docs/{page} is not in mkdocs.yml's nav"
    for name in REPRODUCTIONS:
        page = (DOCS / "reproductions" / f"{name}.md").read_text(encoding="utf-8")
        assert f'--8<-- "docs/results/{name}-claims.md"' in page
        assert (DOCS / "results" / f"{name}-claims.md").is_file()


def test_the_readmes_links_lead_somewhere() -> None:
    """Every relative link of README.md names a file of the repository (the site's pages
    among them), so that a section moved to the site is still one click away."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    local = [target.split("#")[0] for target in targets if not target.startswith(("http", "#"))]
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
