"""Answers for the chapter-3 steps, shared by the flow tests (field names as the API takes them)."""

from __future__ import annotations

from typing import Any

from tests.flows.scenarios import CHIEF, OFFICER, OPERATOR

SEC_ADMIN = "芹川 直樹（総務課 情報係）"
SEC_ADMIN_DEPUTY = "敏満寺 智子（住民課 課長補佐）"
__all__ = ["CHIEF", "OFFICER", "OPERATOR", "SEC_ADMIN", "SEC_ADMIN_DEPUTY"]

L1_1 = "レベル1-(1) CS を設置する室または統合端末を設置する場所に無権限者が侵入しようとしたにもかかわらず、当該室または場所に侵入することができなかったもの"
L2_2 = "レベル2-(2) ファイアウォールを通過しなかった不正アクセス"
L2_3 = "レベル2-(3) コンピューターウィルス対策ソフトウェアによるコンピューターウィルスの検出"
L3_2 = "レベル3-(2) ファイアウォールを通過した不正アクセス"
L3_3 = "レベル3-(3) 正当な権限によるものと確認することができない統合端末等の操作"


def report(*examples: str) -> dict[str, Any]:
    return {
        "found_on": "2026-11-27",
        "found_at": "17:20",
        "occurred_on": "2026-11-26",
        "occurred_at": "22:10",
        "occurred_remark": "操作記録の時刻による",
        "device": "統合端末 2号機",
        "device_location": "住民課窓口",
        "act": "業務時間外に権限の確認できない照会操作が行われた",
        "expected_damage": "本人確認情報の閲覧のおそれ",
        "measures_taken": "当該端末のネットワークケーブルを抜いた",
        "examples": list(examples),
    }


FORWARD = {"remarks": "統合端末を隔離済み"}


def instruction(
    level3: bool, stop: str = "停止・切り離しは行わない", **extra: Any
) -> dict[str, Any]:
    return {
        "instructions": "統合端末の利用を停止し、操作記録を保全すること",
        "level3": "レベル3に該当する可能性が高い"
        if level3
        else "レベル3に該当する可能性は高くない",
        "system_stop": stop,
        "stop_target": "統合端末 2号機" if stop != "停止・切り離しは行わない" else "なし",
        **extra,
    }


STOP_DONE = {
    "done_on": "2026-11-27",
    "done_at": "17:45",
    "done": "統合端末 2号機を庁内LANから切り離した",
}


def measures(**extra: Any) -> dict[str, Any]:
    return {
        "cooperation_from": ["全国センター", "滋賀県", "企画課", "保守委託事業者"],
        "spread_measures": "端末を隔離し、全端末のパスワードを変更した",
        **extra,
    }


def determination(level: int, *examples: str) -> dict[str, Any]:
    choice = {
        1: "レベル1（本人確認情報等に脅威を及ぼすおそれがない）",
        2: "レベル2（本人確認情報等に脅威を及ぼすおそれが低い）",
        3: "レベル3（本人確認情報等に脅威を及ぼし、または及ぼすおそれが高い）",
    }[level]
    return {
        "level": choice,
        "examples": list(examples),
        "reason": "操作記録と入退室記録を確認した結果による",
        "consulted": ["全国センター", "滋賀県"],
    }


CAUSE = {"cause": "共用パスワードの流出", "countermeasures": "個人別パスワードへの切替え"}
CAUSE_RAISED = {
    **CAUSE,
    "raise_level": "レベル3に引き上げる（新たな事実による）",
    "raise_reason": "ファイアウォールの通過が判明した",
}
CONVENE = {"decision": "セキュリティ会議を招集する", "reason": "脅威が生じる可能性がある"}
NO_MEETING = {
    "decision": "招集しない（セキュリティ管理者の報告に基づき対応する）",
    "reason": "影響は限定的",
}
CONVENING = {"meeting_on": "2026-11-28", "meeting_at": "09:00", "place": "庁議室"}


def meeting(
    d1: str = "停止・切り離しは行わない", d9: str = "統括責任者の承認により再開する", **extra: Any
) -> dict[str, Any]:
    return {
        "measures_approval": "承認する",
        "d1_measure": d1,
        "d1_detail": "統合端末 2号機" if d1 != "停止・切り離しは行わない" else "なし",
        "d2_bodies": ["全国センター", "都道府県管理課（滋賀県）"],
        "d3_support": ["保守委託事業者"],
        "d4_structure": "統括責任者の指揮の下、総務課が調査、住民課が窓口",
        "d5_residents": "問い合わせ窓口を住民課に置く",
        "d6_publicity": ["ホームページ等での告知", "記者発表"],
        "d6_message": "住基ネットへの不正な操作の疑いがあり、調査しています",
        "d7_alternatives": "広域交付は一時停止し、窓口で案内する",
        "d8_review": "翌日に見直す",
        "d9_resumption": d9,
        **extra,
    }


REVIEW_AGAIN = {
    "additional_measures": "全端末の操作記録を点検",
    "progress": "原因調査中",
    "next": "引き続き緊急措置の見直しを行う",
}
REVIEW_PROCEED = {
    **REVIEW_AGAIN,
    "progress": "原因を特定",
    "next": "原因の究明と復旧措置（手順5）へ進む",
}
FINDINGS = {
    "cause": "共用パスワードの流出による不正な照会",
    "evidence": "統合端末の操作ログ（11月26日 22時台）",
    "scope": "照会のみ。更新は行われていない",
    "recovery": "パスワードを変更し、端末を再設定した",
    "consulted": ["全国センター"],
}
CONSISTENT = {"result": "整合性を確認した（不整合なし）", "method": "件数照合と差分確認"}
RESUME = {"decision": "運用の再開を承認する"}
HOLD = {"decision": "承認しない（追加の措置を求める）", "remarks": "全端末の点検後に再開"}
RESUMPTION = {
    "resumed_on": "2026-11-29",
    "resumed_at": "10:30",
    "access_rights": "個人別IDに切替え",
    "services": "広域交付を再開",
}
PERMANENT = {
    "measures": [
        {"title": "認証の強化", "content": "生体認証の導入", "owner": "総務課", "due": "2027-03-31"}
    ]
}
NOTIFICATION = {
    "notifier": "全国センター",
    "notifier_detail": "運用監視担当",
    "received_on": "2026-11-27",
    "received_at": "09:15",
    "content": "貴町の CS から不審な通信を検知した",
    "received_by": "犬上 一郎（住民課）",
}


def analysis(likely: str, *examples: str, **extra: Any) -> dict[str, Any]:
    return {
        **report(*examples),
        "analysis": "CS の通信記録に外部への不審な通信がある",
        "likely_level": likely,
        **extra,
    }


PUBLICITY_APPROVED = {"decision": "承認する（企画課へ送付する）"}
