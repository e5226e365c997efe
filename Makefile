# mediamix: two commands for a fresh machine (Python 3.11, git, make).
#   make demo   installs everything into .venv, then runs the end-to-end demo
#   make test   installs everything into .venv, then runs lint, types, layers and tests

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck layers pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

demo: install
	$(BIN)/mediamix demo --out mediamix-demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/python -m pytest -q

test: lint typecheck layers pytest

bench: install
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) mediamix-demo .pytest_cache .mypy_cache .ruff_cache
