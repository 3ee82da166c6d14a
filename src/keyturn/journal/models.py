"""The journal's tables: rotations, credential locks, secret labels, audit events, and what
`keyturn serve` keeps (each credential's state, the scheduler's lease).

A change to these tables needs a migration in journal/migrations/versions (Alembic), so that
a journal written by an older keyturn is upgraded in place, never lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"  # a rollback that could not finish: needs a person


class Step(StrEnum):
    """The last step a rotation completed."""

    STARTED = "started"
    CREATED = "created"
    SET = "set"
    TESTED = "tested"
    FINISHED = "finished"


class Label(StrEnum):
    PENDING = "pending"
    CURRENT = "current"
    PREVIOUS = "previous"


def _now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


NAME_COLUMN = 200  # characters of a credential's name the journal keeps (n8n allows more)


class Base(DeclarativeBase):
    pass


class Rotation(Base):
    __tablename__ = "rotations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance: Mapped[str] = mapped_column(String(200))  # the name it was reached by (shown)
    # The n8n instance's identity (its normalised URL): what locks and labels are keyed by, so
    # two names for one n8n (an env variable and a keyturn.toml instance) are one instance.
    instance_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    credential_id: Mapped[str] = mapped_column(String(64))
    credential_name: Mapped[str] = mapped_column(String(NAME_COLUMN))
    credential_type: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default=Status.IN_PROGRESS)
    step: Mapped[str] = mapped_column(String(32), default=Step.STARTED)
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    idempotency_token: Mapped[str] = mapped_column(String(64))
    pending_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    pending_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pending_key_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    previous_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_key_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    new_credential_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    repointed: Mapped[list[str]] = mapped_column(JSON, default=list)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    set_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    @property
    def short_id(self) -> str:
        return self.id[:8]


class CredentialLock(Base):
    """One row per credential being rotated: the primary key makes a second rotation fail.

    A lease: `owner` (host, pid, start) keeps `heartbeat_at` fresh while it works, so a live
    rotation is told from a crashed one. `instance` is the n8n instance's identity (its URL);
    keyturn 0.1 wrote the instance's name there.
    """

    __tablename__ = "credential_locks"

    instance: Mapped[str] = mapped_column(String(500), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rotation_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    owner: Mapped[str | None] = mapped_column(String(300), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SecretVersion(Base):
    """A credential's secret under a label (pending, current, previous), encrypted."""

    __tablename__ = "secret_versions"
    __table_args__ = (UniqueConstraint("instance", "credential_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(200))
    credential_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    provider_key_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rotation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    os_user: Mapped[str] = mapped_column(String(200))
    instance: Mapped[str] = mapped_column(String(200))
    credential_id: Mapped[str] = mapped_column(String(64))
    credential_name: Mapped[str] = mapped_column(String(NAME_COLUMN))
    rotation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class ServeState(Base):
    """What `keyturn serve` knows of one credential between evaluations: its failed rotations
    (retried with back-off, then needs_attention), its health, and the last alert of each kind
    (alerts go out on a change of state only). Shared by every replica through the journal."""

    __tablename__ = "serve_states"

    instance: Mapped[str] = mapped_column(String(500), primary_key=True)  # the instance's URL
    credential_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_name: Mapped[str] = mapped_column(String(200), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # redacted
    blocked: Mapped[str | None] = mapped_column(Text, nullable=True)  # why, when due but blocked
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    health_detail: Mapped[str] = mapped_column(Text, default="")
    health_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    alerts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind -> state alerted
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class ServeLeader(Base):
    """The scheduler's lease: one row per n8n instance. The replica whose heartbeat is fresh
    runs the scheduler; when it stops beating (killed), another takes the row over."""

    __tablename__ = "serve_leaders"

    instance: Mapped[str] = mapped_column(String(500), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # Set by the holder at each heartbeat from its own interval: a replica configured with a
    # shorter one cannot take the lease from a leader that beats on time.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    last_evaluation_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
