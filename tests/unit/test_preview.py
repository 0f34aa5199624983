"""Previews and the template check: every document of the register renders for every recipient it
allows, in its style, with what staff typed kept as text; `jukinet preview` and `check-templates`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import meta, nodes
from pydantic import BaseModel

from jukinet.cli import main
from jukinet.config.loader import load_config
from jukinet.forms.common import personal_data_problems
from jukinet.notices import samples
from jukinet.notices.documents import DOCUMENTS, Document, Style, addressee_kind, check_request
from jukinet.notices.outbox import NoticeRequest, Outbox, prepare
from jukinet.notices.preview import (
    PREVIEW_NUMBER,
    check_templates,
    recipients_for,
    register_table,
    render_sample,
    sentences,
    style_problems,
)
from jukinet.notices.recipients import Recipient
from jukinet.notices.render import make_environment
from jukinet.notices.samples import APPROVAL, ISSUED, sample_data, sample_incident
from jukinet.plan import Role
from jukinet.settings import PROJECT_ROOT
from jukinet.store.db import make_engine
from jukinet.store.models import Notice, utcnow
from jukinet.store.store import Store
from jukinet.wareki import to_wareki, to_wareki_datetime
from tests.conftest import EXAMPLE_CONFIG

TEMPLATES = PROJECT_ROOT / "templates"
CONFIG = load_config(EXAMPLE_CONFIG)
ENV = make_environment(TEMPLATES, CONFIG.town.notation)
DOCS = sorted(DOCUMENTS.values(), key=lambda d: d.id)
PAIRS = [(d, r) for d in DOCS for r in recipients_for(CONFIG, d)]


def own_variables(doc: Document) -> set[str]:
    """The names the document's own template (and what it includes) reads, not the letter's."""
    assert ENV.loader is not None
    names: set[str] = set()
    pending = [doc.template]
    while pending:
        ast = ENV.parse(ENV.loader.get_source(ENV, pending.pop())[0])
        names |= meta.find_undeclared_variables(ast)
        pending += [n.template.value for n in ast.find_all(nodes.Include)]  # type: ignore[attr-defined]
    return names


class TestRegister:
    def test_every_document_has_its_template(self) -> None:
        for doc in DOCS:
            assert (TEMPLATES / doc.template).is_file(), doc.id

    def test_every_template_belongs_to_a_document(self) -> None:
        registered = {d.template for d in DOCS}
        files = {p.name for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
        assert files == registered

    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_recipients_are_every_one_the_register_allows(self, doc: Document) -> None:
        found = recipients_for(CONFIG, doc)
        for recipient in found:
            check_request(doc, doc.clauses[0], recipient.id)  # the outbox would accept each
        kinds = {addressee_kind(r.id) for r in found}
        assert kinds == {str(a) for a in doc.recipients}  # each addressee has someone
        assert len({r.id for r in found}) == len(found)

    def test_bodies_roles_and_receivers(self) -> None:
        ids = [r.id for r in recipients_for(CONFIG, DOCUMENTS["body_notification"])]
        assert ids == ["shiga:0", "center:0", "municipalities:0", "municipalities:1"]
        receivers = recipients_for(CONFIG, DOCUMENTS["receiving_body_request"])
        assert [r.id for r in receivers] == [
            f"receivers:{i}" for i in range(len(CONFIG.contacts.receivers))
        ]
        mayor = recipients_for(CONFIG, DOCUMENTS["mayor_report"])
        assert [r.id for r in mayor] == [
            f"{Role.MAYOR.value}:{p.id}" for p in CONFIG.roster.holders(Role.MAYOR)
        ]

    def test_table_lists_every_document(self) -> None:
        lines = register_table().splitlines()
        assert lines[0] == "| ID | 件名 | 条項 | 発信 | 宛先 | 文体 | 承認要否 | 送付方法 |"
        assert len(lines) == 2 + len(DOCUMENTS)
        row = next(line for line in lines if line.startswith("| homepage_notice |"))
        assert row == (
            "| homepage_notice | 住基ネットの障害に関するお知らせ（ホームページ告知文） | C2.S3.D6 "
            "| セキュリティ統括責任者 | 企画課 | です・ます（案） | 要 "
            "| 連絡先の送付方法（メール・Webhook・保存）・保存 |"
        )
        assert "| C2.S1.2、C2.S1.3 |" in next(ln for ln in lines if "| failure_report |" in ln)
        assert "本人確認情報の提供先" in next(ln for ln in lines if "receiving_body_request" in ln)

    def test_the_staff_page_shows_the_register(self) -> None:
        """docs/notices.md carries the table as `jukinet preview --list` prints it."""
        page = (PROJECT_ROOT / "docs" / "notices.md").read_text(encoding="utf-8")
        assert register_table() in page


class TestEveryRecipient:
    """Each document, for each recipient the register allows, renders as a letter to that one."""

    @pytest.mark.parametrize(("doc", "recipient"), PAIRS, ids=[f"{d.id}-{r.id}" for d, r in PAIRS])
    @pytest.mark.parametrize("drill", [False, True], ids=["通常", "訓練"])
    def test_renders(self, doc: Document, recipient: Recipient, drill: bool) -> None:
        text = render_sample(ENV, CONFIG, doc, recipient, incident=sample_incident(drill))
        lines = text.splitlines()
        assert doc.subject in lines
        assert recipient.addressee in lines
        number = lines.index(PREVIEW_NUMBER)
        assert lines[number + 1] == to_wareki(ISSUED) == "令和8年11月27日"
        assert (CONFIG.town.sender.omit_seal and not doc.draft) == ("（公印省略）" in text)
        assert f"（{doc.clauses[0]}）" in text
        assert "事案番号　令和8年度-001" in text
        assert text.lstrip().startswith("【訓練】") == drill
        if doc.approval:
            assert f"{APPROVAL['by']}が{to_wareki_datetime(APPROVAL['at'])}に承認" in text
        assert not re.search(r"\d{11,}", text)  # nothing like a 住民票コード or 個人番号


class TestStyle:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_each_document_keeps_its_style(self, doc: Document) -> None:
        assert style_problems(ENV, doc) == []
        polite, plain = sentences(ENV, doc)
        if doc.style is Style.RECORD:
            assert plain and not polite, plain
        else:
            assert not plain, plain

    def write(self, tmp_path: Path, body: str) -> jinja2.Environment:
        shutil.copy(TEMPLATES / "_letter.txt.j2", tmp_path)
        (tmp_path / "protection_instruction.txt.j2").write_text(
            '{% extends "_letter.txt.j2" %}\n{% block body %}\n' + body + "\n{% endblock %}\n",
            encoding="utf-8",
        )
        return make_environment(tmp_path)

    def test_a_polite_sentence_in_a_record_is_found(self, tmp_path: Path) -> None:
        env = self.write(tmp_path, "次のとおり指示する。\n（システム管理者を通じて指示します。）")
        (problem,) = style_problems(env, DOCUMENTS["protection_instruction"])
        assert str(problem) == (
            "文書 protection_instruction: である体の文書に、です・ます体の文があります: "
            "（システム管理者を通じて指示します。）"
        )

    def test_what_staff_typed_does_not_count(self, tmp_path: Path) -> None:
        """The style is the template's: a value such as 「停止しています。」 is the author's."""
        env = self.write(tmp_path, "次のとおり指示する。\n{{ instructions }}")
        assert style_problems(env, DOCUMENTS["protection_instruction"]) == []

    def test_a_letter_without_a_polite_sentence_is_found(self, tmp_path: Path) -> None:
        env = self.write(tmp_path, "次のとおり報告する。")
        letter = DOCUMENTS["mayor_report"]
        shutil.copy(tmp_path / "protection_instruction.txt.j2", tmp_path / letter.template)
        messages = [p.message for p in style_problems(env, letter)]
        assert messages == [
            "です・ます体の文書に、である体の文があります: 次のとおり報告する。",
            "です・ます体の文書ですが、本文に「…ます。」「…です。」で終わる文がありません",
        ]


PAYLOAD = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %} {{ config }}"
_DATE_OR_TIME = re.compile(r"^\d{1,4}[-:]\d{1,2}([-:]\d{1,2})?$")  # parsed by the forms' properties


def poisoned(value: Any) -> Any:
    """Every text that staff could type replaced by template code."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return PAYLOAD if value and not _DATE_OR_TIME.match(value) else value
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return value.model_copy(update={n: poisoned(getattr(value, n)) for n in fields})
    if isinstance(value, dict):
        return {k: poisoned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(v) for v in value]
    return value


class TestTemplateInjection:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    @pytest.mark.parametrize("clause_index", [0, -1], ids=["first", "last"])
    def test_typed_text_is_never_evaluated(self, doc: Document, clause_index: int) -> None:
        clause = doc.clauses[clause_index]
        recipient = recipients_for(CONFIG, doc)[0]
        data = poisoned(sample_data(doc.id, clause))
        incident = sample_incident()
        incident.summary = PAYLOAD  # typed by the discoverer (C1.1); the final report shows it
        text = render_sample(
            ENV, CONFIG, doc, recipient, incident=incident, data=data, clause=clause
        )
        assert PAYLOAD in text
        assert "xxx" not in text
        assert not re.search(r"(?<![\d-])49(?![\d-])", text)
        assert "Config" not in text and "Environment" not in text


class TestMissingField:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_every_field_is_required(self, doc: Document) -> None:
        """Deleting any field the document reads stops it under at least one of its clauses."""
        recipient = recipients_for(CONFIG, doc)[0]
        names = own_variables(doc) & set(sample_data(doc.id))
        assert names, doc.id
        for name in sorted(names):
            stopped = []
            for clause in doc.clauses:
                data = sample_data(doc.id, clause)
                del data[name]
                try:
                    render_sample(ENV, CONFIG, doc, recipient, data=data, clause=clause)
                except jinja2.UndefinedError:
                    stopped.append(clause)
            assert stopped, f"{doc.id}: {name}"

    def test_nothing_goes_out(self, tmp_path: Path) -> None:
        """The outbox renders before it writes a row or a file: a missing field leaves neither."""
        store = Store(make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}"), "254436")
        incident = store.open_incident(
            origin_key="missing-field",
            drill=False,
            declared_class="障害",
            summary="見本",
            declaration={},
        )
        doc = DOCUMENTS["help_request"]
        data = sample_data(doc.id)
        del data["ident"]
        box = Outbox(store, CONFIG, ENV, tmp_path / "archive")
        req = NoticeRequest(doc.clauses[0], doc, recipients_for(CONFIG, doc)[0], "多賀町長", data)
        with pytest.raises(jinja2.UndefinedError, match="ident"):
            prepare(box, incident, req)
        assert store.notices(incident.id) == []
        assert not (tmp_path / "archive").exists()
        store.engine.dispose()


class TestSamples:
    def test_every_document_has_data(self) -> None:
        for doc in DOCS:
            for clause in doc.clauses:
                data = sample_data(doc.id, clause)
                assert ("approval" in data) == doc.approval

    def test_a_fresh_copy_each_time(self) -> None:
        first = sample_data("final_report")
        first["timeline"].clear()
        first["sent"][0]["subject"] = "変更"
        again = sample_data("final_report")
        assert len(again["timeline"]) == 4
        assert again["sent"][0]["subject"] == "住基ネットの障害について（報告）"

    def test_a_clause_the_register_does_not_name_is_refused(self) -> None:
        with pytest.raises(ValueError, match=re.escape("条項 C3.S1.2 では送付しません")):
            sample_data("failure_report", "C3.S1.2")

    def test_closing_and_alarm_data(self) -> None:
        final = sample_data("final_report")
        assert final["closed_at"].tzinfo is not None
        assert set(final["timeline"][0]) == {"at", "clause", "kind", "actor", "summary"}
        assert set(final["sent"][0]) == {"doc_number", "subject", "recipient"}
        alarm = sample_data("undelivered_alarm")
        assert isinstance(alarm["alarm_after"], int)
        assert set(alarm["notice"]) == {
            "doc_number",
            "subject",
            "recipient",
            "channel_title",
            "address",
            "created_at",
            "attempts",
            "last_error",
        }
        assert alarm["notice"]["created_at"].tzinfo is not None

    def test_incident(self) -> None:
        incident = sample_incident()
        assert (incident.number, incident.drill) == ("令和8年度-001", False)
        assert incident.opened_at.tzinfo is not None
        assert sample_incident(drill=True).drill

    def test_no_personal_data(self) -> None:
        forms = [v for v in vars(samples).values() if isinstance(v, BaseModel)]
        assert len(forms) > 15
        for form in forms:
            assert personal_data_problems(form) == [], type(form).__name__


class TestCheckTemplates:
    def test_all_pass(self) -> None:
        report = check_templates(ENV, CONFIG, TEMPLATES)
        assert report.problems == []
        assert report.documents == len(DOCUMENTS)
        assert report.recipients == len(PAIRS)
        assert report.renders == 2 * sum(
            len(recipients_for(CONFIG, d)) * len(d.clauses) for d in DOCS
        )
        assert report.summary.startswith(f"{len(DOCUMENTS)} 文書 × 宛先 {len(PAIRS)} 件")
        assert report.summary.endswith("問題はありません。")

    def test_a_town_without_receivers(self) -> None:
        """C3.S2.4's letter is still checked, addressed to a stand-in, and the note says so."""
        config = replace(CONFIG, contacts=CONFIG.contacts.model_copy(update={"receivers": []}))
        report = check_templates(ENV, config, TEMPLATES)
        assert report.problems == []
        assert (
            "注: 文書 receiving_body_request は設定に宛先がないため、見本の宛先で確認しました。"
            in report.notes
        )

    def test_problems_name_document_and_recipient(self, tmp_path: Path) -> None:
        templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
        path = templates / "help_request.txt.j2"
        path.write_text(
            path.read_text(encoding="utf-8").replace("{{ ident.cause }}", "{{ ident.causes }}"),
            encoding="utf-8",
        )
        (templates / "stray.txt.j2").write_text("x", encoding="utf-8")
        report = check_templates(make_environment(templates), CONFIG, templates)
        lines = [str(p) for p in report.problems]
        assert "文書 stray.txt.j2: 登録簿にない文書のテンプレートです" in lines
        broken = [line for line in lines if line.startswith("文書 help_request（")]
        assert len(broken) == 2 * len(recipients_for(CONFIG, DOCUMENTS["help_request"]))
        assert broken[0].startswith(
            "文書 help_request（宛先 shiga:0、通常）: 文書を作成できません（C2.S1.1）: UndefinedError:"
        )
        assert "causes" in broken[0]
        assert report.summary.endswith(f"問題が {len(lines)} 件あります。")


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = Path(shutil.copytree(EXAMPLE_CONFIG, tmp_path / "config"))
    monkeypatch.setenv("JUKINET_CONFIG_DIR", str(directory))
    monkeypatch.setenv("JUKINET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JUKINET_STORE_URL", f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}")
    monkeypatch.delenv("JUKINET_TEMPLATES_DIR", raising=False)
    return directory


class TestPreviewCommand:
    def test_prints_the_document_unsent(
        self, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["preview", "help_request"]) == 0
        out, err = capsys.readouterr()
        assert out.startswith("【プレビュー】送付していません。")
        assert "件名: 住基ネットの障害の特定及び原因究明に係る支援について（依頼）" in out
        assert "\n（送付時に採番）\n令和8年11月27日\n" in out
        assert "滋賀県 総合企画部 市町振興課（都道府県管理課） 住基ネット担当 様" in out
        assert "多賀町 住基ネット担当者 犬上 一郎（住民課）" in out
        assert "ほかの宛先（--recipient で指定）: center:0、vendor:0" in out
        assert err == ""
        assert not (tmp_path / "home").exists()  # no store, no archive, no number taken

    def test_for_a_recipient_as_a_drill(
        self, config_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert (
            main(["preview", "equipment_order", "--recipient", "R-OPERATOR:inukami", "--drill"])
            == 0
        )
        out = capsys.readouterr().out
        assert "件名: 【訓練】住基ネット機器等への対応について（指示）" in out
        assert "【訓練】この文書は訓練のためのものである。実際の事案ではない。" in out
        assert "送付方法: メール（訓練: 訓練時の宛先 kunren@town.taga.example）" in out
        assert "宛先: 住基ネット担当者 犬上 一郎" in out

    def test_list(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "--list"]) == 0
        out = capsys.readouterr().out
        assert out.strip() == register_table()
        for doc in DOCS:
            assert f"| {doc.id} | {doc.subject} |" in out

    def test_unknown_document(self, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "press_relase"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert "文書ID「press_relase」は文書の登録簿にありません。" in err
        assert "指定できるもの: discovery_report、help_request、" in err
        assert "press_release" in err

    def test_no_document(self, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview"]) == 2
        assert "文書IDを指定してください" in capsys.readouterr().err

    def test_unknown_recipient(self, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["preview", "help_request", "--recipient", "kikaku:0"]) == 2
        err = capsys.readouterr().err
        assert (
            "宛先ID「kikaku:0」は文書「住基ネットの障害の特定及び原因究明に係る支援について（依頼）」"
            in err
        )
        assert "指定できるもの: shiga:0、center:0、vendor:0" in err

    def test_unknown_incident(
        self, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["preview", "help_request", "--incident", "令和8年度-009"]) == 2
        err = capsys.readouterr().err
        assert "事案番号「令和8年度-009」の事案は記録にありません。" in err
        assert "指定できるもの: なし" in err
        assert not (tmp_path / "home").exists()  # the preview did not create a store

    def test_incident_from_the_store(
        self, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        store = Store(make_engine(f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}"), "254436")
        incident = store.open_incident(
            origin_key="preview",
            drill=True,
            declared_class="障害",
            summary="CS サーバ（電算室）: 起動しない",
            declaration={},
        )
        assert main(["preview", "final_report", "--incident", incident.number]) == 0
        out = capsys.readouterr().out
        assert f"事案番号　{incident.number}" in out
        assert "概要　CS サーバ（電算室）: 起動しない" in out
        assert "【訓練】この文書は訓練のためのものです。" in out  # the incident is a drill
        assert f"事案 {incident.number} の見出しに、見本のデータを用いた表示です" in out

        assert main(["preview", "help_request", "--incident", "令和8年度-999"]) == 2
        assert f"指定できるもの: {incident.number}" in capsys.readouterr().err

        body = "（送付した本文）"
        store.enqueue(
            Notice(
                municipality_code="254436",
                key=f"{incident.number}|C2.S1.1|help_request|vendor:0|email",
                document_key=f"{incident.number}|C2.S1.1|help_request|vendor:0",
                incident_id=incident.id,
                clause="C2.S1.1",
                document="help_request",
                recipient_id="vendor:0",
                recipient="保守委託事業者（湖東システム株式会社 保守サービス部）",
                address="hoshu@koto-system.example",
                channel="email",
                doc_number="多住第7号",
                subject="【訓練】住基ネットの障害の特定及び原因究明に係る支援について（依頼）",
                body=body,
                status="failed",
                attempts=2,
                created_at=utcnow(),
            )
        )
        assert main(["preview", "help_request", "--incident", incident.number]) == 0
        out = capsys.readouterr().out
        assert out.startswith("【送付の記録】")
        assert "条項: C2.S1.1　状態: メール 送付失敗（再送待ち）" in out
        assert "文書番号: 多住第7号" in out
        assert out.rstrip().endswith(body)
        assert len(store.notices(incident.id)) == 1
        store.engine.dispose()

    def test_as_a_command(self, config_dir: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "jukinet.cli", "preview", "undelivered_alarm"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "未送付の通知について（警報）" in done.stdout
        assert "作成から 30 分を過ぎても送付できていない。" in done.stdout


class TestCheckTemplatesCommand:
    def test_passes(self, config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["check-templates"]) == 0
        out = capsys.readouterr().out
        last = out.rstrip().splitlines()[-1]
        assert last.startswith(f"{len(DOCUMENTS)} 文書 × 宛先 {len(PAIRS)} 件")
        assert last.endswith("問題はありません。")

    def test_fails_on_a_broken_template(
        self,
        config_dir: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
        path = templates / "system_stop_order.txt.j2"
        path.write_text(
            path.read_text(encoding="utf-8").replace("命ずる。", "命じます。"), encoding="utf-8"
        )
        monkeypatch.setenv("JUKINET_TEMPLATES_DIR", str(templates))
        assert main(["check-templates"]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert any(
            line.startswith("文書 system_stop_order: である体の文書に、です・ます体の文があります")
            for line in lines
        )
        assert lines[-1].endswith("問題が 1 件あります。")
