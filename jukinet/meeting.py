"""The security meeting in words, the same in both chapters: the convening notice's agenda and the
decisions as the records, letters and the mayor's report state them.

    >>> meeting_agenda("障害の状況の報告", "データ保護等の措置", MEETING_ITEMS_CH2)[:2]
    ['障害の状況の報告', 'データ保護等の措置の承認']
"""

from __future__ import annotations

from typing import Protocol

from jukinet.forms.chapter2 import (
    MeasuresApproval,
    MeetingDecisions,
    NotifyBody,
    Publicity,
    SupportBody,
)
from jukinet.plan import DecisionItem


def meeting_agenda(report: str, measures: str, items: tuple[DecisionItem, ...]) -> list[str]:
    """The convening notice's 議題: the report, the approval of the measures (the plan's name for
    them: 第2章 データ保護等の措置, 第3章 緊急の措置等), then each item."""
    return [report, f"{measures}の承認", *(i.title for i in items)]


class HasApproval(Protocol):
    measures_approval: MeasuresApproval
    measures_opinion: str


def decision_lines(
    result: HasApproval, measures: str, items: tuple[DecisionItem, ...], texts: dict[str, str]
) -> list[dict[str, str]]:
    """`[{"title": "データ保護等の措置", "text": "承認する（なし）"}, {"title": "機器等への対応", …}]`"""
    approval = f"{result.measures_approval.value}（{result.measures_opinion}）"
    return [
        {"title": measures, "text": approval},
        *({"title": i.title, "text": texts[i.clause]} for i in items),
    ]


def decision_texts(result: MeetingDecisions, prefix: str) -> dict[str, str]:
    """`{"C2.S3.D1": "システムの完全停止（CS サーバ）", …, "C2.S3.D7": …}` for D1–D7."""

    def joined(values: list[NotifyBody] | list[SupportBody] | list[Publicity]) -> str:
        return "、".join(v.value for v in values) or "なし"

    return {
        f"{prefix}.D1": f"{result.d1_measure.value}（{result.d1_detail}）",
        f"{prefix}.D2": joined(result.d2_bodies),
        f"{prefix}.D3": joined(result.d3_support),
        f"{prefix}.D4": result.d4_structure,
        f"{prefix}.D5": result.d5_residents,
        f"{prefix}.D6": joined(result.d6_publicity),
        f"{prefix}.D7": result.d7_alternatives,
    }
