"""アクセスログの解析 (C3.S5 原因の究明): the log files in the configured folder, by the engine in
jukinet/accesslog, as one task: the files and their size in the run's log, the findings as an
artifact (table and summary) and an audit record (counts, findings, each file's SHA-256)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from flows.runtime import artifact_key as keyed
from flows.runtime import runtime, step_task
from jukinet.accesslog.analyse import analyse, layout_for
from jukinet.accesslog.report import details, markdown
from jukinet.config.access_logs import AccessLogAnalysis
from jukinet.journal import inline_text

KIND = "アクセスログの解析"
FAILED = "アクセスログの解析（失敗）"


def log_folder(config: AccessLogAnalysis) -> Path:
    return config.folder_in(runtime().settings.home)


def listing(config: AccessLogAnalysis) -> list[Path]:
    """The files in the log folder, by name (none when the folder does not exist)."""
    folder = log_folder(config)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def layout_name(path: Path, config: AccessLogAnalysis) -> str | None:
    source = layout_for(path, config)
    return source.name if source else None


def chosen(config: AccessLogAnalysis, names: list[str]) -> tuple[list[Path], list[str]]:
    """The files named (all in the folder when none is named) and the problems, in Japanese."""
    present = {p.name: p for p in listing(config)}
    if not names:
        if not present:
            return [], [f"ログのフォルダ {log_folder(config)} にファイルがありません"]
        return list(present.values()), []
    missing = [n for n in names if n not in present]
    if missing:
        return [], [
            f"ログのフォルダ {log_folder(config)} にないファイルです: " + "、".join(missing)
        ]
    return [present[n] for n in dict.fromkeys(names)], []


def artifact_key(name: str) -> str:
    return keyed("access-log-", name)


def analyse_and_record(
    incident_id: int | None,
    name: str,
    clause: str,
    event_key: str,
    actor: str,
    names: list[str],
) -> dict[str, Any]:
    """Analyse the files, publish the artifact and the audit record; {"error": ...} when the
    files cannot be read (the flow asks again)."""
    rt = runtime()
    config = rt.config.town.access_logs
    if config is None:
        raise RuntimeError("town.yaml に access_logs（アクセスログの解析）が設定されていません")
    logger = get_run_logger()
    paths, problems = chosen(config, names)
    if problems:
        return _failed(incident_id, clause, event_key, actor, problems[0])
    for path in paths:
        logger.info("解析するログ: %s（%s バイト）", path.name, f"{path.stat().st_size:,}")
    try:
        analysis = analyse(paths, config)
    except OSError as exc:
        return _failed(
            incident_id, clause, event_key, actor, f"ログを読めませんでした（{exc.strerror}）"
        )
    logger.info(
        "解析を終えました: %s 行を %.1f 秒（%.0f 行/秒）、所見 %s 件",
        f"{analysis.lines:,}",
        analysis.seconds,
        analysis.lines / analysis.seconds if analysis.seconds else 0.0,
        len(analysis.findings),
    )
    create_markdown_artifact(
        markdown=markdown(analysis, f"アクセスログの解析（{inline_text(name)}）"),
        key=artifact_key(name),
        description=f"アクセスログの解析 {name}",
    )
    outcome = details(analysis)
    rt.store.audit(
        incident_id, clause, KIND, outcome["summary"], event_key=event_key, actor=actor,
        details=outcome,
    )  # fmt: skip
    return outcome


def _failed(
    incident_id: int | None, clause: str, event_key: str, actor: str, reason: str
) -> dict[str, Any]:
    get_run_logger().error("アクセスログを解析できませんでした: %s", reason)
    runtime().store.audit(
        incident_id,
        clause,
        FAILED,
        f"アクセスログを解析できませんでした: {reason}",
        event_key=event_key,
        actor=actor,
    )
    return {"error": reason}


@step_task("アクセスログの解析（原因の究明）")
def analyse_logs(number: str, key: str, clause: str, names: list[str]) -> dict[str, Any]:
    incident = runtime().store.incident(number)
    return analyse_and_record(
        incident.id, f"{number}-{key}", clause, f"{number}|{key}", "システム（ログ解析）", names
    )
