"""Names the drill runner shares with the product (flows/emergency.py, flows/notification.py, prefect.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jukinet.forms.common import MUNICIPALITY_TITLE, TOWN_TAG_PREFIX


@dataclass(frozen=True)
class Start:
    """How a scenario opens its incident: the deployment a clerk starts and what it is given.

    `block` is both the scenario's key and the deployment parameter's title; the started run is
    renamed `<number> …` and tagged with the number and `tag` (flows/emergency.py `rename_run`).
    """

    name: str  # the scenario's 開始
    deployment: tuple[str, str]  # flow name, deployment name (prefect.yaml)
    block: str  # 発見報告 / 通報
    tag: str
    label: str  # for messages: 第1章 緊急時対応


EMERGENCY = Start(  # flows/emergency.py emergency_response
    "緊急時対応", ("第1章 緊急時対応", "緊急時対応"), "発見報告", "第1章", "第1章 緊急時対応"
)
NOTIFICATION = Start(  # flows/notification.py outside_notification
    "通報受付", ("第3章 通報受付", "通報受付"), "通報", "通報受付", "第3章 通報受付"
)
STARTS = {s.name: s for s in (EMERGENCY, NOTIFICATION)}
CHAPTER_TAGS = ("第2章", "第3章")  # a drill ends when the incident's run of its chapter completes
REFUSED = "拒否"
POLL_SECONDS = 0.5
DEFAULT_API = "http://127.0.0.1:4200/api"
ENDED_BADLY = {"FAILED", "CRASHED", "CANCELLED", "CANCELLING"}
# A run whose worker died is Crashed until 中断した実行の再開 (every minute, flows/recovery.py)
# schedules it again: a drill waits this long before it calls the crash a failure.
RESTART_GRACE_SECONDS = 300.0
INCIDENT_NUMBER = re.compile(r"年度-\d+$")  # 令和8年度-001 (jukinet/store/store.py open_incident)
TOWN_TITLE = MUNICIPALITY_TITLE  # the run form's field of the town (団体コード)
TOWN_TAG = TOWN_TAG_PREFIX  # the runs of a town are tagged `団体:<code>`
