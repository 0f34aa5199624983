"""Every document (chapters 1–3) renders from real templates with StrictUndefined and reads as a letter.

The sample data is jukinet.notices.samples: what the tasks pass, under the register's clauses.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest
from jinja2 import meta

from flows import resend
from jukinet.config.loader import load_config
from jukinet.config.models import Town
from jukinet.forms.chapter2 import ResumptionBy
from jukinet.forms.chapter3 import LevelRaise, LikelyLevel, MeetingResult3
from jukinet.meeting import decision_lines, meeting_agenda
from jukinet.notices import samples
from jukinet.notices.documents import DOCUMENTS, Document, Style
from jukinet.notices.outbox import NoticeRequest, render_document
from jukinet.notices.recipients import Recipient
from jukinet.notices.render import make_environment, render
from jukinet.notices.samples import (
    ALSO_SENT,
    ANALYSIS,
    APPROVAL,
    CAUSE,
    DATA,
    DECLARATION,
    DETERMINATION,
    FINDINGS,
    INSTRUCTION,
    INTEGRITY,
    ISSUED,
    JUDGEMENT,
    MEASURES,
    NOTIFICATION,
    REPORT,
    RESULT,
    RESULT3,
    RESUMED,
    REVIEW,
    SUGGESTION,
    choice,
    sample_data,
    sample_incident,
)
from jukinet.plan import (
    MEETING_ITEMS_CH2,
    MEETING_ITEMS_CH3,
    ThreatLevel,
    clause_title,
    suggest_level,
)
from jukinet.settings import PROJECT_ROOT
from jukinet.wareki import to_wareki_datetime
from tasks import chapter2_meeting, chapter3_meeting, closing
from tests.conftest import EXAMPLE_CONFIG

ENV = make_environment(PROJECT_ROOT / "templates")
TOWN = load_config(EXAMPLE_CONFIG).town
INCIDENT = sample_incident()


def level3_decisions(result: MeetingResult3) -> list[dict[str, str]]:
    """As tasks/chapter3_meeting.py builds them for the mayor (C3.S4.3)."""
    return decision_lines(
        result,
        chapter3_meeting.MEASURES,
        MEETING_ITEMS_CH3,
        chapter3_meeting.decision_texts(result),
    )


def letter(
    doc: Document,
    clause: str | None = None,
    *,
    approval: dict[str, Any] | None = None,
    drill: bool = False,
    town: Town = TOWN,
) -> dict[str, Any]:
    """The fields jukinet.notices.outbox.render_document adds to every document."""
    clause = clause or doc.clauses[0]
    return {
        "town": town,
        "incident": INCIDENT,
        "drill": drill,
        "doc_number": "多住第12号",
        "issued": ISSUED,
        "addressee": "滋賀県 総合企画部 市町振興課 住基ネット担当 様",
        "sender": "多賀町長",
        "subject": doc.subject,
        "clause": clause,
        "clause_title": clause_title(clause),
        "draft": doc.draft,
        "style": doc.style.value,
        "approval": approval,
    }


def context(doc: Document, clause: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """The sample data the tasks send under `clause` (the register's first), as a letter."""
    data = sample_data(doc.id, clause)
    return {**data, **letter(doc, clause, approval=data.get("approval"), **kwargs)}


def variables(doc: Document) -> set[str]:
    """Every name a document's template and its parent letter refer to."""
    assert ENV.loader is not None
    names: set[str] = set()
    for name in (doc.template, "_letter.txt.j2"):
        source = ENV.loader.get_source(ENV, name)[0]
        names |= meta.find_undeclared_variables(ENV.parse(source))
    return names


DOCS = sorted(DOCUMENTS.values(), key=lambda d: d.id)
DRAFTS = [d for d in DOCS if d.draft]
LETTERS = [d for d in DOCS if not d.draft]


def test_every_document_has_a_template_and_a_clause() -> None:
    files = {p.name for p in (PROJECT_ROOT / "templates").glob("*.txt.j2")}
    assert {d.template for d in DOCS} <= files
    for doc in DOCS:
        assert doc.clauses, doc.id
        for clause in doc.clauses:
            assert clause_title(clause), (doc.id, clause)
    assert {d.id for d in DRAFTS} == {
        "homepage_notice",
        "info_sheet",
        "press_release",
        "unauthorized_homepage_notice",
        "unauthorized_info_sheet",
        "unauthorized_press_release",
    }


def test_context_is_what_render_document_adds() -> None:
    """The tests' letter fields are the outbox's: same text for the same inputs."""
    doc = DOCUMENTS["homepage_notice"]
    recipient = Recipient(
        id="kikaku:0",
        name="企画課",
        addressee="滋賀県 総合企画部 市町振興課 住基ネット担当 様",
        addresses=(),
    )
    req = NoticeRequest(doc.clauses[0], doc, recipient, "多賀町長", sample_data(doc.id))
    sent = render_document(ENV, TOWN, INCIDENT, req, doc_number="多住第12号", issued=ISSUED)
    assert sent == render(ENV, doc.template, context(doc))


class TestRenders:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_letter_fields(self, doc: Document) -> None:
        text = render(ENV, doc.template, context(doc))
        lines = text.splitlines()
        number_line = lines.index("多住第12号")
        assert lines[number_line + 1] == "令和8年11月27日"  # dated in 和暦 (Japan date), not timed
        assert "滋賀県 総合企画部 市町振興課 住基ネット担当 様" in text
        assert "多賀町長" in text
        assert doc.subject in text
        assert f"（{doc.clauses[0]}）" in text
        assert clause_title(doc.clauses[0]) in text
        assert "事案番号　令和8年度-001" in text
        assert "電話 0749-00-0000" in text
        assert "【訓練】" not in text

    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_no_western_calendar_dates(self, doc: Document) -> None:
        text = render(ENV, doc.template, context(doc))
        assert not re.search(r"(19|20)\d\d[-/年]", text), text

    @pytest.mark.parametrize("doc", LETTERS, ids=lambda d: d.id)
    def test_seal_omitted_where_configured(self, doc: Document) -> None:
        assert "（公印省略）" in render(ENV, doc.template, context(doc))
        sealed = TOWN.model_copy(
            update={"sender": TOWN.sender.model_copy(update={"omit_seal": False})}
        )
        assert "（公印省略）" not in render(ENV, doc.template, context(doc, town=sealed))
        assert "【案】" not in render(ENV, doc.template, context(doc))

    @pytest.mark.parametrize("doc", DRAFTS, ids=lambda d: d.id)
    def test_drafts_say_so(self, doc: Document) -> None:
        """A draft without an approval (the 情報資料, or the text shown to the approver) is 【案】."""
        text = render(ENV, doc.template, {**context(doc), "approval": None})
        assert text.lstrip().startswith("【案】")
        assert "（公印省略）" not in text
        assert context(doc)["result"].d6_message in text  # the meeting's D6 decision

    @pytest.mark.parametrize("doc", [d for d in DRAFTS if d.approval], ids=lambda d: d.id)
    def test_approved_drafts_say_who_approved(self, doc: Document) -> None:
        text = render(ENV, doc.template, context(doc))
        assert text.lstrip().startswith(
            f"【公表用】この文書は{APPROVAL['by']}が{to_wareki_datetime(APPROVAL['at'])}に承認"
        )
        assert "令和8年11月27日 14時00分" in text  # Japan time
        assert "【案】" not in text
        assert "（公印省略）" not in text

    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_drill_banner(self, doc: Document) -> None:
        text = render(ENV, doc.template, context(doc, drill=True))
        ending = "ものである。" if doc.style is Style.RECORD else "ものです。"
        assert text.lstrip().startswith(f"【訓練】この文書は訓練のための{ending}")


class TestContent:
    def render(self, doc_id: str, clause: str | None = None, **data: Any) -> str:
        doc = DOCUMENTS[doc_id]
        return render(ENV, doc.template, {**context(doc, clause), **data})

    def test_discovery_report(self) -> None:
        text = self.render("discovery_report")
        assert "発見日時　令和8年11月27日 8時45分" in text
        assert DECLARATION.observed in text
        assert "http://127.0.0.1:4200/v2/runs/flow-run/00000000" in text

    def test_failure_report_lists_the_identification(self) -> None:
        """C2.S1.3: セキュリティ責任者 reports through システム管理者, with remarks."""
        text = self.render("failure_report", "C2.S1.3")
        assert "障害の種類　ハードウェアの障害" in text
        assert "確認方法　警告ランプの確認、形状異常の確認" in text
        assert "支援の依頼先　保守委託事業者" in text
        assert "保守作業の依頼　依頼した" in text
        assert "（システム管理者を経て報告します。）" in text
        assert "補足　保守事業者へ連絡済み" in text

    def test_failure_report_without_via_or_remarks(self) -> None:
        """C2.S1.2: 住基ネット担当者 reports straight to セキュリティ責任者."""
        assert DOCUMENTS["failure_report"].clauses[0] == "C2.S1.2"
        text = self.render("failure_report")
        assert "を経て報告します" not in text
        assert "補足" not in text

    def test_meeting_time_in_japan_time(self) -> None:
        assert "日時　令和8年11月27日 13時30分" in self.render("meeting_convening")

    def test_mayor_report_names_the_judgement(self) -> None:
        text = self.render("mayor_report")
        assert "長時間の停止となると判断しました" in text
        assert JUDGEMENT.reason in text

    def test_meeting_result_lists_every_decision(self) -> None:
        """C2.S3.3 reports C2.S3.D1–C2.S3.D8, e.g. C2.S3.D4 体制, C2.S3.D5 町民, C2.S3.D7 代替措置."""
        text = self.render("meeting_result_report")
        assert "住基ネットの障害に関し、セキュリティ会議を開催し" in text
        for item in MEETING_ITEMS_CH2:
            assert re.search(f"^{item.title}　", text, re.MULTILINE), item.clause
        assert f"緊急体制の確立　{RESULT.d4_structure}" in text
        assert f"町民への対応　{RESULT.d5_residents}" in text
        assert f"代替措置の実施　{RESULT.d7_alternatives}" in text
        assert f"機器等への対応　{RESULT.d1_measure.value}（{RESULT.d1_detail}）" in text
        assert "関係機関への連絡　全国センター、都道府県管理課（滋賀県）" in text
        assert "広報対応　ホームページ等での告知、記者発表" in text
        assert f"再開運用の決定　{ResumptionBy.MEETING.value}" in text

    @pytest.mark.parametrize("doc_id", ["meeting_convening", "meeting_result_report"])
    def test_chapter2_meeting_approves_the_data_protection_measures(self, doc_id: str) -> None:
        text = self.render(doc_id)
        assert "データ保護等の措置" in text
        assert "緊急の措置等" not in text

    def test_repair_request_without_a_meeting(self) -> None:
        text = self.render("repair_request", result=None)
        assert "会議決定" not in text
        assert "会議決定" in self.render("repair_request")

    def test_resumption_times(self) -> None:
        text = self.render("resumption_notice")
        assert "運用再開日時　令和8年11月28日 17時00分" in text
        assert "復旧日時　令和8年11月28日 16時10分" in text

    def test_prevention_report_lists_adopted_measures(self) -> None:
        text = self.render("prevention_report")
        assert "C2.3.T1 障害監視の強化　実施する" in text
        assert "内容 電源監視の追加／担当 総務課／期限 令和9年3月31日" in text
        assert "C2.3.O2 オーバーホールの実施　実施しない" in text
        assert "C2.3 手順書の改訂　実施する" in text

    def test_user_text_is_rendered_as_text(self) -> None:
        tricky = DECLARATION.model_copy(update={"observed": "{{ town.sender.phone }} <b>&</b>"})
        text = self.render("discovery_report", declaration=tricky)
        assert "発見した状況　{{ town.sender.phone }} <b>&</b>" in text

    def test_autoescape_only_for_html(self) -> None:
        assert callable(ENV.autoescape)
        assert ENV.autoescape("notice.html") is True
        assert ENV.autoescape("notice.txt.j2") is False


def sent_pairs() -> set[tuple[str, str]]:
    """(clause, document) of every notice the tasks and flows send."""
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("tasks", "flows")
        for p in (PROJECT_ROOT / folder).glob("*.py")
    )
    pairs = set(re.findall(r'notify\(\s*incident,\s*"(C[0-9A-Z.]+)",\s*"([a-z0-9_]+)"', source))
    pairs |= {
        (clause, "discovery_report")
        for clause in re.findall(r'send_discovery\(\s*incident,\s*"(C[0-9A-Z.]+)"', source)
    }
    for docs in (chapter2_meeting.DOCUMENTS, chapter3_meeting.DOCUMENTS):  # send_decisions
        pairs |= {
            (f"{docs.prefix}.D1", "equipment_order"),
            (f"{docs.prefix}.D2", docs.notification),
            (f"{docs.prefix}.D3", docs.support),
            *((f"{docs.prefix}.D6", d) for d in docs.publicity.values()),
        }
    pairs |= {  # flows/resend.py raises the alarm
        (clause, resend.ALARM)
        for clause in re.findall(r'notify\(\s*incident,\s*"(C[0-9A-Z.]+)",\s*ALARM', source)
    }
    default = inspect.signature(closing.close_incident.fn).parameters["clause"].default
    pairs |= {  # the flows close the incident with the final report (tasks/closing.py)
        (clause or default, "final_report")
        for clause in re.findall(
            r'close_when_delivered\(\s*\w+,\s*"C[0-9A-Z.]+",\s*close\w*,\s*[\w.]+'
            r'(?:,\s*"(C[0-9A-Z.]+)")?',
            source,
        )
    }
    return pairs


class TestAsTheTasksSend:
    """The sample data and the register agree with what the tasks send."""

    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_clause_is_one_the_tasks_send_it_under(self, doc: Document) -> None:
        assert (doc.clauses[0], doc.id) in sent_pairs()

    def test_register_clauses_are_the_clauses_sent(self) -> None:
        assert {(c, d.id) for d in DOCS for c in d.clauses} == sent_pairs()

    def test_every_notice_sent_has_sample_data(self) -> None:
        """Each (clause, document) the tasks send: the register's first clause or ALSO_SENT."""
        covered = {(d.clauses[0], d.id) for d in DOCS} | set(ALSO_SENT)
        assert sent_pairs() == covered
        for clause, doc_id in ALSO_SENT:
            assert clause in DOCUMENTS[doc_id].clauses[1:], (clause, doc_id)

    def test_meetings_as_the_tasks_write_them(self) -> None:
        assert (samples.MATTER_CH2, samples.MEASURES_CH2) == (
            chapter2_meeting.MATTER,
            chapter2_meeting.MEASURES,
        )
        assert (samples.MATTER_CH3, samples.MEASURES_CH3) == (
            chapter3_meeting.MATTER,
            chapter3_meeting.MEASURES,
        )
        assert DATA["decisions"] == decision_lines(
            RESULT,
            chapter2_meeting.MEASURES,
            MEETING_ITEMS_CH2,
            chapter2_meeting._decision_texts(RESULT),
        )
        assert sample_data("meeting_result_report", "C3.S4.3")["decisions"] == level3_decisions(
            RESULT3
        )
        assert DATA["agenda"] == meeting_agenda(
            "障害の状況・原因・支障の程度の報告", chapter2_meeting.MEASURES, MEETING_ITEMS_CH2
        )
        assert sample_data("meeting_convening", "C3.S4.1")["agenda"] == meeting_agenda(
            "不正行為の状況・原因・支障の程度の報告", chapter3_meeting.MEASURES, MEETING_ITEMS_CH3
        )

    @pytest.mark.parametrize(
        "docs", [chapter2_meeting.DOCUMENTS, chapter3_meeting.DOCUMENTS], ids=lambda d: d.prefix
    )
    def test_decision_documents_go_where_the_register_allows(self, docs: Any) -> None:
        """D1 is carried out by the roles the register names for equipment_order."""
        assert set(docs.carried_out_by) <= set(DOCUMENTS["equipment_order"].recipients)


class TestChapter3:
    """The chapter-3 letters read as the plan says, with the data their tasks send."""

    def render(self, doc_id: str, clause: str | None = None, **data: Any) -> str:
        doc = DOCUMENTS[doc_id]
        return render(ENV, doc.template, {**context(doc, clause), **data})

    @pytest.mark.parametrize(("clause", "doc_id"), sorted(ALSO_SENT), ids=lambda v: str(v))
    def test_also_sent_under_another_clause(self, clause: str, doc_id: str) -> None:
        text = self.render(doc_id, clause)
        assert f"（{clause}）" in text
        assert clause_title(clause).startswith({"C2": "第2章", "C3": "第3章"}[clause[:2]])
        assert clause_title(clause) in text
        assert not re.search(r"(19|20)\d\d[-/年]", text), text

    @pytest.mark.parametrize(
        ("ordered_at", "shown"),
        [
            (datetime(2026, 11, 27, 0, 50, tzinfo=UTC), "令和8年11月27日 9時50分"),
            (datetime(2026, 11, 26, 15, 30, tzinfo=UTC), "令和8年11月27日 0時30分"),
        ],
    )
    def test_system_stop_order(self, ordered_at: datetime, shown: str) -> None:
        """C3.S2.2: the measure, its target, who ordered it and when (Japan time, 和暦)."""
        text = self.render("system_stop_order", ordered_at=ordered_at)
        assert "レベル3に該当する可能性が高いため" in text
        assert "措置　ネットワークからの切り離し" in text
        assert "対象　CS サーバ（電算室）" in text
        assert "命令者　セキュリティ統括責任者 霊仙 正（副町長）" in text
        assert f"命令日時　{shown}" in text

    def test_level1_report_lifts_the_emergency(self) -> None:
        """C3.S3.1: level 1 is reported inside the town and the emergency is lifted."""
        text = self.render("level1_report")
        assert "脅威度をレベル1（本人確認情報等に脅威を及ぼすおそれがない）と判定" in text
        assert "緊急時対応を解除します" in text
        assert (
            "手順2②で実施したシステムの停止（CS サーバをネットワークから切り離した）を解除" in text
        )
        assert "判定者　セキュリティ管理者 芹川 直樹（総務課 情報係）" in text
        assert f"該当する事例　{choice('レベル1-(1)').value}" in text
        assert f"判定の理由　{DETERMINATION.reason}" in text
        assert "連絡調整した機関　全国センター、滋賀県" in text

    def test_level1_report_without_a_stop(self) -> None:
        unconsulted = DETERMINATION.model_copy(update={"consulted": []})
        text = self.render("level1_report", stop=None, determination=unconsulted)
        assert "緊急時対応を解除します" in text
        assert "システムの停止" not in text
        assert "連絡調整した機関　なし" in text

    def test_mayor_report_at_the_instruction_and_at_level3(self) -> None:
        """C3.S2 reports the act and the instructions; C3.S3.4 the level and the meeting."""
        first = self.render("unauthorized_mayor_report")  # C3.S2, the register's first
        level3 = self.render("unauthorized_mayor_report", "C3.S3.4")
        assert first != level3
        for text in (first, level3):
            assert "機器　CS サーバ（電算室）" in text
            assert f"不正行為の内容　{REPORT.act}" in text

        assert "住基ネットにおいて不正行為が確認されましたので報告します" in first
        assert f"データ保護等の指示　{INSTRUCTION.instructions}" in first
        assert "レベル3に該当する可能性　レベル3に該当する可能性が高い" in first
        assert "システムの停止　ネットワークからの切り離し" in first
        assert "セキュリティ会議を招集" not in first
        assert "判定・判断の理由" not in first
        assert "（C3.S2）" in first

        assert "脅威度をレベル3と判定し" in level3
        assert "セキュリティ会議を招集します" in level3
        assert f"判定・判断の理由　{DATA['reason']}" in level3
        assert "データ保護等の指示" not in level3
        assert "（C3.S3.4）" in level3

    def test_meeting_result_lists_every_decision_d1_to_d9(self) -> None:
        """C3.S4.3 reports the approval (C3.S4.2) and C3.S4.D1–C3.S4.D9 to the mayor."""
        assert [i.clause for i in MEETING_ITEMS_CH3] == [f"C3.S4.D{n}" for n in range(1, 10)]
        text = self.render("meeting_result_report", "C3.S4.3")
        assert "住基ネットにおける不正行為に関し、セキュリティ会議を開催し" in text
        titles = [line.split("　")[0] for line in text.splitlines() if "　" in line]
        expected = ["緊急の措置等", *(i.title for i in MEETING_ITEMS_CH3)]
        assert [t for t in titles if t in expected] == expected  # each once, in the plan's order
        assert "緊急の措置等　修正のうえ承認する（切り離しを統合端末にも広げる）" in text
        assert (
            "システムへの措置　ネットワークからの切り離し（CS サーバと統合端末をネットワークから切り離す）"
            in text
        )
        assert "関係機関への連絡　全国センター、都道府県管理課（滋賀県）、関係市町村" in text
        assert "技術的支援依頼　全国センター、保守委託事業者" in text
        assert f"緊急体制の確立　{RESULT3.d4_structure}" in text
        assert f"町民への対応　{RESULT3.d5_residents}" in text
        assert "広報対応　ホームページ等での告知、情報資料提供、記者発表" in text
        assert f"代替措置の実施　{RESULT3.d7_alternatives}" in text
        assert f"緊急措置の見直し判断　{RESULT3.d8_review}" in text
        assert f"再開運用の決定　{ResumptionBy.MEETING.value}" in text

    def test_meeting_result_without_bodies_says_none(self) -> None:
        quiet = RESULT3.model_copy(update={"d2_bodies": [], "d3_support": [], "d6_publicity": []})
        text = self.render(
            "meeting_result_report",
            "C3.S4.3",
            matter=chapter3_meeting.MATTER,
            decisions=level3_decisions(quiet),
        )
        assert "関係機関への連絡　なし" in text
        assert "技術的支援依頼　なし" in text
        assert "広報対応　なし" in text

    def test_meeting_convening_agenda(self) -> None:
        """C3.S4.1: the agenda is the report, the approval (C3.S4.2) and the items D1–D9."""
        text = self.render("meeting_convening", "C3.S4.1")
        assert "住基ネットにおける不正行為への対策を協議するため" in text
        agenda = ["不正行為の状況・原因・支障の程度の報告", "緊急の措置等の承認"]
        agenda += [i.title for i in MEETING_ITEMS_CH3]
        assert f"議題　{'、'.join(agenda)}" in text
        assert f"概要　CS サーバ（電算室）: {REPORT.act}" in text
        assert "日時　令和8年11月27日 13時30分" in text

    def test_protection_instruction_names_the_level3_likelihood(self) -> None:
        text = self.render("protection_instruction", "C3.S2")
        assert INSTRUCTION.instructions in text
        assert "レベル3に該当する可能性　レベル3に該当する可能性が高い" in text
        assert "運用停止に関する判断" not in text

    def test_report_shows_examples_and_suggestion(self) -> None:
        """C3.S1.2: the staff report with the plan's examples and the suggested level."""
        text = self.render("unauthorized_report")  # C3.S1.2, the register's first
        assert "発見日時　令和8年11月27日 8時45分" in text
        assert "発生時期　令和8年11月26日 22時10分（ファイアウォールの記録による推定）" in text
        assert f"応急措置　{REPORT.measures_taken}" in text
        assert (
            "該当する事例　レベル2-(2) ファイアウォールを通過しなかった不正アクセス、"
            "レベル3-(2) ファイアウォールを通過した不正アクセス"
        ) in text
        assert f"脅威度の提案　レベル3（{SUGGESTION.reason}）" in text
        assert "レベル3-(2)" in SUGGESTION.reason
        for absent in ("通報元", "調査・分析の結果", "脅威度の見込み", "を経て報告します", "補足"):
            assert absent not in text

    def test_report_of_a_notification_shows_the_analysis(self) -> None:
        """C3.S1.4 of a response opened by a notification (C3.S1.3): the analysis and the level."""
        text = self.render("unauthorized_report", "C3.S1.4")
        assert "通報元　全国センター（住基ネット全国センター 運用監視担当）" in text
        assert "通報の受信日時　令和8年11月27日 8時20分" in text
        assert f"調査・分析の結果　{ANALYSIS.analysis}" in text
        assert "脅威度の見込み　レベル3に該当する可能性が高い" in text
        assert "脅威度の提案　レベル3（" in text
        assert "（システム管理者を経て報告します。）" in text
        assert "補足　保守事業者へ連絡済み" in text

    def test_report_gives_the_reason_for_a_likely_level_below_the_suggestion(self) -> None:
        """C3.S1.3 requires 見込みの理由 when the likely level is below the suggestion; the
        report up the chain (C3.S1.4) shows both levels, so it should show the reason too."""
        low = ANALYSIS.model_copy(
            update={"likely_level": LikelyLevel.L2, "likely_reason": "許可済みの試験用通信だった"}
        )
        text = self.render("unauthorized_report", "C3.S1.4", report=low)
        assert "脅威度の見込み　レベル2に該当する可能性が高い" in text
        assert "許可済みの試験用通信だった" in text

    def test_report_without_examples(self) -> None:
        bare = REPORT.model_copy(update={"examples": []})
        text = self.render("unauthorized_report", report=bare, suggestion=suggest_level([]))
        assert "該当する事例　選択なし" in text
        assert "脅威度の提案　提案なし（計画書の事例が選ばれていないため" in text

    def test_coordination_request_names_the_likely_level(self) -> None:
        """C3.S1.3（ウ）: level 2 or 3 likely → 滋賀県 and 全国センター are asked to help."""
        text = self.render("coordination_request")
        assert "全国センターからの通報に係る不正行為" in text
        assert "脅威度がレベル3に該当する可能性が高いと判断しました" in text
        assert f"調査・分析の結果　{ANALYSIS.analysis}" in text

    def test_notification_received(self) -> None:
        text = self.render("notification_received")
        assert "全国センターから、住基ネットのセキュリティを侵犯する不正行為に係る通報" in text
        assert "受信日時　令和8年11月27日 8時20分" in text
        assert f"通報の内容　{NOTIFICATION.content}" in text
        assert "http://127.0.0.1:4200/v2/runs/flow-run/00000000" in text

    def test_cooperation_and_receiving_body_requests(self) -> None:
        """C3.S2.1 asks for cooperation; C3.S2.4 asks the receiving body for its measures."""
        cooperation = self.render("cooperation_request")
        assert f"本町が講じた措置　{MEASURES.spread_measures}" in cooperation
        receiving = self.render("receiving_body_request")
        assert f"要請する措置　{MEASURES.receiving_request}" in receiving
        assert "講じた措置について報告をお願いします" in receiving

    def test_cause_report_shows_a_raise_only_when_raised(self) -> None:
        """C3.S3.2: new facts may raise the level to 3."""
        assert "脅威度の見直し" not in self.render("cause_report")
        raised = CAUSE.model_copy(
            update={
                "raise_level": LevelRaise.TO_L3,
                "raise_reason": "統合端末にも不審な操作があった",
            }
        )
        text = self.render("cause_report", cause=raised, level_label=ThreatLevel.L2.label)
        assert "不正行為（脅威度 レベル2）" in text
        assert (
            "脅威度の見直し　レベル3に引き上げる（新たな事実による）（理由: 統合端末にも不審な操作があった）"
            in text
        )

    def test_review_notice_numbers_the_round(self) -> None:
        """C3.S4.D8 is recorded as often as needed; each notice names its round."""
        text = self.render("review_notice")
        assert "（第2回）" in text
        assert f"進捗状況　{REVIEW.progress}" in text
        assert "引き上げの理由" not in text
        raised = REVIEW.model_copy(
            update={"raise_level": LevelRaise.TO_L3, "raise_reason": "ログに持ち出しの形跡"}
        )
        assert "引き上げの理由　ログに持ち出しの形跡" in self.render("review_notice", review=raised)

    @pytest.mark.parametrize("decision_by", ["運用再開の決定", "運用再開の承認"])
    def test_integrity_report_asks_the_meeting_or_the_chief(self, decision_by: str) -> None:
        """C3.S6.1: the chief approves, or the meeting decides where it ordered a stop."""
        text = self.render("integrity_report", decision_by=decision_by)
        assert f"{decision_by}をお願いします。" in text
        assert f"本人確認情報の整合性　{INTEGRITY.result.value}" in text

    @pytest.mark.parametrize(
        "doc_id", ["resumption_mayor_report", "unauthorized_resumption_notice"]
    )
    def test_resumption_in_japan_time(self, doc_id: str) -> None:
        text = self.render(doc_id)
        assert "運用再開日時　令和8年11月30日 9時00分" in text
        assert "セキュリティ会議の決定を経て、運用を再開しました" in text

    def test_resumption_mayor_report_lists_the_measures(self) -> None:
        """C3.S6.2 access rights and services, reported to the mayor (C3.S6.3)."""
        text = self.render("resumption_mayor_report")
        assert f"アクセス権限の設定変更　{RESUMED.access_rights}" in text
        assert f"町民サービスの停止解除　{RESUMED.services}" in text
        assert f"原因　{FINDINGS.cause}" in text

    def test_permanent_measures_report_lists_adopted_measures(self) -> None:
        """C3.2: adopted measures with 内容・担当 and the 期限 in 和暦; others marked as not taken."""
        text = self.render("permanent_measures_report")
        assert "ファイアウォール設定の定期点検　実施する" in text
        assert "　内容 設定変更の都度、第三者が確認する／担当 総務課／期限 令和9年3月31日" in text
        assert "外部監査の導入　実施しない" in text
        assert text.count("／担当") == 1

    @pytest.mark.parametrize(
        "doc_id",
        ["unauthorized_homepage_notice", "unauthorized_info_sheet", "unauthorized_press_release"],
    )
    def test_drafts_use_the_chapter3_meeting(self, doc_id: str) -> None:
        """C3.S4.D6: the drafts carry this meeting's message, not chapter 2's."""
        text = self.render(doc_id)
        assert "不正行為" in text
        assert RESULT3.d6_message in text
        assert RESULT.d6_message not in text


class TestStrictUndefined:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_context_is_complete(self, doc: Document) -> None:
        assert variables(doc) <= set(context(doc)), variables(doc) - set(context(doc))

    @pytest.mark.parametrize(
        ("doc", "name"),
        [
            (d, n)
            for d in DOCS
            for n in sorted(variables(d))
            if d.draft or n != "approval"  # the letter looks at the approval of drafts only
        ],
        ids=lambda v: v.id if isinstance(v, Document) else str(v),
    )
    def test_missing_field_is_an_error(self, doc: Document, name: str) -> None:
        """Under each clause the data takes the template's branches of that clause; a field
        is read in at least one of them, and missing there it stops the letter."""
        raised = []
        for clause in doc.clauses:
            ctx = context(doc, clause, drill=True)  # the drill banner reads the style
            del ctx[name]
            try:
                render(ENV, doc.template, ctx)
            except jinja2.UndefinedError:
                raised.append(clause)
        assert raised, f"{name} is read under none of {doc.clauses}"

    def test_missing_attribute_is_an_error(self) -> None:
        doc = DOCUMENTS["meeting_result_report"]
        with pytest.raises(jinja2.UndefinedError, match="title"):
            render(ENV, doc.template, {**context(doc), "decisions": [{"text": "x"}]})

    def test_missing_attribute_of_a_form_is_an_error(self) -> None:
        doc = DOCUMENTS["system_stop_order"]
        with pytest.raises(jinja2.UndefinedError, match="stop_target"):
            render(ENV, doc.template, {**context(doc), "instruction": {"system_stop": "x"}})
