"""The store: one object per municipality over a SQLAlchemy engine.

Every write is keyed, so a flow replayed after a suspension writes nothing twice:

    store = Store(engine, "254436")
    inc = store.open_incident(origin_key=run_id, ...)        # same incident on a replay
    store.audit(inc.id, "C1.2", "区分確認", event_key=...)     # appended once
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jukinet.store import chain
from jukinet.store.models import (
    Absence,
    Answer,
    Ask,
    AuditRecord,
    ChainHead,
    CodeFailure,
    Counter,
    Incident,
    Notice,
    StepDone,
    utcnow,
)
from jukinet.wareki import fiscal_year, fiscal_year_label


class Store:
    def __init__(self, engine: Engine, municipality_code: str) -> None:
        self.engine = engine
        self.municipality = municipality_code
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    # --- counters --------------------------------------------------------------------

    def _next(self, s: Session, series: str, year: int) -> int:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        s.execute(
            insert(Counter)
            .values(municipality_code=self.municipality, series=series, fiscal_year=year, last=0)
            .on_conflict_do_nothing()
        )
        row = s.execute(
            select(Counter)
            .where(
                Counter.municipality_code == self.municipality,
                Counter.series == series,
                Counter.fiscal_year == year,
            )
            .with_for_update()
        ).scalar_one()
        row.last += 1
        s.flush()
        return row.last

    def next_number(self, series: str, at: datetime | None = None) -> tuple[int, int]:
        """(fiscal year, number) from a per-fiscal-year series; never the same number twice."""
        year = fiscal_year(at or utcnow())
        with self.session() as s:
            return year, self._next(s, series, year)

    # --- incidents -------------------------------------------------------------------

    def incident_by_origin(self, origin_key: str) -> Incident | None:
        with self.session() as s:
            return s.execute(
                select(Incident).where(
                    Incident.municipality_code == self.municipality,
                    Incident.origin_key == origin_key,
                )
            ).scalar_one_or_none()

    def open_incident(
        self,
        *,
        origin_key: str,
        drill: bool,
        declared_class: str,
        summary: str,
        declaration: dict[str, Any],
    ) -> Incident:
        try:
            with self.session() as s:
                existing = s.execute(
                    select(Incident).where(
                        Incident.municipality_code == self.municipality,
                        Incident.origin_key == origin_key,
                    )
                ).scalar_one_or_none()
                if existing:
                    return existing
                now = utcnow()
                year = fiscal_year(now)
                seq = self._next(s, "incident", year)
                inc = Incident(
                    municipality_code=self.municipality,
                    number=f"{fiscal_year_label(year)}-{seq:03d}",
                    fiscal_year=year,
                    origin_key=origin_key,
                    drill=drill,
                    declared_class=declared_class,
                    state="受付",
                    summary=summary,
                    declaration=declaration,
                    opened_at=now,
                )
                s.add(inc)
                s.flush()
                return inc
        except IntegrityError:
            # Another process opened the same origin key between our look-up and our insert:
            # on PostgreSQL (read committed) nothing orders the two, where SQLite's BEGIN
            # IMMEDIATE does. Ours rolled back, number included; the first incident stands.
            found = self.incident_by_origin(origin_key)
            if found is None:
                raise
            return found

    def incident(self, number: str) -> Incident:
        with self.session() as s:
            inc = s.execute(
                select(Incident).where(
                    Incident.municipality_code == self.municipality, Incident.number == number
                )
            ).scalar_one_or_none()
        if inc is None:
            raise LookupError(f"事案番号 {number} の事案が記録にありません")
        return inc

    def incident_by_id(self, incident_id: int) -> Incident:
        with self.session() as s:
            inc = s.get(Incident, incident_id)
        if inc is None or inc.municipality_code != self.municipality:
            raise LookupError(f"事案（内部番号 {incident_id}）が記録にありません")
        return inc

    def _own(self, s: Session, incident_id: int | None) -> None:
        """Refuse a write about another municipality's incident (a store serves one town)."""
        if incident_id is None:
            return
        code = s.execute(
            select(Incident.municipality_code).where(Incident.id == incident_id)
        ).scalar_one_or_none()
        if code != self.municipality:
            raise LookupError(f"事案（内部番号 {incident_id}）が記録にありません")

    def set_incident(self, incident_id: int, **values: Any) -> None:
        with self.session() as s:
            s.execute(
                update(Incident)
                .where(Incident.id == incident_id, Incident.municipality_code == self.municipality)
                .values(**values)
            )

    # --- audit chain -----------------------------------------------------------------

    def audit(
        self,
        incident_id: int | None,
        clause: str,
        kind: str,
        summary: str,
        *,
        event_key: str,
        actor: str = "システム",
        on_behalf_of: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record unless `event_key` is already in the chain; returns the record."""
        with self.session() as s:
            self._own(s, incident_id)
            insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
            s.execute(
                insert(ChainHead)
                .values(municipality_code=self.municipality, seq=0, last_hash=chain.GENESIS)
                .on_conflict_do_nothing()
            )
            head = s.execute(
                select(ChainHead)
                .where(ChainHead.municipality_code == self.municipality)
                .with_for_update()
            ).scalar_one()
            existing = s.execute(
                select(AuditRecord).where(
                    AuditRecord.municipality_code == self.municipality,
                    AuditRecord.event_key == event_key,
                )
            ).scalar_one_or_none()
            if existing:
                return existing
            record = AuditRecord(
                municipality_code=self.municipality,
                seq=head.seq + 1,
                event_key=event_key,
                incident_id=incident_id,
                clause=clause,
                kind=kind,
                actor=actor,
                on_behalf_of=on_behalf_of,
                summary=summary,
                details=details or {},
                recorded_at=utcnow().replace(microsecond=0),
                prev_hash=head.last_hash,
                hash="",
            )
            record.hash = chain.record_hash(chain.record_fields(record), head.last_hash)
            s.add(record)
            head.seq, head.last_hash = record.seq, record.hash
            return record

    def audit_records_by_key(self, event_key: str) -> list[AuditRecord]:
        with self.session() as s:
            return list(
                s.execute(
                    select(AuditRecord).where(
                        AuditRecord.municipality_code == self.municipality,
                        AuditRecord.event_key == event_key,
                    )
                ).scalars()
            )

    def audit_records(
        self, incident_id: int | None = None, kind: str | None = None
    ) -> list[AuditRecord]:
        with self.session() as s:
            q = select(AuditRecord).where(AuditRecord.municipality_code == self.municipality)
            if incident_id is not None:
                q = q.where(AuditRecord.incident_id == incident_id)
            if kind is not None:
                q = q.where(AuditRecord.kind == kind)
            return list(s.execute(q.order_by(AuditRecord.seq)).scalars())

    def verify_chain(self) -> chain.ChainReport:
        records = self.audit_records()
        report = chain.verify(records)
        if not report.ok:
            return report
        with self.session() as s:
            head = s.get(ChainHead, self.municipality)
        last_seq, last_hash = (records[-1].seq, records[-1].hash) if records else (0, chain.GENESIS)
        if head is not None and (head.seq, head.last_hash) != (last_seq, last_hash):
            return chain.ChainReport(
                len(records), last_seq + 1, f"通番 {last_seq + 1} 以降の記録が削除されています"
            )
        return report

    # --- answers and completed steps ---------------------------------------------------

    def answer(self, incident_id: int, ask_key: str) -> Answer | None:
        with self.session() as s:
            return s.execute(
                select(Answer).where(
                    Answer.municipality_code == self.municipality,
                    Answer.incident_id == incident_id,
                    Answer.ask_key == ask_key,
                )
            ).scalar_one_or_none()

    def record_answer(self, answer: Answer) -> Answer:
        answer.municipality_code = self.municipality
        try:
            with self.session() as s:
                self._own(s, answer.incident_id)
                s.add(answer)
            return answer
        except IntegrityError:
            found = self.answer(answer.incident_id, answer.ask_key)
            assert found is not None
            return found

    def step_result(self, incident_id: int, step_key: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.execute(
                select(StepDone).where(
                    StepDone.municipality_code == self.municipality,
                    StepDone.incident_id == incident_id,
                    StepDone.step_key == step_key,
                )
            ).scalar_one_or_none()
            return None if row is None else row.result

    def record_step(self, incident_id: int, step_key: str, result: dict[str, Any]) -> None:
        try:
            with self.session() as s:
                self._own(s, incident_id)
                s.add(
                    StepDone(
                        municipality_code=self.municipality,
                        incident_id=incident_id,
                        step_key=step_key,
                        result=result,
                        done_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass  # a replay finished the same step first; the first result stands

    # --- asks waiting for an answer ------------------------------------------------------

    def open_ask(
        self, incident_id: int, ask_key: str, clause: str, role: str, flow_run_id: str
    ) -> None:
        """Once per ask: a replay after resume keeps the first time it was asked."""
        try:
            with self.session() as s:
                self._own(s, incident_id)
                s.add(
                    Ask(
                        municipality_code=self.municipality,
                        incident_id=incident_id,
                        ask_key=ask_key,
                        clause=clause,
                        role=role,
                        flow_run_id=flow_run_id,
                        asked_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass

    def close_ask(self, incident_id: int, ask_key: str) -> None:
        with self.session() as s:
            s.execute(
                update(Ask)
                .where(
                    Ask.municipality_code == self.municipality,
                    Ask.incident_id == incident_id,
                    Ask.ask_key == ask_key,
                    Ask.answered_at.is_(None),
                )
                .values(answered_at=utcnow())
            )

    def asked(self, incident_id: int, ask_key: str) -> Ask | None:
        with self.session() as s:
            return s.execute(
                select(Ask).where(
                    Ask.municipality_code == self.municipality,
                    Ask.incident_id == incident_id,
                    Ask.ask_key == ask_key,
                )
            ).scalar_one_or_none()

    def waiting_asks(self) -> list[Ask]:
        with self.session() as s:
            return list(
                s.execute(
                    select(Ask)
                    .where(Ask.municipality_code == self.municipality, Ask.answered_at.is_(None))
                    .order_by(Ask.asked_at)
                ).scalars()
            )

    def update_ask(self, ask_id: int, **values: Any) -> None:
        with self.session() as s:
            s.execute(
                update(Ask)
                .where(Ask.id == ask_id, Ask.municipality_code == self.municipality)
                .values(**values)
            )

    # --- approval-code failures ----------------------------------------------------------

    def record_code_failure(self, person_id: str, incident_id: int | None, ask_key: str) -> None:
        """Once per ask (a replay of the same answer is not a second failure); outside an
        incident the ask key names the flow run."""
        try:
            with self.session() as s:
                seen = s.execute(
                    select(CodeFailure.id).where(
                        CodeFailure.municipality_code == self.municipality,
                        CodeFailure.incident_id.is_(None)
                        if incident_id is None
                        else CodeFailure.incident_id == incident_id,
                        CodeFailure.ask_key == ask_key,
                    )
                ).first()
                if seen:
                    return
                s.add(
                    CodeFailure(
                        municipality_code=self.municipality,
                        person_id=person_id,
                        incident_id=incident_id,
                        ask_key=ask_key,
                        failed_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass

    def code_failures_since(self, person_id: str, since: datetime) -> list[datetime]:
        with self.session() as s:
            return list(
                s.execute(
                    select(CodeFailure.failed_at)
                    .where(
                        CodeFailure.municipality_code == self.municipality,
                        CodeFailure.person_id == person_id,
                        CodeFailure.failed_at >= since,
                    )
                    .order_by(CodeFailure.failed_at)
                ).scalars()
            )

    # --- absences (不在) ------------------------------------------------------------------

    def register_absence(self, absence: Absence) -> Absence:
        """Once per `registration_key`; returns the registration kept."""
        absence.municipality_code = self.municipality
        try:
            with self.session() as s:
                s.add(absence)
            return absence
        except IntegrityError:
            with self.session() as s:
                return s.execute(
                    select(Absence).where(
                        Absence.municipality_code == self.municipality,
                        Absence.registration_key == absence.registration_key,
                    )
                ).scalar_one()

    def end_absences(self, person_id: str, at: datetime) -> int:
        """The person is back at `at`: every registration not yet over ends then."""
        with self.session() as s:
            result = s.execute(
                update(Absence)
                .where(
                    Absence.municipality_code == self.municipality,
                    Absence.person_id == person_id,
                    Absence.ends_at > at,
                )
                .values(ends_at=at)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def absences(self, at: datetime) -> list[Absence]:
        """Registrations in force at `at` (starts_at <= at < ends_at)."""
        with self.session() as s:
            return list(
                s.execute(
                    select(Absence)
                    .where(
                        Absence.municipality_code == self.municipality,
                        Absence.starts_at <= at,
                        Absence.ends_at > at,
                    )
                    .order_by(Absence.starts_at)
                ).scalars()
            )

    # --- outbox ------------------------------------------------------------------------

    def notice(self, key: str) -> Notice | None:
        with self.session() as s:
            return s.execute(
                select(Notice).where(
                    Notice.municipality_code == self.municipality, Notice.key == key
                )
            ).scalar_one_or_none()

    def enqueue(self, notice: Notice) -> Notice:
        """Write the notice as pending unless its key is already in the outbox."""
        found = self.notice(notice.key)
        if found:
            return found
        if notice.municipality_code != self.municipality:
            raise LookupError(
                f"団体コード {notice.municipality_code} の通知は、この団体（{self.municipality}）の"
                "送信待ちに入れられません"
            )
        try:
            with self.session() as s:
                self._own(s, notice.incident_id)
                s.add(notice)
            return notice
        except IntegrityError:
            found = self.notice(notice.key)
            assert found is not None
            return found

    def document_notices(self, document_key: str) -> list[Notice]:
        """Every channel's row of one document to one recipient."""
        with self.session() as s:
            return list(
                s.execute(
                    select(Notice)
                    .where(
                        Notice.municipality_code == self.municipality,
                        Notice.document_key == document_key,
                    )
                    .order_by(Notice.id)
                ).scalars()
            )

    def claim_notice(self, notice_id: int, until: datetime) -> bool:
        """Take a notice for delivery unless it is sent or another process holds an unexpired claim."""
        now = utcnow()
        with self.session() as s:
            taken = s.execute(
                update(Notice)
                .where(
                    Notice.id == notice_id,
                    Notice.municipality_code == self.municipality,
                    (Notice.status.in_(("pending", "failed")))
                    | ((Notice.status == "sending") & (Notice.claimed_until < now)),
                )
                .values(status="sending", claimed_until=until)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    def undelivered(self) -> list[Notice]:
        """Every notice of the municipality not yet sent, oldest first."""
        with self.session() as s:
            return list(
                s.execute(
                    select(Notice)
                    .where(Notice.municipality_code == self.municipality, Notice.status != "sent")
                    .order_by(Notice.created_at, Notice.id)
                ).scalars()
            )

    def update_notice(self, notice_id: int, **values: Any) -> None:
        with self.session() as s:
            s.execute(
                update(Notice)
                .where(Notice.id == notice_id, Notice.municipality_code == self.municipality)
                .values(**values)
            )

    def notices(self, incident_id: int | None = None, status: str | None = None) -> list[Notice]:
        with self.session() as s:
            q = select(Notice).where(Notice.municipality_code == self.municipality)
            if incident_id is not None:
                q = q.where(Notice.incident_id == incident_id)
            if status is not None:
                q = q.where(Notice.status == status)
            return list(s.execute(q.order_by(Notice.id)).scalars())
