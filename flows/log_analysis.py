"""アクセスログ解析 — the collected logs in the log folder, on demand: during an incident (the
result goes into that incident's 経過記録) or outside one (the audit chain outside any incident),
e.g. a monthly review of terminal operation. Chapter 3 runs the same analysis at 手順5
(flows/access_logs.py)."""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow

from flows.emergency import rename_run
from flows.runtime import Municipality, current_flow_run_id, publish_journal, runtime
from jukinet.forms.access_logs import LogSelection, selection_problems
from jukinet.forms.common import OPTIONAL_INCIDENT_HINT, parameter
from tasks.access_logs import analyse_and_record

CLAUSE = "C3.S5"


@flow(name="アクセスログ解析", flow_run_name="アクセスログ解析", log_prints=False)
def log_analysis(
    files: Annotated[
        str,
        parameter("解析するファイル（任意）", LogSelection.model_fields["files"].description),
    ] = "",
    incident_number: Annotated[
        str,
        parameter("事案番号（任意）", OPTIONAL_INCIDENT_HINT),
    ] = "",
    municipality_code: Municipality = "",
) -> dict[str, Any]:
    """Analyse now; returns the outcome (counts, findings, the files' SHA-256)."""
    if runtime().config.town.access_logs is None:
        raise ValueError(
            "town.yaml に access_logs（アクセスログの解析: ログのフォルダ、読み方、権限のある"
            "操作者・端末・接続元）が設定されていません"
        )
    store = runtime().store
    selection = LogSelection(files=files)
    if problems := selection_problems(selection):
        raise ValueError(f"解析するファイル: {problems[0]}")
    run = current_flow_run_id()[:8]
    number = incident_number.strip()
    incident = store.incident(number) if number else None
    rename_run(
        f"{number + ' ' if number else ''}アクセスログ解析", [number or "事案外", "ログ解析"]
    )
    outcome = analyse_and_record(
        incident.id if incident else None,
        f"{number or '事案外'}-ログ解析-{run}",
        CLAUSE,
        f"{number or '-'}|LOGS.{run}",
        "システム（アクセスログ解析）",
        selection.names,
    )
    if incident is not None:
        publish_journal(incident)
    if "error" in outcome:
        raise RuntimeError(f"アクセスログを解析できませんでした: {outcome['error']}")
    return outcome
