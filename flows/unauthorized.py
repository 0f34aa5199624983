"""第3章 不正行為 — the plan's 手順1 to 手順6 and 2 恒久対策, in its order.

Approval contract (each answer needs the answerer's approval code; deputies may answer):
  C3.S1.2    住基ネット担当者     the report ア〜エ with the plan's examples (a staff discovery)
  C3.S1.3    住基ネット担当者     gathers and analyses an outside notification
  C3.S1.4    セキュリティ責任者   reports through システム管理者 to the chief
  C3.S2      統括責任者           reports to the mayor, instructs, may order a system stop (level 3 likely)
  C3.S2.2    住基ネット担当者     reports the stop carried out
  C3.S2.1–4  住基ネット担当者     cooperation requests, hearings, the receiving body
  C3.S3      セキュリティ管理者   determines the level (the product suggests one; the decision is human)
  C3.S3.2    セキュリティ管理者   the cause and countermeasures (level 2/3)
  C3.S3.3    統括責任者           level 2: convene the meeting or not
  C3.S4      統括責任者（議長）   convenes; records D1–D9; reviews (D8) as often as needed
  C3.S5      統括責任者           the cause from the logs and the recovery
  C3.S6.1    セキュリティ管理者   integrity; 統括責任者 approves (C3.S4.D9: as chair, the meeting decides)
  C3.S6.2    セキュリティ管理者   access rights changed, services lifted, time of resumption
  C3.2       統括責任者（議長）   the meeting's permanent measures
A level raised by new facts (C3.S3.2, D8, C3.S5) takes level 3's path from there: the mayor is
told and the meeting is convened if it was not. A refused resumption goes back to 手順5.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from prefect import flow

from flows.access_logs import LEVEL3_FINDINGS, analyse_collected_logs
from flows.closing import close_when_delivered
from flows.human import ask
from flows.integrity import confirm_integrity, resumption_form
from flows.publicity import approve_publicity
from flows.runtime import (
    Municipality,
    name_for_town,
    publish_journal,
    run_step,
    run_url,
    runtime,
)
from jukinet.accesslog.report import exhibit as log_exhibit
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.forms.chapter2 import (
    MeasuresApproval,
    MeetingConvening,
)
from jukinet.forms.chapter3 import (
    CauseReport,
    ConveneDecision,
    Determination,
    EmergencyInstruction,
    EmergencyMeasures,
    Findings,
    LevelRaise,
    MeetingNeed,
    MeetingResult3,
    NotificationAnalysis,
    OfficerForwarding,
    PermanentMeasures,
    ResumptionMeasures,
    Review,
    ReviewNext,
    StopExecution,
    UnauthorizedReport,
    analysis_problems,
    determination_problems,
    instruction_problems,
    measures_problems,
    meeting_problems,
    permanent_problems,
    raise_problems,
    report_problems,
)
from jukinet.forms.common import INCIDENT_NUMBER_HINT, parameter
from jukinet.plan import THREAT_LEVELS, Role, ThreatLevel
from jukinet.store.models import Incident
from tasks import chapter3_meeting
from tasks.chapter2_recovery import record_integrity, record_resumption_decision
from tasks.chapter3_determination import (
    lift_emergency,
    raise_level,
    record_determination,
    record_meeting_need,
    report_cause,
    report_level3_to_mayor,
)
from tasks.chapter3_measures import (
    carry_out_measures,
    instruct_protection,
    order_system_stop,
    record_stop,
    report_to_mayor,
)
from tasks.chapter3_meeting import (
    carry_out_decisions,
    convene_meeting,
    publicity_preview_text,
    publish_publicity,
    record_meeting,
    record_review,
    report_meeting_to_mayor,
)
from tasks.chapter3_recovery import (
    notify_resumption,
    record_findings,
    report_integrity,
    report_permanent_measures,
    report_resumption_to_mayor,
    resume_operation,
)
from tasks.chapter3_report import (
    coordination_needed,
    inform_officer,
    notification_of,
    record_analysis,
    record_report,
    report_up_the_chain,
    request_coordination,
    suggestion_for,
)
from tasks.closing import close_incident
from tasks.meeting_decisions import publicity_to_approve

check_integrity = record_integrity.with_options(
    name="手順6① 本人確認情報の整合性の確認 (C3.S6.1)",
    task_run_name="手順6① 本人確認情報の整合性の確認 (C3.S6.1)",
)
decide_resumption = record_resumption_decision.with_options(
    name="手順6① 運用再開の承認・決定 (C3.S6.1・C3.S4.D9)",
    task_run_name="手順6① 運用再開の承認・決定 (C3.S6.1・C3.S4.D9)",
)
close = close_incident.with_options(
    name="緊急時対応の終結（第3章）", task_run_name="緊急時対応の終結（第3章）"
)

LEVEL_TABLE = "　".join(
    f"{info.level.label}: {info.threat}（" + "、".join(e.key for e in info.examples) + "）"
    for info in THREAT_LEVELS.values()
)


@dataclass
class Case:
    """What the response knows so far; every field is rebuilt from recorded answers on replay."""

    incident: Incident
    report: UnauthorizedReport
    level: ThreatLevel = ThreatLevel.L1
    stop: StopExecution | None = None
    meeting: MeetingResult3 | None = None
    chief: str = ""  # who acted as セキュリティ統括責任者 at 手順2 (holder or deputy)

    @property
    def number(self) -> str:
        return self.incident.number


@flow(name="第3章 不正行為", flow_run_name="{incident_number} 第3章 不正行為")
def unauthorized_act(
    incident_number: Annotated[str, parameter("事案番号", INCIDENT_NUMBER_HINT)],
    municipality_code: Municipality = "",
) -> str:
    """Carry out chapter 3 for one incident; returns its final state."""
    store = runtime().store
    incident = store.incident(incident_number)
    name_for_town(f"{incident.number} 第3章 不正行為")
    publish_journal(incident)

    case = Case(incident, grasp_the_situation(incident))  # 手順1
    take_emergency_measures(case)  # 手順2
    if not determine_level(case):  # 手順3: level 1 lifts the emergency
        close_when_delivered(incident, "C3.S3.1", close, case.number, "C3.S3.1", "解除（レベル1）")
        publish_journal(incident)
        return store.incident(case.number).state
    find_cause_and_resume(case)  # 手順4 (as decided), 手順5, 手順6
    plan_permanent_measures(case)  # 2 恒久対策
    close_when_delivered(incident, "C3.2", close, case.number, "C3.2")
    publish_journal(incident)
    return store.incident(case.number).state


# --- 手順1 状況の把握 ------------------------------------------------------------------------


def from_discovery(incident: Incident) -> dict[str, Any]:
    """The C3.S1.2 form starts from the discoverer's report given at 第1章."""
    found = DiscoveryReport.model_validate(incident.declaration)
    return {
        "found_on": found.discovered_on,
        "found_at": found.discovered_at,
        "device": found.place,
        "act": found.observed,
        "measures_taken": found.measures_taken,
    }


def grasp_the_situation(incident: Incident) -> UnauthorizedReport:
    n = incident.number
    notification = notification_of(incident)
    report: UnauthorizedReport
    if notification is None:
        run_step(incident, "C3.S1.1", inform_officer, n, run_url())
        staff = ask(
            incident,
            "C3.S1.2",
            "C3.S1.2",
            Role.OPERATOR,
            UnauthorizedReport,
            question="発見者からの報告を受け、次の項目を正確かつ詳細に把握して記入してください。"
            "計画書の事例のうち該当するものを選ぶと、脅威度の提案を判定者に示します。",
            why="計画書 第3章 手順1①②: （ア）発見した時期および不正行為があったと認められる時期、"
            "（イ）機器およびその設置場所、（ウ）不正行為および想定される被害等、"
            "（エ）報告するまでに行った応急措置等の有無。",
            checks=report_problems,
            initial=from_discovery(incident),
        )
        run_step(incident, "C3.S1.2", record_report, n, staff.value, staff.answerer)
        report = staff.value
    else:
        analysed = ask(
            incident,
            "C3.S1.3",
            "C3.S1.3",
            Role.OPERATOR,
            NotificationAnalysis,
            question=f"{notification.notifier.value}からの通報（{notification.content}）について、"
            "情報を集約し（ア）、事象の調査・分析を行って（イ）、結果を記入してください。",
            why="計画書 第3章 手順1③。レベル2またはレベル3に該当する可能性が高い場合は、"
            "滋賀県および全国センターと相互に連絡調整を行い、被害状況を把握するための措置等を依頼します（ウ）。",
            checks=analysis_problems,
        )
        run_step(incident, "C3.S1.3", record_analysis, n, analysed.value, analysed.answerer)
        if coordination_needed(analysed.value):
            run_step(
                incident,
                "C3.S1.3.coordination",
                request_coordination,
                n,
                analysed.value,
                notification,
                analysed.answerer,
            )
        report = analysed.value
    forwarded = ask(
        incident,
        "C3.S1.4",
        "C3.S1.4",
        Role.SEC_OFFICER,
        OfficerForwarding,
        question="住基ネット担当者の報告を確認し、システム管理者を経てセキュリティ統括責任者へ報告してください。"
        "本人確認情報管理責任者にも同時に送付します。",
        why="計画書 第3章 手順1④、手順6④（本人確認情報管理責任者による状況の把握）。",
    )
    run_step(
        incident,
        "C3.S1.4",
        report_up_the_chain,
        n,
        report,
        forwarded.value.remarks,
        forwarded.answerer,
    )
    return report


# --- 手順2 緊急措置の実施 ----------------------------------------------------------------------


def take_emergency_measures(case: Case) -> None:
    incident, n = case.incident, case.number
    suggestion = suggestion_for(case.report)
    instruction = ask(
        incident,
        "C3.S2",
        "C3.S2",
        Role.CHIEF,
        EmergencyInstruction,
        question="町長への報告とともに、データ保護等について必要な指示をしてください。"
        "レベル3に該当する可能性が高い場合は、必要に応じてシステムの停止と関係者からの聴収・調査を命じてください。",
        why=f"計画書 第3章 手順2。報告の事例からの脅威度の提案: "
        f"{suggestion.level.label if suggestion.level else '提案なし'}（{suggestion.reason}）",
        checks=instruction_problems,
    )
    chief = case.chief = instruction.answerer
    run_step(incident, "C3.S2.mayor", report_to_mayor, n, case.report, instruction.value, chief)
    run_step(incident, "C3.S2", instruct_protection, n, instruction.value, chief)
    if instruction.value.stops:
        run_step(incident, "C3.S2.2.order", order_system_stop, n, instruction.value, chief)
        stop = ask(
            incident,
            "C3.S2.2",
            "C3.S2.2",
            Role.OPERATOR,
            StopExecution,
            question=f"統括責任者の命令（{instruction.value.system_stop.value}、対象: "
            f"{instruction.value.stop_target}）を実施し、実施した日時と内容を報告してください。",
            why="計画書 第3章 手順2②。",
        )
        run_step(incident, "C3.S2.2.done", record_stop, n, stop.value, stop.answerer)
        case.stop = stop.value
    receivers = [c.organization for c in runtime().config.contacts.receivers]
    hearings = instruction.value.hearings
    measures = ask(
        incident,
        "C3.S2.1",
        "C3.S2.1",
        Role.OPERATOR,
        EmergencyMeasures,
        question="全国センター、滋賀県、企画課、保守委託事業者等と連絡調整を図り、被害拡大を防止するための"
        "協力を要請してください。"
        + (
            "統括責任者の指示により、関係者からの報告の聴収・調査の結果も記入してください。"
            if hearings
            else ""
        )
        + "全国センターから本人確認情報の提供を受けた機関等で不正行為が認められる場合は、その機関を記入してください。",
        why="計画書 第3章 手順2①③④。",
        checks=lambda m: measures_problems(m, hearings, receivers),
    )
    run_step(
        incident, "C3.S2.1", carry_out_measures, n, case.report, measures.value, measures.answerer
    )


# --- 手順3 脅威度の判定 ------------------------------------------------------------------------


def determine_level(case: Case) -> bool:
    """Determine the level; level 1 is lifted here (False), 2 and 3 go on (True)."""
    incident, n = case.incident, case.number
    suggestion = suggestion_for(case.report)
    ticked = "、".join(e.split(" ")[0] for e in case.report.examples) or "なし"
    det = ask(
        incident,
        "C3.S3",
        "C3.S3",
        Role.SEC_ADMIN,
        Determination,
        question="全国センター、滋賀県、企画課、保守委託事業者等と連絡調整を図り、脅威度を判定してください。",
        why=f"**提案**: {suggestion.level.label if suggestion.level else '提案なし'}"
        f"（{suggestion.reason}報告で選ばれた事例: {ticked}）。判定は判定者が行います。"
        f"計画書 第3章 1(A): {LEVEL_TABLE}",
        checks=determination_problems,
    )
    case.level = ThreatLevel(
        run_step(incident, "C3.S3", record_determination, n, det.value, det.answerer)
    )
    if case.level is ThreatLevel.L1:
        run_step(incident, "C3.S3.1", lift_emergency, n, det.value, case.stop, det.answerer)
        return False

    level = case.level
    cause = ask(
        incident,
        "C3.S3.2",
        "C3.S3.2",
        Role.SEC_ADMIN,
        CauseReport,
        question="直ちに原因の解明を行い、対策の実施についてシステム管理者を経て統括責任者へ報告してください。",
        why="計画書 第3章 手順3②。新たな事実によりレベル3に当たると判断した場合は、脅威度を引き上げてください。",
        checks=lambda a: raise_problems(a, level),
    )
    run_step(incident, "C3.S3.2", report_cause, n, cause.value, case.level.value, cause.answerer)
    if take_raise(case, cause.value.raise_level, cause.value, "C3.S3.2", cause.answerer):
        return True  # level 3's path (mayor, meeting) was taken by the raise
    if case.level is ThreatLevel.L3:
        run_step(
            incident,
            "C3.S3.4",
            report_level3_to_mayor,
            n,
            case.report,
            det.value.reason,
            case.chief,
        )
        hold_meeting(case)
        return True
    need = ask(
        incident,
        "C3.S3.3",
        "C3.S3.3",
        Role.CHIEF,
        MeetingNeed,
        question="レベル2の不正行為について、セキュリティ会議を招集するかを判断してください。",
        why="計画書 第3章 手順3③: 本人確認情報への脅威が生じる可能性があること等を踏まえ、"
        "必要があると認めるときは会議を招集し、セキュリティ管理者に状況・原因・対応策等を報告させます。",
    )
    run_step(incident, "C3.S3.3", record_meeting_need, n, need.value, need.answerer)
    if need.value.decision is ConveneDecision.CONVENE:
        hold_meeting(case)
    return True


def take_raise(
    case: Case,
    choice: LevelRaise,
    answer: CauseReport | Review | Findings,
    clause: str,
    answerer: str,
) -> bool:
    """A raise to level 3: record it, report to the mayor (C3.S3.4), convene if not yet convened."""
    if choice is LevelRaise.KEEP or case.level is ThreatLevel.L3:
        return False
    incident, n = case.incident, case.number
    case.level = ThreatLevel(
        run_step(incident, f"{clause}.raise", raise_level, n, answer, clause, answerer)
    )
    run_step(
        incident,
        "C3.S3.4",
        report_level3_to_mayor,
        n,
        case.report,
        answer.raise_reason,
        case.chief,
    )
    if case.meeting is None:
        hold_meeting(case)
    return True


# --- 手順4 セキュリティ会議 --------------------------------------------------------------------


def hold_meeting(case: Case) -> None:
    incident, n = case.incident, case.number
    convening = ask(
        incident,
        "C3.S4.1",
        "C3.S4.1",
        Role.CHIEF,
        MeetingConvening,
        question="セキュリティ会議の日時と場所を決めて招集してください。構成員へ招集通知を送付します。",
        why="計画書 第3章 手順4①"
        + ("。レベル3のため招集は必須です（手順3④）。" if case.level is ThreatLevel.L3 else "。"),
    )
    run_step(
        incident,
        "C3.S4.1",
        convene_meeting,
        n,
        convening.value,
        case.report,
        convening.answerer,
    )
    held = ask(
        incident,
        "C3.S4.3",
        "C3.S4.3",
        Role.CHIEF,
        MeetingResult3,
        question="議長として、緊急の措置等の承認（手順4②）と決定事項 D1〜D9 の審議結果を入力してください。"
        "選んだ関係機関への連絡・支援依頼・広報文案の作成と町長への報告を行います。",
        why="計画書 第3章 手順4②③。D1 で停止等を決定した場合、運用の再開は会議の決定によります（手順6① ただし書）。",
        checks=meeting_problems,
    )
    chair = held.answerer
    case.meeting = held.value
    run_step(incident, "C3.S4.2", record_meeting, n, held.value, chair)
    run_step(
        incident,
        "C3.S4.D",
        carry_out_decisions,
        n,
        held.value,
        case.report,
        case.level.value,
        chair,
    )
    if publicity_to_approve(held.value, chapter3_meeting.DOCUMENTS):
        preview = publicity_preview_text(n, held.value, case.report, case.level.value, chair)
        approval = approve_publicity(incident, "C3.S4", held.value, preview)
        run_step(
            incident,
            "C3.S4.D6",
            publish_publicity,
            n,
            held.value,
            case.report,
            case.level.value,
            chair,
            approval.value,
            approval.answerer,
        )
    run_step(incident, "C3.S4.3", report_meeting_to_mayor, n, held.value, chair)
    review_measures(case)


def review_measures(case: Case) -> None:
    """D8: the chair records reviews of the emergency measures until the meeting moves on."""
    incident, n = case.incident, case.number
    round_no = 1
    while True:
        review = ask(
            incident,
            f"C3.S4.D8.{round_no}",
            "C3.S4.D8",
            Role.CHIEF,
            Review,
            question="議長として、緊急措置の見直し判断（追加措置・復旧作業等の進捗状況・恒久対策の立案 等）を記録してください。"
            "見直しを続ける場合は「引き続き緊急措置の見直しを行う」を選ぶと、次の見直しをお尋ねします。",
            why="計画書 第3章 手順4 決定事項「緊急措置の見直し判断」。",
            checks=partial(raise_problems, level=case.level),
        )
        key = f"C3.S4.D8.{round_no}"
        run_step(incident, key, record_review, n, review.value, round_no, review.answerer)
        take_raise(case, review.value.raise_level, review.value, key, review.answerer)
        if review.value.next is ReviewNext.PROCEED:
            return
        round_no += 1


# --- 手順5 原因の究明と復旧措置 / 手順6 運用の再開 -----------------------------------------------


def resumption_by_meeting(case: Case) -> bool:
    """C3.S6.1 ただし書: the meeting decides where it ordered a stop (D1), kept the decision (D9),
    or approved the stop the chief ordered in 手順2."""
    m = case.meeting
    if m is None:
        return False
    approved_stop = case.stop is not None and m.measures_approval is not MeasuresApproval.REJECTED
    return m.meeting_decides_resumption or approved_stop


def find_cause_and_resume(case: Case) -> None:
    incident, n = case.incident, case.number
    round_no = 1
    while True:
        r = f"r{round_no}"
        logs = analyse_collected_logs(incident, r)
        findings = ask(
            incident,
            f"C3.S5.{r}",
            "C3.S5",
            Role.CHIEF,
            Findings,
            question="収集したアクセスログ等により原因を究明し、実施した復旧措置を記入してください。"
            + (
                LEVEL3_FINDINGS
                if logs and logs["level3"] and case.level is not ThreatLevel.L3
                else ""
            ),
            why="計画書 第3章 手順5: 必要に応じて全国センター、滋賀県、企画課、保守委託事業者等と協力します。"
            "新たな事実によりレベル3に当たると判断した場合は、脅威度を引き上げてください。",
            checks=partial(raise_problems, level=case.level),
            initial={"evidence": logs["evidence"]} if logs else None,
            exhibit=log_exhibit(logs) if logs else None,
        )
        run_step(
            incident,
            f"C3.S5.{r}",
            record_findings,
            n,
            findings.value,
            case.meeting is not None,
            round_no,
            findings.answerer,
        )
        take_raise(
            case, findings.value.raise_level, findings.value, f"C3.S5.{r}", findings.answerer
        )

        integrity = confirm_integrity(
            incident, r, "C3.S6.1", Role.SEC_ADMIN, "計画書 第3章 手順6①。", check_integrity
        )

        by_meeting = resumption_by_meeting(case)
        clause = "C3.S4.D9" if by_meeting else "C3.S6.1"
        run_step(
            incident,
            f"C3.S6.1.{r}.report",
            report_integrity,
            n,
            findings.value,
            integrity.value,
            by_meeting,
            round_no,
            integrity.reporter,
        )
        approval_form, approval_checks, approval_exhibit = resumption_form(integrity.outcome)
        approval = ask(
            incident,
            f"{clause}.{r}",
            clause,
            Role.CHIEF,
            approval_form,
            question=(
                "議長として、セキュリティ会議による運用再開の決定を入力してください。"
                if by_meeting
                else "復旧の状況と本人確認情報の整合性の報告を受け、運用の再開を承認してください。"
            ),
            why=(
                "計画書 第3章 手順6① ただし書: 会議でシステム停止等の決定を受けた場合は、会議に報告し、"
                "運用再開の決定を受けなければなりません。"
                if by_meeting
                else "計画書 第3章 手順6①: セキュリティ統括責任者の承認を経て運用を再開します。"
            ),
            checks=approval_checks,
            exhibit=approval_exhibit,
        )
        key = f"{clause}.{r}.decision"
        if run_step(
            incident,
            key,
            decide_resumption,
            n,
            clause,
            approval.value,
            approval.answerer,
            key,
        ):
            break
        round_no += 1

    resumption_by = "セキュリティ会議の決定" if by_meeting else "セキュリティ統括責任者の承認"
    measures = ask(
        incident,
        "C3.S6.2",
        "C3.S6.2",
        Role.SEC_ADMIN,
        ResumptionMeasures,
        question="運用を再開し、再開した日時と、行ったアクセス権限の設定変更・町民サービスの停止解除を記入してください。",
        why="計画書 第3章 手順6②。",
    )
    run_step(incident, "C3.S6.2", resume_operation, n, measures.value, measures.answerer)
    run_step(
        incident,
        "C3.S6.3",
        report_resumption_to_mayor,
        n,
        findings.value,
        integrity.value,
        measures.value,
        resumption_by,
        approval.answerer,
    )
    run_step(
        incident,
        "C3.S6.4",
        notify_resumption,
        n,
        integrity.value,
        measures.value,
        resumption_by,
        case.level.value,
    )


# --- 2 恒久対策 ------------------------------------------------------------------------------


def plan_permanent_measures(case: Case) -> None:
    plan = ask(
        case.incident,
        "C3.2",
        "C3.2",
        Role.CHIEF,
        PermanentMeasures,
        question="議長として、セキュリティ会議で審議した恒久対策を、内容・担当・期限とともに記入してください。",
        why="計画書 第3章 2: 緊急時の状態が解消された後に、セキュリティ会議において恒久対策を審議し、"
        "それに基づいた対策を実施します。",
        checks=permanent_problems,
    )
    run_step(
        case.incident, "C3.2", report_permanent_measures, case.number, plan.value, plan.answerer
    )
