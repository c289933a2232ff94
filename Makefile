# Two commands on a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.populace-installed

MIN_VENV ?= .venv-min
# The declared floors of pyproject's dependencies, as pins: "numpy>=1.26" -> "numpy==1.26".
FLOORS = $(shell $(PYTHON) -c 'import tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; print(" ".join(d.split(";")[0].split("#")[0].strip().replace(">=", "==") for d in deps))')

.PHONY: demo test test-minimums install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch goes in first and on its own, so that no later requirement makes pip pick a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[test,plot,baselines]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/populace reproduce kash-fig1 --quick --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) test-minimums

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

bench: $(STAMP)
	$(BIN)/populace bench

clean:
	rm -rf $(VENV) $(MIN_VENV) runs .pytest_cache
