"""The audit chain: each record holds the SHA-256 of its content and of the record before.

>>> record_hash(fields, prev_hash="0" * 64)   # hex digest
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from jukinet.store.models import AuditRecord

GENESIS = "0" * 64


def record_fields(r: AuditRecord) -> dict[str, Any]:
    return {
        "municipality_code": r.municipality_code,
        "seq": r.seq,
        "event_key": r.event_key,
        "incident_id": r.incident_id,
        "clause": r.clause,
        "kind": r.kind,
        "actor": r.actor,
        "on_behalf_of": r.on_behalf_of,
        "summary": r.summary,
        "details": r.details,
        "recorded_at": r.recorded_at.isoformat(),
    }


def record_hash(fields: dict[str, Any], prev_hash: str) -> str:
    payload = json.dumps(
        {"prev": prev_hash, **fields}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    records: int
    first_broken_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def verify(records: list[AuditRecord]) -> ChainReport:
    """Records in seq order; names the first record whose link or content does not hold."""
    prev = GENESIS
    for expected_seq, r in enumerate(records, start=1):
        if r.seq != expected_seq:
            return ChainReport(
                len(records), expected_seq, f"通番 {expected_seq} の記録がありません"
            )
        if r.prev_hash != prev:
            return ChainReport(len(records), r.seq, f"通番 {r.seq} の前記録ハッシュが一致しません")
        if record_hash(record_fields(r), prev) != r.hash:
            return ChainReport(len(records), r.seq, f"通番 {r.seq} の内容が改変されています")
        prev = r.hash
    return ChainReport(len(records), None, None)
