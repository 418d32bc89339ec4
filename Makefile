# Two commands: `make run` (set up, load demo, run pipeline, serve) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@echo "==> creating the environment in $(VENV) (first time takes a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/homeward demo --serve

# Two workers, each given whole test modules (`--dist loadfile`), so a module's shared fixtures
# (a browser, a copy of the demo database) are made once; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/forecast_dtoc.py
	$(BIN)/python bench/plan_scale.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
