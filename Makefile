# Two commands on a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.populace-installed

.PHONY: demo test install bench clean

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

bench: $(STAMP)
	$(BIN)/populace bench

clean:
	rm -rf $(VENV) runs .pytest_cache
