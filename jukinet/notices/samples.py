"""Sample data for every document of the register: one fictitious response per chapter, as the
tasks pass it, for previews, the template check and the tests.

    data = sample_data("help_request")                # under the register's first clause
    data = sample_data("failure_report", "C2.S1.3")   # as sent under another clause
    incident = sample_incident(drill=True)

Everything here is invented: staff of the example roster, no resident, no 本人確認情報.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

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
from jukinet.forms.chapter3 import (
    CauseReport,
    ConsultedBody,
    CooperationBody,
    Determination,
    EmergencyInstruction,
    EmergencyMeasures,
    ExampleChoice,
    Findings,
    Level3Likelihood,
    LevelChoice,
    LikelyLevel,
    MeetingResult3,
    NotificationAnalysis,
    Notifier,
    OutsideNotification,
    PermanentMeasures,
    ResumptionMeasures,
    Review,
    ReviewNext,
    StopExecution,
    UnauthorizedReport,
    examples_of,
)
from jukinet.forms.common import jst_datetime
from jukinet.meeting import decision_lines, decision_texts, meeting_agenda
from jukinet.notices.documents import DOCUMENTS
from jukinet.plan import (
    MEETING_ITEMS_CH2,
    MEETING_ITEMS_CH3,
    PREVENTION_MEASURES,
    THREAT_EXAMPLES,
    FailureType,
    Role,
    SystemMeasure,
    ThreatLevel,
    suggest_level,
)
from jukinet.store.models import Incident

ISSUED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # already 27 November in Japan
NUMBER = "令和8年度-001"
CHIEF = "セキュリティ統括責任者 霊仙 正（副町長）"
APPROVAL: dict[str, Any] = {
    "by": CHIEF,
    "at": datetime(2026, 11, 27, 5, 0, tzinfo=UTC),  # 14時00分 in Japan
}
RUN_URL = "http://127.0.0.1:4200/v2/runs/flow-run/00000000"

# Meetings: what each chapter calls the matter and the measures the meeting approves (tasks/).
MATTER_CH2, MEASURES_CH2 = "住基ネットの障害", "データ保護等の措置"
MATTER_CH3, MEASURES_CH3 = "住基ネットにおける不正行為", "緊急の措置等"


def choice(key: str) -> ExampleChoice:
    """`choice("レベル3-(2)")`: the form's choice of that example of the table (C3.A)."""
    (example,) = [e for e in THREAT_EXAMPLES if e.key == key]
    return ExampleChoice(example.label)


# --- 第1章・第2章 障害 ---------------------------------------------------------------------------

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
    """As tasks/chapter2_recovery.py builds them for the prevention report (C2.3)."""
    titles = {m.clause: m.title for m in PREVENTION_MEASURES}
    items: list[dict[str, Any]] = [
        {"clause": clause, "title": titles[clause], **getattr(plan, field).model_dump()}
        for field, clause in PREVENTION_FIELDS.items()
    ]
    return items + [{"clause": "C2.3", **o.model_dump()} for o in plan.others]


# --- 第3章 不正行為: one response, from the notification to the permanent measures ---------------

NOTIFICATION = OutsideNotification(
    notifier=Notifier.CENTER,
    notifier_detail="住基ネット全国センター 運用監視担当",
    received_on=date(2026, 11, 27),
    received_at="08:20",
    content="多賀町の CS から外部への不審な通信を検知した",
    received_by="犬上 一郎（住民課）",
)
REPORT = UnauthorizedReport(
    found_on=date(2026, 11, 27),
    found_at="08:45",
    occurred_on=date(2026, 11, 26),
    occurred_at="22:10",
    occurred_remark="ファイアウォールの記録による推定",
    device="CS サーバ",
    device_location="電算室",
    act="ファイアウォールを通過した外部からの不正アクセス",
    expected_damage="本人確認情報の漏えいのおそれ",
    measures_taken="CS サーバの LAN ケーブルを抜いた",
    examples=[choice("レベル2-(2)"), choice("レベル3-(2)")],
)
ANALYSIS = NotificationAnalysis(
    **REPORT.model_dump(),
    analysis="通信記録を照合し、ファイアウォールを通過した接続を確認した",
    likely_level=LikelyLevel.L3,
)
INSTRUCTION = EmergencyInstruction(
    instructions="CS サーバへの書き込みを止め、アクセスログを保全してください",
    level3=Level3Likelihood.LIKELY,
    system_stop=SystemMeasure.DETACH_NETWORK,
    stop_target="CS サーバ（電算室）",
    hearings=True,
)
STOP = StopExecution(
    done_on=date(2026, 11, 27), done_at="10:05", done="CS サーバをネットワークから切り離した"
)
MEASURES = EmergencyMeasures(
    cooperation_from=[CooperationBody.CENTER, CooperationBody.PREFECTURE, CooperationBody.VENDOR],
    spread_measures="CS サーバを庁内ネットワークから切り離し、利用者のパスワードを変更した",
    hearings_result="端末操作者3名から聴取し、不審な操作はなかった",
    receiving_body="湖東年金事務所",
)
DETERMINATION = Determination(
    level=LevelChoice.L1,
    examples=[choice("レベル1-(1)")],
    reason="電算室への侵入を試みた形跡はあるが、入室記録はなかった",
    consulted=[ConsultedBody.CENTER, ConsultedBody.PREFECTURE],
)
CAUSE = CauseReport(
    cause="ファイアウォールの設定誤りにより外部からの接続が許可されていた",
    countermeasures="設定を修正し、接続元を遮断した",
)
RESULT3 = MeetingResult3(
    measures_approval=MeasuresApproval.AMENDED,
    measures_opinion="切り離しを統合端末にも広げる",
    d1_measure=SystemMeasure.DETACH_NETWORK,
    d1_detail="CS サーバと統合端末をネットワークから切り離す",
    d2_bodies=[NotifyBody.CENTER, NotifyBody.PREFECTURE, NotifyBody.MUNICIPALITIES],
    d3_support=[SupportBody.CENTER, SupportBody.VENDOR],
    d4_structure="統括責任者の指揮のもと、総務課が調査、住民課が窓口を担当",
    d5_residents="窓口で事情を説明し、問い合わせは住民課で受ける",
    d6_publicity=[Publicity.HOMEPAGE, Publicity.INFO, Publicity.PRESS],
    d6_message="住基ネットを一時停止し、関係機関と連携して調査しています。",
    d7_alternatives="住民票の写しの広域交付を停止し、町内の交付は通常どおり行う",
    d8_review="毎日17時に進捗を確認する",
    d9_resumption=ResumptionBy.MEETING,
)
REVIEW = Review(
    additional_measures="統合端末の利用者パスワードを一斉に変更",
    progress="ログの解析を継続中",
    permanent_planning="ファイアウォール設定の点検手順を検討",
    next=ReviewNext.PROCEED,
)
FINDINGS = Findings(
    cause="ファイアウォールの設定誤り",
    evidence="ファイアウォールと CS のアクセスログ",
    scope="本人確認情報の閲覧・持ち出しの形跡はない",
    recovery="設定の修正と CS サーバの再構築",
    consulted=[ConsultedBody.CENTER, ConsultedBody.VENDOR],
)
RESUMED = ResumptionMeasures(
    resumed_on=date(2026, 11, 30),
    resumed_at="09:00",
    access_rights="全利用者のアクセス権限を再設定",
    services="住民票の写しの広域交付を再開",
)
PERMANENT = PermanentMeasures(
    measures=[
        FreePreventionItem(
            title="ファイアウォール設定の定期点検",
            content="設定変更の都度、第三者が確認する",
            owner="総務課",
            due="2027-03-31",
        ),
        FreePreventionItem(title="外部監査の導入", adopt=False),
    ]
)
SUGGESTION = suggest_level(examples_of(REPORT.examples))


# --- meetings: the agenda and the decisions as the tasks write them ------------------------------


def decisions_ch2(result: MeetingResult) -> list[dict[str, str]]:
    texts = {**decision_texts(result, "C2.S3"), "C2.S3.D8": result.d8_resumption.value}
    return decision_lines(result, MEASURES_CH2, MEETING_ITEMS_CH2, texts)


def decisions_ch3(result: MeetingResult3) -> list[dict[str, str]]:
    texts = {
        **decision_texts(result, "C3.S4"),
        "C3.S4.D8": result.d8_review,
        "C3.S4.D9": result.d9_resumption.value,
    }
    return decision_lines(result, MEASURES_CH3, MEETING_ITEMS_CH3, texts)


# --- 終結と送付の監視 -------------------------------------------------------------------------

FINAL_REPORT: dict[str, Any] = {
    "emergency_class": "障害",
    "closed_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
    "outcome": "終結",
    "timeline": [
        {
            "at": datetime(2026, 11, 26, 23, 50, tzinfo=UTC),
            "clause": "C1.1",
            "kind": "受付",
            "actor": "犬上 一郎（住民課）",
            "summary": "CS サーバ（電算室）: CS サーバの警告ランプが赤く点灯し、端末から接続できない",
        },
        {
            "at": datetime(2026, 11, 27, 0, 40, tzinfo=UTC),
            "clause": "C2.S2.1",
            "kind": "指示",
            "actor": "霊仙 正（副町長）",
            "summary": "データ保護等の指示: CS サーバのデータの書き込みを止めてください",
        },
        {
            "at": datetime(2026, 11, 27, 5, 0, tzinfo=UTC),
            "clause": "C2.S3.2",
            "kind": "措置の承認",
            "actor": "セキュリティ会議（議長 霊仙 正（副町長））",
            "summary": "データ保護等の措置: 承認する（なし）",
        },
        {
            "at": datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
            "clause": "C2.S5",
            "kind": "運用再開",
            "actor": "大滝 健二（住民課長）",
            "summary": "運用を再開しました",
        },
    ],
    "sent": [
        {
            "doc_number": "多住第10号",
            "subject": "住基ネットの障害について（報告）",
            "recipient": "セキュリティ責任者 大滝 健二",
        },
        {
            "doc_number": "多住第14号",
            "subject": "住基ネットの障害について（連絡）",
            "recipient": "滋賀県（滋賀県 総合企画部 市町振興課（都道府県管理課））",
        },
    ],
}
UNDELIVERED: dict[str, Any] = {
    "alarm_after": 30,
    "run_url": "http://127.0.0.1:4200",
    "notice": {
        "doc_number": "多住第14号",
        "subject": "住基ネットの障害について（連絡）",
        "recipient": "滋賀県（滋賀県 総合企画部 市町振興課（都道府県管理課））",
        "channel_title": "メール",
        "address": "jukinet@pref.shiga.example",
        "created_at": datetime(2026, 11, 27, 6, 10, tzinfo=UTC),
        "attempts": 4,
        "last_error": "SMTPServerDisconnected: Connection unexpectedly closed",
    },
}

REMINDER: dict[str, Any] = {
    "stage_label": "代理者への上申",
    "step": {
        "clause": "C2.S1.1",
        "clause_title": "第2章 手順1① 障害の特定と原因究明",
        "role": "住基ネット担当者",
        "asked_at": datetime(2026, 11, 27, 0, 5, tzinfo=UTC),
        "waited_minutes": 21,
        "holders": "犬上 一郎",
    },
    "run_url": "http://127.0.0.1:4200/v2/runs/flow-run/00000000",
}


# --- the data of every document -------------------------------------------------------------

DATA: dict[str, Any] = {
    "declaration": DECLARATION,
    "discovered": DECLARATION.discovered,
    "run_url": RUN_URL,
    "ident": IDENT,
    "via": Role.SYS_ADMIN.label,
    "remarks": "保守事業者へ連絡済み",
    # as tasks/chapter2_report.py instructs (C2.S2.1)
    "instructions": JUDGEMENT.instructions,
    "judgement_label": "運用停止に関する判断",
    "judgement_text": JUDGEMENT.judgement.value,
    "judgement": JUDGEMENT,
    "convening": CONVENING,
    "meeting_time": jst_datetime(CONVENING.meeting_on, CONVENING.meeting_at),
    # as tasks/chapter2_meeting.py convenes (C2.S3.1) and reports (C2.S3.3)
    "matter": MATTER_CH2,
    "agenda": meeting_agenda("障害の状況・原因・支障の程度の報告", MEASURES_CH2, MEETING_ITEMS_CH2),
    "summary": f"{IDENT.failure_type.value}（{IDENT.location}）",
    "decisions": decisions_ch2(RESULT),
    "result": RESULT,
    "ordered_by": CHIEF,
    "repair": REPAIR,
    "repaired": jst_datetime(REPAIR.reported_on, REPAIR.reported_at),
    "integrity": INTEGRITY,
    "resumption_by": "セキュリティ会議の決定",
    "resumed": datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
    "items": prevention_items(PREVENTION),
    # 第3章
    "notification": NOTIFICATION,
    "report": REPORT,
    "suggestion": SUGGESTION,
    "instruction": INSTRUCTION,
    "ordered_at": datetime(2026, 11, 27, 0, 50, tzinfo=UTC),  # 9時50分 in Japan
    "stop": STOP,
    "measures": MEASURES,
    "determination": DETERMINATION,
    "determined_by": "セキュリティ管理者 芹川 直樹（総務課 情報係）",
    "cause": CAUSE,
    "level_label": ThreatLevel.L3.label,
    "reason": "ファイアウォールを通過した不正アクセスが確認されたため",
    "review": REVIEW,
    "round_no": 2,
    "findings": FINDINGS,
    "decision_by": "運用再開の決定",
    "plan": PERMANENT,
}

# Where a task sends a document (under the register's first clause) a name with another value.
AS_SENT: dict[str, dict[str, Any]] = {
    "failure_report": {"via": "", "remarks": ""},  # C2.S1.2: 住基ネット担当者 → セキュリティ責任者
    "unauthorized_report": {  # C3.S1.2: the staff report, before any analysis
        "report": REPORT,
        "suggestion": SUGGESTION,
        "notification": None,
        "via": "",
        "remarks": "",
    },
    "coordination_request": {"report": ANALYSIS},
    "unauthorized_mayor_report": {  # C3.S2: the act and the instructions
        "report": REPORT,
        "instruction": INSTRUCTION,
        "reason": "",
        "level_label": "",
    },
    "unauthorized_notification": {"result": RESULT3},
    "unauthorized_support_request": {"result": RESULT3},
    "unauthorized_homepage_notice": {"result": RESULT3},
    "unauthorized_info_sheet": {"result": RESULT3},
    "unauthorized_press_release": {"result": RESULT3},
    "resumption_mayor_report": {"measures": RESUMED},
    "unauthorized_resumption_notice": {"measures": RESUMED},
    "final_report": FINAL_REPORT,
    "undelivered_alarm": UNDELIVERED,
    "answer_reminder": REMINDER,
}

# Documents a task also sends under another clause of the register, with what it sends there.
ALSO_SENT: dict[tuple[str, str], dict[str, Any]] = {
    ("C2.S1.3", "failure_report"): {  # セキュリティ責任者 → システム管理者 → 統括責任者
        "via": Role.SYS_ADMIN.label,
        "remarks": "保守事業者へ連絡済み",
    },
    ("C3.S1.1", "discovery_report"): {
        "declaration": DECLARATION.model_copy(update={"presumed": PresumedClass.UNAUTHORIZED}),
    },
    ("C3.S1.4", "unauthorized_report"): {  # a response opened from a notification (C3.S1.3)
        "report": ANALYSIS,
        "suggestion": suggest_level(examples_of(ANALYSIS.examples)),
        "notification": NOTIFICATION,
        "via": Role.SYS_ADMIN.label,
        "remarks": "保守事業者へ連絡済み",
    },
    ("C3.S3.4", "unauthorized_mayor_report"): {  # level 3: the level and the meeting
        "report": REPORT,
        "instruction": None,
        "reason": "ファイアウォールを通過した不正アクセスが確認されたため",
        "level_label": ThreatLevel.L3.label,
    },
    ("C3.S2", "protection_instruction"): {
        "instructions": INSTRUCTION.instructions,
        "judgement_label": "レベル3に該当する可能性",
        "judgement_text": INSTRUCTION.level3.value,
    },
    ("C3.S4.1", "meeting_convening"): {
        "matter": MATTER_CH3,
        "agenda": meeting_agenda(
            "不正行為の状況・原因・支障の程度の報告", MEASURES_CH3, MEETING_ITEMS_CH3
        ),
        "summary": f"{REPORT.device}（{REPORT.device_location}）: {REPORT.act}",
    },
    ("C3.S4.D1", "equipment_order"): {
        "result": RESULT3,
        "report": REPORT,
        "level_label": ThreatLevel.L3.label,
        "ordered_by": CHIEF,
    },
    ("C3.S4.3", "meeting_result_report"): {
        "matter": MATTER_CH3,
        "decisions": decisions_ch3(RESULT3),
    },
    ("C3.S3.1", "final_report"): {"emergency_class": "不正行為", "outcome": "解除（レベル1）"},
    ("C3.2", "final_report"): {"emergency_class": "不正行為"},
}


def sample_data(document_id: str, clause: str | None = None) -> dict[str, Any]:
    """What a task passes for the document under `clause` (the register's first by default),
    with the approval's record where the register requires one; a fresh copy on every call.

    >>> sample_data("system_stop_order")["instruction"].stop_target
    'CS サーバ（電算室）'
    """
    document = DOCUMENTS[document_id]
    clause = clause or document.clauses[0]
    if clause not in document.clauses:
        raise ValueError(
            f"文書「{document.subject}」は条項 {clause} では送付しません（登録: "
            + "、".join(document.clauses)
            + "）"
        )
    data = {**DATA, **AS_SENT.get(document_id, {}), **ALSO_SENT.get((clause, document_id), {})}
    if document.approval:
        data["approval"] = APPROVAL
    return copy.deepcopy(data)


def sample_incident(drill: bool = False) -> Incident:
    """The sample response's incident, as the store holds it once opened (C1.1)."""
    return Incident(
        number=NUMBER,
        fiscal_year=2026,
        origin_key="sample",
        drill=drill,
        declared_class=DECLARATION.presumed.value,
        emergency_class="障害",
        state="対応中",
        summary=f"{DECLARATION.place}: {DECLARATION.observed}",
        declaration=DECLARATION.model_dump(mode="json"),
        opened_at=datetime(2026, 11, 26, 23, 50, tzinfo=UTC),  # 令和8年11月27日 8時50分
        closed_at=None,
    )
