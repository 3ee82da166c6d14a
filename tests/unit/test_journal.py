"""The journal: locks, labels, encryption, fingerprints (SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import ConfigError, RotationBusy
from keyturn.journal import Journal, Label, Status, open_journal
from keyturn.journal.engine import make_engine


def journal(path: Path, key: bytes | None = None) -> Journal:
    return open_journal(f"sqlite:///{path}", SecretBox(key or Fernet.generate_key()))


def start(j: Journal, credential_id: str = "c1", **identity: str) -> object:
    return j.start_rotation(
        **{"instance": "prod", **identity},
        credential_id=credential_id,
        credential_name="Partner",
        credential_type="httpHeaderAuth",
        field="value",
        strategy="in_place",
        provider=None,
        plan={},
    )


def test_one_rotation_per_credential(tmp_path: Path) -> None:
    j = journal(tmp_path / "j.db")
    first = start(j)
    with pytest.raises(RotationBusy, match="already being rotated"):
        start(j)
    start(j, "c2")  # another credential is fine
    j.close_rotation(first, Status.COMPLETED)  # type: ignore[arg-type]
    start(j)  # the lock was released


def test_labels_promote_and_encrypt(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    j = journal(tmp_path / "j.db", key)
    rotation = start(j)
    rotation.pending_secret, rotation.pending_fingerprint = j.encrypt("new-secret-value")  # type: ignore[attr-defined]
    rotation.previous_secret, rotation.previous_fingerprint = j.encrypt("old-secret-value")  # type: ignore[attr-defined]
    j.save(rotation)  # type: ignore[arg-type]
    j.promote_labels(rotation, "c1")  # type: ignore[arg-type]
    current = j.label("prod", "c1", Label.CURRENT)
    previous = j.label("prod", "c1", Label.PREVIOUS)
    assert current is not None and previous is not None
    assert j.decrypt(current.secret) == "new-secret-value"
    assert j.decrypt(previous.secret) == "old-secret-value"
    assert current.fingerprint.startswith("fp:") and current.fingerprint != previous.fingerprint
    j.close()
    raw = (tmp_path / "j.db").read_bytes()
    assert b"new-secret-value" not in raw and b"old-secret-value" not in raw
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        other = journal(tmp_path / "j.db")
        other.decrypt(other.label("prod", "c1", Label.CURRENT).secret)  # type: ignore[union-attr]


def test_fingerprints_are_keyed(tmp_path: Path) -> None:
    a, b = SecretBox(Fernet.generate_key()), SecretBox(Fernet.generate_key())
    assert a.fingerprint("same") == a.fingerprint("same")
    assert a.fingerprint("same") != b.fingerprint("same")


def test_bad_master_key() -> None:
    with pytest.raises(ConfigError, match="Fernet"):
        SecretBox(b"not-a-key")


def test_bad_database_url() -> None:
    with pytest.raises(ConfigError, match="KEYTURN_DATABASE_URL"):
        make_engine("nosuchdb://x")


def test_two_names_for_one_instance_share_one_lock(tmp_path: Path) -> None:
    j = journal(tmp_path / "j.db")
    start(j, instance="env", instance_url="http://127.0.0.1:5678")
    with pytest.raises(RotationBusy, match=r"already being rotated \(rotation \w+, held by .* pid"):
        start(j, instance="prod", instance_url="http://127.0.0.1:5678")


def test_a_rotation_left_in_flight_by_keyturn_0_1_blocks_a_new_one(tmp_path: Path) -> None:
    """0.1 keyed its lock by the instance's name: the new identity-keyed lock would not see it."""
    j = journal(tmp_path / "j.db")
    start(j)  # as 0.1 recorded it: no instance_url
    with pytest.raises(RotationBusy, match="recorded by an older keyturn"):
        start(j, instance_url="http://127.0.0.1:5678")
