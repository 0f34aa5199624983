"""経過記録: the incident's story as Markdown, built from the audit chain and the outbox."""

from __future__ import annotations

from jukinet.plan import clause_title
from jukinet.store.models import AuditRecord, Incident, Notice
from jukinet.wareki import to_wareki_datetime

HASH_SHOWN = 12  # hex digits of a record's hash shown in a table

CHANNELS = {"email": "メール", "webhook": "Webhook", "archive": "保存"}
STATUS = {
    "sent": "送付済",
    "pending": "未送付",
    "sending": "送付中",
    "failed": "未送付（送付失敗）",
}


def inline_text(text: str) -> str:
    """Staff-typed text shown in Markdown as text: HTML is escaped, lines are joined."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r", " ").replace("\n", " ")


def table_cell(text: str) -> str:
    """Staff-typed text in a Markdown table cell."""
    return inline_text(text).replace("|", "｜")


def render_journal(
    incident: Incident,
    records: list[AuditRecord],
    notices: list[Notice],
    *,
    chain_status: str | None = None,
    hashes: bool = False,
) -> str:
    """With `chain_status` a line on the audit chain; with `hashes` each record's 通番 and hash."""
    drill = "【訓練】" if incident.drill else ""
    lines = [
        f"# {drill}経過記録 {incident.number}",
        "",
        f"- 概要: {table_cell(incident.summary)}",
        f"- 区分: {incident.emergency_class or '確認中'}　状態: {incident.state}",
        f"- 受付: {to_wareki_datetime(incident.opened_at)}",
    ]
    if incident.closed_at:
        lines.append(f"- 終結: {to_wareki_datetime(incident.closed_at)}")
    if chain_status:
        lines.append(f"- {chain_status}")
    undelivered = [n for n in notices if n.status != "sent"]
    if undelivered:
        lines += [
            "",
            f"> **未送付の通知が {len(undelivered)} 件あります。** 送付状況を確認してください。",
        ]
    head = "| 日時 | 条項 | 事項 | 実施者 | 内容 |"
    lines += ["", "## 経過", ""]
    lines += (
        [f"| 通番 {head} ハッシュ |", "|---|---|---|---|---|---|---|"]
        if hashes
        else [head, "|---|---|---|---|---|"]
    )
    for r in records:
        actor = r.actor + (f"（{r.on_behalf_of}）" if r.on_behalf_of else "")
        row = (
            f"| {to_wareki_datetime(r.recorded_at, seconds=True)} | {r.clause} {clause_title(r.clause)} "
            f"| {r.kind} | {table_cell(actor)} | {table_cell(r.summary)} |"
        )
        lines.append(f"| {r.seq} {row} `{r.hash[:HASH_SHOWN]}` |" if hashes else row)
    lines += [
        "",
        "## 通知",
        "",
        "| 文書番号 | 件名 | 宛先 | 送付方法 | 条項 | 状況 |",
        "|---|---|---|---|---|---|",
    ]
    for n in notices:
        status = STATUS.get(n.status, n.status)
        if n.status == "sent" and n.sent_at:
            status += f" {to_wareki_datetime(n.sent_at, seconds=True)}"
        if n.status != "sent" and n.last_error:
            status += f"（試行 {n.attempts} 回）"
        lines.append(
            f"| {n.doc_number} | {table_cell(n.subject)} | {table_cell(n.recipient)} "
            f"| {CHANNELS.get(n.channel, n.channel)} | {n.clause} | {status} |"
        )
    return "\n".join(lines) + "\n"
