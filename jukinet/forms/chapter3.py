"""第3章 不正行為 forms, one per human step, in the plan's order (C3.S1.1 … C3.2).

Checks the schema cannot express are functions returning Japanese problems (empty when fine);
the flow passes them to `ask`, which refuses the answer and asks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from jukinet.forms.chapter2 import (
    FreePreventionItem,
    MeasuresApproval,
    MeetingDecisions,
    ResumptionBy,
    item_problems,
)
from jukinet.forms.common import HHMM, TIME_HINT, Form, jst_datetime
from jukinet.plan import (
    THREAT_EXAMPLES,
    SystemMeasure,
    ThreatExample,
    ThreatLevel,
    suggest_level,
)

ExampleChoice = StrEnum(  # type: ignore[misc]
    "ExampleChoice", {f"l{e.level.value}_{e.number}": e.label for e in THREAT_EXAMPLES}
)
ExampleChoice.__doc__ = "計画書 第3章 1(A) の事例"
_EXAMPLE_BY_LABEL = {e.label: e for e in THREAT_EXAMPLES}


def examples_of(choices: Sequence[StrEnum]) -> list[ThreatExample]:
    """The table's examples for the ticked choices, each once, in the table's order."""
    ticked = {str(c.value) for c in choices}
    return [e for e in THREAT_EXAMPLES if e.label in ticked]


EXAMPLES_HINT = (
    "該当するものをすべて選んでください。選んだ事例から脅威度を提案します（判定は人が行います）"
)


class Notifier(StrEnum):
    """通報元（C3.S1.3）"""

    STATE = "国"
    PREFECTURE = "滋賀県"
    CENTER = "全国センター"


class OutsideNotification(Form):
    """国・滋賀県・全国センターからの不正行為に係る通報（手順1③）。通報の内容を記入してください。住民の氏名・住所・住民票コード・個人番号などの本人確認情報は記入しないでください。"""

    notifier: Notifier = Field(title="通報元")
    notifier_detail: str = Field(min_length=1, title="通報元の部署・担当者")
    received_on: date = Field(title="受信日", description="日本時間の日付")
    received_at: str = Field(pattern=HHMM, title="受信時刻", description=TIME_HINT)
    content: str = Field(min_length=1, title="通報の内容")
    received_by: str = Field(min_length=1, title="受信者", description="氏名と所属")

    @property
    def received(self) -> datetime:
        return jst_datetime(self.received_on, self.received_at)


class UnauthorizedReport(Form):
    """手順1② 不正行為の報告（ア〜エ）"""

    found_on: date = Field(title="ア 発見日", description="日本時間の日付")
    found_at: str = Field(pattern=HHMM, title="ア 発見時刻", description=TIME_HINT)
    occurred_on: date = Field(title="ア 不正行為があったと認められる日")
    occurred_at: str = Field(
        pattern=HHMM, title="ア 不正行為があったと認められる時刻", description=TIME_HINT
    )
    occurred_remark: str = Field(
        default="なし", title="ア 時期についての補足", description="期間・推定の根拠など"
    )
    device: str = Field(min_length=1, title="イ 不正行為が発生した機器")
    device_location: str = Field(min_length=1, title="イ 機器の設置場所")
    act: str = Field(min_length=1, title="ウ 不正行為の内容")
    expected_damage: str = Field(min_length=1, title="ウ 想定される被害")
    measures_taken: str = Field(
        min_length=1, title="エ 報告までに行った応急措置", description="なければ「なし」"
    )
    examples: list[ExampleChoice] = Field(
        default_factory=list, title="該当する計画書の事例", description=EXAMPLES_HINT
    )

    @property
    def found(self) -> datetime:
        return jst_datetime(self.found_on, self.found_at)

    @property
    def occurred(self) -> datetime:
        return jst_datetime(self.occurred_on, self.occurred_at)


def report_problems(report: UnauthorizedReport) -> list[str]:
    if report.occurred > report.found:
        return [
            "「ア 不正行為があったと認められる日時」が「ア 発見日時」より後になっています。"
            "日付と時刻を確かめてください"
        ]
    return []


class LikelyLevel(StrEnum):
    """脅威度の見込み"""

    L1 = "レベル1に該当する見込み"
    L2 = "レベル2に該当する可能性が高い"
    L3 = "レベル3に該当する可能性が高い"

    @property
    def level(self) -> ThreatLevel:
        return {"L1": ThreatLevel.L1, "L2": ThreatLevel.L2, "L3": ThreatLevel.L3}[self.name]


class NotificationAnalysis(UnauthorizedReport):
    """手順1③ 通報に係る情報の集約（ア）と事象の調査・分析（イ）"""

    analysis: str = Field(min_length=1, title="（イ）調査・分析の結果")
    likely_level: LikelyLevel = Field(
        title="脅威度の見込み",
        description="レベル2・3の可能性が高い場合、滋賀県と全国センターへ連絡調整を依頼します（手順1③（ウ））",
    )
    likely_reason: str = Field(
        default="",
        title="見込みの理由",
        description="選んだ事例から提案される脅威度より低い見込みとする場合は必須",
    )


def analysis_problems(analysis: NotificationAnalysis) -> list[str]:
    problems = report_problems(analysis)
    suggestion = suggest_level(examples_of(analysis.examples))
    low = suggestion.level is not None and analysis.likely_level.level < suggestion.level
    if low and not analysis.likely_reason.strip():
        assert suggestion.level is not None
        problems.append(
            f"選んだ事例からは{suggestion.level.label}が提案されます。"
            "見込みをそれより低くする場合は「見込みの理由」を記入してください"
        )
    return problems


class OfficerForwarding(Form):
    """手順1④ システム管理者を経てセキュリティ統括責任者への報告"""

    remarks: str = Field(default="特になし", title="報告に添える事項")


class Level3Likelihood(StrEnum):
    LIKELY = "レベル3に該当する可能性が高い"
    NOT_LIKELY = "レベル3に該当する可能性は高くない"


class EmergencyInstruction(Form):
    """手順2 町長への報告とデータ保護等の指示（緊急措置の指示）"""

    instructions: str = Field(min_length=1, title="データ保護等についての指示")
    level3: Level3Likelihood = Field(title="レベル3に該当する可能性")
    system_stop: SystemMeasure = Field(
        default=SystemMeasure.NONE,
        title="手順2② システムの停止",
        description="レベル3に該当する可能性が高い場合に、必要に応じて命じます",
    )
    stop_target: str = Field(default="なし", title="停止・切り離しの対象", description="機器・機能")
    hearings: bool = Field(
        default=False,
        title="手順2③ 関係者からの報告の聴収・調査を行わせる",
        description="レベル3に該当する可能性が高い場合に、必要に応じて",
    )

    @property
    def level3_likely(self) -> bool:
        return self.level3 is Level3Likelihood.LIKELY

    @property
    def stops(self) -> bool:
        return self.system_stop is not SystemMeasure.NONE


def instruction_problems(instruction: EmergencyInstruction) -> list[str]:
    problems = []
    if not instruction.level3_likely and instruction.stops:
        problems.append(
            "システムの停止（手順2②）は、レベル3に該当する可能性が高い場合に命じるものです。"
            "「レベル3に該当する可能性」を確かめてください"
        )
    if not instruction.level3_likely and instruction.hearings:
        problems.append(
            "関係者からの報告の聴収・調査（手順2③）は、レベル3に該当する可能性が高い場合に行うものです"
        )
    if instruction.stops and instruction.stop_target.strip() in ("", "なし"):
        problems.append("システムの停止を命じる場合は「停止・切り離しの対象」を記入してください")
    return problems


class StopExecution(Form):
    """手順2② システムの停止の実施報告"""

    done_on: date = Field(title="実施日", description="日本時間の日付")
    done_at: str = Field(pattern=HHMM, title="実施時刻", description=TIME_HINT)
    done: str = Field(min_length=1, title="実施した停止・切り離しの内容")


class CooperationBody(StrEnum):
    CENTER = "全国センター"
    PREFECTURE = "滋賀県"
    PLANNING = "企画課"
    VENDOR = "保守委託事業者"


class EmergencyMeasures(Form):
    """手順2①③④ 緊急措置の実施"""

    cooperation_from: list[CooperationBody] = Field(
        min_length=1,
        title="手順2① 協力を要請する先",
        description="被害拡大を防止するための措置等の協力を要請します（依頼文を送付します）",
    )
    spread_measures: str = Field(min_length=1, title="手順2① 被害拡大を防止するために講じた措置")
    hearings_result: str = Field(
        default="なし",
        title="手順2③ 関係者からの報告の聴収・調査の結果",
        description="統括責任者が指示した場合は必須",
    )
    receiving_body: str = Field(
        default="",
        title="手順2④ 不正行為が認められた本人確認情報の提供先機関",
        description="連絡先に登録された機関名（該当がなければ空欄）",
    )
    receiving_request: str = Field(
        default="報告の聴収、調査、保有情報の廃棄等の緊急措置の実施と、講じた措置の報告",
        title="手順2④ 提供先機関への要請の内容",
    )


def measures_problems(
    measures: EmergencyMeasures, hearings_ordered: bool, receivers: list[str]
) -> list[str]:
    problems = []
    if hearings_ordered and measures.hearings_result.strip() in ("", "なし"):
        problems.append(
            "統括責任者が関係者からの報告の聴収・調査を指示しています。"
            "「手順2③ 関係者からの報告の聴収・調査の結果」を記入してください"
        )
    name = measures.receiving_body.strip()
    if name and name not in receivers:
        known = "、".join(receivers) or "（登録なし）"
        problems.append(
            f"「手順2④ 不正行為が認められた本人確認情報の提供先機関」の「{name}」は連絡先に登録されていません。"
            f"登録済みの機関: {known}"
        )
    return problems


class LevelChoice(StrEnum):
    """脅威度"""

    L1 = "レベル1（本人確認情報等に脅威を及ぼすおそれがない）"
    L2 = "レベル2（本人確認情報等に脅威を及ぼすおそれが低い）"
    L3 = "レベル3（本人確認情報等に脅威を及ぼし、または及ぼすおそれが高い）"

    @property
    def level(self) -> ThreatLevel:
        return {"L1": ThreatLevel.L1, "L2": ThreatLevel.L2, "L3": ThreatLevel.L3}[self.name]


class ConsultedBody(StrEnum):
    CENTER = "全国センター"
    PREFECTURE = "滋賀県"
    PLANNING = "企画課"
    VENDOR = "保守委託事業者"


class Determination(Form):
    """手順3 不正行為の脅威度の判定"""

    level: LevelChoice = Field(title="脅威度")
    examples: list[ExampleChoice] = Field(
        min_length=1,
        title="該当する計画書の事例",
        description="判定の根拠とする事例（判定した脅威度の事例を含めてください）",
    )
    reason: str = Field(min_length=1, title="判定の理由")
    consulted: list[ConsultedBody] = Field(
        default_factory=list, title="連絡調整した機関", description="計画書 手順3"
    )


def determination_problems(det: Determination) -> list[str]:
    chosen = examples_of(det.examples)
    level = det.level.level
    above = [e.key for e in chosen if e.level > level]
    problems = []
    if above:
        problems.append(
            f"選んだ事例 {'、'.join(above)} は{level.label}より高い脅威度の事例です。"
            "脅威度は該当する事例のうち最も高いものになります"
        )
    if not any(e.level == level for e in chosen):
        problems.append(
            f"{level.label}と判定する根拠として、{level.label}の事例を一つ以上選んでください"
            "（どれにも当たらない場合は「その他」の事例）"
        )
    return problems


class LevelRaise(StrEnum):
    KEEP = "変更しない"
    TO_L3 = "レベル3に引き上げる（新たな事実による）"


def _raise_level() -> LevelRaise:
    return Field(default=LevelRaise.KEEP, title="脅威度の見直し")


def _raise_reason() -> str:
    return Field(default="", title="引き上げの理由", description="引き上げる場合は必須")


class CauseReport(Form):
    """手順3② 原因の解明と対策の報告（システム管理者を経てセキュリティ統括責任者へ）"""

    cause: str = Field(min_length=1, title="原因")
    countermeasures: str = Field(min_length=1, title="対策の実施内容")
    raise_level: LevelRaise = _raise_level()
    raise_reason: str = _raise_reason()


def raise_problems(answer: CauseReport | Review | Findings, level: ThreatLevel) -> list[str]:
    if answer.raise_level is LevelRaise.KEEP:
        return []
    if level >= ThreatLevel.L3:
        return ["脅威度はすでにレベル3です。「脅威度の見直し」は「変更しない」を選んでください"]
    if not answer.raise_reason.strip():
        return ["脅威度を引き上げる場合は「引き上げの理由」を記入してください"]
    return []


class ConveneDecision(StrEnum):
    CONVENE = "セキュリティ会議を招集する"
    NOT_CONVENE = "招集しない（セキュリティ管理者の報告に基づき対応する）"


class MeetingNeed(Form):
    """手順3③ レベル2: セキュリティ会議の招集の判断"""

    decision: ConveneDecision = Field(title="セキュリティ会議")
    reason: str = Field(min_length=1, title="判断の理由")


class MeetingResult3(MeetingDecisions):
    """手順4②③ セキュリティ会議の審議結果（議長: セキュリティ統括責任者）"""

    measures_approval: MeasuresApproval = Field(title="手順4② 緊急の措置等の承認")
    d1_measure: SystemMeasure = Field(
        title="D1 システムへの措置", description="手順2で停止した措置を続ける場合もここで選択"
    )
    d1_detail: str = Field(default="なし", title="D1 措置の内容", description="対象の機器・機能")
    d8_review: str = Field(
        default="なし",
        title="D8 緊急措置の見直し判断",
        description="追加措置・復旧作業等の進捗状況・恒久対策の立案 等（会議後も繰り返し記録できます）",
    )
    d9_resumption: ResumptionBy = Field(title="D9 再開運用の決定")

    @property
    def meeting_decides_resumption(self) -> bool:
        """C3.S6.1: a stop ordered in D1, or D9 keeping the decision, binds resumption."""
        return (
            self.d1_measure is not SystemMeasure.NONE or self.d9_resumption is ResumptionBy.MEETING
        )


def meeting_problems(result: MeetingResult3) -> list[str]:
    problems = []
    stops = result.d1_measure is not SystemMeasure.NONE
    if stops and result.d1_detail.strip() in ("", "なし"):
        problems.append("D1 でシステムへの措置を決定する場合は「D1 措置の内容」を記入してください")
    if result.d6_publicity and result.d6_message.strip() in ("", "なし"):
        problems.append(
            "D6 で広報対応を決定する場合は「D6 広報で町民に伝える内容」を記入してください"
        )
    return problems


class ReviewNext(StrEnum):
    AGAIN = "引き続き緊急措置の見直しを行う"
    PROCEED = "原因の究明と復旧措置（手順5）へ進む"


class Review(Form):
    """手順4 決定事項 D8 緊急措置の見直し判断（議長: セキュリティ統括責任者）"""

    additional_measures: str = Field(default="なし", title="追加措置")
    progress: str = Field(min_length=1, title="復旧作業等緊急時対応の進捗状況")
    permanent_planning: str = Field(default="なし", title="恒久対策の立案")
    raise_level: LevelRaise = _raise_level()
    raise_reason: str = _raise_reason()
    next: ReviewNext = Field(title="次の見直し")


class Findings(Form):
    """手順5 原因の究明と復旧措置"""

    cause: str = Field(min_length=1, title="究明した原因")
    evidence: str = Field(
        min_length=1, title="根拠", description="収集したアクセスログ等（本人確認情報は記入しない）"
    )
    scope: str = Field(min_length=1, title="影響の範囲")
    recovery: str = Field(min_length=1, title="実施した復旧措置")
    consulted: list[ConsultedBody] = Field(default_factory=list, title="協力を得た機関")
    raise_level: LevelRaise = _raise_level()
    raise_reason: str = _raise_reason()


class ResumptionMeasures(Form):
    """手順6② 運用再開に当たっての措置"""

    resumed_on: date = Field(title="運用を再開した日", description="日本時間の日付")
    resumed_at: str = Field(pattern=HHMM, title="運用を再開した時刻", description=TIME_HINT)
    access_rights: str = Field(
        default="なし", title="アクセス権限の設定変更", description="行った変更（なければ「なし」）"
    )
    services: str = Field(
        default="なし",
        title="町民サービスの停止解除",
        description="解除したサービス（なければ「なし」）",
    )

    @property
    def resumed(self) -> datetime:
        return jst_datetime(self.resumed_on, self.resumed_at)


class PermanentMeasures(Form):
    """2 恒久対策（セキュリティ会議の審議結果。議長: セキュリティ統括責任者）"""

    measures: list[FreePreventionItem] = Field(min_length=1, title="恒久対策")


def permanent_problems(plan: PermanentMeasures) -> list[str]:
    problems = [p for m in plan.measures for p in item_problems(f"恒久対策「{m.title}」", m)]
    if not any(m.adopt for m in plan.measures):
        problems.append("実施する恒久対策が一つもありません。少なくとも一つ記入してください")
    return problems
