"""アクセスログの解析 in 手順5 (C3.S5): with town.yaml `access_logs`, the chief (or whoever
answers for the role) chooses the collected log files in the log folder, the analysis runs, and
its findings are offered to the cause form; a file that is missing is said and asked again.
Without `access_logs`, nothing is asked."""

from __future__ import annotations

from typing import Any

from flows.human import ask
from flows.runtime import run_step, runtime
from jukinet.config.access_logs import AccessLogAnalysis
from jukinet.forms.access_logs import LogAction, LogSelection, selection_problems
from jukinet.plan import Role
from jukinet.store.models import Incident
from tasks.access_logs import analyse_logs, layout_name, listing, log_folder

CLAUSE = "C3.S5"
LEVEL3_FINDINGS = (
    "\nアクセスログの解析の所見に、脅威度レベル3の例に当たるものがあります。所見を確かめ、"
    "レベル3に当たると判断した場合は脅威度を引き上げてください（判断は人が行います）。"
)


def folder_listing(config: AccessLogAnalysis) -> str:
    files = listing(config)
    if not files:
        return f"ログのフォルダ {log_folder(config)} にはファイルがありません。"
    lines = [f"ログのフォルダ {log_folder(config)} のファイル:"]
    lines += [
        f"・{p.name}（{p.stat().st_size:,} バイト、{layout_name(p, config) or '読み方の決まっていないファイル'}）"
        for p in files
    ]
    return "\n".join(lines)


def analyse_collected_logs(incident: Incident, r: str) -> dict[str, Any] | None:
    """The analysis' outcome (the audit record's details), or None when not configured or the
    chief chose to go on without it."""
    config = runtime().config.town.access_logs
    if config is None:
        return None
    error = ""
    attempt = 1
    while True:
        key = f"{CLAUSE}.{r}.logs.{attempt}"
        selection = ask(
            incident,
            key,
            CLAUSE,
            Role.CHIEF,
            LogSelection,
            question="収集したアクセスログ（CS・統合端末の操作ログ、ファイアウォールのログ）を"
            "ログのフォルダに置き、解析するファイルを選んでください。",
            why="計画書 第3章 手順5: 収集したアクセスログ等により原因を究明します。"
            "解析の所見は原因の究明と脅威度の判断の材料として示します。",
            checks=selection_problems,
            exhibit=(f"前回の解析: {error}\n" if error else "") + folder_listing(config),
        )
        if selection.value.action is LogAction.SKIP:
            return None
        outcome: dict[str, Any] = run_step(
            incident,
            f"{CLAUSE}.{r}.analysis.{attempt}",
            analyse_logs,
            incident.number,
            f"{CLAUSE}.{r}.analysis.{attempt}",
            CLAUSE,
            selection.value.names,
        )
        if "error" not in outcome:
            return outcome
        error = outcome["error"]
        attempt += 1
