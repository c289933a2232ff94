# Two commands on a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.populace-installed

.PHONY: demo test install install-baselines bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,plot]"
	touch $(STAMP)

install: $(STAMP)

# torch is installed first and on its own, so pip never resolves a CUDA build behind our back.
install-baselines: $(STAMP)
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[baselines]"

demo: $(STAMP)
	$(BIN)/populace reproduce kash-fig1 --quick --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/populace bench

clean:
	rm -rf $(VENV) runs .pytest_cache
