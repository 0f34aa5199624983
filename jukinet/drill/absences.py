"""不在: people a scenario has away (so that their deputies may answer), registered through the
不在の登録 deployment as a clerk would before the incident starts, and back after the drill.

    不在:
      - {職員: 犬上 一郎（住民課）, 理由: 出張, 登録者: 大滝 健二（住民課長）, 承認コード: "3333"}
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jukinet.drill.api import Api
from jukinet.drill.constants import ENDED_BADLY, POLL_SECONDS
from jukinet.drill.scenario import Absence, DrillFailed
from jukinet.drill.schema import fill

DEPLOYMENT = ("不在の登録", "不在の登録")  # flows/absence.py, prefect.yaml
AWAY = "不在を登録する"  # jukinet/forms/staffing.py AbsenceAction
BACK = "不在を取り消す（戻った）"


def register(
    api: Api,
    absence: Absence,
    action: str,
    timeout: float,
    say: Callable[[str], None],
    town: str = "",
) -> None:
    """Start 不在の登録 (for town `town`, a 団体コード; "" when one town is served), answer its
    form, and wait until the registration is recorded."""
    deployment = api.deployment(*DEPLOYMENT)
    run = api.start(str(deployment["id"]), {"municipality_code": town} if town else {})
    deadline = time.monotonic() + timeout
    answered = False
    while time.monotonic() < deadline:
        current = api.run(run.id)
        if current.state in ENDED_BADLY:
            raise DrillFailed(
                f"不在の登録が {current.state_name} で終わりました: {current.message}"
            )
        if current.state == "COMPLETED":
            say(f"  不在の登録   {absence.person}: {action}（登録者 {absence.registrant}）")
            return
        if current.state == "PAUSED" and current.pause:
            if answered:
                raise DrillFailed(
                    f"不在の登録（{absence.person}）が受け付けられませんでした"
                    f"（フロー実行 {current.id} の経過を確認してください）"
                )
            schema = api.form_schema(current)
            if schema is not None:
                answer = {
                    "回答者": absence.registrant,
                    "承認コード": absence.code,
                    "不在の職員": absence.person,
                    "登録の種類": action,
                    "理由": absence.reason,
                }
                status, reason = api.resume(current, fill(schema, answer, "不在の登録"))
                if status != "ACCEPT":
                    raise DrillFailed(f"不在の登録をサーバーが受け付けませんでした: {reason}")
                answered = True
        time.sleep(POLL_SECONDS)
    raise DrillFailed(f"{timeout:.0f} 秒以内に不在の登録（{absence.person}）が終わりませんでした")
