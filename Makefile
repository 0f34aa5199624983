# Developer entry points. GNU make, /bin/sh recipes.
#   make up     the whole product on this machine (mailbox, Prefect server, deployments, worker)
#               PROFILE=production: basic auth, CSRF protection, PostgreSQL (docs/production.md)
#               WORKERS=2: two process workers (any of them takes over a suspended run)
#   make test   lint, types and the test suite (scripts/test.sh); extra pytest arguments: ARGS="-k mailbox"
#   make lint   ruff and mypy only
#   make venv   .venv with the project and its dev tools (re-installed when pyproject.toml changes)

PY ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
STAMP := $(VENV)/.installed
PROFILE ?= default
WORKERS ?= 1

.PHONY: venv up test lint

venv: $(STAMP)

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $(STAMP)

up: venv
	$(VENV)/bin/python -m jukinet.devstack --profile $(PROFILE) --workers $(WORKERS)

test: venv
	./scripts/test.sh $(ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
