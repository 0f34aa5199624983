#!/usr/bin/env bash
# The browser tier's chromium and a Japanese font, from Debian's packages, when they are missing.
# Playwright (PyPI) drives /usr/bin/chromium; it never downloads a browser of its own.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-ipafont-gothic)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ブラウザ試験に必要なパッケージがありません: ${missing[*]}。apt-get install ${missing[*]} で入れてください（root 権限が必要です）" >&2
    exit 1
fi
DEBIAN_FRONTEND=noninteractive apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
