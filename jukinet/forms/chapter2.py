"""第2章 機器障害 forms, one per human step, in the plan's order (C2.S1.1 … C2.3)."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from jukinet.forms.common import HHMM, TIME_HINT, Form
from jukinet.plan import FailureType, SystemMeasure


class CheckMethod(StrEnum):
    WARNING_LAMP = "警告ランプの確認"
    SHAPE = "形状異常の確認"
    BUG_INFO = "バグ情報の確認"
    EVENT_LOG = "業務イベントログ解析"
    COMMAND = "コマンドによる確認"
    VISUAL = "目視チェック"
    OTHER = "その他"


class HelpBody(StrEnum):
    VENDOR = "保守委託事業者"
    PREFECTURE = "滋賀県"
    CENTER = "全国センター"


class FailureIdentification(Form):
    """手順1①② 障害の特定・原因の究明と、セキュリティ責任者への報告"""

    failure_type: FailureType = Field(title="障害の種類")
    check_methods: list[CheckMethod] = Field(min_length=1, title="実施した確認方法")
    check_results: str = Field(min_length=1, title="確認結果")
    location: str = Field(min_length=1, title="障害箇所", description="機器と設置場所")
    cause: str = Field(min_length=1, title="原因", description="究明できていなければ「調査中」")
    impact: str = Field(min_length=1, title="支障の程度", description="業務・窓口への影響")
    help_from: list[HelpBody] = Field(
        default_factory=list,
        title="原因究明の支援を依頼する先",
        description="原因の究明が困難な場合に選択（依頼文を送付します）",
    )
    request_maintenance: bool = Field(
        default=False, title="保守作業を依頼する", description="保守委託事業者へ依頼文を送付します"
    )


class OfficerReport(Form):
    """手順1③ セキュリティ統括責任者への報告（システム管理者経由）"""

    remarks: str = Field(default="特になし", title="報告に添える事項")


class OutageJudgement(StrEnum):
    LONG = "長時間の停止となる（町長へ報告し、セキュリティ会議を招集する）"
    OTHER_NEED = "その他必要がある（町長へ報告し、セキュリティ会議を招集する）"
    SHORT = "長時間の停止には至らない（手順4 保守作業へ進む）"

    @property
    def convenes_meeting(self) -> bool:
        return self is not OutageJudgement.SHORT


class ChiefJudgement(Form):
    """手順2 データ保護等の指示と、サーバ等の動作に関する判断"""

    instructions: str = Field(min_length=1, title="データ保護等についての指示")
    judgement: OutageJudgement = Field(title="運用停止に関する判断")
    reason: str = Field(min_length=1, title="判断の理由")


class MeetingConvening(Form):
    """手順3① セキュリティ会議の招集"""

    meeting_on: date = Field(title="開催日", description="日本時間の日付")
    meeting_at: str = Field(pattern=HHMM, title="開催時刻", description=TIME_HINT)
    place: str = Field(min_length=1, title="開催場所")


class MeasuresApproval(StrEnum):
    APPROVED = "承認する"
    AMENDED = "修正のうえ承認する"
    REJECTED = "承認しない"


class NotifyBody(StrEnum):
    CENTER = "全国センター"
    PREFECTURE = "都道府県管理課（滋賀県）"
    MUNICIPALITIES = "関係市町村"


class SupportBody(StrEnum):
    CENTER = "全国センター"
    PREFECTURE = "滋賀県"
    VENDOR = "保守委託事業者"


class Publicity(StrEnum):
    HOMEPAGE = "ホームページ等での告知"
    INFO = "情報資料提供"
    PRESS = "記者発表"


class PublicityApprover(StrEnum):
    CHIEF = "セキュリティ統括責任者"
    SEC_OFFICER = "セキュリティ責任者"
    SEC_ADMIN = "セキュリティ管理者"


class PublicityDecision(StrEnum):
    APPROVE = "承認する（企画課へ送付する）"
    REJECT = "承認しない（送付しない）"


class PublicityApproval(Form):
    """D6 広報文（ホームページ告知文・記者発表資料）の承認"""

    decision: PublicityDecision = Field(title="広報文の承認")
    opinion: str = Field(
        default="なし",
        title="意見・承認しない理由",
        description="承認しないときは理由を記入します",
    )


def publicity_problems(answer: PublicityApproval) -> list[str]:
    if answer.decision is PublicityDecision.REJECT and answer.opinion.strip() in ("", "なし"):
        return ["承認しないときは「意見・承認しない理由」に理由を記入してください"]
    return []


class ResumptionBy(StrEnum):
    MEETING = "会議が復旧・整合性の報告を受けて再開を決定する"
    CHIEF = "統括責任者の承認により再開する"


class MeetingDecisions(Form):
    """セキュリティ会議の決定事項（第2章・第3章に共通の項目）"""

    # The decisions both chapters' meetings take (C2.S3.2–D7, C3.S4.2–D7); each chapter's form
    # adds its own items and may retitle these (the docstring is the form's description: Japanese).

    measures_approval: MeasuresApproval = Field(title="手順3② データ保護等の措置の承認")
    measures_opinion: str = Field(default="なし", title="措置についての意見・修正内容")
    d1_measure: SystemMeasure = Field(title="D1 機器等への対応")
    d1_detail: str = Field(default="なし", title="D1 対応の内容", description="対象の機器・機能")
    d2_bodies: list[NotifyBody] = Field(default_factory=list, title="D2 関係機関への連絡")
    d3_support: list[SupportBody] = Field(default_factory=list, title="D3 技術的支援依頼")
    d4_structure: str = Field(
        min_length=1, title="D4 緊急体制", description="役割分担・指揮命令系統"
    )
    d5_residents: str = Field(
        min_length=1, title="D5 町民への対応", description="来庁者・問い合わせ・苦情"
    )
    d6_publicity: list[Publicity] = Field(default_factory=list, title="D6 広報対応")
    d6_message: str = Field(
        default="なし",
        title="D6 広報で町民に伝える内容",
        description="告知・記者発表の本文に使います",
    )
    d6_approver: PublicityApprover = Field(
        default=PublicityApprover.CHIEF,
        title="D6 広報文を承認する者",
        description="ホームページ告知文と記者発表資料は、この者の承認を得てから企画課へ送付します",
    )
    d7_alternatives: str = Field(min_length=1, title="D7 代替措置", description="業務ごとの措置")


class MeetingResult(MeetingDecisions):
    """手順3②③ セキュリティ会議の審議結果（議長: セキュリティ統括責任者）"""

    d8_resumption: ResumptionBy = Field(title="D8 再開運用の決定")

    @property
    def meeting_decides_resumption(self) -> bool:
        """C2.S5.MEETING: a stop ordered in D1, or D8 keeping the decision, binds resumption."""
        return (
            self.d1_measure is not SystemMeasure.NONE or self.d8_resumption is ResumptionBy.MEETING
        )


class RepairStatus(StrEnum):
    DONE = "復旧した"
    IN_PROGRESS = "作業中（経過を報告する）"


class RepairReport(Form):
    """手順4 保守作業（修理・復旧）の報告"""

    status: RepairStatus = Field(title="作業の状況")
    reported_on: date = Field(title="日付", description="復旧した日（作業中なら報告の日）")
    reported_at: str = Field(pattern=HHMM, title="時刻", description=TIME_HINT)
    work: str = Field(min_length=1, title="実施した修理・復旧の措置")


class IntegrityResult(StrEnum):
    CONSISTENT = "整合性を確認した（不整合なし）"
    REPAIRED = "不整合を修復し、整合性を確認した"
    INCONSISTENT = "不整合が残っている"


class IntegrityConfirmation(Form):
    """手順5 本人確認情報の整合性の確認と修復"""

    result: IntegrityResult = Field(title="本人確認情報の整合性")
    method: str = Field(min_length=1, title="確認方法")
    repairs: str = Field(default="なし", title="修復の内容")


class ResumptionDecision(StrEnum):
    RESUME = "運用の再開を承認する"
    HOLD = "承認しない（追加の措置を求める）"


class ResumptionApproval(Form):
    """手順5 運用再開の承認（会議が決定する場合は会議の決定）"""

    decision: ResumptionDecision = Field(title="運用再開")
    remarks: str = Field(default="なし", title="意見・追加の措置")


DUE = r"^(\d{4}-\d{2}-\d{2})?$"


class PreventionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    adopt: bool = Field(default=False, title="実施する")
    content: str = Field(default="", title="内容")
    owner: str = Field(default="", title="担当")
    due: str = Field(default="", pattern=DUE, title="期限", description="例 2027-03-31")


class FreePreventionItem(PreventionItem):
    title: str = Field(min_length=1, title="対策の名称")
    adopt: bool = Field(default=True, title="実施する")


class PreventionPlan(Form):
    """3 再発防止策（技術面・運用面の対策）"""

    t1_monitoring: PreventionItem = Field(title="T1 障害監視の強化")
    t2_information: PreventionItem = Field(title="T2 技術情報の収集")
    o1_inspection: PreventionItem = Field(title="O1 定期点検実施時期の見直し")
    o2_overhaul: PreventionItem = Field(title="O2 オーバーホールの実施")
    o3_spares: PreventionItem = Field(title="O3 予備装置の確保")
    o4_training: PreventionItem = Field(title="O4 教育・研修")
    others: list[FreePreventionItem] = Field(default_factory=list, title="その他の対策")


PREVENTION_FIELDS = {
    "t1_monitoring": "C2.3.T1",
    "t2_information": "C2.3.T2",
    "o1_inspection": "C2.3.O1",
    "o2_overhaul": "C2.3.O2",
    "o3_spares": "C2.3.O3",
    "o4_training": "C2.3.O4",
}


def item_problems(title: str, item: PreventionItem) -> list[str]:
    """An adopted measure needs 内容, 担当 and a real 期限."""
    if not item.adopt:
        return []
    problems = [
        f"「{title}」を実施する場合は「{label}」を記入してください"
        for field, label in (("content", "内容"), ("owner", "担当"), ("due", "期限"))
        if not getattr(item, field).strip()
    ]
    if item.due and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item.due):
        try:
            date.fromisoformat(item.due)
        except ValueError:
            problems.append(f"「{title}」の期限 {item.due} は存在しない日付です")
    return problems


def prevention_problems(plan: PreventionPlan) -> list[str]:
    items: list[tuple[str, PreventionItem]] = [
        (PreventionPlan.model_fields[f].title or f, getattr(plan, f)) for f in PREVENTION_FIELDS
    ]
    items += [(f"その他の対策「{o.title}」", o) for o in plan.others]
    problems = [p for title, item in items for p in item_problems(title, item)]
    if not any(i.adopt for _, i in items):
        problems.append("実施する対策が一つもありません。少なくとも一つ選んでください")
    return problems
