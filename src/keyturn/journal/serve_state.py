"""What `keyturn serve` keeps in the journal: each credential's state, and the scheduler's lease.

Several replicas share one journal (PostgreSQL); exactly one holds the lease of an n8n
instance and runs its scheduler. The lease is a row taken with one conditional UPDATE (or an
INSERT where there is none): a replica takes it when it is free, already its own, or expired
(each heartbeat sets the expiry from the holder's own interval). Times are the database's where
several hosts share it (PostgreSQL), so no two machines' clocks are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keyturn.journal.models import ServeLeader, ServeState


def db_now(engine: Engine) -> datetime:
    """The journal database's time (PostgreSQL's where it is shared), else this host's."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            moment = connection.scalar(select(func.now()))
        if isinstance(moment, datetime):
            return moment.astimezone(UTC)
    return datetime.now(UTC)


def load_states(engine: Engine, instance: str) -> dict[str, ServeState]:
    """Every credential's state for one instance (its URL identity), by credential id."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.scalars(select(ServeState).where(ServeState.instance == instance)).all()
        session.expunge_all()
    return {row.credential_id: row for row in rows}


def save_state(engine: Engine, state: ServeState) -> None:
    state.updated_at = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        session.merge(state)
        session.commit()


def new_state(instance: str, credential_id: str, credential_name: str) -> ServeState:
    return ServeState(
        instance=instance,
        credential_id=credential_id,
        credential_name=credential_name,
        failures=0,
        needs_attention=False,
        health="unknown",
        health_detail="",
        alerts={},
    )


@dataclass(frozen=True)
class Leadership:
    leader: bool
    holder: str | None  # who holds the lease (this replica or another), None if nobody
    last_evaluation_at: datetime | None


def lead(engine: Engine, instance: str, holder: str, ttl: float) -> Leadership:
    """Take or keep the scheduler's lease of `instance` for `ttl` seconds: it is free, ours,
    or it expired (its holder stopped beating). Atomic: of two replicas asking at once, one
    wins."""
    now = db_now(engine)
    expires = now + timedelta(seconds=ttl)
    with engine.begin() as connection:
        taken = connection.execute(
            update(ServeLeader)
            .where(ServeLeader.instance == instance)
            .where(or_(ServeLeader.holder == holder, ServeLeader.expires_at < now))
            .values(
                holder=holder,
                heartbeat_at=now,
                expires_at=expires,
                acquired_at=case(
                    (ServeLeader.holder == holder, ServeLeader.acquired_at), else_=now
                ),
            )
        ).rowcount
    if not taken:
        try:
            with engine.begin() as connection:
                connection.execute(
                    ServeLeader.__table__.insert().values(  # type: ignore[attr-defined]
                        instance=instance,
                        holder=holder,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=expires,
                    )
                )
        except IntegrityError:
            pass  # another replica holds it (or took it this instant)
    return leadership(engine, instance, holder)


def leadership(engine: Engine, instance: str, holder: str) -> Leadership:
    with Session(engine) as session:
        row = session.get(ServeLeader, instance)
        if row is None:
            return Leadership(False, None, None)
        return Leadership(row.holder == holder, row.holder, row.last_evaluation_at)


def evaluated(engine: Engine, instance: str, holder: str, at: datetime) -> None:
    """Record when the leader last evaluated every policy (the dashboard and metrics show it)."""
    with engine.begin() as connection:
        connection.execute(
            update(ServeLeader)
            .where(ServeLeader.instance == instance, ServeLeader.holder == holder)
            .values(last_evaluation_at=at)
        )


def resign(engine: Engine, instance: str, holder: str) -> None:
    """Give the lease up (a clean stop): another replica takes over at its next look."""
    with engine.begin() as connection:
        connection.execute(
            update(ServeLeader)
            .where(ServeLeader.instance == instance, ServeLeader.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        )
