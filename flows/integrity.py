"""本人確認情報の整合性の確認 before resumption (C2.S5, C3.S6.1), shared by both chapters.

With town.yaml `integrity`, the check compares the CS copy with the registry (tasks/integrity.py).
Differences go back to the officer, who repairs and checks again, or asks for the resumption
decision with the differences left; the approving official must then accept them explicitly,
with a reason (`resumption_form`). When the check cannot run (a side unreachable, a secret
missing), the reason is recorded and the officer chooses to check again or to enter the result by
hand. Without `integrity`, the officer enters the result by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prefect import Task

from flows.human import ask
from flows.runtime import run_step, runtime
from jukinet.forms.chapter2 import IntegrityConfirmation, IntegrityResult, ResumptionApproval
from jukinet.forms.integrity import (
    CheckFailedAction,
    CheckFailedFollowUp,
    DifferencesAction,
    DifferencesFollowUp,
    ResumptionOverDifferences,
    acceptance_problems,
    follow_up_problems,
)
from jukinet.integrity.check import summary
from jukinet.plan import Role
from jukinet.store.models import Incident
from tasks.integrity import verify_integrity

QUESTION = (
    "本人確認情報の整合性を確認し、不整合があれば修復してください。"
    "不整合が残っている間は運用を再開できません。"
)
Outcome = dict[str, Any]


@dataclass(frozen=True)
class Confirmed:
    value: IntegrityConfirmation
    reporter: str  # who reports it: the officer who answered, else the role's first holder
    outcome: Outcome | None  # the last check's (None when entered by hand)


def confirm_integrity(
    incident: Incident,
    r: str,
    clause: str,
    role: Role,
    why: str,
    record: Task[..., None],
) -> Confirmed:
    if runtime().config.town.integrity is None:
        return _by_hand(incident, r, clause, role, why, record)
    return _by_check(incident, r, clause, role, why, record)


def _by_hand(
    incident: Incident, r: str, clause: str, role: Role, why: str, record: Task[..., None]
) -> Confirmed:
    check_no = 1
    while True:
        key = f"{clause}.{r}.integrity.{check_no}"
        integrity = ask(
            incident, key, clause, role, IntegrityConfirmation, question=QUESTION, why=why
        )
        run_step(
            incident, key, record, incident.number, integrity.value, integrity.answerer, key, clause
        )
        if integrity.value.result is not IntegrityResult.INCONSISTENT:
            return Confirmed(integrity.value, integrity.answerer, None)
        check_no += 1


def _by_check(
    incident: Incident, r: str, clause: str, role: Role, why: str, record: Task[..., None]
) -> Confirmed:
    n = incident.number
    reporter = runtime().config.roster.holders(role)[0].label
    repairs: list[str] = []
    check_no = 1
    while True:
        key = f"{clause}.{r}.check.{check_no}"
        outcome: Outcome = run_step(incident, key, verify_integrity, n, key, clause)
        if "error" in outcome:
            failed = ask(
                incident,
                f"{clause}.{r}.check-failed.{check_no}",
                clause,
                role,
                CheckFailedFollowUp,
                question="本人確認情報の照合ができませんでした。接続先などを直して再度照合するか、"
                "照合せずに確認結果を入力するかを選んでください。",
                why=why,
                exhibit=outcome["error"],
            )
            if failed.value.action is CheckFailedAction.BY_HAND:
                return _by_hand(incident, r, clause, role, why, record)
            check_no += 1
            continue
        method = f"CS と既存住基システムの自動照合（{summary(outcome)}）"
        done = "、".join(repairs) or "なし"
        if not outcome["differences"]:
            result = IntegrityResult.REPAIRED if repairs else IntegrityResult.CONSISTENT
            confirmation = IntegrityConfirmation(result=result, method=method, repairs=done)
            return Confirmed(confirmation, reporter, outcome)
        follow = ask(
            incident,
            f"{clause}.{r}.differences.{check_no}",
            clause,
            role,
            DifferencesFollowUp,
            question="本人確認情報の照合で相違が見つかりました。相違一覧により修復して再照合するか、"
            "相違を残したまま運用再開の判断を求めるかを選んでください。",
            why=why,
            checks=follow_up_problems,
            exhibit=exhibit(outcome),
        )
        reporter = follow.answerer
        if follow.value.action is DifferencesAction.ASK_APPROVAL:
            confirmation = IntegrityConfirmation(
                result=IntegrityResult.INCONSISTENT,
                method=method,
                repairs=f"{done}（相違を残す理由: {follow.value.reason}）",
            )
            return Confirmed(confirmation, reporter, outcome)
        repairs.append(follow.value.repairs)
        check_no += 1


def exhibit(outcome: Outcome) -> str:
    return (
        f"{summary(outcome)}\n相違一覧（住民票コードの全桁はこのファイルにのみあります）: "
        f"{outcome['file']}\nSHA-256: {outcome['sha256']}"
    )


def resumption_form(
    outcome: Outcome | None,
) -> tuple[type[ResumptionApproval], Callable[[Any], list[str]] | None, str | None]:
    """The approval form, its checks and what it shows: with differences left, resumption needs
    their explicit acceptance with a reason."""
    if outcome is None or not outcome["differences"]:
        return ResumptionApproval, None, None
    return ResumptionOverDifferences, acceptance_problems, exhibit(outcome)
