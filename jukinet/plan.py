"""The plan as data: roles, the two 区分, failure types, meeting decision items, with clause IDs.

Every string shown to staff is worded as the plan words it (../shared/plan/clauses.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


CLAUSE_TITLES: dict[str, str] = {
    "C1.1": "第1章 総則 1 目的",
    "C1.2": "第1章 総則 2 緊急時の区分",
    "C1.2.FAILURE": "第1章 総則 2 緊急時の区分（障害）",
    "C1.2.UNAUTHORIZED": "第1章 総則 2 緊急時の区分（不正行為）",
    "C2.1": "第2章 1 緊急時連絡網",
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
}
for _item in MEETING_ITEMS_CH2:
    CLAUSE_TITLES[_item.clause] = f"第2章 手順3 決定事項 {_item.title}"
for _m in PREVENTION_MEASURES:
    CLAUSE_TITLES[_m.clause] = f"第2章 3 再発防止策 {_m.kind}（{_m.title}）"


def clause_title(clause: str) -> str:
    """`clause_title("C2.S4")` → "第2章 手順4 保守作業の実施"."""
    return CLAUSE_TITLES.get(clause, clause)
