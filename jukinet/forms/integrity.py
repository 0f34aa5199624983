"""Forms of the automatic integrity check (C2.S5, C3.S6.1): what to do when the check found
differences, and the resumption approval that must accept remaining differences explicitly."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from jukinet.forms.chapter2 import ResumptionApproval, ResumptionDecision
from jukinet.forms.common import Form


class DifferencesAction(StrEnum):
    RECHECK = "修復したので再照合する"
    ASK_APPROVAL = "相違を残したまま運用再開の判断を求める"


class DifferencesFollowUp(Form):
    """本人確認情報の照合で相違が見つかったときの対応"""

    action: DifferencesAction = Field(title="対応")
    repairs: str = Field(
        default="",
        title="修復の内容",
        description="再照合の前に行った修復（件数と方法）。住民票コードや氏名は書かないでください",
    )
    reason: str = Field(
        default="",
        title="相違を残す理由",
        description="相違を残したまま判断を求める場合に記入します",
    )


def follow_up_problems(answer: DifferencesFollowUp) -> list[str]:
    if answer.action is DifferencesAction.RECHECK and not answer.repairs.strip():
        return ["再照合する場合は「修復の内容」を記入してください"]
    if answer.action is DifferencesAction.ASK_APPROVAL and not answer.reason.strip():
        return ["相違を残したまま判断を求める場合は「相違を残す理由」を記入してください"]
    return []


class CheckFailedAction(StrEnum):
    RETRY = "再度照合する"
    BY_HAND = "照合せずに確認結果を入力する"


class CheckFailedFollowUp(Form):
    """本人確認情報の照合ができなかったときの対応"""

    action: CheckFailedAction = Field(title="対応")


class ResumptionOverDifferences(ResumptionApproval):
    """運用再開の承認（照合の相違が残っている場合）"""

    accept_differences: bool = Field(
        default=False,
        title="照合の相違が残っていることを認めて運用を再開する",
        description="相違が残っている間は、これを選び理由を記入しなければ運用を再開できません",
    )
    acceptance_reason: str = Field(default="", title="相違を認める理由")


def acceptance_problems(answer: ResumptionOverDifferences) -> list[str]:
    if answer.decision is not ResumptionDecision.RESUME:
        return []
    if not answer.accept_differences:
        return [
            "本人確認情報の照合で相違が残っています。運用を再開するには「照合の相違が残っている"
            "ことを認めて運用を再開する」を選び、「相違を認める理由」を記入してください"
            "（または「承認しない」を選び、修復を求めてください）"
        ]
    if not answer.acceptance_reason.strip():
        return ["「相違を認める理由」を記入してください"]
    return []
