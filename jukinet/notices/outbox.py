"""The outbox: a notice is rendered, numbered and archived once, then delivered until sent.

notice = prepare(ctx, request)     # pending row keyed by incident|clause|document|recipient
deliver(ctx, notice)               # sent, or failed with attempts and the last error
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment

from jukinet.config.loader import Config
from jukinet.config.models import Town
from jukinet.notices import smtp
from jukinet.notices.documents import Document
from jukinet.notices.recipients import Recipient, drill_addresses
from jukinet.notices.render import render
from jukinet.plan import clause_title
from jukinet.store.models import Incident, Notice, utcnow
from jukinet.store.store import Store

DRILL_MARK = "【訓練】"


class DeliveryError(Exception):
    """A notice was not accepted by its channel; it stays in the outbox as undelivered."""


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


def notice_key(incident: Incident, req: NoticeRequest) -> str:
    return f"{incident.number}|{req.clause}|{req.document.id}|{req.recipient.id}{req.key_suffix}"


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
        },
    )


def prepare(box: Outbox, incident: Incident, req: NoticeRequest) -> Notice:
    key = notice_key(incident, req)
    existing = box.store.notice(key)
    if existing is not None:
        return existing
    town = box.config.town
    year, n = box.store.next_number("document")
    doc_number = f"{town.document_prefix}第{n}号"
    now = utcnow()
    subject = (DRILL_MARK if incident.drill else "") + req.document.subject
    body = render_document(box.env, town, incident, req, doc_number=doc_number, issued=now)
    addresses = drill_addresses(box.config) if incident.drill else req.recipient.addresses
    folder = box.archive_dir / town.municipality.code / _safe(incident.number)
    name = _safe(f"{year}-{n:04d}_{req.document.id}_{req.recipient.id}")
    notice = box.store.enqueue(
        Notice(
            municipality_code=town.municipality.code,
            key=key,
            incident_id=incident.id,
            clause=req.clause,
            document=req.document.id,
            recipient=req.recipient.name,
            address=", ".join(addresses),
            channel="email",
            doc_number=doc_number,
            subject=subject,
            body=body,
            status="pending",
            attempts=0,
            archive_path=str(folder / f"{name}.txt"),
            created_at=now,
        )
    )
    _archive(notice)
    return notice


def _archive(notice: Notice) -> None:
    """The file copy of the row that won the key (a lost race leaves no stray file)."""
    path = Path(notice.archive_path or "")
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(
        f"件名: {notice.subject}\n宛先: {notice.address}\n\n{notice.body}", encoding="utf-8"
    )
    partial.replace(path)


def deliver(box: Outbox, notice: Notice) -> Notice:
    """Send a pending notice; a sent one is returned untouched (never twice for one key)."""
    current = box.store.notice(notice.key) or notice
    if current.status == "sent":
        return current
    attempts = current.attempts + 1
    message = smtp.build_message(
        box.config.town.smtp,
        key=f"{current.municipality_code}|{current.key}",
        to=tuple(a.strip() for a in current.address.split(",")),
        subject=current.subject,
        body=current.body,
    )
    try:
        smtp.send(box.config.town.smtp, message)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
        box.store.update_notice(current.id, status="failed", attempts=attempts, last_error=error)
        raise DeliveryError(
            f"通知「{current.subject}」（{current.recipient}）を送付できませんでした: {error}"
        ) from exc
    box.store.update_notice(current.id, status="sent", attempts=attempts, sent_at=utcnow())
    sent = box.store.notice(current.key)
    assert sent is not None
    return sent
