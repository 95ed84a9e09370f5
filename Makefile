# Every target installs what it needs first, so a fresh machine needs only python3 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps run test lint format clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --user --quiet uv

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(SYNCED)  ## Create .venv with the locked dependencies

system-deps:  ## Install the servers the test suite starts (PostgreSQL, Redis) from Debian packages
	@missing=""; \
	{ ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; } || \
		missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -z "$$missing" ] || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q --no-install-recommends $$missing; }

run: install  ## Start the whole system at http://127.0.0.1:5000 (Ctrl-C stops it)
	$(BIN)/cowans serve

lint: install  ## ruff, formatting and the import-layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: install system-deps lint  ## Lint, then run the whole suite (SQLite and PostgreSQL)
	$(BIN)/pytest

format: install  ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## Remove the virtualenv, caches and local data (./var)
	rm -rf $(VENV) .pytest_cache .ruff_cache var
