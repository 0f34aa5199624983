"""The integrity check as town.yaml `integrity` configures it: both sides' URLs resolved from
their secret references, the differences written to a repair list (CSV, the only place full
住民票コード appear; readable by its owner only), and an outcome that names no key in full.

    outcome = run_check(config.town.integrity, folder, "令和8年度-001-C2.S5.r1.check.1")
    outcome["differences"], summary(outcome), outcome["first"]  # masked keys, for the artifact
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jukinet.config.models import IntegrityCheck, IntegritySide
from jukinet.integrity.compare import Normalisation, Report, Side, compare
from jukinet.integrity.differences import FIELD_TITLES, KIND_TITLES, SIDE_TITLES, DifferenceFile
from jukinet.notices.secrets import resolve

SHOWN_DIGITS = 4


def mask(key: str) -> str:
    """A key as the artifact may show it: all but the last four characters hidden."""
    return "＊" * max(len(key) - SHOWN_DIGITS, 0) + key[-SHOWN_DIGITS:]


def _side(side: IntegritySide, config: IntegrityCheck, where: str) -> Side:
    columns = (side.columns or config.columns).model_dump()
    return Side(resolve(side.url, f"town.yaml integrity.{where}.url"), side.table, columns)


def sides(config: IntegrityCheck) -> tuple[Side, Side]:
    return _side(config.cs, config, "cs"), _side(config.registry, config, "registry")


def probe(config: IntegrityCheck) -> list[str]:
    """Each side's table and columns there now (no row read): problems in Japanese."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    problems = []
    for where, title, side in (
        ("cs", "CS", config.cs),
        ("registry", "既存住基システム", config.registry),
    ):
        try:
            found = _side(side, config, where)
        except Exception as exc:  # SecretError: its message names the field
            problems.append(str(exc))
            continue
        schema, _, table = found.table.rpartition(".")
        engine = create_engine(found.url)
        try:
            if engine.dialect.name not in ("sqlite", "postgresql"):
                raise ValueError("照合できるのは SQLite と PostgreSQL です")
            present = {c["name"] for c in inspect(engine).get_columns(table, schema or None)}
            absent = [c for c in found.columns.values() if c not in present]
            if absent:
                raise ValueError(f"列 {'、'.join(absent)} がありません")
        except (SQLAlchemyError, ValueError) as exc:
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            problems.append(
                f"town.yaml integrity.{where}: {title}の表 {found.table} の列を読めません（{cause}）"
            )
        finally:
            engine.dispose()
    return problems


def run_check(
    config: IntegrityCheck,
    folder: Path,
    name: str,
    progress: Callable[[Report], None] | None = None,
    progress_every: int = 500_000,
) -> dict[str, Any]:
    """Compare; the outcome (JSON-able): counts, the repair list's path and SHA-256, the first
    `artifact_keys` differences with masked keys."""
    cs, registry = sides(config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with DifferenceFile(path, cap=config.artifact_keys) as sink:
        os.chmod(path, 0o600)
        report = compare(
            cs,
            registry,
            sink,
            Normalisation(
                width=config.normalise_width, trailing_spaces=config.ignore_trailing_spaces
            ),
            progress,
            progress_every,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "rows": dict(report.rows),
        "missing": dict(report.missing),
        "duplicates": dict(report.duplicates),
        "invalid": dict(report.invalid),
        "changed": report.changed,
        "changed_fields": dict(report.changed_fields),
        "differences": report.differences,
        "seconds": round(report.seconds, 2),
        "file": str(path),
        "sha256": digest,
        "first": [
            {
                "line": line,
                "kind": KIND_TITLES[kind],
                "side": SIDE_TITLES[side],
                "key": mask(key),
                "fields": "・".join(FIELD_TITLES[f] for f in fields),
            }
            for line, (kind, side, key, fields) in enumerate(sink.first, start=2)
        ],
    }


def _count(n: int) -> str:
    return f"{n:,}件"


def summary(outcome: dict[str, Any]) -> str:
    """One sentence for the audit record and the notices: counts only."""
    rows, missing, dup, invalid = (
        outcome["rows"],
        outcome["missing"],
        outcome["duplicates"],
        outcome["invalid"],
    )
    head = (
        f"CS {_count(rows['cs'])}・既存住基システム {_count(rows['registry'])}を住民票コードで照合"
    )
    if not outcome["differences"]:
        return f"{head}: 相違なし"
    parts = []
    for title, counts in (("欠落", missing), ("重複", dup), ("不正な行", invalid)):
        sides = [f"{SIDE_TITLES[s]} {_count(n)}" for s, n in counts.items() if n]
        if sides:
            parts.append(f"{title} {'・'.join(sides)}")
    if outcome["changed"]:
        fields = "・".join(
            f"{FIELD_TITLES[f]} {_count(n)}" for f, n in outcome["changed_fields"].items()
        )
        parts.append(f"相違 {_count(outcome['changed'])}（{fields}）")
    return f"{head}: 相違 {_count(outcome['differences'])}（{'、'.join(parts)}）"
