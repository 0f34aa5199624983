"""Export of an incident's audit trail: JSON Lines that checks itself, 経過記録 in Markdown and HTML,
and `jukinet export-audit`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from jukinet.audit_export import (
    Trail,
    artifact_key,
    check_jsonl,
    closing_copy,
    collect,
    export_html,
    export_jsonl,
    export_markdown,
    render,
    sha256_hex,
)
from jukinet.cli import main
from jukinet.store.db import make_engine
from jukinet.store.models import Incident, Notice, utcnow
from jukinet.store.store import Store
from tests.conftest import EXAMPLE_CONFIG

TAGA = "254436"
SCRIPT = "<script>alert('x')</script> & 続報"
BODY = "本文（写しに含めない）"


@dataclass
class Case:
    store: Store
    incident: Incident

    @property
    def number(self) -> str:
        return self.incident.number

    def trail(self, upto: int | None = None) -> Trail:
        return collect(self.store, self.number, upto=upto)


def add_notice(store: Store, incident: Incident, n: int, status: str) -> None:
    store.enqueue(
        Notice(
            municipality_code=TAGA,
            key=f"notice-{n}",
            document_key=f"doc-{n}",
            incident_id=incident.id,
            clause="C2.S1.2",
            document="failure_report",
            recipient_id="officer",
            recipient="セキュリティ責任者 大滝 健二",
            address="otaki@town.taga.example",
            channel="email",
            doc_number=f"多住第{n}号",
            subject="住基ネットの障害について（報告）",
            body=BODY,
            status=status,
            attempts=1,
            created_at=utcnow(),
            sent_at=utcnow() if status == "sent" else None,
        )
    )


def fill(store: Store) -> Incident:
    """An incident with four records, one notice sent and one not, between records of others."""
    inc = store.open_incident(
        origin_key="run-1", drill=False, declared_class="障害", summary="CS 停止", declaration={}
    )
    other = store.open_incident(
        origin_key="run-2", drill=True, declared_class="障害", summary="別事案", declaration={}
    )
    store.audit(
        inc.id, "C1.2", "区分確定", "障害と確認", event_key="a1", actor="犬上 一郎（住民課）"
    )
    store.audit(other.id, "C1.2", "区分確定", "別事案の記録", event_key="b1")
    store.audit(
        inc.id,
        "C2.S2.1",
        "指示",
        "データ保護を指示",
        event_key="a2",
        actor="栗栖 修（総務課長）",
        on_behalf_of="セキュリティ統括責任者 霊仙 正 に代わり",
        details={"z": 1, "a": {"y": 2, "b": 3}},
    )
    store.audit(inc.id, "C2.S4", "作業", SCRIPT, event_key="a3")
    store.audit(None, "C2.1", "設定", "町全体の記録", event_key="m1")
    add_notice(store, inc, 1, "sent")
    add_notice(store, inc, 2, "failed")
    return store.incident(inc.number)


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store = Store(engine, TAGA)
    yield Case(store, fill(store))
    engine.dispose()


def jsonl(case: Case, upto: int | None = None) -> str:
    t = case.trail(upto)
    return export_jsonl(t.incident, t.records, t.notices, head=t.head)


def objects(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


class TestCollect:
    def test_only_the_incidents_records_and_the_municipalitys_head(self, case: Case) -> None:
        trail = case.trail()
        assert [r.summary for r in trail.records] == ["障害と確認", "データ保護を指示", SCRIPT]
        assert trail.head.seq == 5 and trail.head.hash == case.store.audit_records()[-1].hash
        assert trail.check.ok and trail.check.records == 5

    def test_upto_is_the_trail_as_it_stood(self, case: Case) -> None:
        trail = case.trail(upto=3)
        assert [r.seq for r in trail.records] == [1, 3]
        assert trail.head.seq == 3 and trail.check.records == 3

    def test_unknown_incident(self, case: Case) -> None:
        with pytest.raises(LookupError, match="事案番号 令和1年度-999 の事案が記録にありません"):
            collect(case.store, "令和1年度-999")


class TestJsonl:
    def test_every_line_is_json_header_records_notices_end(self, case: Case) -> None:
        lines = objects(jsonl(case))
        assert [o["type"] for o in lines] == ["incident", *["record"] * 3, *["notice"] * 2, "end"]

    def test_header(self, case: Case) -> None:
        header = objects(jsonl(case))[0]
        assert header["number"] == case.number and header["municipality_code"] == TAGA
        assert (header["declared_class"], header["state"], header["drill"]) == (
            "障害",
            "受付",
            False,
        )
        assert header["opened_at"].endswith("+09:00")
        assert header["opened_at_wareki"].startswith("令和") and "秒" in header["opened_at_wareki"]
        assert header["closed_at"] is None and header["closed_at_wareki"] is None

    def test_records_with_clause_japan_time_actor_and_hashes(self, case: Case) -> None:
        records = [o for o in objects(jsonl(case)) if o["type"] == "record"]
        stored = case.trail().records
        assert [r["seq"] for r in records] == [1, 3, 4]
        second = records[1]
        assert (second["clause"], second["clause_title"]) == (
            "C2.S2.1",
            "第2章 手順2① データ保護等の指示",
        )
        assert second["actor"] == "栗栖 修（総務課長）"
        assert second["on_behalf_of"] == "セキュリティ統括責任者 霊仙 正 に代わり"
        assert second["details"] == {"a": {"b": 3, "y": 2}, "z": 1}
        assert list(second["details"]) == ["a", "z"]  # sorted: the same file on every back end
        for exported, record in zip(records, stored, strict=True):
            assert exported["recorded_at"].endswith("+09:00")
            assert re.fullmatch(
                r"令和\d+年\d+月\d+日 \d+時\d\d分\d\d秒", exported["recorded_at_wareki"]
            )
            assert (exported["prev_hash"], exported["hash"]) == (record.prev_hash, record.hash)

    def test_notices_without_their_body(self, case: Case) -> None:
        text = jsonl(case)
        notices = [o for o in objects(text) if o["type"] == "notice"]
        assert [(n["doc_number"], n["status"]) for n in notices] == [
            ("多住第1号", "sent"),
            ("多住第2号", "failed"),
        ]
        first = notices[0]
        assert first["recipient"] == "セキュリティ責任者 大滝 健二"
        assert (first["channel"], first["address"], first["clause"]) == (
            "email",
            "otaki@town.taga.example",
            "C2.S1.2",
        )
        assert first["sent_at"].endswith("+09:00") and notices[1]["sent_at"] is None
        assert "body" not in first and BODY not in text

    def test_end_line_names_the_head_and_digests_the_lines_above(self, case: Case) -> None:
        text = jsonl(case)
        *above, last = text.splitlines(keepends=True)
        end = json.loads(last)
        assert end["chain_head"] == {"seq": 5, "hash": case.store.audit_records()[-1].hash}
        assert (end["records"], end["notices"]) == (3, 2)
        assert end["sha256"] == hashlib.sha256("".join(above).encode()).hexdigest()
        assert check_jsonl(text) == []

    def test_same_store_same_file(self, case: Case) -> None:
        before = jsonl(case)
        case.store.audit(case.incident.id, "C2.S5", "再開承認", "再開", event_key="a4")
        assert jsonl(case, upto=5) == before
        assert jsonl(case) != before


class TestCheckJsonl:
    def test_edited_line_is_found_by_the_digest_and_by_the_record_hash(self, case: Case) -> None:
        text = jsonl(case).replace("データ保護を指示", "データ保護を省略")
        assert check_jsonl(text) == [
            "最終行の SHA-256 がファイルの内容と一致しません",
            "通番 3 の記録の内容がハッシュと一致しません",
        ]

    def test_a_recomputed_digest_does_not_hide_an_edit(self, case: Case) -> None:
        *above, last = jsonl(case).replace("障害と確認", "異常なし").splitlines(keepends=True)
        end = {**json.loads(last), "sha256": sha256_hex("".join(above))}
        forged = "".join(above) + json.dumps(end, ensure_ascii=False) + "\n"
        assert check_jsonl(forged) == ["通番 1 の記録の内容がハッシュと一致しません"]

    def test_removed_line_is_found(self, case: Case) -> None:
        lines = jsonl(case).splitlines(keepends=True)
        assert check_jsonl("".join(lines[:2] + lines[3:])) == [
            "最終行の SHA-256 がファイルの内容と一致しません"
        ]

    def test_not_an_export(self) -> None:
        assert check_jsonl("") == ["ファイルが空です"]
        assert check_jsonl("{}\n") == ["先頭行または最終行の形式が正しくありません"]
        assert check_jsonl("[1]\n") == ["JSON のオブジェクトでない行があります"]


class TestMarkdown:
    def test_chain_status_at_the_top_and_hashes_in_the_table(self, case: Case) -> None:
        t = case.trail()
        md = export_markdown(t.incident, t.records, t.notices, head=t.head, check=t.check)
        lines = md.splitlines()
        assert lines[0] == f"# 経過記録 {case.number}"
        assert "- 監査記録の連鎖: 正常（5 件）" in lines[:8]
        assert "| 通番 | 日時 | 条項 | 事項 | 実施者 | 内容 | ハッシュ |" in lines
        row = next(line for line in lines if "データ保護を指示" in line)
        assert row.startswith("| 3 | 令和")
        assert "| C2.S2.1 第2章 手順2① データ保護等の指示 | 指示 |" in row
        assert "栗栖 修（総務課長）（セキュリティ統括責任者 霊仙 正 に代わり）" in row
        assert row.endswith(f"| `{t.records[1].hash[:12]}` |")
        assert "| 多住第1号 | 住基ネットの障害について（報告） |" in md
        assert "**未送付の通知が 1 件あります。**" in md
        assert f"- 出力時の連鎖の末尾: 通番 5　`{t.head.hash}`" in lines
        assert "別事案の記録" not in md and "町全体の記録" not in md

    def test_a_broken_chain_is_said_first(self, case: Case) -> None:
        with case.store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_records SET summary = '改ざん' WHERE seq = 2"))
        md = render(case.trail(), "md")
        assert (
            "- **監査記録の連鎖: 異常（通番 2 の内容が改変されています）**" in md.splitlines()[:8]
        )


class Cells(HTMLParser):
    """The text of every table cell and the tags met, to read an HTML export back."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


class TestHtml:
    def page(self, case: Case) -> str:
        t = case.trail()
        return export_html(t.incident, t.records, t.notices, head=t.head, check=t.check)

    def test_standalone_japanese_page(self, case: Case) -> None:
        page = self.page(case)
        assert page.startswith('<!DOCTYPE html>\n<html lang="ja">')
        assert '<meta charset="utf-8">' in page
        assert f"<title>経過記録 {case.number}</title>" in page
        assert "<li>監査記録の連鎖: 正常（5 件）</li>" in page
        assert "@media print" in page
        assert page.rstrip().endswith("</html>")

    def test_every_value_is_escaped(self, case: Case) -> None:
        page = self.page(case)
        assert "<script>" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 続報" in page
        parsed = Cells()
        parsed.feed(page)
        assert "script" not in parsed.tags
        assert SCRIPT in parsed.cells  # read back as text, as a browser shows it

    def test_rows_with_clause_time_actor_hash_and_notices(self, case: Case) -> None:
        parsed = Cells()
        parsed.feed(self.page(case))
        t = case.trail()
        i = parsed.cells.index("データ保護を指示")
        assert parsed.cells[i - 5 : i + 2] == [
            "3",
            parsed.cells[i - 4],
            "C2.S2.1 第2章 手順2① データ保護等の指示",
            "指示",
            "栗栖 修（総務課長）（セキュリティ統括責任者 霊仙 正 に代わり）",
            "データ保護を指示",
            t.records[1].hash[:12],
        ]
        assert re.fullmatch(r"令和\d+年\d+月\d+日 \d+時\d\d分\d\d秒", parsed.cells[i - 4])
        assert "多住第2号" in parsed.cells and "未送付（送付失敗）（試行 1 回）" in parsed.cells

    def test_a_broken_chain_is_shown(self, case: Case) -> None:
        with case.store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_records WHERE seq = 3"))
        page = render(case.trail(), "html")
        assert '<p class="problem">監査記録の連鎖: 異常（通番 3 の記録がありません）</p>' in page


class TestClosingCopy:
    def test_digest_head_and_the_record_that_chained_them(self, case: Case) -> None:
        trail = case.trail()
        digest = sha256_hex(render(trail, "jsonl"))
        copy = case.store.audit(
            case.incident.id,
            "C2.3",
            "監査記録の写し",
            "写し",
            event_key="copy",
            details={"jsonl_sha256": digest, "head_seq": trail.head.seq},
        )
        md = closing_copy(trail, digest, copy)
        assert md.startswith(render(trail, "md"))
        assert f"- JSON Lines 形式の写しの SHA-256: `{digest}`" in md
        assert f"- 連鎖の末尾（通番 5）のハッシュ: `{trail.head.hash}`" in md
        assert f"通番 6 の記録「監査記録の写し」（ハッシュ `{copy.hash}`）" in md
        assert "--format jsonl --upto 5` の出力の SHA-256" in md
        assert "注意" not in md
        assert "注意: 写しの作成時に記録した SHA-256" in closing_copy(trail, "0" * 64, copy)

    def test_artifact_key(self, case: Case) -> None:
        seq = case.number.rsplit("-", 1)[-1]
        key = artifact_key(case.incident)
        assert key == f"audit-export-{TAGA}-{case.incident.fiscal_year}-{seq}"
        assert re.fullmatch(r"[a-z0-9-]+", key)

    def test_a_cut_tail_is_shown_by_the_copy(self, case: Case) -> None:
        """The store alone cannot see a tail cut together with its chain head
        (tests/unit/test_chain.py); the digest kept at the close can."""
        kept = sha256_hex(jsonl(case, upto=5))
        fourth = case.store.audit_records()[3]
        with case.store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_records WHERE seq = 5"))
            conn.execute(
                text("UPDATE audit_chain_heads SET seq = 4, last_hash = :h"), {"h": fourth.hash}
            )
        assert case.store.verify_chain().ok
        assert sha256_hex(jsonl(case, upto=5)) != kept


# --- jukinet export-audit ------------------------------------------------------------------------


@pytest.fixture
def cli_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    config = Path(shutil.copytree(EXAMPLE_CONFIG, tmp_path / "config"))
    url = f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}"
    monkeypatch.setenv("JUKINET_CONFIG_DIR", str(config))
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_STORE_URL", url)
    engine = make_engine(url)
    store = Store(engine, TAGA)
    yield Case(store, fill(store))
    engine.dispose()


class TestCommand:
    def test_markdown_to_stdout_by_default(
        self, cli_case: Case, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["export-audit", cli_case.number]) == 0
        out, err = capsys.readouterr()
        assert out == render(cli_case.trail(), "md")
        assert out.startswith(f"# 経過記録 {cli_case.number}\n")
        assert err == ""

    @pytest.mark.parametrize("fmt", ["jsonl", "md", "html"])
    def test_to_a_file(
        self, cli_case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
    ) -> None:
        out = tmp_path / f"export.{fmt}"
        assert main(["export-audit", cli_case.number, "--format", fmt, "--out", str(out)]) == 0
        written = out.read_text(encoding="utf-8")
        assert written == render(cli_case.trail(), fmt)
        said = capsys.readouterr().out
        assert said.startswith(f"事案 {cli_case.number} の監査記録を")
        assert f"書き出しました: {out}（SHA-256 {sha256_hex(written)}）" in said
        if fmt == "jsonl":
            assert check_jsonl(written) == []

    def test_upto_reproduces_an_earlier_export(
        self, cli_case: Case, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["export-audit", cli_case.number, "--format", "jsonl"]) == 0
        earlier = capsys.readouterr().out
        cli_case.store.audit(cli_case.incident.id, "C2.3", "終結", "終結", event_key="a9")
        assert main(["export-audit", cli_case.number, "--format", "jsonl", "--upto", "5"]) == 0
        assert capsys.readouterr().out == earlier

    def test_unknown_incident_lists_the_latest_numbers(
        self, cli_case: Case, capsys: pytest.CaptureFixture[str]
    ) -> None:
        other = cli_case.store.incident_by_origin("run-2")
        assert other is not None
        assert main(["export-audit", "令和1年度-999"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.splitlines() == [
            "事案番号「令和1年度-999」の事案は記録にありません。",
            f"最近の事案番号: {other.number}、{cli_case.number}",
        ]

    def test_no_store_yet(
        self,
        cli_case: Case,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        missing = tmp_path / "none" / "store.sqlite3"
        monkeypatch.setenv("JUKINET_STORE_URL", f"sqlite:///{missing}")
        assert main(["export-audit", cli_case.number]) == 2
        assert "最近の事案番号: なし" in capsys.readouterr().err
        assert not missing.exists()

    def test_a_broken_chain_still_exports_and_says_so(
        self, cli_case: Case, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with cli_case.store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_records SET seq = -1 WHERE seq = 3"))
            conn.execute(text("UPDATE audit_records SET seq = 3 WHERE seq = 4"))
            conn.execute(text("UPDATE audit_records SET seq = 4 WHERE seq = -1"))
        assert main(["export-audit", cli_case.number]) == 1
        out, err = capsys.readouterr()
        assert "- **監査記録の連鎖: 異常（通番 3 の前記録ハッシュが一致しません）**" in out
        assert err == "監査記録の連鎖が壊れています: 通番 3 の前記録ハッシュが一致しません\n"
