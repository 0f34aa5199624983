"""経過記録: the incident's story in order, in 和暦 Japan time, with every notice and its status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jukinet.journal import render_journal
from jukinet.store.db import make_engine
from jukinet.store.models import AuditRecord, Incident, Notice
from jukinet.store.store import Store

OPENED = datetime(2026, 11, 26, 23, 45, tzinfo=UTC)  # 令和8年11月27日 8時45分


def incident(**values: object) -> Incident:
    base: dict[str, object] = {
        "number": "令和8年度-001",
        "drill": False,
        "summary": "CS サーバが起動しない",
        "emergency_class": "障害",
        "state": "手順4",
        "opened_at": OPENED,
        "closed_at": None,
    }
    return Incident(**{**base, **values})


def record(
    seq: int, clause: str, kind: str, summary: str, at: datetime, **values: object
) -> AuditRecord:
    return AuditRecord(
        seq=seq,
        clause=clause,
        kind=kind,
        actor=values.get("actor", "システム"),
        on_behalf_of=values.get("on_behalf_of"),
        summary=summary,
        recorded_at=at,
    )


def notice(doc_number: str, subject: str, status: str, **values: object) -> Notice:
    return Notice(
        doc_number=doc_number,
        subject=subject,
        recipient=values.get("recipient", "セキュリティ責任者 大滝 健二"),
        clause=values.get("clause", "C2.S1.2"),
        channel=values.get("channel", "email"),
        status=status,
        attempts=values.get("attempts", 0),
        last_error=values.get("last_error"),
        sent_at=values.get("sent_at"),
    )


RECORDS = [
    record(
        1,
        "C1.2",
        "区分確認",
        "障害と確認",
        datetime(2026, 11, 27, 0, 0, tzinfo=UTC),
        actor="犬上 一郎（住民課）",
    ),
    record(
        2,
        "C2.S2.1",
        "指示",
        "データ保護を指示",
        datetime(2026, 11, 27, 1, 5, tzinfo=UTC),
        actor="栗栖 修（総務課長）",
        on_behalf_of="代理者（第1順位）",
    ),
    record(3, "C2.S4", "作業", "電源ユニットを交換", datetime(2026, 11, 27, 15, 0, tzinfo=UTC)),
]
NOTICES = [
    notice(
        "多住第1号",
        "住基ネットの障害について（報告）",
        "sent",
        attempts=1,
        sent_at=datetime(2026, 11, 27, 0, 10, tzinfo=UTC),
    ),
    notice(
        "多住第2号",
        "データ保護等について（指示）",
        "failed",
        clause="C2.S2.1",
        attempts=3,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    ),
    notice("多住第3号", "住基ネット機器の保守作業について（依頼）", "pending"),
]


def lines(text: str) -> list[str]:
    return text.splitlines()


class TestHeader:
    def test_title_and_summary(self) -> None:
        text = render_journal(incident(), RECORDS, NOTICES)
        assert lines(text)[0] == "# 経過記録 令和8年度-001"
        assert "- 概要: CS サーバが起動しない" in text
        assert "- 区分: 障害　状態: 手順4" in text
        assert "- 受付: 令和8年11月27日 8時45分" in text
        assert "終結" not in text

    def test_unclassified_and_closed(self) -> None:
        closed = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
        text = render_journal(incident(emergency_class=None, closed_at=closed), [], [])
        assert "- 区分: 確認中" in text
        assert "- 終結: 令和8年11月28日 18時00分" in text

    def test_drill_is_marked(self) -> None:
        assert (
            lines(render_journal(incident(drill=True), [], []))[0]
            == "# 【訓練】経過記録 令和8年度-001"
        )


class TestRecords:
    def test_in_order_with_japan_times(self) -> None:
        text = render_journal(incident(), RECORDS, [])
        rows = [line for line in lines(text) if line.startswith("| 令和")]
        assert len(rows) == 3
        assert rows[0].startswith(
            "| 令和8年11月27日 9時00分00秒 | C1.2 第1章 総則 2 緊急時の区分 | 区分確認 |"
        )
        assert rows[1].startswith(
            "| 令和8年11月27日 10時05分00秒 | C2.S2.1 第2章 手順2① データ保護等の指示 |"
        )
        assert rows[2].startswith(
            "| 令和8年11月28日 0時00分00秒 | C2.S4 第2章 手順4 保守作業の実施 |"
        )

    def test_actor_and_capacity(self) -> None:
        text = render_journal(incident(), RECORDS, [])
        assert "| 栗栖 修（総務課長）（代理者（第1順位）） | データ保護を指示 |" in text
        assert "| 犬上 一郎（住民課） | 障害と確認 |" in text

    def test_cells_cannot_break_the_table(self) -> None:
        odd = record(1, "C2.S4", "作業", "交換 | 再起動\n確認", OPENED)
        row = next(line for line in lines(render_journal(incident(), [odd], [])) if "交換" in line)
        assert "交換 ｜ 再起動 確認" in row
        assert row.count("|") == 6

    def test_records_from_the_store_keep_their_order(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        store = Store(engine, "254436")
        inc = store.open_incident(
            origin_key="r", drill=False, declared_class="障害", summary="概要", declaration={}
        )
        for i, clause in enumerate(["C1.2", "C2.S1.1", "C2.S1.2", "C2.S1.3"]):
            store.audit(inc.id, clause, "手順", f"第{i + 1}の記録", event_key=f"k{i}")
        text = render_journal(store.incident(inc.number), store.audit_records(inc.id), [])
        engine.dispose()
        positions = [text.index(f"第{i}の記録") for i in range(1, 5)]
        assert positions == sorted(positions)
        assert f"# 経過記録 {inc.number}" in text


class TestNotices:
    def test_each_notice_with_its_status(self) -> None:
        text = render_journal(incident(), [], NOTICES)
        rows = [line for line in lines(text) if line.startswith("| 多住第")]
        assert rows[0] == (
            "| 多住第1号 | 住基ネットの障害について（報告） | セキュリティ責任者 大滝 健二 | メール "
            "| C2.S1.2 "
            "| 送付済 令和8年11月27日 9時10分00秒 |"
        )
        assert rows[1].endswith("| C2.S2.1 | 未送付（送付失敗）（試行 3 回） |")
        assert rows[2].endswith("| 未送付 |")

    def test_undelivered_notices_are_flagged(self) -> None:
        text = render_journal(incident(), RECORDS, NOTICES)
        assert "**未送付の通知が 2 件あります。**" in text
        assert text.index("未送付の通知が") < text.index("## 経過")

    def test_no_flag_when_everything_was_sent(self) -> None:
        text = render_journal(incident(), RECORDS, NOTICES[:1])
        assert "未送付の通知" not in text
        assert "## 通知" in text

    def test_error_text_is_not_copied_into_the_journal(self) -> None:
        assert "ConnectionRefusedError" not in render_journal(incident(), [], NOTICES)


def test_typed_html_is_shown_as_text() -> None:
    """The UI renders artifacts as Markdown: what staff typed must not become markup."""
    inc = incident()
    inc.summary = "<script>alert(1)</script> & <b>太字</b>"
    text = render_journal(inc, [], [])
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;太字&lt;/b&gt;" in text
