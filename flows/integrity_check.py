"""整合性確認 — the CS copy of 本人確認情報 against the registry (既存住基システム), on demand:
before a drill, after a CS program update, or to check a repair. With an incident number, the
result is recorded in that incident's 経過記録; without, in the audit chain outside any incident.
The chapters run the same check themselves at resumption (flows/integrity.py)."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow

from flows.emergency import rename_run
from flows.runtime import Municipality, current_flow_run_id, publish_journal, runtime
from jukinet.forms.common import OPTIONAL_INCIDENT_HINT, parameter
from tasks.integrity import check_and_record

CLAUSE = "C2.S5"


@flow(name="整合性確認", flow_run_name="整合性確認", log_prints=False)
def integrity_check(
    incident_number: Annotated[
        str,
        parameter("事案番号（任意）", OPTIONAL_INCIDENT_HINT),
    ] = "",
    municipality_code: Municipality = "",
) -> dict[str, Any]:
    """Compare now; returns the outcome (counts, the repair list's path; keys masked)."""
    store = runtime().store
    if runtime().config.town.integrity is None:
        raise ValueError(
            "town.yaml に integrity（本人確認情報の整合性確認: CS と既存住基システムの接続先と"
            "列の対応）が設定されていません"
        )
    run = current_flow_run_id()[:8]
    number = incident_number.strip()
    incident = store.incident(number) if number else None
    name = f"{number or '事案外'}-整合性確認-{run}"
    rename_run(f"{number + ' ' if number else ''}整合性確認", [number or "事案外", "整合性確認"])
    outcome = check_and_record(
        incident.id if incident else None,
        name,
        CLAUSE,
        f"{number or '-'}|INTEGRITY.{run}",
        "システム（整合性確認）",
    )
    if incident is not None:
        publish_journal(incident)
    if "error" in outcome:
        raise RuntimeError(f"本人確認情報の照合ができませんでした: {outcome['error']}")
    return {k: v for k, v in outcome.items() if k != "first"}
