"""Answers for the chapter-2 steps, shared by the flow tests (field names as the API takes them)."""

from __future__ import annotations

from typing import Any

OPERATOR = "犬上 一郎（住民課）"
OPERATOR_DEPUTY = "多賀 花子（住民課）"
OFFICER = "大滝 健二（住民課長）"
CHIEF = "霊仙 正（副町長）"
CHIEF_DEPUTY = "栗栖 修（総務課長）"
OUTSIDER = "河内 美咲（企画課長）"


def declaration(presumed: str = "障害") -> dict[str, Any]:
    return {
        "discovered_on": "2026-11-27",
        "discovered_at": "10:30",
        "place": "CS サーバ（電算室）",
        "observed": "CS の警告ランプが赤く点灯し、統合端末から接続できない",
        "reporter": "住民課 窓口担当",
        "presumed": presumed,
        "measures_taken": "なし",
    }


IDENTIFICATION: dict[str, Any] = {
    "failure_type": "ハードウェアの障害",
    "check_methods": ["警告ランプの確認", "形状異常の確認"],
    "check_results": "電源ユニットの警告ランプが点灯",
    "location": "CS サーバ 電源ユニット（電算室）",
    "cause": "電源ユニットの故障",
    "impact": "住基ネットの照会・転入転出処理ができない",
    "help_from": [],
    "request_maintenance": True,
}

JUDGEMENT_SHORT: dict[str, Any] = {
    "instructions": "CS の電源を切り、データの書込みを停止すること",
    "judgement": "長時間の停止には至らない（手順4 保守作業へ進む）",
    "reason": "予備の電源ユニットがあり、当日中に交換できる",
}

JUDGEMENT_LONG: dict[str, Any] = {
    **JUDGEMENT_SHORT,
    "judgement": "長時間の停止となる（町長へ報告し、セキュリティ会議を招集する）",
    "reason": "サーバ本体の故障で部品の手配に数日かかる",
}

CONVENING: dict[str, Any] = {"meeting_on": "2026-11-27", "meeting_at": "14:00", "place": "庁議室"}


def meeting(
    d1: str = "停止・切り離しは行わない", d8: str = "統括責任者の承認により再開する", **extra: Any
) -> dict[str, Any]:
    return {
        "measures_approval": "承認する",
        "d1_measure": d1,
        "d2_bodies": ["全国センター", "都道府県管理課（滋賀県）", "関係市町村"],
        "d3_support": ["保守委託事業者"],
        "d4_structure": "統括責任者の指揮の下、住民課が窓口、総務課が技術対応",
        "d5_residents": "窓口で事情を説明し、証明書は後日交付",
        "d6_publicity": ["ホームページ等での告知", "記者発表"],
        "d6_message": "住基ネットを利用する手続に時間がかかります",
        "d7_alternatives": "転入転出は仮受付とし、復旧後に処理する",
        "d8_resumption": d8,
        **extra,
    }


PUBLICITY_APPROVED = {"decision": "承認する（企画課へ送付する）"}

REPAIR_IN_PROGRESS = {
    "status": "作業中（経過を報告する）",
    "reported_on": "2026-11-27",
    "reported_at": "13:00",
    "work": "交換部品を手配中",
}
REPAIRED = {
    "status": "復旧した",
    "reported_on": "2026-11-27",
    "reported_at": "16:45",
    "work": "電源ユニットを交換し、起動を確認",
}
CONSISTENT = {"result": "整合性を確認した（不整合なし）", "method": "件数照合と差分確認"}
INCONSISTENT = {"result": "不整合が残っている", "method": "件数照合"}
RESUME = {"decision": "運用の再開を承認する"}
HOLD = {"decision": "承認しない（追加の措置を求める）", "remarks": "再起動後の監視を1時間行うこと"}


def item(content: str) -> dict[str, Any]:
    return {"adopt": True, "content": content, "owner": "住民課", "due": "2027-03-31"}


SKIP = {"adopt": False}
PREVENTION: dict[str, Any] = {
    "t1_monitoring": item("電源ユニットの監視を追加"),
    "t2_information": SKIP,
    "o1_inspection": item("点検を年2回に"),
    "o2_overhaul": SKIP,
    "o3_spares": item("予備電源ユニットを常備"),
    "o4_training": SKIP,
    "others": [],
}
