"""`jukinet drill SCENARIO.yaml` — exit 0 as scripted, 1 otherwise, 2 scenario unusable."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from jukinet.drill.absences import AWAY, BACK, Absence, register
from jukinet.drill.api import Api
from jukinet.drill.constants import DEFAULT_API, TOWN_TAG
from jukinet.drill.runner import Drill, Records, check
from jukinet.drill.scenario import DrillFailed, ScenarioError, load_scenario


def main(
    argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """`jukinet drill`; the streams default to sys.stdout/sys.stderr (tests run drills side by side)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="jukinet drill",
        description="訓練シナリオに沿って緊急時対応を実行し、結果を確認します。",
    )
    parser.add_argument("scenario", type=Path, help="シナリオ（YAML）")
    parser.add_argument(
        "--api", default=os.environ.get("PREFECT_API_URL") or DEFAULT_API, help="Prefect API の URL"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="全体の制限時間（秒）")
    parser.add_argument(
        "--town",
        default=os.environ.get("JUKINET_MUNICIPALITY", ""),
        metavar="CODE",
        help="団体コード（複数の団体を運用している場合。既定は環境変数 JUKINET_MUNICIPALITY）",
    )
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"エラー: {exc}", file=err)
        return 2
    say(f"訓練シナリオ「{scenario.name}」（{scenario.mode}）を {args.api} で実行します")
    cache: list[Records] = []

    def records() -> Records:
        if not cache:
            cache.append(Records(args.town or drill.town_tag.removeprefix(TOWN_TAG)))
        return cache[0]

    if scenario.mode != "訓練":
        say(
            f"注意: 実施区分「{scenario.mode}」で実行します。通知は訓練用ではなく実際の宛先へ送られます"
        )
    api = Api(args.api, os.environ.get("PREFECT_API_AUTH_STRING"))
    drill = Drill(scenario, api, records, args.timeout, say, town=args.town)
    away: list[Absence] = []
    try:
        for absence in scenario.absences:
            register(api, absence, AWAY, args.timeout, say, args.town)
            away.append(absence)
        number = drill.run()
        results = check(scenario, records(), number)
    except ScenarioError as exc:
        print(f"エラー: {exc}", file=err)
        return 2
    except DrillFailed as exc:
        print(f"不合格: {exc}", file=err)
        return 1
    finally:
        for absence in away:  # back after the drill, whatever its outcome
            try:
                register(api, absence, BACK, args.timeout, say, args.town)
            except DrillFailed as exc:
                print(f"注意: {exc}", file=err)
        api.client.close()
        for opened in cache:
            opened.store.engine.dispose()
    unused = "、".join(f"{s.number} 件目（{s.clause}）" for s in drill.unused()) or "なし"
    results.append((unused == "なし", f"シナリオの回答をすべて使用（未使用: {unused}）"))
    say("期待の確認:")
    for ok, text in results:
        say(f"  {'OK' if ok else 'NG'}  {text}")
    if all(ok for ok, _ in results):
        say(f"合格: 事案 {number} はシナリオどおりに終わりました")
        return 0
    print(f"不合格: 事案 {number} に期待と異なる点があります", file=err)
    return 1


if __name__ == "__main__":
    sys.exit(main())
