"""An incident's audit trail as a file: JSON Lines, 経過記録 in Markdown, or a printable HTML page.

    trail = collect(store, "令和8年度-001")             # records, notices, chain head, chain check
    render(trail, "jsonl")                              # or "md", "html"
    check_jsonl(text)                                   # [] when the file and every record hash hold

The export holds only what the store holds (no notice bodies, no delivery errors). The last JSON
line carries the chain head at export time and the SHA-256 of every line before it, so
`head -n -1 FILE | sha256sum` checks the file; `closing_copy` is the Markdown kept on the run when
an incident closes (tasks/closing.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from jinja2 import Environment, StrictUndefined

from jukinet.journal import CHANNELS, STATUS, render_journal
from jukinet.plan import clause_title
from jukinet.store import chain
from jukinet.store.models import AuditRecord, Incident, Notice
from jukinet.store.store import Store
from jukinet.wareki import jst, to_wareki_datetime

FORMAT = "jukinet.audit-export.v1"
FORMATS = {"jsonl": "JSON Lines 形式", "md": "Markdown 形式", "html": "HTML 形式"}
COPY_KIND = "監査記録の写し"


class Head(NamedTuple):
    """The municipality's last audit record at export time."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Trail:
    incident: Incident
    records: list[AuditRecord]  # the incident's, in seq order
    notices: list[Notice]
    head: Head
    check: chain.ChainReport


def collect(store: Store, number: str, *, upto: int | None = None) -> Trail:
    """The incident's trail; with `upto`, as it stood when record `upto` was the chain's last.

    Raises LookupError (Japanese message) for an unknown incident number.
    """
    incident = store.incident(number)
    if upto is None:
        check = store.verify_chain()
        chained = store.audit_records()
    else:
        chained = [r for r in store.audit_records() if r.seq <= upto]
        check = chain.verify(chained)
    head = Head(chained[-1].seq, chained[-1].hash) if chained else Head(0, chain.GENESIS)
    records = [r for r in chained if r.incident_id == incident.id]
    return Trail(incident, records, store.notices(incident.id), head, check)


def chain_status(check: chain.ChainReport) -> str:
    if check.ok:
        return f"監査記録の連鎖: 正常（{check.records} 件）"
    return f"監査記録の連鎖: 異常（{check.problem}）"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def artifact_key(incident: Incident) -> str:
    """`audit-export-254436-2026-001` for 令和8年度-001 of 多賀町 (Prefect artifact keys: a-z, 0-9, -)."""
    seq = incident.number.rsplit("-", 1)[-1]
    return f"audit-export-{incident.municipality_code}-{incident.fiscal_year}-{seq}"


# --- JSON Lines ------------------------------------------------------------------------------


def _times(name: str, dt: datetime | None) -> dict[str, str | None]:
    if dt is None:
        return {name: None, f"{name}_wareki": None}
    return {name: jst(dt).isoformat(), f"{name}_wareki": to_wareki_datetime(dt, seconds=True)}


def _canonical(value: Any) -> Any:
    """Same value, keys sorted at every level: the export does not depend on the back end."""
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_jsonl(
    incident: Incident, records: list[AuditRecord], notices: list[Notice], *, head: Head
) -> str:
    """Header, each record, each notice, then the chain head and the SHA-256 of the lines above."""
    lines = [
        _line(
            {
                "type": "incident",
                "format": FORMAT,
                "municipality_code": incident.municipality_code,
                "number": incident.number,
                "incident_id": incident.id,
                "drill": incident.drill,
                "declared_class": incident.declared_class,
                "emergency_class": incident.emergency_class,
                "state": incident.state,
                "summary": incident.summary,
                **_times("opened_at", incident.opened_at),
                **_times("closed_at", incident.closed_at),
            }
        )
    ]
    lines += [
        _line(
            {
                "type": "record",
                "seq": r.seq,
                **_times("recorded_at", r.recorded_at),
                "clause": r.clause,
                "clause_title": clause_title(r.clause),
                "kind": r.kind,
                "actor": r.actor,
                "on_behalf_of": r.on_behalf_of,
                "summary": r.summary,
                "details": _canonical(r.details),
                "event_key": r.event_key,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
            }
        )
        for r in records
    ]
    lines += [
        _line(
            {
                "type": "notice",
                "doc_number": n.doc_number,
                "document": n.document,
                "subject": n.subject,
                "recipient": n.recipient,
                "channel": n.channel,
                "address": n.address,
                "status": n.status,
                "attempts": n.attempts,
                **_times("sent_at", n.sent_at),
                "clause": n.clause,
            }
        )
        for n in notices
    ]
    body = "".join(lines)
    end = {
        "type": "end",
        "chain_head": {"seq": head.seq, "hash": head.hash},
        "records": len(records),
        "notices": len(notices),
        "sha256": sha256_hex(body),
    }
    return body + _line(end)


def check_jsonl(text: str) -> list[str]:
    """Problems of an exported file, in Japanese: its digest, then each record's own hash."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return ["ファイルが空です"]
    try:
        objects = [json.loads(line) for line in lines]
    except json.JSONDecodeError as exc:
        return [f"{exc.lineno} 行目付近が JSON として読めません"]
    if not all(isinstance(obj, dict) for obj in objects):
        return ["JSON のオブジェクトでない行があります"]
    header, end = objects[0], objects[-1]
    if header.get("type") != "incident" or end.get("type") != "end":
        return ["先頭行または最終行の形式が正しくありません"]
    problems = []
    if sha256_hex("".join(lines[:-1])) != end.get("sha256"):
        problems.append("最終行の SHA-256 がファイルの内容と一致しません")
    for number, obj in enumerate(objects[1:-1], start=2):
        if obj.get("type") != "record":
            continue
        try:
            intact = chain.record_hash(_record_fields(header, obj), obj["prev_hash"]) == obj["hash"]
        except (KeyError, TypeError, ValueError):
            problems.append(f"{number} 行目の記録の項目が足りないか、形式が正しくありません")
            continue
        if not intact:
            problems.append(f"通番 {obj['seq']} の記録の内容がハッシュと一致しません")
    return problems


def _record_fields(header: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The fields the chain hashes (jukinet.store.chain.record_fields), read back from an export."""
    return {
        "municipality_code": header["municipality_code"],
        "seq": obj["seq"],
        "event_key": obj["event_key"],
        "incident_id": header["incident_id"],
        "clause": obj["clause"],
        "kind": obj["kind"],
        "actor": obj["actor"],
        "on_behalf_of": obj["on_behalf_of"],
        "summary": obj["summary"],
        "details": obj["details"],
        "recorded_at": datetime.fromisoformat(obj["recorded_at"]).astimezone(UTC).isoformat(),
    }


# --- 経過記録: Markdown and HTML -----------------------------------------------------------


def _closing_lines(incident: Incident, records: list[AuditRecord], head: Head) -> list[str]:
    return [
        f"- 出力時の連鎖の末尾: 通番 {head.seq}　`{head.hash}`",
        f"- この事案の記録: {len(records)} 件（表のハッシュは先頭 12 桁。全桁は "
        f"`jukinet export-audit {incident.number} --format jsonl` で出力できます）",
    ]


def export_markdown(
    incident: Incident,
    records: list[AuditRecord],
    notices: list[Notice],
    *,
    head: Head,
    check: chain.ChainReport,
) -> str:
    status = chain_status(check)
    if not check.ok:
        status = f"**{status}**"
    text = render_journal(incident, records, notices, chain_status=status, hashes=True)
    return "\n".join([text, "## 監査記録の連鎖", "", *_closing_lines(incident, records, head), ""])


_HTML = """\
<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: "Noto Sans CJK JP", "Hiragino Kaku Gothic ProN", "Yu Gothic", sans-serif;
       margin: 2em; color: #000; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
th, td { border: 1px solid #555; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
th { background: #eee; }
.hash { font-family: monospace; white-space: nowrap; }
.problem { border: 2px solid #a00; color: #a00; font-weight: bold; padding: 0.4em; }
@media print { body { margin: 0; } thead { display: table-header-group; }
               tr { page-break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<ul>
{% for line in header %}<li>{{ line }}</li>
{% endfor %}</ul>
{% if not check_ok %}<p class="problem">{{ status }}</p>
{% endif %}{% if undelivered %}<p class="problem">未送付の通知が {{ undelivered }} 件あります。送付状況を確認してください。</p>
{% endif %}
<h2>経過</h2>
<table>
<thead><tr><th>通番</th><th>日時</th><th>条項</th><th>事項</th><th>実施者</th><th>内容</th><th>ハッシュ</th></tr></thead>
<tbody>
{% for r in records %}<tr><td>{{ r.seq }}</td><td>{{ r.at }}</td><td>{{ r.clause }}</td><td>{{ r.kind }}</td><td>{{ r.actor }}</td><td>{{ r.summary }}</td><td class="hash">{{ r.hash }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>通知</h2>
<table>
<thead><tr><th>文書番号</th><th>件名</th><th>宛先</th><th>送付方法</th><th>条項</th><th>状況</th></tr></thead>
<tbody>
{% for n in notices %}<tr><td>{{ n.doc_number }}</td><td>{{ n.subject }}</td><td>{{ n.recipient }}</td><td>{{ n.channel }}</td><td>{{ n.clause }}</td><td>{{ n.status }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>監査記録の連鎖</h2>
<ul>
<li>{{ status }}</li>
<li>出力時の連鎖の末尾: 通番 {{ head.seq }}　<span class="hash">{{ head.hash }}</span></li>
<li>この事案の記録: {{ records | length }} 件（ハッシュの全桁は JSON Lines 形式で出力できます）</li>
</ul>
</body>
</html>
"""

_env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
_page = _env.from_string(_HTML)


def _notice_status(n: Notice) -> str:
    status = STATUS.get(n.status, n.status)
    if n.status == "sent" and n.sent_at:
        return f"{status} {to_wareki_datetime(n.sent_at, seconds=True)}"
    if n.status != "sent" and n.attempts:
        return f"{status}（試行 {n.attempts} 回）"
    return status


def export_html(
    incident: Incident,
    records: list[AuditRecord],
    notices: list[Notice],
    *,
    head: Head,
    check: chain.ChainReport,
) -> str:
    """A standalone printable page; every value goes through Jinja2's autoescape."""
    header = [
        f"概要: {incident.summary}",
        f"区分: {incident.emergency_class or '確認中'}　状態: {incident.state}",
        f"受付: {to_wareki_datetime(incident.opened_at)}",
    ]
    if incident.closed_at:
        header.append(f"終結: {to_wareki_datetime(incident.closed_at)}")
    header.append(chain_status(check))
    return _page.render(
        title=f"{'【訓練】' if incident.drill else ''}経過記録 {incident.number}",
        header=header,
        check_ok=check.ok,
        status=chain_status(check),
        undelivered=sum(n.status != "sent" for n in notices),
        records=[
            {
                "seq": r.seq,
                "at": to_wareki_datetime(r.recorded_at, seconds=True),
                "clause": f"{r.clause} {clause_title(r.clause)}",
                "kind": r.kind,
                "actor": r.actor + (f"（{r.on_behalf_of}）" if r.on_behalf_of else ""),
                "summary": r.summary,
                "hash": r.hash[:12],
            }
            for r in records
        ],
        notices=[
            {
                "doc_number": n.doc_number,
                "subject": n.subject,
                "recipient": n.recipient,
                "channel": CHANNELS.get(n.channel, n.channel),
                "clause": n.clause,
                "status": _notice_status(n),
            }
            for n in notices
        ],
        head=head,
    )


def render(trail: Trail, fmt: str) -> str:
    """`fmt`: "jsonl", "md" or "html"."""
    t = trail
    if fmt == "jsonl":
        return export_jsonl(t.incident, t.records, t.notices, head=t.head)
    if fmt == "md":
        return export_markdown(t.incident, t.records, t.notices, head=t.head, check=t.check)
    if fmt == "html":
        return export_html(t.incident, t.records, t.notices, head=t.head, check=t.check)
    raise ValueError(f"出力形式「{fmt}」には対応していません（{'、'.join(FORMATS)}）")


# --- the copy kept when an incident closes -------------------------------------------------


def closing_copy(trail: Trail, jsonl_sha256: str, copy: AuditRecord) -> str:
    """The 経過記録 as it stood at the close, the digest of its JSON Lines form, and the record
    `copy` (kind 監査記録の写し) that chained that digest; `copy` itself is after the range."""
    recorded = copy.details.get("jsonl_sha256")
    lines = [
        render(trail, "md"),
        "## 終結時の監査記録の写し",
        "",
        f"- 写しの範囲: 監査記録の通番 {trail.head.seq} まで（この事案の記録 "
        f"{len(trail.records)} 件、通知 {len(trail.notices)} 件）",
        f"- 連鎖の末尾（通番 {trail.head.seq}）のハッシュ: `{trail.head.hash}`",
        f"- JSON Lines 形式の写しの SHA-256: `{jsonl_sha256}`",
        f"- この写しの作成は、通番 {copy.seq} の記録「{COPY_KIND}」（ハッシュ `{copy.hash}`）"
        "として監査記録に記録しています。この記録は写しの範囲に含みません。",
        f"- 照合: `jukinet verify-audit` で連鎖を検証し、`jukinet export-audit {trail.incident.number}"
        f" --format jsonl --upto {trail.head.seq}` の出力の SHA-256 が上の値と一致することを確認します。",
    ]
    if recorded != jsonl_sha256:
        lines.append(
            f"- **注意: 写しの作成時に記録した SHA-256（`{recorded}`）と一致しません。"
            "作成後に記録が変更されています。**"
        )
    return "\n".join(lines) + "\n"
