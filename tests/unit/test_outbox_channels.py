"""The outbox per recipient channel: e-mail (UTF-8 or ISO-2022-JP with a recorded fallback),
webhook (retried on 503, not on 400), and the archive; one document number for all channels, each
channel delivered once, a second delivery never starts while another holds the claim."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jukinet.config.loader import load_config
from jukinet.mailbox import Mailbox
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import (
    DeliveryError,
    NotApproved,
    NoticeRequest,
    Outbox,
    deliver,
    deliver_waiting,
    digest,
    message_key,
    prepare,
)
from jukinet.notices.recipients import for_body
from jukinet.notices.render import make_environment
from jukinet.plan import Body
from jukinet.settings import PROJECT_ROOT
from jukinet.store.db import make_engine
from jukinet.store.models import Incident, utcnow
from jukinet.store.store import Store
from tests.conftest import copy_config
from tests.unit.test_webhook import Reply, ScriptedServer

IDENT = {
    "failure_type": "ハードウェアの障害",
    "location": "CS サーバ",
    "check_methods": ["警告ランプの確認"],
    "check_results": "警告ランプが点灯",
    "cause": "電源ユニットの故障",
    "impact": "住基ネットを利用する手続ができない",
}


def _box(tmp_path: Path, smtp_port: int, vendor: dict[str, Any]) -> Outbox:
    config_dir = copy_config(tmp_path / "config", smtp_port)
    yaml = YAML()
    path = config_dir / "contacts.yaml"
    contacts = yaml.load(path.read_text(encoding="utf-8"))
    contacts["bodies"]["vendor"][0].update(vendor)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(contacts, fh)
    config = load_config(config_dir)
    return Outbox(
        store=Store(make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}"), "254436"),
        config=config,
        env=make_environment(PROJECT_ROOT / "templates"),
        archive_dir=tmp_path / "archive",
        webhook_tokens={"vendor:0": "tok-secret-1234"},
    )


def _incident(box: Outbox) -> Incident:
    inc = box.store.open_incident(
        origin_key=str(uuid.uuid4()),
        drill=False,
        declared_class="障害",
        summary="CS サーバが起動しない",
        declaration={},
    )
    number = f"経路試験-{uuid.uuid4().hex[:10]}"
    box.store.set_incident(inc.id, number=number)
    return box.store.incident(number)


def _request(box: Outbox) -> NoticeRequest:
    (vendor,) = for_body(box.config, Body.VENDOR)
    return NoticeRequest(
        "C2.S1.2",
        DOCUMENTS["maintenance_request"],
        vendor,
        "多賀町 住基ネット担当者",
        {"ident": IDENT},
    )


def _repair_request(box: Outbox) -> NoticeRequest:
    """C2.S4: a letter whose text fits ISO-2022-JP (no circled digits such as 手順1②)."""
    (vendor,) = for_body(box.config, Body.VENDOR)
    return NoticeRequest(
        "C2.S4",
        DOCUMENTS["repair_request"],
        vendor,
        "多賀町 セキュリティ責任者",
        {"ident": IDENT, "result": None},
    )


@pytest.fixture
def hook() -> Iterator[ScriptedServer]:
    with ScriptedServer(Reply(503), Reply(503), Reply(200)) as server:
        yield server


def test_each_channel_is_delivered_once_under_one_document_number(
    tmp_path: Path, mailbox: Mailbox, hook: ScriptedServer
) -> None:
    box = _box(
        tmp_path,
        mailbox.port,
        {
            "channels": ["email", "webhook", "archive"],
            "webhook": {"url": hook.url, "backoff_seconds": 0, "timeout_seconds": 5},
        },
    )
    inc = _incident(box)
    rows = prepare(box, inc, _request(box))
    assert [r.channel for r in rows] == ["email", "webhook", "archive"]
    assert len({r.doc_number for r in rows}) == 1
    assert prepare(box, inc, _request(box))[1].id == rows[1].id  # a replay: same rows

    sent = [deliver(box, r) for r in rows]
    again = [deliver(box, r) for r in rows]
    assert [s.status for s in sent] == ["sent"] * 3
    assert [a.attempts for a in again] == [1, 1, 1]  # not delivered a second time
    assert sent[1].delivery_note == "Webhook 3 回目の試行で受理"
    assert len(hook.seen) == 3 and len(hook.accepted) == 1
    payload = hook.accepted[0]
    assert payload["doc_number"] == rows[0].doc_number
    assert payload["subject"] == DOCUMENTS["maintenance_request"].subject
    assert payload["id"] == digest(message_key(rows[1]))
    assert hook.seen[-1].headers["Idempotency-Key"] == payload["id"]
    assert hook.seen[-1].headers["Authorization"] == "Bearer tok-secret-1234"
    mails = [m for m in mailbox.messages() if inc.number in m.get_content()]
    assert len(mails) == 1
    assert (
        Path(sent[2].archive_path or "").read_text(encoding="utf-8").count(rows[0].doc_number) >= 1
    )


def test_a_webhook_refusing_the_notice_is_not_retried_and_stays_undelivered(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    with ScriptedServer(Reply(400), Reply(200)) as server:
        box = _box(
            tmp_path,
            mailbox.port,
            {"channels": ["webhook"], "webhook": {"url": server.url, "backoff_seconds": 0}},
        )
        (row,) = prepare(box, _incident(box), _request(box))
        with pytest.raises(DeliveryError) as info:
            deliver(box, row)
        assert len(server.seen) == 1
        failed = box.store.notice(row.key)
        assert failed is not None and failed.status == "failed" and failed.attempts == 1
        assert "400" in (failed.last_error or "")
        assert "tok-secret-1234" not in str(info.value)
        # the receiver fixed: the re-send delivers it, once
        assert deliver(box, row).status == "sent"
        assert deliver(box, row).attempts == 2
        assert len(server.accepted) == 1


def test_iso_2022_jp_recipient_falls_back_to_utf8_and_says_so(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    box = _box(tmp_path, mailbox.port, {"charset": "iso-2022-jp", "person": "髙橋 保守担当"})
    inc = _incident(box)
    (row,) = prepare(box, inc, _repair_request(box))
    sent = deliver(box, row)
    assert sent.delivery_note and "髙" in sent.delivery_note and "UTF-8" in sent.delivery_note
    (mail,) = [m for m in mailbox.messages() if inc.number in m.get_content()]
    assert mail.get_content_charset() == "utf-8"
    assert "髙橋 保守担当 様" in mail.get_content()


def test_iso_2022_jp_recipient_gets_iso_2022_jp_when_it_fits(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    box = _box(tmp_path, mailbox.port, {"charset": "iso-2022-jp"})
    inc = _incident(box)
    (row,) = prepare(box, inc, _repair_request(box))
    sent = deliver(box, row)
    assert sent.delivery_note is None
    (mail,) = [m for m in mailbox.messages() if inc.number in m.get_content()]
    assert mail.get_content_charset() == "iso-2022-jp"
    assert mail.get_content() == row.body or mail.get_content().rstrip("\n") == row.body.rstrip(
        "\n"
    )


def test_a_claimed_notice_is_not_delivered_twice_at_once(tmp_path: Path, mailbox: Mailbox) -> None:
    box = _box(tmp_path, mailbox.port, {})
    (row,) = prepare(box, _incident(box), _request(box))
    assert box.store.claim_notice(row.id, utcnow() + timedelta(minutes=5))  # another process
    with pytest.raises(DeliveryError, match="別の処理が送付中"):
        deliver(box, row)
    # a claim left by a process that died expires and the notice goes out
    box.store.update_notice(row.id, claimed_until=utcnow() - timedelta(seconds=1))
    assert deliver(box, row).status == "sent"


def test_public_text_without_approval_does_not_go_out(tmp_path: Path, mailbox: Mailbox) -> None:
    box = _box(tmp_path, mailbox.port, {})
    planning = for_body(box.config, Body.PLANNING)[0]
    req = NoticeRequest("C2.S3.D6", DOCUMENTS["press_release"], planning, "統括責任者", {})
    with pytest.raises(NotApproved, match="承認の記録がない"):
        prepare(box, _incident(box), req)
    assert box.store.notices() == []


def test_webhook_payload_is_json_with_the_letter(tmp_path: Path, hook: ScriptedServer) -> None:
    box = _box(
        tmp_path,
        1,
        {"channels": ["webhook"], "webhook": {"url": hook.url, "backoff_seconds": 0}},
    )
    (row,) = prepare(box, _incident(box), _request(box))
    deliver(box, row)
    body = json.loads(hook.seen[-1].body.decode("utf-8"))
    assert body["body"] == row.body and body["clause"] == "C2.S1.2"


def test_the_archive_is_written_once_it_is_available_again(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    """The archive folder cannot be created (a file is in its way): the notice is recorded
    pending, nothing is lost, and a retry writes the copy and delivers the archive channel."""
    box = _box(tmp_path, mailbox.port, {"channels": ["archive"]})
    inc = _incident(box)
    (tmp_path / "archive").write_text("in the way", encoding="utf-8")
    with pytest.raises(OSError):
        prepare(box, inc, _request(box))
    (row,) = box.store.notices(inc.id)
    assert row.status == "pending"
    with pytest.raises(DeliveryError):
        deliver(box, row)

    (tmp_path / "archive").unlink()
    (again,) = prepare(box, inc, _request(box))
    assert again.id == row.id and Path(again.archive_path or "").is_file()
    sent = deliver(box, again)
    assert sent.status == "sent" and sent.attempts == 2
    assert len(box.store.notices(inc.id)) == 1


def test_waiting_delivery_takes_over_when_the_other_claim_expires(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    """The close of an incident waits out a re-send in progress instead of failing the run."""
    box = _box(tmp_path, mailbox.port, {})
    (row,) = prepare(box, _incident(box), _request(box))
    assert box.store.claim_notice(row.id, utcnow() + timedelta(seconds=0.6))
    sent = deliver_waiting(box, row, poll_seconds=0.2)
    assert sent.status == "sent" and sent.attempts == 1
