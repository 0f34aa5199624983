"""Tables of the store: incidents, the audit chain, the outbox, answers, completed steps, counters.

Every row belongs to one municipality (全国地方公共団体コード). The tables are made and changed
only by the migrations in migrations/versions: a change here needs a new migration there
(tests/unit/test_migrations.py fails until the two agree).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("municipality_code", "number"),
        UniqueConstraint("municipality_code", "origin_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    number: Mapped[str] = mapped_column(String(32))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    origin_key: Mapped[str] = mapped_column(String(128))
    drill: Mapped[bool] = mapped_column(Boolean)
    declared_class: Mapped[str] = mapped_column(String(16))
    emergency_class: Mapped[str | None] = mapped_column(String(16), default=None)
    state: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ChainHead(Base):
    __tablename__ = "audit_chain_heads"

    municipality_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        UniqueConstraint("municipality_code", "seq"),
        UniqueConstraint("municipality_code", "event_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    seq: Mapped[int] = mapped_column(Integer)
    event_key: Mapped[str] = mapped_column(String(255))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    clause: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    on_behalf_of: Mapped[str | None] = mapped_column(String(128), default=None)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Counter(Base):
    """Number series per municipality and fiscal year (incident numbers, document numbers)."""

    __tablename__ = "counters"

    municipality_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Notice(Base):
    """Outbox: one row per document, recipient and channel; written before delivery, marked after.

    status: pending → sending (claimed until `claimed_until`) → sent | failed (→ sending again).
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("municipality_code", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    key: Mapped[str] = mapped_column(String(255))
    document_key: Mapped[str] = mapped_column(String(255), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    clause: Mapped[str] = mapped_column(String(32))
    document: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    charset: Mapped[str] = mapped_column(String(16), default="utf-8")
    doc_number: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivery_note: Mapped[str | None] = mapped_column(Text, default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    archive_path: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Answer(Base):
    """A human answer to one ask (clause + attempt): accepted or refused, and by whom."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("incident_id", "ask_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    ask_key: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    answerer: Mapped[str] = mapped_column(String(128))
    capacity: Mapped[str | None] = mapped_column(String(64), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StepDone(Base):
    """A step of a chapter flow that finished; a replay after resume skips it."""

    __tablename__ = "steps_done"
    __table_args__ = (UniqueConstraint("incident_id", "step_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    step_key: Mapped[str] = mapped_column(String(128))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CodeFailure(Base):
    """A wrong approval code given by a person for one ask; counted for the lockout."""

    __tablename__ = "code_failures"
    __table_args__ = (UniqueConstraint("municipality_code", "incident_id", "ask_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    # None for a form outside an incident (不在の登録); its ask_key then names the flow run
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    ask_key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ask(Base):
    """A human step asked and waiting: written before the run pauses, closed when answered."""

    __tablename__ = "asks"
    __table_args__ = (UniqueConstraint("incident_id", "ask_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    ask_key: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    flow_run_id: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Absence(Base):
    """A person registered absent (不在) from `starts_at` to `ends_at`: while absent, the next
    deputy may answer in the person's place. One registration per flow run (a replay adds none)."""

    __tablename__ = "absences"
    __table_args__ = (UniqueConstraint("municipality_code", "registration_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    registration_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    registered_by: Mapped[str] = mapped_column(String(128))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
