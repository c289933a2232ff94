"""Static checks in the test run: mypy over the whole ``populace`` package and ruff over the
repository, each run exactly as a reader runs it from the repository root (``mypy``,
``ruff check .``; both configured in pyproject), and no bare ``Any`` in public signatures.

setuptools maps ``populace.envs``, ``populace.agents`` and ``populace.train`` to the top-level
folders, which mypy cannot follow; ``src/populace`` therefore holds relative links to them
(``envs -> ../../envs``, ...) that only static tools read (pytest's ``testpaths`` leave them
out, ruff does not follow links, and the install keeps setuptools' mapping).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPED = ("envs", "agents", "train")
PACKAGE_FOLDERS = (*MAPPED, "src/populace")

# Bare ``Any`` in the parameters and returns of public functions and methods, across envs/,
# agents/, train/ and src/populace: 193 of 2,426 before issue 17 typed the policy contract, 88
# of 2,965 after, none of 2,999 since. What took its place: numpy's ``ArrayLike``/``DTypeLike``
# for what is read as an array, the game's own core class, Protocols (``Acts``), a ``JSON``
# alias (populace.jsonable) for documents, ``object`` for what is only passed along or checked
# at run time; keywords forwarded to a constructor chosen at run time (``for_game``,
# ``make_learner``, ``make_core``, SB3's algorithm keywords) are ``**kwargs: object``, checked
# where they land (``learner_options``, the constructor itself).


def test_static_links_point_at_the_mapped_folders():
    for folder in MAPPED:
        link = ROOT / "src" / "populace" / folder
        assert link.is_symlink(), f"src/populace/{folder} must be a link for static tools"
        assert os.readlink(link) == f"../../{folder}"  # relative: works in any checkout
        assert link.resolve() == (ROOT / folder).resolve()


def test_pytest_does_not_collect_through_the_links():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    testpaths = config["tool"]["pytest"]["ini_options"]["testpaths"]
    for pattern in testpaths:
        for found in ROOT.glob(pattern):
            inside = found.relative_to(ROOT).parts
            assert inside[:3] not in [("src", "populace", m) for m in MAPPED], pattern
            assert not (found.is_dir() and found.name == "src"), pattern  # would walk the links


def test_mypy_is_clean():
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    # the SB3 adapters are checked against SB3's own types, so they need the baselines extra
    pytest.importorskip("stable_baselines3", reason="needs the baselines extra")
    command = [sys.executable, "-m", "mypy"]  # the reader's `mypy`, configured in pyproject
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    checked = re.search(r"no issues found in (\d+) source files", done.stdout)
    assert checked, done.stdout
    # every module of the package, cli and bench included, was checked
    assert int(checked[1]) == len(list(package_sources())), done.stdout


def test_ruff_is_clean():
    pytest.importorskip("ruff", reason="ruff is in the test extra")
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "."]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------- Any in signatures
def public_signature_slots(source: str) -> Iterator[tuple[str, str, ast.expr | None]]:
    """``(function, parameter or "return", annotation)`` of every public function and method
    (dunders included; private names, private classes and nested functions left out)."""

    def walk(node: ast.AST, public: bool) -> Iterator[tuple[str, str, ast.expr | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from walk(child, public and not child.name.startswith("_"))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                dunder = child.name.startswith("__") and child.name.endswith("__")
                if not public or (child.name.startswith("_") and not dunder):
                    continue
                arguments = child.args
                for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                 arguments.vararg, arguments.kwarg):
                    if argument is not None and argument.arg not in ("self", "cls"):
                        yield child.name, argument.arg, argument.annotation
                yield child.name, "return", child.returns

    yield from walk(ast.parse(source), True)


def package_sources(root: Path = ROOT) -> Iterator[Path]:
    """Every module of the package, once (the links under src/populace are not followed)."""
    for folder in PACKAGE_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if not any(part in MAPPED for part in path.relative_to(root / folder).parts[:1]
                       if folder == "src/populace"):
                yield path


def bare_any(annotation: ast.expr | None) -> bool:
    return annotation is not None and ast.unparse(annotation).strip("'\"") == "Any"


def any_in_public_signatures(root: Path = ROOT) -> dict[str, list[str]]:
    """``{file: ["function(parameter)", ...]}`` for every slot annotated with bare ``Any``."""
    found: dict[str, list[str]] = {}
    for path in package_sources(root):
        slots = [f"{function}({name})" for function, name, annotation
                 in public_signature_slots(path.read_text()) if bare_any(annotation)]
        if slots:
            found[str(path.relative_to(root))] = slots
    return found


def test_the_any_counter_sees_what_it_should():
    source = '''
def f(a: Any, b: int, *args: Any, **kw: "Any") -> Any: ...
def _private(a: Any) -> Any: ...
class Public:
    def method(self, a: dict[str, Any]) -> Any: ...
    def __call__(self, x: Any) -> None: ...
class _Hidden:
    def method(self, a: Any) -> Any: ...
'''
    bare = [(f, n) for f, n, a in public_signature_slots(source) if bare_any(a)]
    assert bare == [("f", "a"), ("f", "args"), ("f", "kw"), ("f", "return"),
                    ("method", "return"), ("__call__", "x")]


def test_no_bare_any_in_public_signatures():
    found = any_in_public_signatures()
    total = sum(len(slots) for slots in found.values())
    listing = "\n".join(f"{file}: {', '.join(slots)}" for file, slots in sorted(found.items()))
    assert total == 0, f"{total} bare Any in public signatures:\n{listing}"


def test_the_any_count_covers_the_whole_package():
    slots = sum(1 for path in package_sources() for _ in public_signature_slots(path.read_text()))
    assert slots > 2_500  # every module read (2,999 public slots when the count reached 0)
