"""The analysis as staff read it: a one-line summary, the artifact's tables, the short list the
cause form shows, and the audit record's details. Subjects are operator IDs, terminal IDs and
addresses; target keys appear nowhere (only counts)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from jukinet.accesslog.analyse import Analysis
from jukinet.accesslog.calendar import JST
from jukinet.accesslog.rules import Finding, Severity
from jukinet.journal import table_cell

RECORDED = 200  # findings in the audit record's details (all are in the artifact)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M") if moment else "-"


def severities(analysis: Analysis) -> Counter[str]:
    return Counter(f.rule.severity.value for f in analysis.findings)


def summary(analysis: Analysis) -> str:
    counted = severities(analysis)
    by = "、".join(f"{s.value} {counted[s.value]}" for s in Severity if counted[s.value])
    text = (
        f"ログ {len(analysis.files)} ファイル {analysis.lines:,} 行を解析"
        f"（読めない行 {analysis.malformed:,} 行）: 所見 {len(analysis.findings)} 件"
        + (f"（重要度 {by}）" if by else "")
    )
    if analysis.unmatched:
        text += f"。読み方の決まっていないファイル {len(analysis.unmatched)} 件は解析していません"
    if analysis.supports_level3():
        text += "。脅威度レベル3の例に当たる所見があります"
    return text


def _period(f: Finding) -> str:
    first, last = _when(f.first), _when(f.last)
    return first if first == last else f"{first} 〜 {last}"


def exhibit(outcome: dict[str, Any], shown: int = 10) -> str:
    """What the cause form (C3.S5) shows above its fields, from the recorded outcome
    (`details` and `summary`)."""
    lines = [outcome["summary"]]
    for f in outcome["findings"][:shown]:
        lines.append(
            f"【{f['severity']}】{f['title']}: {f['subject']}（{f['count']:,} 件、{f['period']}"
            + (f"、{f['detail']}" if f["detail"] else "")
            + f"）→ {f['level_text']}"
        )
    if outcome["findings_total"] > shown:
        lines.append(f"（ほか {outcome['findings_total'] - shown} 件は成果物を参照）")
    return "\n".join(lines)


def evidence(analysis: Analysis, shown: int = 5) -> str:
    """The cause form's 根拠, filled in advance (the chief may change it): the files and the
    first findings, with their line references."""
    files = "、".join(t.file for t in analysis.files)
    parts = [f"アクセスログの解析（{files}）: {summary(analysis)}"]
    parts += [
        f"{f.rule.title} {f.subject} {f.count:,} 件（{_period(f)}、{' '.join(f.refs[:3])}）"
        for f in analysis.findings[:shown]
    ]
    return "。".join(parts)


def markdown(analysis: Analysis, title: str) -> str:
    lines = [f"### {title}", "", summary(analysis), ""]
    if analysis.findings:
        lines += [
            "#### 所見",
            "",
            "| 重要度 | 所見 | 対象 | 件数 | 期間 | 内容 | 根拠となる行 | 脅威度の例 |",
            "|---|---|---|---|---|---|---|---|",
            *(
                f"| {f.rule.severity.value} | {f.rule.title} | {table_cell(f.subject)} | {f.count:,} "
                f"| {_period(f)} | {table_cell(f.detail()) or '-'} | {table_cell(' '.join(f.refs))}"
                f"{' ほか' if f.count > len(f.refs) else ''} | {f.rule.level} {f.rule.level_text} |"
                for f in analysis.findings
            ),
            "",
        ]
    else:
        lines += ["所見はありません。", ""]
    lines += [
        "#### 解析したファイル",
        "",
        "| ファイル | ログ | 行数 | 読めない行 | 時刻の順でない行 | SHA-256 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {table_cell(t.file)} | {table_cell(t.source)} | {t.lines:,} | {t.malformed:,} "
            f"| {t.out_of_order:,} | `{t.sha256}` |"
            for t in analysis.files
        ),
    ]
    bad = [(t.file, n, r) for t in analysis.files for n, r in t.malformed_lines]
    if bad:
        lines += [
            "",
            "#### 読めない行（ファイルごとに先頭 20 行まで。件数は全件）",
            "",
            "| ファイル | 行 | 理由 |",
            "|---|---|---|",
            *(f"| {table_cell(file)} | {n} | {table_cell(reason)} |" for file, n, reason in bad),
        ]
    if analysis.unmatched:
        lines += [
            "",
            "読み方（town.yaml access_logs.sources）の決まっていないファイル: "
            + "、".join(table_cell(name) for name in analysis.unmatched),
        ]
    lines += ["", f"解析に要した時間: {analysis.seconds:.1f} 秒"]
    return "\n".join(lines)


def details(analysis: Analysis) -> dict[str, Any]:
    """The audit record's details (JSON)."""
    return {
        "summary": summary(analysis),
        "evidence": evidence(analysis),
        "level3": analysis.supports_level3(),
        "lines": analysis.lines,
        "events": analysis.events,
        "malformed": analysis.malformed,
        "seconds": round(analysis.seconds, 2),
        "files": [
            {
                "file": t.file,
                "source": t.source,
                "lines": t.lines,
                "malformed": t.malformed,
                "malformed_lines": [n for n, _ in t.malformed_lines],
                "out_of_order": t.out_of_order,
                "sha256": t.sha256,
            }
            for t in analysis.files
        ],
        "unmatched": analysis.unmatched,
        "findings_total": len(analysis.findings),
        "findings": [
            {
                "rule": f.rule.id,
                "title": f.rule.title,
                "severity": f.rule.severity.value,
                "level": f.rule.level,
                "level_text": f.rule.level_text,
                "subject": f.subject,
                "count": f.count,
                "first": f.first.isoformat() if f.first else None,
                "last": f.last.isoformat() if f.last else None,
                "period": _period(f),
                "refs": f.refs,
                "detail": f.detail(),
            }
            for f in analysis.findings[:RECORDED]
        ],
    }
