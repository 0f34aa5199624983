"""tasks/notify.py: a notice found already sent on a replay is not sent again, and its record is
completed if a crash cut it short."""

from __future__ import annotations

from pathlib import Path

from flows.runtime import runtime
from jukinet.forms.chapter2 import ChiefJudgement
from jukinet.mailbox import Mailbox
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import NoticeRequest, deliver, prepare
from jukinet.notices.recipients import for_role
from jukinet.plan import Role
from tasks.notify import send_notice
from tests.flows import scenarios as s


def test_a_sent_notice_is_recorded_on_replay_but_not_sent_twice(
    product: Path, mailbox: Mailbox
) -> None:
    rt = runtime()
    incident = rt.store.open_incident(
        origin_key="test-notify-replay",
        drill=False,
        declared_class="障害",
        summary="再実行の試験",
        declaration=s.declaration(),
    )
    recipient = for_role(rt.config, Role.SEC_OFFICER)[0]
    judgement = ChiefJudgement(**s.JUDGEMENT_SHORT)
    data = {
        "instructions": judgement.instructions,
        "judgement_label": "運用停止に関する判断",
        "judgement_text": judgement.judgement.value,
    }
    request = NoticeRequest(
        "C2.S2.1", DOCUMENTS["protection_instruction"], recipient, "統括責任者", data
    )
    # the first attempt delivered the mail, then died before writing its audit record
    (prepared,) = prepare(rt.outbox, incident, request)
    sent = deliver(rt.outbox, prepared)
    before = mailbox.count()
    assert not [r for r in rt.store.audit_records(incident.id) if r.kind == "通知"]

    notice_ids = send_notice.fn(
        incident.number, "C2.S2.1", "protection_instruction", recipient, "統括責任者", data
    )

    assert notice_ids == [sent.id]
    assert mailbox.count() == before  # not sent again
    records = [r for r in rt.store.audit_records(incident.id) if r.kind == "通知"]
    assert [r.details["notice_key"] for r in records] == [sent.key]
