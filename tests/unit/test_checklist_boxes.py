"""The checklist's boxes on evidence built by hand: what must not pass, does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keyturn.checklist.boxes import no_cache, old_secret_gone, proven
from keyturn.checklist.evidence import Evidence, last_completed
from keyturn.core.errors import CredentialNotFound
from keyturn.inventory.usage import Flag, FlagCode, Severity, UsageIndex
from keyturn.journal.models import AuditEvent, Rotation, Status

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
CHECKS = [{"means": "probe", "ok": True, "detail": "200"}]


def rotation(rid: str = "r1", status: str = Status.COMPLETED, **fields: Any) -> Rotation:
    base: dict[str, Any] = {"id": rid, "instance": "i", "credential_id": "c1",
                            "credential_name": "Partner", "credential_type": "httpHeaderAuth",
                            "field": "value", "strategy": "in_place", "status": status,
                            "idempotency_token": "t", "plan": {"checks": CHECKS},
                            "created_at": T0, "updated_at": T0}  # fmt: skip
    return Rotation(**{**base, **fields})


def event(step: str, outcome: str, minutes: int) -> AuditEvent:
    return AuditEvent(step=step, outcome=outcome, at=T0 + timedelta(minutes=minutes),
                      rotation_id="r1")  # fmt: skip


def evidence(**fields: Any) -> Evidence:
    base: dict[str, Any] = {"rotation": rotation(), "completed_at": T0, "credential_id": "c1",
                            "events": [], "old_values": ["old"],
                            "new_values": ["new"], "index": UsageIndex([], [])}  # fmt: skip
    return Evidence(**{**base, **fields})


def test_proven_needs_the_proofs_before_a_revocation_and_says_when_none_happened() -> None:
    ok = proven(evidence(events=[event("test", "ok", 1), event("finish", "revoked", 2)]))
    assert ok.ok and "revoked after" in ok.evidence
    early = proven(evidence(events=[event("finish", "revoked", 0), event("test", "ok", 1)]))
    assert not early.ok and "revoked before" in early.evidence
    unrevoked = proven(evidence(events=[event("test", "ok", 1), event("finish", "skipped", 2)]))
    assert unrevoked.ok and "did not revoke the old value" in unrevoked.evidence
    failed = proven(evidence(rotation=rotation(plan={"checks": [{**CHECKS[0], "ok": False}]})))
    assert not failed.ok
    later = proven(evidence(later=rotation("r2", Status.IN_PROGRESS)))
    assert not later.ok and "in_progress" in later.evidence


def test_old_secret_gone_is_not_ok_for_what_it_could_not_read_or_does_not_know() -> None:
    assert not old_secret_gone(evidence(not_searched=["/x/dump.bin: binary"])).ok
    assert not old_secret_gone(evidence(old_values=[])).ok
    assert old_secret_gone(evidence()).ok


def test_no_cache_names_env_readers_until_n8n_was_restarted() -> None:
    flag = Flag(FlagCode.ENV_SECRET, Severity.WARNING, "reads $env.KEY", None, "w1", "WF", "N")
    index = UsageIndex([], [], flags=[flag])
    assert not no_cache(evidence(index=index)).ok
    restarted = no_cache(evidence(index=index, restarted=True))
    assert restarted.ok and restarted.items == ("workflow 'WF', node 'N'",)


class Journal:
    def __init__(self, rotations: list[Rotation]) -> None:
        self._rotations = rotations

    def rotations(self, *_args: Any, **_kwargs: Any) -> list[Rotation]:
        return self._rotations


def test_last_completed_refuses_a_shared_name_and_reports_an_unsettled_later_one() -> None:
    twins = Journal([rotation("r1"), rotation("r2", credential_id="c2")])
    with pytest.raises(CredentialNotFound, match="several credentials"):
        last_completed(twins, "i", "u", "Partner")  # type: ignore[arg-type]
    history = Journal([
        rotation("r1"),
        rotation("r2", Status.ROLLED_BACK, created_at=T0 + timedelta(hours=1)),
        rotation("r3", Status.IN_PROGRESS, created_at=T0 + timedelta(hours=2)),
    ])  # fmt: skip
    done, later = last_completed(history, "i", "u", "c1")  # type: ignore[arg-type]
    assert done.id == "r1" and later is not None and later.id == "r3"
    settled = Journal([rotation("r1"), rotation("r2", Status.ROLLED_BACK,
                                                created_at=T0 + timedelta(hours=1))])  # fmt: skip
    assert last_completed(settled, "i", "u", "c1")[1] is None  # type: ignore[arg-type]


def test_a_credential_replaced_by_its_rotation_is_the_same_credential() -> None:
    chain = Journal([
        rotation("r1", new_credential_id="c2"),
        rotation("r2", credential_id="c2", new_credential_id="c3",
                 created_at=T0 + timedelta(hours=1)),
        rotation("r3", Status.IN_PROGRESS, credential_id="c3",
                 created_at=T0 + timedelta(hours=2)),
    ])  # fmt: skip
    done, later = last_completed(chain, "i", "u", "c1")  # type: ignore[arg-type]
    assert done.id == "r2" and later is not None and later.id == "r3"
    done, _ = last_completed(chain, "i", "u", "Partner")  # type: ignore[arg-type]
    assert done.id == "r2"  # one credential under one name, not three
