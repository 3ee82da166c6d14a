"""The rotation journal: write-ahead state, per-credential locks, secret labels, audit events.

Every step of a rotation is committed here before keyturn moves on, so a crash at any moment
leaves enough to resume (`keyturn resume`) or roll back. Secret values are stored only
encrypted (see core/crypto.SecretBox); the audit trail holds fingerprints, never a secret.
"""

from __future__ import annotations

import getpass
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import RotationBusy
from keyturn.journal.leases import PROCESS_OWNER, Lease, clock
from keyturn.journal.migrate import upgrade
from keyturn.journal.models import (
    AuditEvent,
    CredentialLock,
    Label,
    Rotation,
    SecretVersion,
    Status,
    Step,
)


def _now() -> datetime:
    return datetime.now(UTC)


def lock_key(rotation: Rotation) -> str:
    """What a rotation's lease and labels are keyed by: the instance's identity (its URL), or
    its name for rotations keyturn 0.1 recorded."""
    return rotation.instance_url or rotation.instance


def _on_instance(instance: str | None, instance_url: str | None) -> ColumnElement[bool]:
    """Rows of one instance: by its identity (whatever name it was reached by), or by name for
    what keyturn 0.1 recorded; every row when neither is given."""
    if instance_url:
        legacy = Rotation.instance_url.is_(None) & (Rotation.instance == instance)
        return (Rotation.instance_url == instance_url) | legacy
    if instance:
        return Rotation.instance == instance
    return true()


def _same(column: Any, value: Any) -> ColumnElement[bool]:
    """`column = value`, where None matches NULL."""
    return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Journal:
    """keyturn's write-ahead log. Each method commits before it returns."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        upgrade(engine)
        self.engine = engine
        self.box = box
        self._session = Session(engine, expire_on_commit=False)

    def close(self) -> None:
        self._session.close()
        self.engine.dispose()

    def refresh(self) -> None:
        """Forget what this session has read, so that a long-running process (keyturn serve)
        sees what other processes wrote since. Every write here was committed already."""
        self._session.rollback()
        self._session.expire_all()

    # -- rotations -------------------------------------------------------------------------

    def start_rotation(self, **fields: Any) -> Rotation:
        """Record a new rotation and take the credential's lease, in one transaction.

        The lease is keyed by `instance_url` (the instance's identity) when given, else by the
        instance's name. A credential whose rotation is in flight is refused at once (no
        queue), naming the lease's owner.
        """
        rotation = Rotation(
            id=uuid.uuid4().hex,
            idempotency_token=uuid.uuid4().hex,
            status=Status.IN_PROGRESS,
            step=Step.STARTED,
            repointed=[],
            **fields,
        )
        self._refuse_beside_a_0_1_rotation(rotation)
        lock = CredentialLock(
            instance=lock_key(rotation),
            credential_id=rotation.credential_id,
            rotation_id=rotation.id,
            owner=PROCESS_OWNER,
            heartbeat_at=clock(self.engine),
        )
        self._session.add_all([rotation, lock])
        try:
            self._session.commit()
        except IntegrityError:
            self._session.rollback()
            raise self._busy(rotation) from None
        return rotation

    def _refuse_beside_a_0_1_rotation(self, rotation: Rotation) -> None:
        """keyturn 0.1 keyed its locks by the instance's name: a rotation it left in flight
        holds no lock on the identity, so it is looked for by name."""
        if rotation.instance_url is None:
            return  # keyed by name itself: the lock's primary key refuses a second one
        legacy = self._session.scalars(
            select(Rotation).where(
                Rotation.status == Status.IN_PROGRESS,
                Rotation.credential_id == rotation.credential_id,
                Rotation.instance_url.is_(None),
                Rotation.instance == rotation.instance,
            )
        ).first()
        if legacy is not None:
            raise RotationBusy(
                f"Credential {rotation.credential_name!r} ({rotation.credential_id}) has a "
                f"rotation in flight recorded by an older keyturn ({legacy.short_id}).",
                f"Finish it with `keyturn resume {legacy.short_id}` or undo it with "
                f"`keyturn rollback {rotation.credential_id}` first.",
            )

    def _busy(self, rotation: Rotation) -> RotationBusy:
        lock = self._session.get(CredentialLock, (lock_key(rotation), rotation.credential_id))
        if lock is None:  # released meanwhile: still refuse, a person may try again
            holder = "another rotation that just ended"
            hint = "Run the command again."
        else:
            lease = Lease.of(lock, self._db_now())
            holder = f"rotation {lease.rotation_id[:8]}, held by {lease.describe()}"
            hint = (
                "Wait for it to finish (`keyturn status` shows it)."
                if lease.alive()
                else f"Its owner stopped: `keyturn resume {lease.rotation_id[:8]}` finishes it, "
                f"`keyturn rollback {rotation.credential_id}` undoes it."
            )
        return RotationBusy(
            f"Credential {rotation.credential_name!r} ({rotation.credential_id}) is already "
            f"being rotated ({holder}).",
            hint,
        )

    def lease(self, rotation: Rotation) -> Lease | None:
        """The lease a rotation holds (None: released, or never taken)."""
        lock = self._session.scalars(
            select(CredentialLock).where(CredentialLock.rotation_id == rotation.id)
        ).first()
        if lock is None:
            return None
        self._session.refresh(lock)
        return Lease.of(lock, self._db_now())

    def _db_now(self) -> datetime:
        """The journal database's time (leases are judged by it, not by this host's clock)."""
        if self.engine.dialect.name != "postgresql":
            return _now()
        moment = self._session.scalar(select(func.now()))
        return moment if isinstance(moment, datetime) else _now()

    def claim(self, rotation: Rotation) -> None:
        """Take over a rotation's lease for resume or rollback: refused while another process
        keeps it alive; a stale lease (its owner crashed) is taken, atomically."""
        lease = self.lease(rotation)
        if lease is None or lease.mine:
            self._session.refresh(rotation)
            return
        if lease.alive():
            raise RotationBusy(
                f"Rotation {rotation.short_id} of {rotation.credential_name!r} is running in "
                f"another process: {lease.describe()}.",
                "Wait for it to finish (`keyturn status` shows it); do not resume or roll back "
                "a rotation that is alive.",
            )
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(CredentialLock)
                .where(CredentialLock.rotation_id == rotation.id)
                .where(_same(CredentialLock.owner, lease.owner))
                .where(_same(CredentialLock.heartbeat_at, lease.heartbeat_at))
                .values(owner=PROCESS_OWNER, heartbeat_at=clock(self.engine))
            ).rowcount
        if not taken:
            raise RotationBusy(
                f"Another process took over rotation {rotation.short_id} just now.",
                "See `keyturn status`.",
            )
        self._session.refresh(rotation)  # what the previous owner wrote, not an older copy

    def still_mine(self, rotation: Rotation) -> bool:
        """Re-read the rotation and its lease from the database: False when another process
        changed it (rolled it back, took its lease) while this one waited."""
        self._session.refresh(rotation)
        lease = self.lease(rotation)
        return rotation.status == Status.IN_PROGRESS and lease is not None and lease.mine

    def save(self, rotation: Rotation) -> None:
        rotation.updated_at = _now()
        self._session.add(rotation)
        self._session.commit()

    def close_rotation(self, rotation: Rotation, status: Status, error: str | None = None) -> None:
        """End a rotation and release its credential's lease."""
        rotation.status = status
        rotation.error = error
        rotation.updated_at = _now()
        lock = self._session.get(CredentialLock, (lock_key(rotation), rotation.credential_id))
        if lock is not None and lock.rotation_id == rotation.id:
            self._session.delete(lock)
        self._session.add(rotation)
        self._session.commit()

    def get(self, rotation_id: str) -> Rotation | None:
        """A rotation by id or by a unique prefix of at least 6 characters."""
        exact = self._session.get(Rotation, rotation_id)
        if exact is not None or len(rotation_id) < 6:
            return exact
        matches = self._session.scalars(
            select(Rotation).where(Rotation.id.startswith(rotation_id))
        ).all()
        return matches[0] if len(matches) == 1 else None

    def in_flight(
        self, instance: str | None = None, instance_url: str | None = None
    ) -> list[Rotation]:
        """Rotations in flight on an instance: by its identity (any name it was reached by),
        or by name for rotations keyturn 0.1 recorded."""
        query = select(Rotation).where(Rotation.status == Status.IN_PROGRESS)
        query = query.where(_on_instance(instance, instance_url))
        return list(self._session.scalars(query.order_by(Rotation.created_at)))

    def rotations(
        self,
        instance: str | None = None,
        credential_id: str | None = None,
        instance_url: str | None = None,
    ) -> list[Rotation]:
        """Rotations recorded for an instance (by identity, or by name), oldest first; of one
        credential: those of its id, and the one that replaced an older credential by it."""
        query = select(Rotation).where(_on_instance(instance, instance_url))
        if credential_id:
            query = query.where(
                or_(
                    Rotation.credential_id == credential_id,
                    Rotation.new_credential_id == credential_id,
                )
            )
        return list(self._session.scalars(query.order_by(Rotation.created_at)))

    def encrypt(self, value: str) -> tuple[str, str]:
        """(ciphertext, fingerprint) of a secret."""
        return self.box.encrypt(value), self.box.fingerprint(value)

    def decrypt(self, token: str | None) -> str | None:
        return self.box.decrypt(token) if token else None

    # -- labels ----------------------------------------------------------------------------

    def label(
        self, instance: str, credential_id: str, label: Label, legacy_name: str | None = None
    ) -> SecretVersion | None:
        """A labelled secret of a credential on an instance (its identity); `legacy_name` also
        finds what keyturn 0.1 recorded under the instance's name."""
        for key in (instance, legacy_name):
            if key is None:
                continue
            row = self._session.scalars(
                select(SecretVersion).where(
                    SecretVersion.instance == key,
                    SecretVersion.credential_id == credential_id,
                    SecretVersion.label == label,
                )
            ).first()
            if row is not None:
                return row
        return None

    def set_label(
        self,
        instance: str,
        credential_id: str,
        label: Label,
        secret: str,
        provider_key_id: str | None,
        rotation_id: str | None,
    ) -> None:
        existing = self.label(instance, credential_id, label)
        if existing is not None:
            self._session.delete(existing)
            self._session.flush()
        ciphertext, fingerprint = self.encrypt(secret)
        self._session.add(
            SecretVersion(
                instance=instance,
                credential_id=credential_id,
                label=label,
                secret=ciphertext,
                fingerprint=fingerprint,
                provider_key_id=provider_key_id,
                rotation_id=rotation_id,
            )
        )
        self._session.commit()

    def promote_labels(self, rotation: Rotation, credential_id: str) -> None:
        """pending -> current, current -> previous, in one transaction."""
        session = self._session
        for instance in {lock_key(rotation), rotation.instance}:  # and keyturn 0.1's rows
            for label in (Label.PREVIOUS, Label.CURRENT, Label.PENDING):
                row = self.label(instance, credential_id, label)
                if row is not None:
                    session.delete(row)
        session.flush()
        if rotation.previous_secret and rotation.previous_fingerprint:
            session.add(self._version(rotation, credential_id, Label.PREVIOUS, previous=True))
        session.add(self._version(rotation, credential_id, Label.CURRENT, previous=False))
        session.commit()

    def _version(
        self, rotation: Rotation, credential_id: str, label: Label, *, previous: bool
    ) -> SecretVersion:
        secret = rotation.previous_secret if previous else rotation.pending_secret
        fingerprint = rotation.previous_fingerprint if previous else rotation.pending_fingerprint
        key_id = rotation.previous_key_id if previous else rotation.pending_key_id
        assert secret is not None and fingerprint is not None
        return SecretVersion(
            instance=lock_key(rotation),
            credential_id=credential_id,
            label=label,
            secret=secret,
            fingerprint=fingerprint,
            provider_key_id=key_id,
            rotation_id=rotation.id,
        )

    def move_labels(self, instance: str, old_credential_id: str, new_credential_id: str) -> None:
        """Carry labels over when a credential is replaced by a new id."""
        for row in self._session.scalars(
            select(SecretVersion).where(
                SecretVersion.instance == instance,
                SecretVersion.credential_id == old_credential_id,
            )
        ):
            row.credential_id = new_credential_id
        self._session.commit()

    # -- audit -----------------------------------------------------------------------------

    def audit(self, rotation: Rotation, step: str, outcome: str, detail: str = "") -> None:
        self._session.add(
            AuditEvent(
                os_user=_os_user(),
                instance=rotation.instance,
                credential_id=rotation.credential_id,
                credential_name=rotation.credential_name,
                rotation_id=rotation.id,
                step=step,
                outcome=outcome,
                detail=detail,
            )
        )
        self._session.commit()

    def events_of(self, rotation_id: str) -> list[AuditEvent]:
        """One rotation's audit events, oldest first."""
        query = select(AuditEvent).where(AuditEvent.rotation_id == rotation_id)
        return list(self._session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))

    def recent_history(self, instance: str, limit: int) -> list[AuditEvent]:
        """The newest `limit` audit events of an instance, newest first."""
        query = select(AuditEvent).where(AuditEvent.instance == instance)
        query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
        return list(self._session.scalars(query))

    def history(
        self, instance: str | None = None, credential: str | None = None
    ) -> list[AuditEvent]:
        query = select(AuditEvent)
        if instance:
            query = query.where(AuditEvent.instance == instance)
        if credential:
            query = query.where(
                (AuditEvent.credential_id == credential)
                | (AuditEvent.credential_name == credential)
            )
        return list(self._session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))
