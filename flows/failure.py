"""第2章 機器障害 — the plan's 手順1 to 手順5 and 3 再発防止策, in its order.

Approval contract (each answer needs the answerer's approval code; deputies may answer):
  C2.S1.1–2  住基ネット担当者     identifies the failure, asks for help / maintenance
  C2.S1.3    セキュリティ責任者   reports through システム管理者 to the chief
  C2.S2      統括責任者           instructs on data protection; judges a long outage
  C2.S3.1/3  統括責任者（議長）   convenes the meeting; records its decisions D1–D8
  C2.S4      セキュリティ責任者   reports repair progress until repaired
  C2.S5      セキュリティ責任者   confirms 本人確認情報 integrity
  C2.S5      統括責任者           approves resumption (C2.S5.MEETING: as chair, the meeting decides)
  C2.3       セキュリティ責任者   reports the 再発防止策
A refused resumption sends the response back to 手順4 for another round.
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow

from flows.closing import close_when_delivered
from flows.human import ask
from flows.integrity import confirm_integrity, resumption_form
from flows.publicity import approve_publicity
from flows.runtime import Municipality, name_for_town, publish_journal, run_step, runtime
from jukinet.forms.chapter2 import (
    ChiefJudgement,
    FailureIdentification,
    MeetingConvening,
    MeetingResult,
    OfficerReport,
    PreventionPlan,
    RepairReport,
    prevention_problems,
)
from jukinet.forms.common import INCIDENT_NUMBER_HINT, parameter
from jukinet.plan import FAILURE_TYPES, Role
from tasks import chapter2_meeting
from tasks.chapter2_meeting import (
    carry_out_decisions,
    convene_meeting,
    publicity_preview_text,
    publish_publicity,
    record_meeting,
    report_meeting_to_mayor,
)
from tasks.chapter2_recovery import (
    notify_recovery,
    record_integrity,
    record_repair,
    record_resumption_decision,
    report_prevention,
    request_repair,
    resume_operation,
)
from tasks.chapter2_report import (
    identify_failure,
    instruct_data_protection,
    report_to_chief,
    report_to_mayor,
    report_to_officer,
)
from tasks.closing import close_incident
from tasks.meeting_decisions import publicity_to_approve

CHECK_METHODS = "、".join(
    f"{t.value}（{i.events}）: {'・'.join(i.check_methods)}" for t, i in FAILURE_TYPES.items()
)


@flow(name="第2章 機器障害", flow_run_name="{incident_number} 第2章 機器障害")
def equipment_failure(
    incident_number: Annotated[str, parameter("事案番号", INCIDENT_NUMBER_HINT)],
    municipality_code: Municipality = "",
) -> str:
    """Carry out chapter 2 for one incident; returns its final state."""
    store = runtime().store
    inc = store.incident(incident_number)
    n = inc.number
    name_for_town(f"{n} 第2章 機器障害")
    publish_journal(inc)

    # 手順1 障害の特定・原因の究明
    ident = ask(
        inc,
        "C2.S1.1",
        "C2.S1.1",
        Role.OPERATOR,
        FailureIdentification,
        question="障害の種類と箇所を特定し、原因を究明して、支障の程度を報告してください。"
        "原因の究明が困難な場合は支援の依頼先を、保守作業が必要な場合はその旨を選んでください。",
        why=f"計画書 第2章 手順1①②。確認方法: {CHECK_METHODS}。",
    )
    run_step(inc, "C2.S1.1", identify_failure, n, ident.value, ident.answerer)
    run_step(inc, "C2.S1.2", report_to_officer, n, ident.value, ident.answerer)
    officer = ask(
        inc,
        "C2.S1.3",
        "C2.S1.3",
        Role.SEC_OFFICER,
        OfficerReport,
        question="住基ネット担当者からの障害報告を確認し、システム管理者を経てセキュリティ統括責任者へ報告してください。",
        why="計画書 第2章 手順1③。",
    )
    run_step(
        inc, "C2.S1.3", report_to_chief, n, ident.value, officer.value.remarks, officer.answerer
    )

    # 手順2 サーバ等の動作に関する判断
    judgement = ask(
        inc,
        "C2.S2",
        "C2.S2.1",
        Role.CHIEF,
        ChiefJudgement,
        question="データ保護等について必要な指示をし、住基ネットが長時間にわたり停止するかを判断してください。",
        why="計画書 第2章 手順2。長時間の停止と判断したとき、その他必要があると認めるときは、"
        "速やかに町長に報告し、セキュリティ会議を招集しなければなりません。",
    )
    run_step(inc, "C2.S2.1", instruct_data_protection, n, judgement.value, judgement.answerer)

    result: MeetingResult | None = None
    if judgement.value.judgement.convenes_meeting:
        run_step(
            inc, "C2.S2.2", report_to_mayor, n, ident.value, judgement.value, judgement.answerer
        )

        # 手順3 セキュリティ会議
        convening = ask(
            inc,
            "C2.S3.1",
            "C2.S3.1",
            Role.CHIEF,
            MeetingConvening,
            question="セキュリティ会議の日時と場所を決めて招集してください。構成員へ招集通知を送付します。",
            why="計画書 第2章 手順3①。",
        )
        run_step(
            inc, "C2.S3.1", convene_meeting, n, convening.value, ident.value, convening.answerer
        )
        meeting = ask(
            inc,
            "C2.S3.3",
            "C2.S3.3",
            Role.CHIEF,
            MeetingResult,
            question="議長として、措置の承認（手順3②）と決定事項 D1〜D8 の審議結果を入力してください。"
            "選んだ関係機関への連絡・支援依頼・広報文案の作成と町長への結果報告を行います。",
            why="計画書 第2章 手順3②③。D1 で停止等を決定した場合、運用の再開は会議の決定によります（手順5 ただし書）。",
        )
        result = meeting.value
        run_step(inc, "C2.S3.2", record_meeting, n, result, meeting.answerer)
        run_step(inc, "C2.S3.D", carry_out_decisions, n, result, ident.value, meeting.answerer)
        if publicity_to_approve(result, chapter2_meeting.DOCUMENTS):
            preview = publicity_preview_text(n, result, ident.value, meeting.answerer)
            publicity = approve_publicity(inc, "C2.S3", result, preview)
            run_step(
                inc,
                "C2.S3.D6",
                publish_publicity,
                n,
                result,
                ident.value,
                meeting.answerer,
                publicity.value,
                publicity.answerer,
            )
        run_step(inc, "C2.S3.3", report_meeting_to_mayor, n, result, meeting.answerer)

    by_meeting = result is not None and result.meeting_decides_resumption
    resumption_clause = "C2.S5.MEETING" if by_meeting else "C2.S5"
    resumption_by = "セキュリティ会議の決定" if by_meeting else "セキュリティ統括責任者の承認"

    # 手順4 保守作業の実施 / 手順5 運用の再開 — a refused resumption goes round again
    round_no = 1
    while True:
        r = f"r{round_no}"
        run_step(inc, f"C2.S4.{r}.request", request_repair, n, ident.value, result, round_no)
        report_no = 1
        while True:
            repair = ask(
                inc,
                f"C2.S4.{r}.{report_no}",
                "C2.S4",
                Role.SEC_OFFICER,
                RepairReport,
                question="修理・復旧その他の措置の状況を報告してください。"
                "作業中の場合は経過を報告し、復旧したら「復旧した」を選んでください。",
                why="計画書 第2章 手順4。",
            )
            key = f"C2.S4.{r}.{report_no}"
            if run_step(inc, key, record_repair, n, repair.value, repair.answerer, key):
                break
            report_no += 1

        integrity = confirm_integrity(
            inc, r, "C2.S5", Role.SEC_OFFICER, "計画書 第2章 手順5。", record_integrity
        )
        run_step(
            inc,
            f"C2.S5.{r}.contact",
            notify_recovery,
            n,
            repair.value,
            integrity.value,
            result,
            resumption_by,
            round_no,
        )
        approval_form, approval_checks, approval_exhibit = resumption_form(integrity.outcome)
        approval = ask(
            inc,
            f"{resumption_clause}.{r}",
            resumption_clause,
            Role.CHIEF,
            approval_form,
            question=(
                "議長として、セキュリティ会議による運用再開の決定を入力してください。"
                if by_meeting
                else "障害の復旧と本人確認情報の整合性の報告を受け、運用の再開を承認してください。"
            ),
            why=(
                "計画書 第2章 手順5 ただし書: 会議でシステム停止等を決定した場合は、会議に報告し、"
                "運用再開の決定を受けなければなりません。"
                if by_meeting
                else "計画書 第2章 手順5: セキュリティ統括責任者の承認を経て運用を再開します。"
            ),
            checks=approval_checks,
            exhibit=approval_exhibit,
        )
        key = f"{resumption_clause}.{r}.decision"
        if run_step(
            inc,
            key,
            record_resumption_decision,
            n,
            resumption_clause,
            approval.value,
            approval.answerer,
            key,
        ):
            break
        round_no += 1

    run_step(
        inc,
        "C2.S5.resume",
        resume_operation,
        n,
        repair.value,
        integrity.value,
        result,
        resumption_by,
    )

    # 3 再発防止策
    plan = ask(
        inc,
        "C2.3",
        "C2.3",
        Role.SEC_OFFICER,
        PreventionPlan,
        question="同様の原因で障害が再び発生しないよう、技術面・運用面の対策を検討し、"
        "実施するものに内容・担当・期限を記入してください。",
        why="計画書 第2章 3 再発防止策。",
        checks=prevention_problems,
    )
    run_step(inc, "C2.3", report_prevention, n, plan.value, plan.answerer)
    close_when_delivered(inc, "C2.3", close_incident, n)
    publish_journal(inc)
    return store.incident(n).state
