"""What changed before the failures: a keyturn rotation, an edit in n8n, a same-named twin."""

from __future__ import annotations

from datetime import datetime, timedelta

from keyturn.core.durations import aware
from keyturn.doctor.model import Diagnosis, Evidence
from keyturn.doctor.times import after, ago, fmt, maybe_aware
from keyturn.n8n.models import Credential

RECENT_CHANGE = timedelta(hours=1)  # a change this close before the failures explains them


def recent_change(
    diagnosis: Diagnosis, credential: Credential | None, evidence: Evidence, first: datetime | None
) -> str | None:
    """A change of the credential shortly before the failures, as text (and as evidence).

    A change explains the failures only if no run of the workflows succeeded after it.
    """
    if first is None:
        return None
    succeeded = [evidence.last_success.get(r.workflow_id or "") for r in diagnosis.failures]
    last_success = max((aware(s) for s in succeeded if s), default=None)
    return _rotation_before(diagnosis, evidence, first, last_success) or _edit_before(
        diagnosis, credential, first, last_success
    )


def _rotation_before(
    diagnosis: Diagnosis, evidence: Evidence, first: datetime, last_success: datetime | None
) -> str | None:
    """The latest keyturn rotation that explains the failures, as text."""
    for rotation in reversed(evidence.rotations.get(diagnosis.credential_id or "", [])):
        set_at = maybe_aware(rotation.set_at)
        if set_at and _explains(set_at, first, last_success):
            diagnosis.evidence.append(
                f"keyturn rotation {rotation.id[:8]} set a new value at {fmt(set_at)} "
                f"({ago(first - set_at)} before the first failure; status {rotation.status})"
            )
            return f"the keyturn rotation at {fmt(set_at)}"
    return None


def _edit_before(
    diagnosis: Diagnosis,
    credential: Credential | None,
    first: datetime,
    last_success: datetime | None,
) -> str | None:
    """The credential's last edit in n8n, as text when it explains the failures; as evidence
    either way."""
    updated = maybe_aware(credential.updated_at) if credential else None
    if updated is None:
        return None
    if _explains(updated, first, last_success):
        diagnosis.evidence.append(
            f"the credential was updated in n8n at {fmt(updated)}, "
            f"{ago(first - updated)} before the first failure"
        )
        return f"the change at {fmt(updated)}"
    if after(last_success, updated):
        diagnosis.evidence.append(
            f"the credential last changed at {fmt(updated)}, and runs succeeded after that "
            "change: it is not the cause"
        )
    else:
        diagnosis.evidence.append(f"the credential last changed at {fmt(updated)}")
    return None


def _explains(change: datetime, first: datetime, last_success: datetime | None) -> bool:
    return first - RECENT_CHANGE <= change <= first and not after(last_success, change)


def edited_twin(credential: Credential | None, evidence: Evidence) -> Credential | None:
    """Another credential with the same name, updated after `credential`: where a new key
    often goes by mistake."""
    mine = maybe_aware(credential.updated_at) if credential else None
    if credential is None or mine is None:
        return None
    name = credential.name.strip().casefold()
    return next(
        (
            other
            for other in evidence.credentials.values()
            if other.id != credential.id
            and other.name.strip().casefold() == name
            and other.updated_at
            and aware(other.updated_at) > mine
        ),
        None,
    )
