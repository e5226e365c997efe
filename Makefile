# mediamix: two commands for a fresh machine (Python 3.11, git, make).
#   make demo   installs everything into .venv from the lock, then runs the end-to-end demo
#   make test   installs everything into .venv from the lock, then lint, types, layers,
#               security scans and tests
#
# requirements.lock pins every package (transitive ones included, with hashes) for
# Python 3.11 on Linux x86_64; `make lock` refreshes it from pyproject.toml.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
UV := $(BIN)/uv
PLATFORM := x86_64-unknown-linux-gnu

.PHONY: install system lock demo test lint typecheck layers security audit pytest bench clean

install: $(STAMP)

# uv itself is pinned in the lock; pip only bootstraps it into the venv. rpy2 is built in
# ABI mode, so the Python install needs no R; R is found at run time (the `r` extra).
$(STAMP): $(LOCK) pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		"$$(sed -n 's/^\(uv==[^ ]*\).*/\1/p' $(LOCK))"
	RPY2_CFFI_MODE=ABI $(UV) pip sync --quiet --python $(BIN)/python $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Debian packages for the tests (R, Java, PostgreSQL, Chromium, ...): scripts/system-packages.txt
system:
	scripts/install-system-packages.sh

lock: install
	$(UV) pip compile pyproject.toml --all-extras --generate-hashes --quiet \
		--python-version 3.11 --python-platform $(PLATFORM) -o $(LOCK)

demo: install
	$(BIN)/mediamix demo --out mediamix-demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

# Static security analysis of src/ (ruff S rules) and a secrets scan of the tracked files;
# any new finding fails. docs/security.md says how to add an exception.
security: install
	scripts/security-scan.sh

# Dependency audit of requirements.lock (pip-audit; allow-list in pip-audit-allowlist.txt).
# Not part of `make test`: it needs the advisory service, which is unreachable offline.
audit: install
	scripts/security-scan.sh audit

# Bytecode caches are allowed here even where PYTHONDONTWRITEBYTECODE is set: the tests
# start many processes (CLI runs, workers, notebooks) that would otherwise recompile
# MLflow, JAX and the rest on every import. Two pytest workers (pytest-xdist), one test
# file each at a time (module fixtures stay in one process): most tests use one core, and
# many wait on servers, JVMs and subprocesses. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
pytest: install system
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q \
		$(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

test: lint typecheck layers security pytest

bench: install
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) mediamix-demo .pytest_cache .mypy_cache .ruff_cache
