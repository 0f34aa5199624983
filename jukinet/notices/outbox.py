"""The outbox: a document is rendered, numbered and archived once, then delivered by each of the
recipient's channels until sent, never twice.

    notices = prepare(box, incident, request)   # one pending row per channel, one document number
    deliver(box, notice)                        # sent, or failed with attempts and the last error

A delivery first claims its row (pending/failed → sending, for `lease_seconds`), so the chapter's
task and the re-send flow never deliver the same row at once; a claim left by a dead process
expires and the row is delivered again (the Message-ID / Idempotency-Key lets receivers drop it).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment

from jukinet.config.loader import Config
from jukinet.config.models import Channel, Charset, Town, Webhook
from jukinet.notices import smtp, webhook
from jukinet.notices.documents import Document, check_request
from jukinet.notices.recipients import Recipient, drill_addresses, webhook_of
from jukinet.notices.render import render
from jukinet.plan import clause_title
from jukinet.store.models import Incident, Notice, utcnow
from jukinet.store.store import Store

DRILL_MARK = "【訓練】"
CHANNEL_TITLES = {"email": "メール", "webhook": "Webhook", "archive": "保存"}


class DeliveryError(Exception):
    """A notice was not accepted by its channel; it stays in the outbox as undelivered."""


class InProgress(DeliveryError):
    """Another process holds the notice's claim and is delivering it now."""


class NotApproved(ValueError):
    """A document that needs approval was asked to go out without the approval's record."""


@dataclass(frozen=True)
class NoticeRequest:
    clause: str
    document: Document
    recipient: Recipient
    sender: str
    data: dict[str, Any] = field(default_factory=dict)
    key_suffix: str = ""


@dataclass(frozen=True)
class Outbox:
    store: Store
    config: Config
    env: Environment
    archive_dir: Path
    smtp_password: str | None = None
    webhook_tokens: Mapping[str, str] = field(default_factory=dict)  # by recipient id


def document_key(incident: Incident, req: NoticeRequest) -> str:
    return f"{incident.number}|{req.clause}|{req.document.id}|{req.recipient.id}{req.key_suffix}"


def notice_key(incident: Incident, req: NoticeRequest, channel: Channel = Channel.EMAIL) -> str:
    return f"{document_key(incident, req)}|{channel.value}"


def message_key(notice: Notice) -> str:
    """What the Message-ID, X-Jukinet-Notice and Idempotency-Key are derived from."""
    return f"{notice.municipality_code}|{notice.key}"


def digest(key: str) -> str:
    """The notice's id for receivers (as in its mail's X-Jukinet-Notice header)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _safe(text: str) -> str:
    return re.sub(r"[^\w\-.]", "_", text)


def render_document(
    env: Environment,
    town: Town,
    incident: Incident,
    req: NoticeRequest,
    *,
    doc_number: str,
    issued: datetime,
) -> str:
    """The letter as it goes out: the request's data plus the fields every document has."""
    return render(
        env,
        req.document.template,
        {
            **req.data,
            "town": town,
            "incident": incident,
            "drill": incident.drill,
            "doc_number": doc_number,
            "issued": issued,
            "addressee": req.recipient.addressee,
            "sender": req.sender,
            "subject": req.document.subject,
            "clause": req.clause,
            "clause_title": clause_title(req.clause),
            "draft": req.document.draft,
            "style": req.document.style.value,
            "approval": req.data.get("approval"),
        },
    )


def _routes(config: Config, incident: Incident, recipient: Recipient) -> list[tuple[Channel, str]]:
    """(channel, address) per channel; a drill mails the drill recipients only."""
    if incident.drill:
        return [(Channel.EMAIL, ", ".join(drill_addresses(config)))]
    routes: list[tuple[Channel, str]] = []
    for channel in recipient.channels:
        if channel is Channel.EMAIL:
            routes.append((channel, ", ".join(recipient.addresses)))
        elif channel is Channel.WEBHOOK:
            assert recipient.webhook is not None  # the configuration guarantees it
            routes.append((channel, _shown_url(recipient.webhook)))
        else:
            routes.append((channel, "保存（印刷・手交）"))
    return routes


def _shown_url(hook: Webhook) -> str:
    return hook.url.split("?", 1)[0]


def prepare(box: Outbox, incident: Incident, req: NoticeRequest) -> list[Notice]:
    """One row per channel, written before any delivery; a replay returns the same rows."""
    check_request(req.document, req.clause, req.recipient.id)
    if req.document.approval and not req.data.get("approval"):
        raise NotApproved(
            f"文書「{req.document.subject}」は承認の記録がないため送付できません（{req.clause}）"
        )
    base = document_key(incident, req)
    existing = {n.channel: n for n in box.store.document_notices(base)}
    routes = _routes(box.config, incident, req.recipient)
    if all(channel.value in existing for channel, _ in routes):
        rows = [existing[channel.value] for channel, _ in routes]
        _archive(rows)  # a retry after the archive could not be written
        return rows
    town = box.config.town
    first = next(iter(existing.values()), None)
    if first is None:
        # a document that cannot be rendered (a missing field) fails here, before it takes a number
        render_document(box.env, town, incident, req, doc_number="（採番前）", issued=utcnow())
        year, n = box.store.next_number("document")
        doc_number = f"{town.document_prefix}第{n}号"
        now = utcnow()
        subject = (DRILL_MARK if incident.drill else "") + req.document.subject
        body = render_document(box.env, town, incident, req, doc_number=doc_number, issued=now)
        folder = box.archive_dir / town.municipality.code / _safe(incident.number)
        archive = str(
            folder / f"{_safe(f'{year}-{n:04d}_{req.document.id}_{req.recipient.id}')}.txt"
        )
    else:  # a crash between two channels' rows: the document already has its number and text
        doc_number, subject, body, archive, now = (
            first.doc_number,
            first.subject,
            first.body,
            first.archive_path or "",
            first.created_at,
        )
    notices = []
    for channel, address in routes:
        if channel.value in existing:
            notices.append(existing[channel.value])
            continue
        notices.append(
            box.store.enqueue(
                Notice(
                    municipality_code=town.municipality.code,
                    key=f"{base}|{channel.value}",
                    document_key=base,
                    incident_id=incident.id,
                    clause=req.clause,
                    document=req.document.id,
                    recipient_id=req.recipient.id,
                    recipient=req.recipient.name,
                    address=address,
                    channel=channel.value,
                    charset=req.recipient.charset.value,
                    doc_number=doc_number,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    archive_path=archive,
                    created_at=now,
                )
            )
        )
    _archive(notices)
    return notices


def _archive(notices: list[Notice]) -> None:
    """The file copy of the document whose rows won the key (a lost race leaves no stray file)."""
    first = notices[0]
    path = Path(first.archive_path or "")
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    routes = "、".join(f"{CHANNEL_TITLES[n.channel]} {n.address}" for n in notices)
    partial = path.with_suffix(".part")
    partial.write_text(
        f"件名: {first.subject}\n宛先: {first.recipient}\n送付先: {routes}\n"
        f"文書番号: {first.doc_number}\n\n{first.body}",
        encoding="utf-8",
    )
    partial.replace(path)


def deliver(box: Outbox, notice: Notice) -> Notice:
    """Send one channel's row; a sent one is returned untouched (never twice for one key)."""
    current = box.store.notice(notice.key) or notice
    if current.status == "sent":
        return current
    lease = timedelta(seconds=box.config.town.delivery.lease_seconds)
    if not box.store.claim_notice(current.id, utcnow() + lease):
        latest = box.store.notice(current.key) or current
        if latest.status == "sent":
            return latest
        raise InProgress(f"通知「{current.subject}」（{current.recipient}）は別の処理が送付中です")
    attempts = current.attempts + 1
    try:
        note = _send(box, current)
    except (OSError, ValueError, smtplib.SMTPException, webhook.WebhookError, DeliveryError) as exc:
        error = exc.args[0] if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        box.store.update_notice(
            current.id, status="failed", attempts=attempts, last_error=error, claimed_until=None
        )
        raise DeliveryError(
            f"通知「{current.subject}」（{current.recipient}、{CHANNEL_TITLES[current.channel]}）"
            f"を送付できませんでした: {error}"
        ) from exc
    box.store.update_notice(
        current.id,
        status="sent",
        attempts=attempts,
        sent_at=utcnow(),
        claimed_until=None,
        delivery_note=note,
    )
    sent = box.store.notice(current.key)
    assert sent is not None
    return sent


def _send(box: Outbox, notice: Notice) -> str | None:
    """Deliver by the row's channel; returns a note for the record (e.g. a charset fallback)."""
    if notice.channel == Channel.EMAIL.value:
        built = smtp.build_message(
            box.config.town.smtp,
            key=message_key(notice),
            to=tuple(a.strip() for a in notice.address.split(",")),
            subject=notice.subject,
            body=notice.body,
            charset=Charset(notice.charset),
        )
        smtp.send(box.config.town.smtp, built.message, password=box.smtp_password)
        return built.fallback
    if notice.channel == Channel.WEBHOOK.value:
        hook = webhook_of(box.config, notice.recipient_id)
        if hook is None:
            raise DeliveryError(
                f"連絡先（{notice.recipient}）に Webhook の設定がありません"
                "（設定が変更された可能性があります。contacts.yaml を確認してください）"
            )
        attempts = webhook.post(
            hook,
            webhook_payload(notice),
            token=box.webhook_tokens.get(notice.recipient_id),
            idempotency_key=digest(message_key(notice)),
        )
        return f"Webhook {attempts} 回目の試行で受理" if attempts > 1 else None
    _archive([notice])  # written when prepared; again if the folder was unavailable then
    return f"保存文書 {notice.archive_path}"


def webhook_payload(notice: Notice) -> dict[str, Any]:
    return {
        "id": digest(message_key(notice)),
        "municipality_code": notice.municipality_code,
        "document": notice.document,
        "clause": notice.clause,
        "doc_number": notice.doc_number,
        "subject": notice.subject,
        "recipient": notice.recipient,
        "body": notice.body,
        "created_at": notice.created_at.isoformat(),
    }


def deliver_waiting(box: Outbox, notice: Notice, poll_seconds: float = 0.5) -> Notice:
    """`deliver`, waiting out another process's claim (at most the lease) instead of failing."""
    deadline = time.monotonic() + box.config.town.delivery.lease_seconds + poll_seconds
    while True:
        try:
            return deliver(box, notice)
        except InProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(poll_seconds)
