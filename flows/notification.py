"""第3章 手順1③ — 通報受付: an unauthorized act notified by 国, 滋賀県 or 全国センター.

The notification opens the incident (already classified 不正行為) and starts chapter 3 at C3.S1.3,
where 住基ネット担当者 gathers and analyses the information. As with 第1章, chapter 3 runs as its
own deployment when deployed and in-process in tests.
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow
from prefect.logging import get_run_logger

from flows.emergency import Mode, start_chapter3
from flows.runtime import (
    Municipality,
    current_flow_run_id,
    in_deployment,
    publish_journal,
    rename_run,
    run_step,
    run_url,
    runtime,
)
from flows.unauthorized import unauthorized_act
from jukinet.forms.chapter3 import OutsideNotification
from jukinet.forms.common import MODE_HINT, parameter
from tasks.chapter3_report import register_notification, report_notification


@flow(name="第3章 通報受付", flow_run_name="通報受付 {notification.received_on}", log_prints=False)
def outside_notification(
    notification: Annotated[
        OutsideNotification,
        parameter("通報", OutsideNotification.__doc__),
    ],
    mode: Annotated[Mode, parameter("実施区分", MODE_HINT)],
    municipality_code: Municipality = "",
) -> str:
    """Receive the notification (C3.S1.3) and hand it to 住基ネット担当者 in chapter 3."""
    drill = mode is Mode.DRILL
    store = runtime().store
    opened = store.incident_by_origin(current_flow_run_id())  # a replay
    number = (
        opened.number
        if opened
        else register_notification(notification, drill, current_flow_run_id())
    )
    incident = store.incident(number)
    rename_run(
        f"{number} 第3章 通報受付 {notification.received_on.isoformat()}",
        [number, "通報受付", *(["訓練"] if drill else [])],
    )
    if in_deployment():
        started = run_step(incident, "C3.S1.3.ch3", start_chapter3, number, drill, "C3.S1.3")
        link = run_url(started)
        run_step(incident, "C3.S1.3.notice", report_notification, number, notification, link)
        publish_journal(incident)
        get_run_logger().info("第3章 不正行為を開始しました（フロー実行 %s）", started)
    else:  # tests: in-process, where pauses block instead of suspending
        link = run_url()
        run_step(incident, "C3.S1.3.notice", report_notification, number, notification, link)
        unauthorized_act(number, runtime().store.municipality)
    return number
