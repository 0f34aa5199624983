"""Notices as tasks: each recipient's notice is its own task run, retried with backoff.

A notice that stays undelivered after its retries is recorded (送付失敗) and left in the outbox
for the final check of the chapter; the response to the emergency goes on meanwhile.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import task_run as current_task_run

from flows.runtime import runtime
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import (
    CHANNEL_TITLES,
    DeliveryError,
    NoticeRequest,
    deliver,
    deliver_waiting,
    prepare,
)
from jukinet.notices.recipients import Recipient
from jukinet.store.models import Incident, Notice


def _fence(text: str) -> str:
    longest = max((len(m) for m in text.split("\n") if set(m) == {"`"}), default=0)
    return "`" * max(3, longest + 1)


def notice_markdown(notice: Notice) -> str:
    fence = _fence(notice.body)
    return (
        f"### {notice.subject}\n\n"
        f"| 文書番号 | 宛先 | 送付方法 | 送付先 | 条項 |\n|---|---|---|---|---|\n"
        f"| {notice.doc_number} | {notice.recipient} | {CHANNEL_TITLES[notice.channel]} "
        f"| {notice.address} | {notice.clause} |\n\n"
        f"{fence}text\n{notice.body}\n{fence}\n"
    )


def deliver_and_record(incident: Incident, notice: Notice, *, wait: bool = False) -> Notice:
    """Deliver a pending notice, then record it in the audit chain (keyed: a replay that finds it
    already sent still completes a record a crash may have cut short) and as an artifact; with
    `wait`, a delivery another process is making is waited for rather than counted as failed."""
    already_sent = notice.status == "sent"
    sent = (deliver_waiting if wait else deliver)(runtime().outbox, notice)
    note = f"（{sent.delivery_note}）" if sent.delivery_note else ""
    runtime().store.audit(
        incident.id,
        sent.clause,
        "通知",
        f"{sent.subject}（{sent.doc_number}）を {sent.recipient} へ送付"
        f"（{CHANNEL_TITLES[sent.channel]}）{note}",
        event_key=f"{incident.number}|sent|{sent.key}",
        details={
            "notice_key": sent.key,
            "channel": sent.channel,
            "address": sent.address,
            "attempts": sent.attempts,
            **({"note": sent.delivery_note} if sent.delivery_note else {}),
        },
    )
    if not already_sent:
        create_markdown_artifact(markdown=notice_markdown(sent), description=f"通知 {sent.subject}")
    return sent


def _notice_run_name() -> str:
    """`通知「セキュリティ会議の招集について（通知）」→ 町長 青龍 太郎` in the run's task list."""
    params = current_task_run.parameters
    return f"通知「{DOCUMENTS[params['document_id']].subject}」→ {params['recipient'].name}"


@task(
    name="通知の送付",
    task_run_name=_notice_run_name,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def send_notice(
    incident_number: str,
    clause: str,
    document_id: str,
    recipient: Recipient,
    sender: str,
    data: dict[str, Any],
    key_suffix: str = "",
) -> list[int]:
    """Prepare (render, number, archive) once, then deliver by every channel; returns the outbox
    ids. A channel that fails does not keep the others from going out; the task then fails (and
    is retried) for the channels still undelivered."""
    rt = runtime()
    incident = rt.store.incident(incident_number)
    req = NoticeRequest(clause, DOCUMENTS[document_id], recipient, sender, data, key_suffix)
    errors = []
    ids = []
    for notice in prepare(rt.outbox, incident, req):
        try:
            ids.append(deliver_and_record(incident, notice).id)
        except DeliveryError as exc:
            errors.append(str(exc))
    if errors:
        raise DeliveryError("\n".join(errors))
    return ids


def in_outbox(incident: Incident, document_id: str, key_suffix: str) -> bool:
    """Whether `notify(..., key_suffix=key_suffix)` of that document already reached the outbox."""
    return any(
        n.document == document_id and n.document_key.endswith(key_suffix)
        for n in runtime().store.notices(incident.id)
    )


def notify(
    incident: Incident,
    clause: str,
    document_id: str,
    recipients: list[Recipient],
    sender: str,
    data: dict[str, Any],
    key_suffix: str = "",
) -> None:
    """Send one document to each recipient; an undelivered one is recorded, not raised."""
    delivery = runtime().config.town.delivery
    sender_task = send_notice.with_options(
        retries=delivery.retries, retry_delay_seconds=delivery.retry_delays_seconds
    )
    for recipient in recipients:
        state = sender_task(
            incident.number,
            clause,
            document_id,
            recipient,
            sender,
            data,
            key_suffix,
            return_state=True,
        )
        if state.is_completed():
            continue
        try:
            state.result()
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # rendering or store problem: the run must fail loudly
            raise exc
        else:
            error = "不明な理由"
        runtime().store.audit(
            incident.id,
            clause,
            "送付失敗",
            f"{DOCUMENTS[document_id].subject} を {recipient.name} へ送付できませんでした: {error}",
            event_key=f"{incident.number}|undelivered|{clause}|{document_id}|{recipient.id}{key_suffix}",
        )
        get_run_logger().error("通知を送付できませんでした: %s", error)
