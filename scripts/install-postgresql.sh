#!/usr/bin/env bash
# PostgreSQL's server programs for the store tests, from Debian's package, when they are missing.
# tests/postgres.py starts a private cluster of its own (temp directory, free port) and never uses
# a system cluster.
set -euo pipefail

if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL のサーバプログラムがありません。apt-get install postgresql で入れてください（root 権限が必要です）" >&2
    exit 1
fi
# Debian's package creates a "main" cluster and starts it on 5432; policy-rc.d forbids the start
# during the install (removed afterwards if we made it), and any cluster left running is stopped.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
DEBIAN_FRONTEND=noninteractive apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
if [ -n "$made_policy" ]; then
    rm -f /usr/sbin/policy-rc.d
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _; do
        pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
    done || true
fi
