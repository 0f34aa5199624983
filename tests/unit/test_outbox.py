"""The outbox over real SMTP: rendered and numbered once, archived, delivered once, drills marked."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from jukinet.config.loader import Config, load_config
from jukinet.forms.chapter2 import ChiefJudgement, OutageJudgement
from jukinet.mailbox import Mailbox, free_port
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import (
    DRILL_MARK,
    DeliveryError,
    NoticeRequest,
    Outbox,
    deliver,
    notice_key,
    prepare,
)
from jukinet.notices.recipients import Recipient, drill_addresses, for_body, for_role
from jukinet.notices.render import make_environment
from jukinet.notices.smtp import build_message
from jukinet.plan import Body, Role
from jukinet.settings import PROJECT_ROOT
from jukinet.store.db import make_engine
from jukinet.store.models import Incident, Notice
from jukinet.store.store import Store
from tests.conftest import copy_config

JUDGEMENT = ChiefJudgement(
    instructions="CS サーバの電源を入れたまま、データの書き込みを止めてください。",
    judgement=OutageJudgement.LONG,
    reason="CS サーバが起動しないため",
)


def make_box(tmp_path: Path, port: int) -> Outbox:
    config = load_config(copy_config(tmp_path / "config", port))
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return Outbox(
        store=Store(engine, config.town.municipality.code),
        config=config,
        env=make_environment(PROJECT_ROOT / "templates"),
        archive_dir=tmp_path / "archive",
    )


@pytest.fixture
def box(tmp_path: Path, mailbox: Mailbox) -> Iterator[Outbox]:
    b = make_box(tmp_path, mailbox.port)
    yield b
    b.store.engine.dispose()


def open_incident(box: Outbox, *, drill: bool = False) -> Incident:
    inc = box.store.open_incident(
        origin_key=str(uuid.uuid4()),
        drill=drill,
        declared_class="障害",
        summary="CS サーバが起動しない",
        declaration={},
    )
    # The session mailbox is shared with the flow tests, which find their mail by incident
    # number; a fresh store would reuse theirs (令和8年度-001), so these get numbers of their own.
    number = f"単体試験-{uuid.uuid4().hex[:12]}"
    box.store.set_incident(inc.id, number=number)
    return box.store.incident(number)


# The instruction of C2.S2.1, allowed here to any post or body (the register's check of
# recipients has its own test).
DOCUMENT = replace(DOCUMENTS["protection_instruction"], recipients=(*Role, *Body, "receivers"))


def request(config: Config, recipient: Recipient | None = None) -> NoticeRequest:
    return NoticeRequest(
        clause="C2.S2.1",
        document=DOCUMENT,
        recipient=recipient or for_role(config, Role.SEC_OFFICER)[0],
        sender="多賀町 セキュリティ統括責任者 霊仙 正（副町長）",
        data={  # as tasks/chapter2_report.py builds it
            "instructions": JUDGEMENT.instructions,
            "judgement_label": "運用停止に関する判断",
            "judgement_text": JUDGEMENT.judgement.value,
        },
    )


def prepare_one(box: Outbox, incident: Incident, req: NoticeRequest) -> Notice:
    """A recipient with the default channel (e-mail): one row."""
    (notice,) = prepare(box, incident, req)
    return notice


def message_id(key: str, domain: str = "town.taga.example") -> str:
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def notice_message_id(key: str) -> str:
    """The outbox keys a message by municipality and notice key (one installation, many towns)."""
    return message_id(f"254436|{key}")


def received(mailbox: Mailbox, key: str) -> list[EmailMessage]:
    wanted = notice_message_id(key)
    return [m for m in mailbox.messages() if m["Message-ID"] == wanted]


class TestPrepare:
    def test_renders_once_per_key(self, box: Outbox) -> None:
        inc = open_incident(box)
        first = prepare_one(box, inc, request(box.config))
        again = prepare_one(box, inc, request(box.config))
        assert again.id == first.id
        assert again.doc_number == first.doc_number
        assert len(box.store.notices(inc.id)) == 1
        assert first.status == "pending" and first.attempts == 0

    def test_replay_does_not_consume_a_document_number(self, box: Outbox) -> None:
        inc = open_incident(box)
        prepare_one(box, inc, request(box.config))
        prepare_one(box, inc, request(box.config))
        chief = for_role(box.config, Role.CHIEF)[0]
        assert prepare_one(box, inc, request(box.config, chief)).doc_number == "多住第2号"

    def test_document_numbers_increase(self, box: Outbox) -> None:
        inc = open_incident(box)
        people = [*for_role(box.config, Role.SEC_OFFICER), *for_role(box.config, Role.CHIEF)]
        bodies = for_body(box.config, Body.MUNICIPALITIES)
        numbers = [
            prepare_one(box, inc, request(box.config, r)).doc_number for r in people + bodies
        ]
        assert numbers == ["多住第1号", "多住第2号", "多住第3号", "多住第4号"]

    def test_key_names_incident_clause_document_recipient(self, box: Outbox) -> None:
        inc = open_incident(box)
        n = prepare_one(box, inc, request(box.config))
        assert n.key == f"{inc.number}|C2.S2.1|protection_instruction|R-SEC-OFFICER:otaki|email"
        assert n.document_key == n.key.removesuffix("|email")
        assert n.key == notice_key(inc, request(box.config))
        assert n.clause == "C2.S2.1"
        assert n.address == "otaki@town.taga.example"

    def test_archive_file_is_written(self, box: Outbox, tmp_path: Path) -> None:
        inc = open_incident(box)
        n = prepare_one(box, inc, request(box.config))
        assert n.archive_path is not None
        path = Path(n.archive_path)
        assert path.is_file()
        assert path.is_relative_to(tmp_path / "archive" / "254436")
        assert path.suffix == ".txt"
        assert "protection_instruction" in path.name
        text = path.read_text(encoding="utf-8")
        assert text.startswith(
            f"件名: {n.subject}\n宛先: {n.recipient}\n送付先: メール otaki@town.taga.example\n"
            f"文書番号: {n.doc_number}\n\n"
        )
        assert text.endswith(n.body)
        assert n.doc_number in text

    def test_body_is_the_rendered_letter(self, box: Outbox) -> None:
        inc = open_incident(box)
        n = prepare_one(box, inc, request(box.config))
        assert n.subject == "データ保護等について（指示）"
        assert "セキュリティ責任者 住民課長 大滝 健二 様" in n.body
        assert JUDGEMENT.instructions in n.body
        assert f"事案番号　{inc.number}" in n.body
        assert "（C2.S2.1）" in n.body
        assert DRILL_MARK not in n.body


class TestDeliver:
    def test_sends_exactly_once(self, box: Outbox, mailbox: Mailbox) -> None:
        inc = open_incident(box)
        pending = prepare_one(box, inc, request(box.config))
        sent = deliver(box, pending)
        again = deliver(box, pending)  # a replay holding the stale pending row
        assert sent.status == "sent" and again.status == "sent"
        assert again.attempts == sent.attempts == 1
        assert sent.sent_at is not None and sent.last_error is None
        assert len(received(mailbox, pending.key)) == 1

    def test_message_parses_back(self, box: Outbox, mailbox: Mailbox) -> None:
        inc = open_incident(box)
        n = deliver(box, prepare_one(box, inc, request(box.config)))
        (mail,) = received(mailbox, n.key)
        assert mail["Subject"] == "データ保護等について（指示）"
        assert mail["From"] == "juki@town.taga.example"
        assert [a.addr_spec for a in mail["To"].addresses] == ["otaki@town.taga.example"]
        assert mail.get_content_type() == "text/plain"
        assert mail.get_content_charset() == "utf-8"
        assert mail.get_content().rstrip("\n") == n.body.rstrip("\n")
        assert mail["Message-ID"] == notice_message_id(n.key)
        assert mail["X-Jukinet-Notice"] == notice_message_id(n.key)[1:33]

    def test_headers_are_encoded_on_the_wire(self, box: Outbox, mailbox: Mailbox) -> None:
        inc = open_incident(box)
        n = deliver(box, prepare_one(box, inc, request(box.config)))
        wanted = notice_message_id(n.key).encode()
        (raw,) = [p.read_bytes() for p in mailbox.paths() if wanted in p.read_bytes()]
        headers = raw.split(b"\r\n\r\n", 1)[0]
        assert headers.isascii()
        assert b"=?utf-8?" in headers.lower()

    def test_names_outside_iso_2022_jp(self, box: Outbox, mailbox: Mailbox) -> None:
        inc = open_incident(box)
        someone = Recipient(
            id="vendor:9",
            name="髙橋 﨑子",
            addressee="架空商事 髙橋 﨑子 様",
            addresses=("takahashi@kaku.example",),
        )
        n = deliver(box, prepare_one(box, inc, request(box.config, someone)))
        (mail,) = received(mailbox, n.key)
        assert "架空商事 髙橋 﨑子 様" in mail.get_content()

    def test_message_id_is_stable_per_key(self, box: Outbox) -> None:
        smtp = box.config.town.smtp
        one = build_message(smtp, key="k", to=("a@x.example",), subject="件名", body="本文").message
        two = build_message(smtp, key="k", to=("b@x.example",), subject="別", body="別").message
        other = build_message(
            smtp, key="k2", to=("a@x.example",), subject="件名", body="本文"
        ).message
        assert one["Message-ID"] == two["Message-ID"] == message_id("k")
        assert other["Message-ID"] != one["Message-ID"]


class TestDrill:
    def test_subject_body_and_recipients(self, box: Outbox, mailbox: Mailbox) -> None:
        inc = open_incident(box, drill=True)
        chief = for_role(box.config, Role.CHIEF)[0]
        n = deliver(box, prepare_one(box, inc, request(box.config, chief)))
        assert n.subject.startswith("【訓練】")
        assert n.subject == "【訓練】データ保護等について（指示）"
        assert n.body.lstrip().startswith(
            "【訓練】この文書は訓練のためのものである"
        )  # である: an order
        assert n.address == "kunren@town.taga.example"
        assert drill_addresses(box.config) == ("kunren@town.taga.example",)
        (mail,) = received(mailbox, n.key)
        assert mail["Subject"].startswith("【訓練】")
        assert [a.addr_spec for a in mail["To"].addresses] == ["kunren@town.taga.example"]
        assert "ryozen@town.taga.example" not in str(mail)
        # the letter is still addressed as it would be, so the drill reads true
        assert "セキュリティ統括責任者 副町長 霊仙 正 様" in mail.get_content()

    def test_outside_bodies_are_never_mailed_in_a_drill(self, box: Outbox) -> None:
        inc = open_incident(box, drill=True)
        for recipient in for_body(box.config, Body.CENTER) + for_body(box.config, Body.PREFECTURE):
            n = prepare_one(box, inc, request(box.config, recipient))
            assert n.address == "kunren@town.taga.example"
            assert n.archive_path is not None
            assert "送付先: メール kunren@town.taga.example\n" in Path(n.archive_path).read_text(
                encoding="utf-8"
            )


class TestSmtpDown:
    def test_failure_is_recorded_then_retried(self, tmp_path: Path) -> None:
        port = free_port()
        box = make_box(tmp_path, port)
        inc = open_incident(box)
        pending = prepare_one(box, inc, request(box.config))

        for attempt in (1, 2):
            with pytest.raises(DeliveryError) as info:
                deliver(box, pending)
            message = str(info.value)
            assert "を送付できませんでした" in message
            assert "データ保護等について（指示）" in message
            row = box.store.notice(pending.key)
            assert row is not None
            assert (row.status, row.attempts) == ("failed", attempt)
            assert row.last_error and "Connection" in row.last_error
            assert row.sent_at is None

        with Mailbox(tmp_path / "back", port=port) as back:
            sent = deliver(box, pending)
            assert (sent.status, sent.attempts) == ("sent", 3)
            assert sent.sent_at is not None
            deliver(box, pending)
            mails = back.messages()
        assert len(mails) == 1
        assert mails[0]["Message-ID"] == notice_message_id(pending.key)
        assert sent.doc_number == pending.doc_number
        box.store.engine.dispose()
