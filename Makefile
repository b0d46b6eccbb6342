# The developer interface. `make demo` and `make test` set everything up from a bare Python 3.11.
.PHONY: install browser servers manifest demo run ui test test-fast lint fmt bench clean

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DBT    := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: a .pth with the repo root, so test folders named like packages never shadow them
	$(BIN)/python -m pip install --quiet -c requirements.lock --config-settings editable_mode=compat -e ".[dev]"
	touch $@

# Headless Chromium (Debian's package) for the browser tests of the UI and the capacity report.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "WARNING: install chromium (apt-get install -y chromium) for the browser tests"

# PostgreSQL and Redis (Debian's packages) for the tests of publication into PostgreSQL, the Dagster
# instance on PostgreSQL and Celery workers; the tests start private servers and stop them after.
servers:
	@{ test -x /usr/lib/postgresql/15/bin/initdb && command -v redis-server >/dev/null; } || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null; } || echo "WARNING: install postgresql and redis-server (apt-get install -y postgresql redis-server) for the server tests"

manifest: install
	$(DBT) parse --quiet $(DBT_DIRS)

demo: manifest
	$(BIN)/twin demo

run: manifest
	$(BIN)/twin run

ui: manifest
	$(BIN)/twin ui

# Two workers, a test file each at a time: the deployed-twin test mostly waits on its daemon, so the
# other tests use the second core meanwhile; files go out in collection order (tests/conftest.py
# puts that test first), not largest first.
test: lint manifest browser servers
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=30

# The inner loop: no integration tests (dbt builds, Dagster end to end, servers, browser) and none
# marked slow (the engine-vs-SimPy statistics); `make test` runs them all.
test-fast: manifest
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not integration and not slow"

# ruff, then the import contracts of pyproject.toml (the domain never imports Dagster; no cycles)
lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: manifest
	$(BIN)/python bench/ingest.py

clean:
	rm -rf data var dbt_project/target dbt_project/logs
