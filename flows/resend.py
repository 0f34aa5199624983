"""未送付通知の再送 — a scheduled flow: delivers what is still pending once its channel is back,
and raises an alarm for a notice undelivered longer than the town's `alarm_after_minutes`.

The alarm is raised once per notice: an audit record (C2.1), an artifact listing every notice
still undelivered (key `undelivered-notices`, `undelivered-notices-<code>` when several towns
are served; the latest shown in the UI's Artifacts page), and a
notice to 住基ネット担当者 by e-mail (itself in the outbox, never alarmed about in turn). A
chapter's run waiting to close for its notices is resumed once they all went out (flows/closing.py).
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from flows.closing import resume_waiting_closes
from flows.runtime import run_label, runtime, serving, town_key, town_prefix, towns
from jukinet.notices.outbox import CHANNEL_TITLES, DeliveryError
from jukinet.plan import Role
from jukinet.store.models import Notice, utcnow
from jukinet.wareki import to_wareki_datetime
from tasks.common import to_roles
from tasks.notify import deliver_and_record, in_outbox, notify

ALARM = "undelivered_alarm"


def _busy(notice: Notice) -> bool:
    """Claimed by a live delivery (the chapter's task): leave it to that one."""
    return (
        notice.status == "sending"
        and notice.claimed_until is not None
        and notice.claimed_until > utcnow()
    )


def _table(notices: list[Notice]) -> str:
    lines = [
        "| 文書番号 | 件名 | 宛先 | 送付方法 | 作成 | 試行 | 最後の誤り |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in notices:
        error = (n.last_error or "").replace("|", "｜").replace("\n", " ")
        lines.append(
            f"| {n.doc_number} | {n.subject} | {n.recipient} | {CHANNEL_TITLES[n.channel]} "
            f"| {to_wareki_datetime(n.created_at)} | {n.attempts} | {error} |"
        )
    return "\n".join(lines)


def _alarm(notice: Notice, alarm_after: float) -> bool:
    """Raise the alarm for one notice, once; True when it was raised now."""
    rt = runtime()
    incident = rt.store.incident_by_id(notice.incident_id)
    key = f"{incident.number}|alarm|{notice.key}"
    suffix = f"#{notice.id}"
    raised = bool(rt.store.audit_records_by_key(key))
    if raised and in_outbox(incident, ALARM, suffix):
        return False  # recorded and in the outbox (a crash between the two is completed below)
    rt.store.audit(
        incident.id,
        "C2.1",
        "送付遅延の警報",
        f"{notice.subject}（{notice.doc_number}）を {notice.recipient} へ"
        f" {alarm_after:g} 分以上送付できていません: {notice.last_error or '未試行'}",
        event_key=key,
        details={"notice_key": notice.key, "attempts": notice.attempts},
    )
    notify(
        incident,
        "C2.1",
        ALARM,
        to_roles(Role.OPERATOR),
        f"{rt.config.town.municipality.name} 緊急時対応システム",
        {
            "alarm_after": f"{alarm_after:g}",
            "run_url": rt.config.town.ui_url,
            "notice": {
                "doc_number": notice.doc_number,
                "subject": notice.subject,
                "recipient": notice.recipient,
                "channel_title": CHANNEL_TITLES[notice.channel],
                "address": notice.address,
                "created_at": notice.created_at,
                "attempts": notice.attempts,
                "last_error": notice.last_error or "未試行",
            },
        },
        key_suffix=suffix,
    )
    return not raised


@flow(name="未送付通知の再送", flow_run_name="未送付通知の再送", log_prints=False)
def resend_undelivered() -> dict[str, int]:
    """Every town served: deliver every undelivered notice once more and alarm about the ones
    that stay undelivered; returns the totals."""
    totals = {"delivered": 0, "undelivered": 0, "alarms": 0, "resumed": 0}
    for code in towns():
        with serving(code):
            for name, count in _resend_town().items():
                totals[name] += count
    return totals


def _resend_town() -> dict[str, int]:
    rt = runtime()
    logger = get_run_logger()
    delivered, still = 0, []
    for notice in rt.store.undelivered():
        if _busy(notice):
            continue
        try:
            deliver_and_record(rt.store.incident_by_id(notice.incident_id), notice)
            delivered += 1
        except DeliveryError as exc:
            logger.warning("再送できませんでした: %s", exc)
            still.append(rt.store.notice(notice.key) or notice)
    delivery = rt.config.town.delivery
    threshold = utcnow() - timedelta(minutes=delivery.alarm_after_minutes)
    overdue = [n for n in still if n.created_at <= threshold and n.document != ALARM]
    alarms = sum(_alarm(n, delivery.alarm_after_minutes) for n in overdue)
    if still:
        create_markdown_artifact(
            key=town_key("undelivered-notices"),
            markdown=f"## 未送付の通知 {len(still)} 件\n\n"
            f"{delivery.alarm_after_minutes:g} 分を過ぎたもの: {len(overdue)} 件\n\n"
            + _table(still),
            description=run_label("未送付の通知（再送後も送付できなかったもの）"),
        )
        logger.error(
            "%s未送付の通知が %d 件あります（うち警報 %d 件）",
            town_prefix(),
            len(still),
            len(overdue),
        )
    elif delivered:
        create_markdown_artifact(
            key=town_key("undelivered-notices"),
            markdown=f"## 未送付の通知はありません\n\n再送により {delivered} 件を送付しました。",
            description=run_label("未送付の通知（なし）"),
        )
    resumed = resume_waiting_closes()
    logger.info(
        "%s再送 %d 件、未送付 %d 件、新たな警報 %d 件、終結を再開した事案 %d 件",
        town_prefix(),
        delivered,
        len(still),
        alarms,
        resumed,
    )
    return {"delivered": delivered, "undelivered": len(still), "alarms": alarms, "resumed": resumed}
