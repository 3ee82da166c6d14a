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

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import RotationBusy
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

    # -- rotations -------------------------------------------------------------------------

    def start_rotation(self, **fields: Any) -> Rotation:
        """Record a new rotation and take the credential's lock, in one transaction."""
        rotation = Rotation(
            id=uuid.uuid4().hex,
            idempotency_token=uuid.uuid4().hex,
            status=Status.IN_PROGRESS,
            step=Step.STARTED,
            repointed=[],
            **fields,
        )
        lock = CredentialLock(
            instance=rotation.instance,
            credential_id=rotation.credential_id,
            rotation_id=rotation.id,
        )
        self._session.add_all([rotation, lock])
        try:
            self._session.commit()
        except IntegrityError:
            self._session.rollback()
            holder = self.lock_holder(rotation.instance, rotation.credential_id)
            raise RotationBusy(
                f"Credential {rotation.credential_name!r} ({rotation.credential_id}) is already "
                f"being rotated (rotation {holder[:8] if holder else '?'}).",
                "Finish it with `keyturn resume` or undo it with `keyturn rollback`; "
                "see `keyturn status`.",
            ) from None
        return rotation

    def lock_holder(self, instance: str, credential_id: str) -> str | None:
        lock = self._session.get(CredentialLock, (instance, credential_id))
        return lock.rotation_id if lock else None

    def save(self, rotation: Rotation) -> None:
        rotation.updated_at = _now()
        self._session.add(rotation)
        self._session.commit()

    def close_rotation(self, rotation: Rotation, status: Status, error: str | None = None) -> None:
        """End a rotation and release its credential's lock."""
        rotation.status = status
        rotation.error = error
        rotation.updated_at = _now()
        lock = self._session.get(CredentialLock, (rotation.instance, rotation.credential_id))
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

    def in_flight(self, instance: str | None = None) -> list[Rotation]:
        query = select(Rotation).where(Rotation.status == Status.IN_PROGRESS)
        if instance:
            query = query.where(Rotation.instance == instance)
        return list(self._session.scalars(query.order_by(Rotation.created_at)))

    def rotations(
        self, instance: str | None = None, credential_id: str | None = None
    ) -> list[Rotation]:
        query = select(Rotation)
        if instance:
            query = query.where(Rotation.instance == instance)
        if credential_id:
            query = query.where(Rotation.credential_id == credential_id)
        return list(self._session.scalars(query.order_by(Rotation.created_at)))

    def encrypt(self, value: str) -> tuple[str, str]:
        """(ciphertext, fingerprint) of a secret."""
        return self.box.encrypt(value), self.box.fingerprint(value)

    def decrypt(self, token: str | None) -> str | None:
        return self.box.decrypt(token) if token else None

    # -- labels ----------------------------------------------------------------------------

    def label(self, instance: str, credential_id: str, label: Label) -> SecretVersion | None:
        return self._session.scalars(
            select(SecretVersion).where(
                SecretVersion.instance == instance,
                SecretVersion.credential_id == credential_id,
                SecretVersion.label == label,
            )
        ).first()

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
        for label in (Label.PREVIOUS, Label.CURRENT, Label.PENDING):
            row = self.label(rotation.instance, credential_id, label)
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
            instance=rotation.instance,
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
