# binance-gateway developer commands. `make help` lists them.
#
# Everything runs inside .venv, built from requirements.lock (exact pins) and then the project itself installed
# editable. A stamp file records the install, so the venv is only refreshed when the lock or pyproject changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/install.stamp
BENCH_STAMP := $(VENV)/bench.stamp
LOCK := requirements.lock
BENCH_LOCK := requirements-bench.lock
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet \
	--custom-compile-command "make lock"

.DEFAULT_GOAL := help
.PHONY: help install run test lint typecheck imports pytest coverage-inner lock cassettes bench clean distclean

help:
	@echo "make run        build .venv if needed, then print the offline snapshot from the fake exchange"
	@echo "make test       build .venv if needed, then ruff, mypy, lint-imports, pytest with coverage"
	@echo "                (85% overall) and the 95% coverage check of domain, ports and application"
	@echo "make install    only build or refresh .venv from $(LOCK)"
	@echo "make lock       regenerate $(LOCK) and $(BENCH_LOCK) from pyproject.toml"
	@echo "make cassettes  record HTTP cassettes from the real exchange (needs BINANCE_API_KEY, BINANCE_API_SECRET)"
	@echo "make bench      install $(BENCH_LOCK) into .venv and run the benchmarks"
	@echo "make clean      remove caches, coverage data and build output; make distclean also removes .venv"

# ---------------------------------------------------------------------------------------------------- install

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "error: binance-gateway needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "       Install Python 3.11+ and run: make PYTHON=python3.11 <target>" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu install the venv module:" >&2; \
		echo "       sudo apt install python3-venv   (or python3.11-venv), then run make again." >&2; exit 1; }

$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(PIP) install --quiet --requirement $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation --editable .
	$(PIP) check
	@touch $@

install: $(STAMP)

# ---------------------------------------------------------------------------------------------------- run

run: $(STAMP)
	$(BIN)/binance-gateway --adapter fake snapshot

# ---------------------------------------------------------------------------------------------------- test
# Each check is its own target, in order; `make -k test` runs them all even when one fails.

test: lint typecheck imports pytest coverage-inner

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# lint-imports must run from the repository root: it puts the current folder first on sys.path.
imports: $(STAMP)
	cd $(CURDIR) && $(BIN)/lint-imports

# pytest exits 5 when it collects no tests; say so plainly rather than let it pass as a bare failure code.
pytest: $(STAMP)
	@rm -f .coverage .coverage.*
	@$(BIN)/pytest --cov --cov-report=term-missing:skip-covered; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests, so nothing was checked." >&2; fi; \
	exit $$status

coverage-inner: pytest
	$(BIN)/coverage report --include='domain/*,ports/*,application/*' --fail-under=95

# ---------------------------------------------------------------------------------------------------- lock
# Lower bounds live in pyproject.toml; exact pins live here. The bench lock is constrained to the main lock,
# so installing it adds the comparison clients without moving any shared pin.

lock: | $(STAMP)
	@test -x $(BIN)/uv || $(PIP) install --quiet uv
	$(UV_COMPILE) --group dev --extra otlp --output-file $(LOCK)
	$(UV_COMPILE) --group dev --extra otlp --extra bench --constraint $(LOCK) --output-file $(BENCH_LOCK)

# ---------------------------------------------------------------------------------------------------- cassettes

# Records from BINANCE_BASE_URL (default: the Spot testnet); cassettes/README.md explains. The loopback
# recordings need no key: $(PY) -m tests.integration.record_cassettes
cassettes: $(STAMP)
	@if [ -z "$${BINANCE_API_KEY:-}" ] || [ -z "$${BINANCE_API_SECRET:-}" ]; then \
		echo "error: make cassettes records from the real exchange (BINANCE_BASE_URL, default the Spot testnet)." >&2; \
		echo "       Set BINANCE_API_KEY and BINANCE_API_SECRET (a testnet HMAC key) and run it again." >&2; exit 3; fi
	$(PY) -m tests.integration.record_cassettes --live

# ---------------------------------------------------------------------------------------------------- bench

$(BENCH_STAMP): $(BENCH_LOCK) $(STAMP)
	$(PIP) install --quiet --requirement $(BENCH_LOCK)
	$(PIP) check
	@touch $@

bench: $(BENCH_STAMP)
	@test -f bench/__main__.py || { echo "error: there is no benchmark yet (bench/__main__.py is missing)." >&2; exit 1; }
	$(PY) -m bench

# ---------------------------------------------------------------------------------------------------- clean

clean:
	rm -rf .coverage .coverage.* coverage.xml htmlcov dist build *.egg-info \
		.pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
