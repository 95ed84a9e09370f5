# Every target installs what it needs first, so a fresh machine needs only python3 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WEB := web
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILD := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) \
	$(addprefix $(WEB)/,package.json index.html vite.config.ts tsconfig.json)

.PHONY: help install system-deps web run test lint audit format clean screenshots bench bench-quick chaos

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --user --quiet uv

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(SYNCED)  ## Create .venv with the locked dependencies

system-deps:  ## Install what the suite starts (PostgreSQL, Redis, Chromium) and Node, from Debian
	@missing=""; \
	{ ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; } || \
		missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -z "$$missing" ] || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q --no-install-recommends $$missing; }

# npm ci only when node_modules is missing or the lock changed; the build only when a source did.
$(WEB_DEPS): $(WEB)/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q --no-install-recommends nodejs npm; }
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	@touch $@

web: $(WEB_BUILD)  ## Typecheck and build the dashboard into web/dist (skipped when up to date)

run: install web  ## Start the whole system at http://127.0.0.1:5000 (Ctrl-C stops it)
	$(BIN)/cowans serve

lint: install $(WEB_DEPS)  ## ruff, formatting (Python and dashboard) and the import-layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	cd $(WEB) && npm run --silent format:check

# Known vulnerabilities in the locked Python and npm packages; findings fail unless explained in
# tools/audit_exceptions.toml. What the advisory services could not be asked is listed, never
# called clean (see the script's docstring).
audit: install $(WEB_DEPS)  ## pip-audit and npm audit of the locked dependencies
	$(BIN)/python tools/dependency_audit.py

# Three pytest processes on two cores: most tests wait on servers, jobs and the browser.
PYTEST_WORKERS ?= 3

test: install system-deps lint audit web  ## Lint, audit, build the dashboard, then run the whole suite
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# Benchmarks want a quiet machine: every figure is also given as a ratio to a baseline measured
# in the same run. ARGS passes options on, e.g. make bench ARGS="--only api-load,batch".
bench: install system-deps web  ## Run every benchmark (full size) and write BENCHMARKS.md and bench/results/
	$(BIN)/python bench/run.py $(ARGS)

bench-quick: install system-deps web  ## The benchmarks at small sizes, one run each (under 5 minutes)
	$(BIN)/python bench/run.py --quick $(ARGS)

# Issue #10's chaos run, long form (the suite runs a short one): faults, throttles and SIGKILLed
# workers during pushes of thousands of changes; writes its figures into RELIABILITY.md.
chaos: install system-deps  ## Push 5,000 products and 2,000 updates through faults and worker kills
	$(BIN)/python bench/chaos.py $(ARGS)

format: install $(WEB_DEPS)  ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd $(WEB) && npm run --silent format

clean:  ## Remove the virtualenv, caches and local data (./var)
	rm -rf $(VENV) .pytest_cache .ruff_cache var $(WEB)/node_modules $(WEB)/dist

# The user guide's pictures: the walkthrough's guide-*.png, made afresh (a skipped test copies
# nothing, and says why). COWANS_WEB_DIST tests another build instead of web/dist.
SCREENSHOTS := test-artifacts/screenshots
screenshots: install system-deps $(if $(COWANS_WEB_DIST),,web)  ## Run the browser walkthrough, copy its screenshots into docs/images
	rm -f $(SCREENSHOTS)/guide-*.png
	$(BIN)/pytest -q -rs tests/e2e/test_walkthrough_browser.py
	mkdir -p docs/images
	cp $(SCREENSHOTS)/guide-*.png docs/images/
