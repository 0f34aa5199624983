"""Every chapter-2 document renders from real templates with StrictUndefined and reads as a letter."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import jinja2
import pytest
from jinja2 import meta

from jukinet.config.loader import load_config
from jukinet.config.models import Town
from jukinet.forms.chapter1 import DiscoveryReport, PresumedClass
from jukinet.forms.chapter2 import (
    PREVENTION_FIELDS,
    CheckMethod,
    ChiefJudgement,
    FailureIdentification,
    FreePreventionItem,
    HelpBody,
    IntegrityConfirmation,
    IntegrityResult,
    MeasuresApproval,
    MeetingConvening,
    MeetingResult,
    NotifyBody,
    OutageJudgement,
    PreventionItem,
    PreventionPlan,
    Publicity,
    RepairReport,
    RepairStatus,
    ResumptionBy,
    SupportBody,
)
from jukinet.forms.common import jst_datetime
from jukinet.notices.documents import DOCUMENTS, Document
from jukinet.notices.render import make_environment, render
from jukinet.plan import PREVENTION_MEASURES, FailureType, Role, SystemMeasure, clause_title
from jukinet.settings import PROJECT_ROOT
from jukinet.store.models import Incident
from tests.conftest import EXAMPLE_CONFIG

ENV = make_environment(PROJECT_ROOT / "templates")
TOWN = load_config(EXAMPLE_CONFIG).town
ISSUED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # already 27 November in Japan
INCIDENT = Incident(number="令和8年度-001", drill=False)

# The clause each document is sent under (tasks/), so the letter cites it.
CLAUSES = {
    "discovery_report": "C2.S1.1",
    "help_request": "C2.S1.1",
    "maintenance_request": "C2.S1.2",
    "failure_report": "C2.S1.3",
    "protection_instruction": "C2.S2.1",
    "mayor_report": "C2.S2.2",
    "meeting_convening": "C2.S3.1",
    "equipment_order": "C2.S3.D1",
    "body_notification": "C2.S3.D2",
    "support_request": "C2.S3.D3",
    "homepage_notice": "C2.S3.D6",
    "info_sheet": "C2.S3.D6",
    "press_release": "C2.S3.D6",
    "meeting_result_report": "C2.S3.3",
    "repair_request": "C2.S4",
    "recovery_notice": "C2.S5",
    "resumption_notice": "C2.S5",
    "prevention_report": "C2.3",
}

DECLARATION = DiscoveryReport(
    discovered_on=date(2026, 11, 27),
    discovered_at="08:45",
    place="CS サーバ（電算室）",
    observed="CS サーバの警告ランプが赤く点灯し、端末から接続できない",
    reporter="犬上 一郎（住民課）",
    presumed=PresumedClass.FAILURE,
)
IDENT = FailureIdentification(
    failure_type=FailureType.HARDWARE,
    check_methods=[CheckMethod.WARNING_LAMP, CheckMethod.SHAPE],
    check_results="電源ユニットの警告ランプが点灯",
    location="CS サーバ（電算室）",
    cause="電源ユニットの故障",
    impact="住民票の写しの広域交付ができない",
    help_from=[HelpBody.VENDOR],
    request_maintenance=True,
)
JUDGEMENT = ChiefJudgement(
    instructions="CS サーバのデータの書き込みを止めてください",
    judgement=OutageJudgement.LONG,
    reason="電源ユニットの交換に1日以上かかる見込み",
)
CONVENING = MeetingConvening(
    meeting_on=date(2026, 11, 27), meeting_at="13:30", place="役場 第1会議室"
)
RESULT = MeetingResult(
    measures_approval=MeasuresApproval.APPROVED,
    d1_measure=SystemMeasure.DETACH_NETWORK,
    d1_detail="CS サーバをネットワークから切り離す",
    d2_bodies=[NotifyBody.CENTER, NotifyBody.PREFECTURE],
    d3_support=[SupportBody.VENDOR],
    d4_structure="統括責任者の指揮のもと、住民課が窓口、総務課が機器を担当",
    d5_residents="窓口で事情を説明し、後日の交付を案内する",
    d6_publicity=[Publicity.HOMEPAGE, Publicity.PRESS],
    d6_message="住民票の写しの広域交付を一時停止しています。",
    d7_alternatives="広域交付は復旧後に対応し、町内の交付は通常どおり行う",
    d8_resumption=ResumptionBy.MEETING,
)
REPAIR = RepairReport(
    status=RepairStatus.DONE,
    reported_on=date(2026, 11, 28),
    reported_at="16:10",
    work="電源ユニットを交換",
)
INTEGRITY = IntegrityConfirmation(
    result=IntegrityResult.CONSISTENT, method="整合性確認ツールで全件照合"
)
PREVENTION = PreventionPlan(
    t1_monitoring=PreventionItem(
        adopt=True, content="電源監視の追加", owner="総務課", due="2027-03-31"
    ),
    t2_information=PreventionItem(),
    o1_inspection=PreventionItem(),
    o2_overhaul=PreventionItem(),
    o3_spares=PreventionItem(
        adopt=True, content="予備電源ユニットの確保", owner="住民課", due="2027-01-31"
    ),
    o4_training=PreventionItem(),
    others=[
        FreePreventionItem(
            title="手順書の改訂", content="復旧手順の追記", owner="住民課", due="2027-02-28"
        )
    ],
)


def prevention_items(plan: PreventionPlan) -> list[dict[str, Any]]:
    """As tasks/chapter2_recovery.py builds them."""
    titles = {m.clause: m.title for m in PREVENTION_MEASURES}
    items: list[dict[str, Any]] = [
        {"clause": clause, "title": titles[clause], **getattr(plan, field).model_dump()}
        for field, clause in PREVENTION_FIELDS.items()
    ]
    return items + [{"clause": "C2.3", **o.model_dump()} for o in plan.others]


DATA: dict[str, Any] = {
    "declaration": DECLARATION,
    "discovered": DECLARATION.discovered,
    "run_url": "http://127.0.0.1:4200/runs/flow-run/00000000",
    "ident": IDENT,
    "via": Role.SYS_ADMIN.label,
    "remarks": "保守事業者へ連絡済み",
    "judgement": JUDGEMENT,
    "convening": CONVENING,
    "meeting_time": jst_datetime(CONVENING.meeting_on, CONVENING.meeting_at),
    "result": RESULT,
    "ordered_by": "セキュリティ統括責任者 霊仙 正（副町長）",
    "repair": REPAIR,
    "repaired": jst_datetime(REPAIR.reported_on, REPAIR.reported_at),
    "integrity": INTEGRITY,
    "resumption_by": "セキュリティ会議の決定",
    "resumed": datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
    "items": prevention_items(PREVENTION),
}


def letter(doc: Document, *, drill: bool = False, town: Town = TOWN) -> dict[str, Any]:
    """The fields jukinet.notices.outbox.prepare adds to every document."""
    clause = CLAUSES[doc.id]
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
    }


def context(doc: Document, **kwargs: Any) -> dict[str, Any]:
    return {**DATA, **letter(doc, **kwargs)}


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
    assert set(CLAUSES) == set(DOCUMENTS)
    files = {p.name for p in (PROJECT_ROOT / "templates").glob("*.txt.j2")}
    assert {d.template for d in DOCS} <= files
    assert {d.id for d in DRAFTS} == {"homepage_notice", "info_sheet", "press_release"}


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
        assert f"（{CLAUSES[doc.id]}）" in text
        assert clause_title(CLAUSES[doc.id]) in text
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
        text = render(ENV, doc.template, context(doc))
        assert text.lstrip().startswith("【案】")
        assert "（公印省略）" not in text
        assert RESULT.d6_message in text

    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_drill_banner(self, doc: Document) -> None:
        text = render(ENV, doc.template, context(doc, drill=True))
        assert text.lstrip().startswith("【訓練】この文書は訓練のためのものです")


class TestContent:
    def render(self, doc_id: str, **data: Any) -> str:
        doc = DOCUMENTS[doc_id]
        return render(ENV, doc.template, {**context(doc), **data})

    def test_discovery_report(self) -> None:
        text = self.render("discovery_report")
        assert "発見日時　令和8年11月27日 8時45分" in text
        assert DECLARATION.observed in text
        assert "http://127.0.0.1:4200/runs/flow-run/00000000" in text

    def test_failure_report_lists_the_identification(self) -> None:
        text = self.render("failure_report")
        assert "障害の種類　ハードウェアの障害" in text
        assert "確認方法　警告ランプの確認、形状異常の確認" in text
        assert "支援の依頼先　保守委託事業者" in text
        assert "保守作業の依頼　依頼した" in text
        assert "（システム管理者を経て報告します。）" in text
        assert "補足　保守事業者へ連絡済み" in text

    def test_failure_report_without_via_or_remarks(self) -> None:
        text = self.render("failure_report", via="", remarks="")
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
        assert f"緊急体制　{RESULT.d4_structure}" in text
        assert f"町民への対応　{RESULT.d5_residents}" in text
        assert f"代替措置　{RESULT.d7_alternatives}" in text
        assert "関係機関への連絡　全国センター、都道府県管理課（滋賀県）" in text
        assert "広報対応　ホームページ等での告知、記者発表" in text
        assert f"再開運用の決定　{ResumptionBy.MEETING.value}" in text

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


class TestStrictUndefined:
    @pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.id)
    def test_context_is_complete(self, doc: Document) -> None:
        assert variables(doc) <= set(context(doc)), variables(doc) - set(context(doc))

    @pytest.mark.parametrize(
        ("doc", "name"),
        [(d, n) for d in DOCS for n in sorted(variables(d))],
        ids=lambda v: v.id if isinstance(v, Document) else str(v),
    )
    def test_missing_field_is_an_error(self, doc: Document, name: str) -> None:
        ctx = context(doc)
        del ctx[name]
        with pytest.raises(jinja2.UndefinedError):
            render(ENV, doc.template, ctx)

    def test_missing_attribute_is_an_error(self) -> None:
        doc = DOCUMENTS["protection_instruction"]
        with pytest.raises(jinja2.UndefinedError, match="instructions"):
            render(ENV, doc.template, {**context(doc), "judgement": {"judgement": "x"}})
