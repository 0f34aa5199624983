"""本人確認情報の整合性確認 (C2.S5, C3.S6.1): the CS copy against the registry, by the engine in
jukinet/integrity, as one task: progress in the run's log, the result as an artifact (counts and
the first differences with masked keys) and an audit record (counts, the repair list's path and
SHA-256). Full keys are only in the repair list file."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from sqlalchemy.exc import SQLAlchemyError

from flows.runtime import artifact_key as keyed
from flows.runtime import runtime, step_task
from jukinet.integrity.check import run_check, summary
from jukinet.integrity.compare import IntegrityError, Report
from jukinet.journal import inline_text
from jukinet.notices.secrets import SecretError

KIND = "整合性の照合"
FAILED = "整合性の照合（失敗）"


def artifact_key(name: str) -> str:
    return keyed("seigousei-", name)


def markdown(outcome: dict[str, Any], title: str) -> str:
    lines = [f"### {title}", "", summary(outcome), ""]
    if outcome["differences"]:
        lines += [
            f"相違一覧（全 {outcome['differences']:,} 件）: `{outcome['file']}`",
            f"（SHA-256 `{outcome['sha256']}`）",
            "",
            "住民票コードは下4桁のみ表示しています。全桁は相違一覧の該当行にあります。",
            "",
            "| 相違一覧の行 | 区分 | 側 | 住民票コード | 相違する項目 |",
            "|---|---|---|---|---|",
            *(
                f"| {d['line']} | {d['kind']} | {d['side']} | {d['key']} | {d['fields']} |"
                for d in outcome["first"]
            ),
        ]
        shown = len(outcome["first"])
        if shown < outcome["differences"]:
            lines += ["", f"（先頭 {shown} 件を表示。残りは相違一覧を参照）"]
    lines += ["", f"照合に要した時間: {outcome['seconds']:.1f} 秒"]
    return "\n".join(lines)


def check_and_record(
    incident_id: int | None, name: str, clause: str, event_key: str, actor: str
) -> dict[str, Any]:
    """Run the configured check, log progress, publish the artifact and the audit record."""
    rt = runtime()
    config = rt.config.town.integrity
    if config is None:
        raise RuntimeError("town.yaml に integrity（本人確認情報の整合性確認）が設定されていません")
    logger = get_run_logger()

    def progress(report: Report) -> None:
        rate = report.compared / report.seconds if report.seconds else 0.0
        logger.info(
            "照合中: %s 件（%.0f 件/秒、相違 %s 件）",
            f"{report.compared:,}",
            rate,
            f"{report.differences:,}",
        )

    logger.info("本人確認情報の照合を開始します（CS と既存住基システム）")
    try:
        outcome = run_check(config, rt.settings.home / "integrity", name, progress)
    except (IntegrityError, SecretError, OSError) as exc:
        return _failed(incident_id, clause, event_key, actor, str(exc))
    except SQLAlchemyError as exc:  # its text may hold the URL, password included: not shown
        return _failed(
            incident_id,
            clause,
            event_key,
            actor,
            f"接続先（URL）を使えません（{type(exc).__name__}）",
        )
    compared = max(outcome["rows"].values())
    logger.info(
        "照合を終えました: %s 件を %.1f 秒（%.0f 件/秒）、相違 %s 件",
        f"{compared:,}",
        outcome["seconds"],
        compared / outcome["seconds"] if outcome["seconds"] else 0.0,
        f"{outcome['differences']:,}",
    )
    create_markdown_artifact(
        markdown=markdown(outcome, f"本人確認情報の整合性の照合（{inline_text(name)}）"),
        key=artifact_key(name),
        description=f"本人確認情報の整合性の照合 {name}",
    )
    rt.store.audit(
        incident_id,
        clause,
        KIND,
        summary(outcome)
        + (
            f"。相違一覧 {outcome['file']}（SHA-256 {outcome['sha256']}）"
            if outcome["differences"]
            else ""
        ),
        event_key=event_key,
        actor=actor,
        details={k: v for k, v in outcome.items() if k != "first"},
    )
    return outcome


def _failed(
    incident_id: int | None, clause: str, event_key: str, actor: str, reason: str
) -> dict[str, Any]:
    """The check could not run: said in the log and the audit chain; the flow asks what to do."""
    get_run_logger().error("本人確認情報の照合ができませんでした: %s", reason)
    runtime().store.audit(
        incident_id,
        clause,
        FAILED,
        f"本人確認情報の照合ができませんでした: {reason}",
        event_key=event_key,
        actor=actor,
    )
    return {"error": reason}


@step_task("本人確認情報の整合性の照合（CS と既存住基システム）")
def verify_integrity(number: str, key: str, clause: str) -> dict[str, Any]:
    incident = runtime().store.incident(number)
    name = f"{number}-{key}"
    return check_and_record(incident.id, name, clause, f"{number}|{key}", "システム（自動照合）")
