"""Collection rules for the whole repository (the test fixtures live in ``tests/conftest.py``).

**Modules of the extras.** ``--doctest-modules`` imports every module under the test paths.
Some import torch, Stable-Baselines3 or SuperSuit at the top (the actor-critic learners, the
continuous ALT learner, the SB3 glue), which only the ``baselines`` extra installs; without
them those modules are left out of collection instead of failing it, so a core-only install
(``pip install -e ".[test]"``, ``make test-core``) runs the rest of the suite. Which modules
they are is read from their import lines (those at the top level, following imports of other
populace modules), so a new torch module needs no entry here; whether a package is installed
is asked with ``find_spec``, which does not import it (importing torch here would slow every
test run by seconds). Test modules that need an extra skip themselves
(``pytest.importorskip`` before their imports).

**Tiers.** Tests marked ``slow`` (the full-size quick reproductions) are deselected by
pyproject's ``addopts`` (``-m "not slow"``, ``make test``) and run by ``make test-slow``
(``-m slow``). :data:`SLOW_TESTS` marks tests by name, for test modules that do not mark
themselves.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
EXTRA_PACKAGES = ("torch", "stable_baselines3", "supersuit")
# The folders setuptools maps into the package (pyproject's package-dir).
MAPPED = {"populace.envs": ROOT / "envs", "populace.agents": ROOT / "agents",
          "populace.train": ROOT / "train", "populace": ROOT / "src" / "populace"}
TOP_IMPORT = re.compile(r"^(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w.]+))", re.M)

# Tests of the slow tier, by module and name (a parametrized test: every case, or with
# "name[fragment]" only the cases whose id contains the fragment, e.g. the full-size ones);
# a test module may also mark its own tests with @pytest.mark.slow. Chosen by the durations
# of a core-only run of the suite on the loaded 2-core machine (each 40 s to 2 min there).
SLOW_TESTS: dict[str, tuple[str, ...]] = {
    # every reproduction run end to end at its quick size (minutes each: mguni-supply,
    # alt-continuous and mguni-lqr above all)
    "test_cli.py": ("test_quick_reproduction_holds",),
    # the claims checked against non-learners at the full size
    "test_alt.py": ("test_every_claim_fails_for_players_that_do_not_learn",
                    "test_the_modal_rule_fails_the_reproduction[full]",
                    "test_the_modal_rule_passes_the_continuous_claims_and_the_table_says_so[full]",
                    "test_every_continuous_claim_fails_for_players_that_do_not_learn[full]"),
    "test_mguni_spatial.py": ("test_every_claim_fails_for_the_simple_rules[aim at the peak]",),
    "test_mguni_lqr.py": ("test_every_claim_fails_for_the_simple_rules[full]",),
    "test_learners.py": ("test_discounted_regret_matching_stays_finite_on_the_simplex[20000]",),
    "test_alternating_marl.py": ("test_a_resumed_run_equals_an_uninterrupted_one",),
}


def module_path(name: str) -> Path | None:
    """The file of populace module ``name`` in this checkout, or None (not populace's)."""
    for package, folder in sorted(MAPPED.items(), key=lambda item: -len(item[0])):
        if name == package or name.startswith(package + "."):
            rest = name[len(package):].lstrip(".").split(".") if name != package else []
            base = folder.joinpath(*rest) if rest else folder
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
    return None


@cache
def extras_needed(path: Path) -> frozenset[str]:
    """The extra packages ``path`` imports at its top level, directly or through populace
    modules it imports at the top level (imports inside functions are not followed)."""
    needed: set[str] = set()
    for match in TOP_IMPORT.finditer(path.read_text(encoding="utf-8")):
        module = match.group(1) or match.group(3)
        root = module.split(".")[0]
        if root in EXTRA_PACKAGES:
            needed.add(root)
        elif root == "populace":
            names = [n.strip() for n in (match.group(2) or "").split(",") if n.strip()]
            for candidate in [module, *(f"{module}.{n}" for n in names)]:
                found = module_path(candidate)
                if found is not None and found != path and found.name != "__init__.py":
                    needed |= extras_needed(found)
    return frozenset(needed)


def missing_extras() -> set[str]:
    return {package for package in EXTRA_PACKAGES if find_spec(package) is None}


def modules_needing(missing: set[str]) -> list[str]:
    """The modules under the mapped folders that import a package in ``missing``."""
    if not missing:
        return []
    found = []
    for folder in MAPPED.values():
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" not in path.parts and extras_needed(path) & missing:
                found.append(str(path.relative_to(ROOT)))
    return found


collect_ignore: list[str] = modules_needing(missing_extras())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests named in :data:`SLOW_TESTS` slow (the deselection by ``-m`` follows)."""
    for item in items:
        name = getattr(item, "originalname", item.name)
        case = item.name[len(name):]  # "[...]" of a parametrized test, else ""
        for entry in SLOW_TESTS.get(item.path.name, ()):
            wanted, _, fragment = entry.partition("[")
            if wanted == name and fragment.rstrip("]") in case:
                item.add_marker(pytest.mark.slow)
                break
