"""第1章 総則: the steps of declaring an emergency (C1.1, C1.2)."""

from __future__ import annotations

from prefect.logging import get_run_logger

from flows.runtime import redact_parameters, resident_index, runtime, step_task
from jukinet.forms.chapter1 import Classification, DiscoveryReport, PresumedClass
from jukinet.forms.common import personal_data_problems
from jukinet.notices import recipients
from jukinet.notices.recipients import Recipient
from jukinet.plan import EMERGENCY_CLASS_CLAUSE, Role
from jukinet.store.models import Incident
from jukinet.wareki import to_wareki_datetime
from tasks.notify import notify


class PersonalDataInReport(ValueError):
    """The discovery report carries what looks like 本人確認情報; nothing was recorded."""


@step_task("事案の受付 (C1.1)")
def register_incident(report: DiscoveryReport, drill: bool, origin_key: str) -> str:
    """Open the incident (numbered per fiscal year) from the discoverer's report; returns its number."""
    problems = personal_data_problems(report, resident_index())
    if problems:
        redact_parameters("report", report)
        raise PersonalDataInReport("発見報告を受け付けられません: " + "。".join(problems))
    store = runtime().store
    summary = f"{report.place}: {report.observed}"
    incident = store.open_incident(
        origin_key=origin_key,
        drill=drill,
        declared_class=report.presumed.value,
        summary=summary[:200],
        declaration=report.model_dump(mode="json"),
    )
    store.audit(
        incident.id,
        "C1.1",
        "受付",
        f"{'【訓練】' if drill else ''}発見報告を受け付けました（発見 "
        f"{to_wareki_datetime(report.discovered)}（日本時間）、報告者 {report.reporter}、"
        f"見立て {report.presumed.value}）",
        event_key=f"{incident.number}|opened",
        actor=report.reporter,
        details={
            "declaration": report.model_dump(mode="json"),
            "discovered": report.discovered.isoformat(),
        },
    )
    get_run_logger().info("事案 %s を受け付けました", incident.number)
    return incident.number


@step_task("発見報告の通知 (C2.S1.1・C3.S1.1)")
def report_discovery(incident_number: str, report: DiscoveryReport, run_url: str) -> None:
    """The discoverer's report reaches 住基ネット担当者 at once, and セキュリティ責任者 when it may be
    an unauthorized act (C3.S1.1)."""
    rt = runtime()
    incident = rt.store.incident(incident_number)
    to = recipients.for_role(rt.config, Role.OPERATOR)
    if report.presumed is not PresumedClass.FAILURE:
        to += recipients.for_role(rt.config, Role.SEC_OFFICER)
    send_discovery(incident, "C2.S1.1", to, run_url)


def send_discovery(incident: Incident, clause: str, to: list[Recipient], run_url: str) -> None:
    """The discoverer's report (the run's parameters) as a notice to `to`."""
    report = DiscoveryReport.model_validate(incident.declaration)
    notify(
        incident,
        clause,
        "discovery_report",
        to,
        f"{runtime().config.town.municipality.name} 緊急時対応システム（報告者 {report.reporter}）",
        {"declaration": report, "discovered": report.discovered, "run_url": run_url},
    )


@step_task("緊急時の区分の確定 (C1.2)")
def fix_classification(incident_number: str, answer: Classification, answerer: str) -> str:
    store = runtime().store
    incident = store.incident(incident_number)
    cls = answer.emergency_class
    store.set_incident(incident.id, emergency_class=cls.value, state="対応中")
    store.audit(
        incident.id,
        EMERGENCY_CLASS_CLAUSE[cls],
        "区分確定",
        f"緊急時の区分を「{cls.value}」と確定しました（理由: {answer.reason}）",
        event_key=f"{incident.number}|classified",
        actor=answerer,
    )
    return cls.value
