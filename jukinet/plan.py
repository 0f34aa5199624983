"""The plan as data: roles, the two 区分, failure types, meeting decision items, with clause IDs.

Every string shown to staff is worded as the plan words it (../shared/plan/clauses.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Role(StrEnum):
    """役割 named by the plan; the value is the clause index's role ID."""

    STAFF = "R-STAFF"
    OPERATOR = "R-OPERATOR"
    SEC_OFFICER = "R-SEC-OFFICER"
    SEC_ADMIN = "R-SEC-ADMIN"
    SYS_ADMIN = "R-SYS-ADMIN"
    CHIEF = "R-CHIEF"
    ID_MANAGER = "R-ID-MANAGER"
    MAYOR = "R-MAYOR"
    MEETING = "B-MEETING"

    @property
    def label(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES: dict[Role, str] = {
    Role.STAFF: "職員（発見者）",
    Role.OPERATOR: "住基ネット担当者",
    Role.SEC_OFFICER: "セキュリティ責任者",
    Role.SEC_ADMIN: "セキュリティ管理者",
    Role.SYS_ADMIN: "システム管理者",
    Role.CHIEF: "セキュリティ統括責任者",
    Role.ID_MANAGER: "本人確認情報管理責任者",
    Role.MAYOR: "町長",
    Role.MEETING: "セキュリティ会議",
}


class Body(StrEnum):
    """Outside bodies of the 緊急時連絡網 (C2.1); the value is the contact directory's key."""

    PREFECTURE = "shiga"
    CENTER = "center"
    VENDOR = "vendor"
    MUNICIPALITIES = "municipalities"
    PLANNING = "kikaku"

    @property
    def label(self) -> str:
        return BODY_TITLES[self]


BODY_TITLES: dict[Body, str] = {
    Body.PREFECTURE: "滋賀県",
    Body.CENTER: "全国センター",
    Body.VENDOR: "保守委託事業者",
    Body.MUNICIPALITIES: "関係市町村",
    Body.PLANNING: "企画課",
}


class EmergencyClass(StrEnum):
    """緊急時の区分（C1.2）"""

    FAILURE = "障害"
    UNAUTHORIZED = "不正行為"


EMERGENCY_CLASS_CLAUSE = {
    EmergencyClass.FAILURE: "C1.2.FAILURE",
    EmergencyClass.UNAUTHORIZED: "C1.2.UNAUTHORIZED",
}

EMERGENCY_CLASS_TEXT = {
    EmergencyClass.FAILURE: (
        "電子計算機、端末装置の故障その他事故、電算室の火災その他事故により、住基ネットで使用する"
        "ハードウェア、ソフトウェアおよびネットワーク機能の正常性が喪失またはそのおそれがある状態"
        "（例: CS・端末機器の故障、システムのバグ、ネットワーク回線の不通、交換機・ハブの故障）"
    ),
    EmergencyClass.UNAUTHORIZED: (
        "電子計算機における不正行為または電子計算機への不正アクセス行為により、住基ネットの目的外使用、"
        "住基ネットの運用を阻害する行為等、本人確認情報に脅威を及ぼすおそれがある場合"
        "（例: CS における不正行為、CS への不正アクセス行為、コンピュータウィルスの侵入）"
    ),
}


class FailureType(StrEnum):
    """障害の種類（C2.S1.1）"""

    HARDWARE = "ハードウェアの障害"
    SOFTWARE = "ソフトウェアの障害"
    NETWORK = "ネットワークの障害"


@dataclass(frozen=True)
class FailureTypeInfo:
    events: str
    check_methods: tuple[str, ...]


FAILURE_TYPES: dict[FailureType, FailureTypeInfo] = {
    FailureType.HARDWARE: FailureTypeInfo("故障、停電 等", ("警告ランプの確認", "形状異常の確認")),
    FailureType.SOFTWARE: FailureTypeInfo("バグ 等", ("バグ情報の確認", "業務イベントログ解析")),
    FailureType.NETWORK: FailureTypeInfo(
        "交換機・ハブ故障、庁内回線の切断 等",
        ("警告ランプの確認", "コマンドによる確認", "目視チェック"),
    ),
}


@dataclass(frozen=True)
class DecisionItem:
    clause: str
    title: str
    content: str


MEETING_ITEMS_CH2: tuple[DecisionItem, ...] = (
    DecisionItem(
        "C2.S3.D1",
        "機器等への対応",
        "システムの完全停止、機能の一部停止、機器の一部切り離し、ネットワークからの切り離し",
    ),
    DecisionItem("C2.S3.D2", "関係機関への連絡", "全国センター、都道府県管理課、関係市町村 等"),
    DecisionItem("C2.S3.D3", "技術的支援依頼", "全国センター、滋賀県、保守委託事業者 等"),
    DecisionItem("C2.S3.D4", "緊急体制の確立", "役割分担、指揮命令系統の確認"),
    DecisionItem("C2.S3.D5", "町民への対応", "来庁者への対応、問い合わせ対応、苦情処理"),
    DecisionItem("C2.S3.D6", "広報対応", "ホームページ等での告知、情報資料提供、記者発表 等"),
    DecisionItem(
        "C2.S3.D7",
        "代替措置の実施",
        "業務ごとに住基ネットが停止した場合の措置を検討し、当該措置を実施する",
    ),
    DecisionItem(
        "C2.S3.D8",
        "再開運用の決定",
        "障害復旧状況および本人確認情報の整合性等の報告を受け、運用再開の決定を行う",
    ),
)


MEETING_ITEMS_CH3: tuple[DecisionItem, ...] = (
    DecisionItem(
        "C3.S4.D1",
        "システムへの措置",
        "システムの完全停止、機能の一部停止、機器の一部切り離し、ネットワークからの切り離し",
    ),
    DecisionItem("C3.S4.D2", "関係機関への連絡", "全国センター、都道府県管理課、関係市町村 等"),
    DecisionItem("C3.S4.D3", "技術的支援依頼", "全国センター、滋賀県、保守委託事業者 等"),
    DecisionItem("C3.S4.D4", "緊急体制の確立", "役割分担、指揮命令系統の確認"),
    DecisionItem("C3.S4.D5", "町民への対応", "来庁者への対応、問い合わせ対応、苦情処理"),
    DecisionItem("C3.S4.D6", "広報対応", "ホームページ等での告知、情報資料提供、記者発表 等"),
    DecisionItem(
        "C3.S4.D7",
        "代替措置の実施",
        "業務ごとに住基ネットが停止した場合の措置を検討し、当該措置を実施する",
    ),
    DecisionItem(
        "C3.S4.D8",
        "緊急措置の見直し判断",
        "追加措置、復旧作業等緊急時対応の進捗状況、恒久対策の立案 等",
    ),
    DecisionItem(
        "C3.S4.D9",
        "再開運用の決定",
        "障害復旧状況および本人確認情報の整合性等の報告を受け、運用再開の決定を行う",
    ),
)


class SystemMeasure(StrEnum):
    """機器等への対応（C2.S3.D1・C3.S2.2 のシステムの停止）"""

    NONE = "停止・切り離しは行わない"
    FULL_STOP = "システムの完全停止"
    PARTIAL_STOP = "機能の一部停止"
    DETACH_DEVICE = "機器の一部切り離し"
    DETACH_NETWORK = "ネットワークからの切り離し"


@dataclass(frozen=True)
class PreventionMeasure:
    clause: str
    kind: str
    title: str


PREVENTION_MEASURES: tuple[PreventionMeasure, ...] = (
    PreventionMeasure("C2.3.T1", "技術面の対策", "障害監視の強化"),
    PreventionMeasure("C2.3.T2", "技術面の対策", "技術情報の収集"),
    PreventionMeasure("C2.3.O1", "運用面の対策", "定期点検実施時期の見直し"),
    PreventionMeasure("C2.3.O2", "運用面の対策", "オーバーホールの実施"),
    PreventionMeasure("C2.3.O3", "運用面の対策", "予備装置の確保"),
    PreventionMeasure("C2.3.O4", "運用面の対策", "教育・研修"),
)


class ThreatLevel(IntEnum):
    """脅威度（C3.A）"""

    L1 = 1
    L2 = 2
    L3 = 3

    @property
    def label(self) -> str:
        return f"レベル{self.value}"


@dataclass(frozen=True)
class ThreatExample:
    """One numbered example of the table; `other` marks the catch-all a human must judge."""

    level: ThreatLevel
    number: int
    text: str  # the plan's words
    other: bool = False

    @property
    def clause(self) -> str:
        return f"C3.A.L{self.level.value}"

    @property
    def key(self) -> str:
        """`レベル3-(2)`"""
        return f"{self.level.label}-({self.number})"

    @property
    def label(self) -> str:
        """`レベル3-(2) ファイアウォールを通過した不正アクセス`: the choice in the forms (the
        definition of ドキュメント the plan gives in レベル2-(1) is left out of the choice)."""
        return f"{self.key} {self.text.replace(_DOCUMENTS, '')}"


@dataclass(frozen=True)
class ThreatLevelInfo:
    level: ThreatLevel
    threat: str  # 本人確認情報等の脅威, in the plan's words
    examples: tuple[ThreatExample, ...]


def _examples(level: ThreatLevel, *texts: str, other: int) -> tuple[ThreatExample, ...]:
    return tuple(
        ThreatExample(level, i, text, other=(i == other)) for i, text in enumerate(texts, start=1)
    )


_DOCUMENTS = (
    "（システム設計書、プログラム説明書、事務説明書、CS および統合端末の操作手引書その他の"
    "要領および仕様を記した書類をいう。）"
)

THREAT_LEVELS: dict[ThreatLevel, ThreatLevelInfo] = {
    ThreatLevel.L1: ThreatLevelInfo(
        ThreatLevel.L1,
        "本人確認情報等に脅威を及ぼすおそれがない場合",
        _examples(
            ThreatLevel.L1,
            "CS を設置する室または統合端末を設置する場所に無権限者が侵入しようとしたにもかかわらず、"
            "当該室または場所に侵入することができなかったもの",
            "レベル２およびレベル３に該当しないもの",
            other=2,
        ),
    ),
    ThreatLevel.L2: ThreatLevelInfo(
        ThreatLevel.L2,
        "本人確認情報等に脅威を及ぼすおそれが低い場合",
        _examples(
            ThreatLevel.L2,
            "本人確認情報等が記録されていない磁気ディスクまたは本人確認情報等を保護する上で重要ではない"
            f"ソフトウェアもしくはドキュメント{_DOCUMENTS}等を保管する場所への無権限者の侵入",
            "ファイアウォールを通過しなかった不正アクセス",
            "コンピューターウィルス対策ソフトウェアによるコンピューターウィルスの検出",
            "(1)～(3)に該当するもののほか、本人確認情報等に脅威を及ぼすおそれが低いもの",
            other=4,
        ),
    ),
    ThreatLevel.L3: ThreatLevelInfo(
        ThreatLevel.L3,
        "本人確認情報等に脅威を及ぼし、または及ぼすおそれが高い場合",
        _examples(
            ThreatLevel.L3,
            "本人確認情報等が記録されている磁気ディスクまたは本人確認情報等を保護する上で重要な"
            "ソフトウェアもしくはドキュメント等を保管する場所への無権限者の侵入",
            "ファイアウォールを通過した不正アクセス",
            "正当な権限によるものと確認することができない統合端末等の操作",
            "コンピューターウィルスの侵入によるシステムの異常動作",
            "本人確認情報等の不正利用またはそのおそれを生じさせるもの",
            "(1)～(5)に該当するもののほか、本人確認情報等に脅威を及ぼし、または及ぼすおそれが高いもの",
            other=6,
        ),
    ),
}

THREAT_EXAMPLES: tuple[ThreatExample, ...] = tuple(
    e for info in THREAT_LEVELS.values() for e in info.examples
)


@dataclass(frozen=True)
class LevelSuggestion:
    level: ThreatLevel | None
    reason: str


def suggest_level(examples: list[ThreatExample]) -> LevelSuggestion:
    """The highest level among the ticked examples, with the reason; the decision stays human.

    `suggest_level([L2-(2), L3-(3)])` → レベル3 because of レベル3-(3). A catch-all ("other")
    example counts at its level but the reason says that it rests on the reporter's judgement.
    """
    if not examples:
        return LevelSuggestion(
            None,
            "計画書の事例が選ばれていないため、脅威度を提案できません。判定者が判断してください。",
        )
    top = max(e.level for e in examples)
    decisive = [e for e in examples if e.level == top]
    named = "、".join(e.key for e in decisive)
    reason = f"選ばれた事例のうち最も高い脅威度の事例 {named} に該当するため。"
    if all(e.other for e in decisive):
        reason += (
            "ただし、この事例は「その他」の区分であり、該当するかどうかは判定者の判断によります。"
        )
    return LevelSuggestion(top, reason)


CLAUSE_TITLES: dict[str, str] = {
    "C1.1": "第1章 総則 1 目的",
    "C1.2": "第1章 総則 2 緊急時の区分",
    "C1.2.FAILURE": "第1章 総則 2 緊急時の区分（障害）",
    "C1.2.UNAUTHORIZED": "第1章 総則 2 緊急時の区分（不正行為）",
    "C2.1": "第2章 1 緊急時連絡網",
    "C2.S1": "第2章 手順1 障害の特定・原因の究明",
    "C2.S2": "第2章 手順2 サーバ等の動作に関する判断",
    "C2.S3": "第2章 手順3 セキュリティ会議",
    "C2.S1.1": "第2章 手順1① 障害の特定・原因の究明",
    "C2.S1.2": "第2章 手順1② 保守作業の依頼・セキュリティ責任者への報告",
    "C2.S1.3": "第2章 手順1③ セキュリティ統括責任者への報告",
    "C2.S2.1": "第2章 手順2① データ保護等の指示",
    "C2.S2.2": "第2章 手順2② 長時間停止の判断・町長への報告",
    "C2.S3.1": "第2章 手順3① セキュリティ会議の招集",
    "C2.S3.2": "第2章 手順3② 状況報告・措置の承認",
    "C2.S3.3": "第2章 手順3③ 審議・町長への結果報告",
    "C2.S4": "第2章 手順4 保守作業の実施",
    "C2.S5": "第2章 手順5 運用の再開",
    "C2.S5.MEETING": "第2章 手順5 ただし書 セキュリティ会議による運用再開の決定",
    "C2.3": "第2章 3 再発防止策",
    "C3": "第3章 不正行為",
    "C3.A": "第3章 1(A) 不正行為の脅威度",
    "C3.A.L1": "第3章 1(A) 脅威度 レベル1",
    "C3.A.L2": "第3章 1(A) 脅威度 レベル2",
    "C3.A.L3": "第3章 1(A) 脅威度 レベル3",
    "C3.S1": "第3章 手順1 状況の把握",
    "C3.S4": "第3章 手順4 セキュリティ会議",
    "C3.S6": "第3章 手順6 運用の再開と緊急措置の見直し",
    "C3.S1.1": "第3章 手順1① セキュリティ責任者への報告",
    "C3.S1.2": "第3章 手順1② 不正行為の報告（ア〜エ）",
    "C3.S1.3": "第3章 手順1③ 国・滋賀県・全国センターからの通報",
    "C3.S1.4": "第3章 手順1④ システム管理者・セキュリティ統括責任者への報告",
    "C3.S2": "第3章 手順2 町長への報告・データ保護等の指示",
    "C3.S2.1": "第3章 手順2① 被害拡大防止のための協力要請",
    "C3.S2.2": "第3章 手順2② システムの停止",
    "C3.S2.3": "第3章 手順2③ 関係者からの報告の聴収・調査",
    "C3.S2.4": "第3章 手順2④ 本人確認情報の提供を受けた機関等への要請",
    "C3.S3": "第3章 手順3 脅威度の判定",
    "C3.S3.1": "第3章 手順3① レベル1: 庁内報告・緊急時対応の解除",
    "C3.S3.2": "第3章 手順3② 原因の解明・対策の報告",
    "C3.S3.3": "第3章 手順3③ レベル2: セキュリティ会議の招集の判断",
    "C3.S3.4": "第3章 手順3④ レベル3: 町長への報告・セキュリティ会議の招集",
    "C3.S4.1": "第3章 手順4① セキュリティ会議の招集",
    "C3.S4.2": "第3章 手順4② 状況報告・緊急の措置の承認",
    "C3.S4.3": "第3章 手順4③ 審議・町長への報告",
    "C3.S5": "第3章 手順5 原因の究明と復旧措置",
    "C3.S6.1": "第3章 手順6① 整合性の確認・運用の再開",
    "C3.S6.2": "第3章 手順6② アクセス権限の設定変更・町民サービスの停止解除",
    "C3.S6.3": "第3章 手順6③ 町長への報告",
    "C3.S6.4": "第3章 手順6④ 関係機関への連絡",
    "C3.2": "第3章 2 恒久対策の実施",
}
for _item in MEETING_ITEMS_CH2:
    CLAUSE_TITLES[_item.clause] = f"第2章 手順3 決定事項 {_item.title}"
for _item in MEETING_ITEMS_CH3:
    CLAUSE_TITLES[_item.clause] = f"第3章 手順4 決定事項 {_item.title}"
for _m in PREVENTION_MEASURES:
    CLAUSE_TITLES[_m.clause] = f"第2章 3 再発防止策 {_m.kind}（{_m.title}）"


def clause_title(clause: str) -> str:
    """`clause_title("C2.S4")` → "第2章 手順4 保守作業の実施"."""
    return CLAUSE_TITLES.get(clause, clause)
