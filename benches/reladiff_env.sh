#!/usr/bin/env bash
# Creates (idempotently) a separate venv with reladiff 0.6 and its PostgreSQL driver
# (psycopg2-binary, via the `postgresql` extra; SQLite is stdlib), for benches/reladiff_run.py.
# Prints the venv's python. Usage: bash benches/reladiff_env.sh
set -euo pipefail
venv="${RELADIFF_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-reladiff}"
python="${RELADIFF_PYTHON:-python3.11}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -c 'import reladiff, psycopg2' 2>/dev/null \
    || "$venv/bin/pip" install -q 'reladiff[postgresql]==0.6.*' >&2
echo "$venv/bin/python"
