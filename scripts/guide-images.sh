#!/usr/bin/env bash
# Copy the user guide's pictures (docs/guide.md) from the browser tier's screenshots
# (var/screenshots/, written by `make test` or `scripts/test.sh tests/browser`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

shots="${JUKINET_SCREENSHOTS:-var/screenshots}"
ch2="$shots/test_chapter2_answered_in_the_browser_with_refused_answers"
ch3="$shots/test_level3_unauthorized_act_in_the_production_profile"
out=docs/guide/images
mkdir -p "$out"

copy() {  # copy <folder> <screenshot name without its NN- prefix> <guide image>
    local found=("$1"/[0-9][0-9]-"$2".png)
    if [ ! -f "${found[0]}" ]; then
        echo "写真がありません: $1/NN-$2.png（先にブラウザ試験を実行してください）" >&2
        exit 1
    fi
    cp "${found[0]}" "$out/$3.png"
}

copy "$ch2" 発見報告-入力 01-start-form
copy "$ch2" 発見報告-開始 02-started
copy "$ch2" 発見報告-フロー実行 03-run-page
copy "$ch2" C1.2-メニュー 04-resume-menu
copy "$ch2" C1.2-入力 05-resume-form
copy "$ch2" C1.2-送信 06-resumed
copy "$ch2" C2.S2.1-2回目-入力 07-refused-again
copy "$ch2" 成果物の一覧 08-artifacts
copy "$ch2" 経過記録 09-journal
copy "$ch2" 通知 10-notice
copy "$ch3" ログイン 11-login
copy "$ch3" C3.S3-入力 12-level3-form
echo "docs/guide/images に $(ls "$out" | wc -l) 枚を写しました"
