#!/usr/bin/env bash
# Lint, type-check and test; extra arguments go to pytest (e.g. scripts/test.sh -k mailbox).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/install-postgresql.sh
./scripts/install-browser.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest -q --durations=30 "$@"
