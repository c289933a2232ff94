# Two commands on a fresh machine: `make demo` and `make test`. Both are idempotent.
# `make test` is the fast tier (tests marked slow are deselected by pyproject's addopts);
# `make test-slow` runs the slow tier (the full-size quick reproductions) and the suite in a
# core-only venv. CI (.ci/run) runs both.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.populace-installed

MIN_VENV ?= .venv-min
CORE_VENV ?= .venv-core
CORE_STAMP := $(CORE_VENV)/.populace-installed
CROSS_VENV ?= .venv-crosscheck
MFG_VENV ?= .venv-mfglib
MFG_STAMP := $(MFG_VENV)/.populace-installed
RLLIB_VENV ?= .venv-rllib
RLLIB_STAMP := $(RLLIB_VENV)/.populace-installed
CROSS_STAMP := $(CROSS_VENV)/.populace-installed
DOCS_VENV ?= .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.populace-installed
# The declared floors of pyproject's dependencies, as pins: "numpy>=1.26" -> "numpy==1.26".
FLOORS = $(shell $(PYTHON) -c 'import tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; print(" ".join(d.split(";")[0].split("#")[0].strip().replace(">=", "==") for d in deps))')

.PHONY: demo test test-slow test-core test-minimums test-crosscheck test-mfglib test-rllib \
	install bench clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch goes in first and on its own, so that no later requirement makes pip pick a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[test,plot,baselines,ray,libraries]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/populace reproduce kash-fig1 --quick --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) test-minimums
	$(MAKE) test-crosscheck

# The tests marked slow (`-m slow` replaces addopts' `-m "not slow"`), then the core-only suite.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow
	$(MAKE) test-core
	$(MAKE) docs

# The suite (the fast tier) in a venv without torch, Stable-Baselines3 or SuperSuit (`pip
# install -e ".[test]"`, what a user gets without the baselines extra): the modules and tests
# that need them are skipped (conftest.py), everything else must pass. Built once per
# pyproject.toml (about a minute).
$(CORE_STAMP): pyproject.toml
	rm -rf $(CORE_VENV)
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/pip install --quiet -e ".[test]"
	touch $(CORE_STAMP)

test-core: $(CORE_STAMP)
	! $(CORE_VENV)/bin/python -c "import torch" 2>/dev/null
	$(CORE_VENV)/bin/python -m pytest -p no:cacheprovider

# The conformance suite on the oldest versions pyproject.toml allows, in a venv of its own
# (about a minute; no torch there). Recreated every time, so that nothing newer lingers.
test-minimums:
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/pip install --quiet -e . $(FLOORS) pytest hypothesis
	$(MIN_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(numpy|gymnasium|pettingzoo|tqdm)=='
	$(MIN_VENV)/bin/python -m pytest -p no:cacheprovider -o addopts="" --import-mode=importlib \
		tests/test_conformance.py tests/test_action_checks.py tests/test_other_libraries.py \
		tests/test_packaging.py

# The ZSPG solvers against independent ones (Gambit's logit QRE, scipy's LP solver), in a venv
# of its own so that neither is a dependency of the package. Built once per pyproject.toml
# (about 2 minutes: pygambit, scipy, pandas), then reused: the install is editable.
$(CROSS_STAMP): pyproject.toml
	rm -rf $(CROSS_VENV)
	$(PYTHON) -m venv $(CROSS_VENV)
	$(CROSS_VENV)/bin/pip install --quiet -e ".[crosscheck]"
	touch $(CROSS_STAMP)

test-crosscheck: $(CROSS_STAMP)
	$(CROSS_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(pygambit|scipy|numpy)=='
	$(CROSS_VENV)/bin/python -m pytest -p no:cacheprovider -o addopts="" --import-mode=importlib \
		tests/zero_sum/test_crosschecks.py

# Our grid mean-field solver side by side with mfglib's fictitious play (same discretized
# spatial congestion game: same equilibrium, timed), in a venv of its own. mfglib needs torch:
# TORCH_SPEC goes in first, so that pip never picks another torch. Built once per
# pyproject.toml, then reused (the install is editable).
$(MFG_STAMP): pyproject.toml
	rm -rf $(MFG_VENV)
	$(PYTHON) -m venv $(MFG_VENV)
	$(MFG_VENV)/bin/pip install --quiet "$(TORCH_SPEC)"
	$(MFG_VENV)/bin/pip install --quiet -e ".[mfglib]"
	touch $(MFG_STAMP)

test-mfglib: $(MFG_STAMP)
	$(MFG_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(mfglib|torch|numpy)=='
	$(MFG_VENV)/bin/python -m pytest -p no:cacheprovider -o addopts="" --import-mode=importlib \
		tests/test_mfglib.py

# RLlib PPO (new API stack, one shared module) on a discrete and a continuous game, in a venv of
# its own: ray[rllib] 2.60 pins gymnasium 1.2.2, older than the main venv's. TORCH_SPEC goes in
# first and again beside the extra, so that pip keeps that torch. Built once per pyproject.toml
# (about 2.5 minutes), then reused (the install is editable); the tests take about 1.5 minutes.
# RLlib's runs change with Python's string hash seed, so the target fixes it. Not run by
# `make test` (it would add about 4 minutes to CI); run it after touching a game's spaces.
$(RLLIB_STAMP): pyproject.toml
	rm -rf $(RLLIB_VENV)
	$(PYTHON) -m venv $(RLLIB_VENV)
	$(RLLIB_VENV)/bin/pip install --quiet "$(TORCH_SPEC)"
	$(RLLIB_VENV)/bin/pip install --quiet -e ".[rllib]" "$(TORCH_SPEC)"
	touch $(RLLIB_STAMP)

test-rllib: $(RLLIB_STAMP)
	$(RLLIB_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(ray|gymnasium|torch|numpy)=='
	PYTHONHASHSEED=0 $(RLLIB_VENV)/bin/python -m pytest -p no:cacheprovider -o addopts="" \
		--import-mode=importlib tests/test_rllib.py

# The documentation site (MkDocs + mkdocstrings, docs/ into site/), built with warnings as
# errors. MkDocs lives in a venv of its own, built once per pyproject.toml; the game pictures
# and the generated parts of the game and learner pages come from the main venv (every extra
# installed, so that the torch learners are judged too). `make docs` is part of `make test-slow`.
$(DOCS_STAMP): pyproject.toml
	rm -rf $(DOCS_VENV)
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(STAMP) $(DOCS_STAMP)
	$(BIN)/python docs/render_images.py
	$(BIN)/python docs/generated_parts.py
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/populace bench

clean:
	rm -rf $(VENV) $(MIN_VENV) $(CORE_VENV) $(CROSS_VENV) $(MFG_VENV) $(RLLIB_VENV) $(DOCS_VENV) \
		runs site .pytest_cache
