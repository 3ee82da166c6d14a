"""Rotation on schedule: which credentials are older than their policy allows.

A credential's policy is `max_age` in its `[rotation."NAME or ID"]` section of keyturn.toml
(or `--max-age` for all). Its age counts from the last rotation keyturn completed (journal),
else from n8n's `updatedAt`. `keyturn due` lists them (exit 1 when any is due, for cron or CI);
`keyturn rotate-due` rotates each with its keyturn.toml settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keyturn.core.config import Settings
from keyturn.core.durations import parse_duration
from keyturn.n8n.credential_types import secret_changed_at
from keyturn.n8n.models import Credential


@dataclass(frozen=True)
class DueCredential:
    credential_id: str
    credential_name: str
    credential_type: str
    last_rotated: datetime | None
    rotated_by_keyturn: bool
    max_age: timedelta
    age: timedelta | None

    @property
    def due(self) -> bool:
        return self.age is None or self.age >= self.max_age


def due_credentials(
    settings: Settings,
    credentials: Iterable[Credential],
    rotations: Iterable[Any],
    *,
    max_age: str | None = None,
    now: datetime | None = None,
) -> list[DueCredential]:
    """Every credential with a max_age policy, with its age; oldest first."""
    now = now or datetime.now(UTC)
    credentials = list(credentials)
    changes = secret_changes(credentials, rotations)
    result = []
    for credential in credentials:
        policy = max_age or settings.profile_for(credential.id, credential.name).max_age
        if not policy:
            continue
        last, by_keyturn = changes[credential.id]
        result.append(
            DueCredential(
                credential_id=credential.id,
                credential_name=credential.name,
                credential_type=credential.type,
                last_rotated=last,
                rotated_by_keyturn=by_keyturn,
                max_age=timedelta(seconds=parse_duration(policy, "max_age")),
                age=now - last if last else None,
            )
        )
    return sorted(result, key=lambda d: d.age or timedelta.max, reverse=True)


def secret_changes(
    credentials: Iterable[Credential], rotations: Iterable[Any]
) -> dict[str, tuple[datetime | None, bool]]:
    """Each credential's id -> (when its secret last changed, whether keyturn changed it): the
    last rotation keyturn completed, else n8n's record of the credential (secret_changed_at)."""
    finished: dict[str, datetime] = {}
    for rotation in rotations:
        if rotation.status == "completed":
            for credential_id in (rotation.credential_id, rotation.new_credential_id):
                if credential_id:
                    finished[credential_id] = max(finished.get(credential_id, rotation.updated_at),
                                                  rotation.updated_at)  # fmt: skip
    changes = {}
    for credential in credentials:
        last = finished.get(credential.id) or secret_changed_at(credential)
        last = last if last is None or last.tzinfo else last.replace(tzinfo=UTC)
        changes[credential.id] = (last, credential.id in finished)
    return changes
