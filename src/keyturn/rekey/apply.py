"""The rekey itself: plan, backup, one transaction, verification, then n8n's config and stores.

    survey with the old key ─ any value unreadable? stop, nothing changed
    backup (rows, SQLite copy, manifest, pending mark)
    UPDATE every row ─ survey again with the new key: same plaintexts? ─ COMMIT
    config ← new key, then each --write-back store, each --pin-jwt-secret store
    done: the pending mark goes

A crash before COMMIT leaves the database on the old key (the transaction never happened); a
crash after it is finished by the next `keyturn rekey` on that folder, from the manifest.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import ConfigError, ExitCode, KeyturnError
from keyturn.locations.interface import SecretStore
from keyturn.locations.registry import build_store
from keyturn.rekey import backup as backups
from keyturn.rekey import running
from keyturn.rekey.backup import Backup, Manifest
from keyturn.rekey.database import N8nDatabase, Target, where_key
from keyturn.rekey.keys import Keys, derived_jwt_secret, write_config
from keyturn.rekey.plan import Survey, Unreadable, survey
from keyturn.rotation.crash import crash_point

SHOWN_UNREADABLE = 20


class RekeyFailed(KeyturnError):
    exit_code = ExitCode.ROTATION_FAILED


@dataclass
class Request:
    n8n_dir: Path
    target: Target
    keys: Keys
    backup_root: Path
    write_back: list[str] = field(default_factory=list)
    pin_jwt_secret: list[str] = field(default_factory=list)
    vault: dict[str, Any] | None = None
    n8n_url: str | None = None
    assume_stopped: bool = False
    skip_unreadable: bool = False
    dry_run: bool = False
    execution_storage: str = "database"  # N8N_EXECUTION_DATA_STORAGE_MODE


@dataclass
class Outcome:
    action: str  # planned, rekeyed, resumed, restored
    database: str
    version: str = ""
    reencrypted: dict[str, int] = field(default_factory=dict)
    verified_only: dict[str, int] = field(default_factory=dict)
    left_plain: dict[str, int] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    backup: str | None = None
    config: str | None = None
    stores: list[str] = field(default_factory=list)
    jwt: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        document = dataclasses.asdict(self)
        document["unreadable"] = [dataclasses.asdict(item) for item in self.unreadable]
        return document


Say = Callable[[str], None]


def rekey(request: Request, box: SecretBox, say: Say) -> Outcome:
    db = N8nDatabase(request.target)
    try:
        stores = _stores(request)
        _refuse_if_running(db, request.n8n_url, request.assume_stopped)
        with db.transaction() as connection:
            _refuse_if_used(db, connection, request.assume_stopped)
            say(f"Reading every encrypted value of {request.target.describe()} with the old key")
            found = survey(connection, db, request.keys.old, request.keys.new)
            outcome = _outcome("planned", request, found)
            _refuse_unreadable(found, request.skip_unreadable)
            if request.dry_run:
                connection.rollback()
                return outcome
            backup = _back_up(request, box, found, db, say)
            outcome.backup = str(backup.folder)
            _write(connection, db, found, say)
            _verify(connection, db, request.keys.new, found)
            crash_point("rekey.before-commit")
        backup.set_phase("committed")
        crash_point("rekey.after-commit")
        outcome.action = "rekeyed"
        _finish(request.n8n_dir, backup, request.keys.new, stores, box, outcome, say)
        return outcome
    finally:
        db.close()


def _outcome(action: str, request: Request, found: Survey) -> Outcome:
    return Outcome(
        action=action,
        database=request.target.describe(),
        version=found.version,
        reencrypted=dict(found.reencrypted),
        verified_only=dict(found.verified_only),
        left_plain=dict(found.left_plain),
        unreadable=found.unreadable,
        config=str(request.n8n_dir / "config"),
        stores=list(request.write_back),
        jwt=jwt_consequence(found, request.pin_jwt_secret),
        notes=found.notes + _derived_notes(found) + _storage_notes(request),
    )


def jwt_consequence(found: Survey, pins: list[str]) -> str:
    if "signing.jwt" in found.signing_secrets:
        return ("kept: n8n 2.x keeps its JWT secret in deployment_key, re-wrapped with the new "
                "key; sessions and API keys stay valid")  # fmt: skip
    if pins:
        return ("pinned: the JWT secret n8n derives from the old key is written as "
                f"N8N_USER_MANAGEMENT_JWT_SECRET to {', '.join(pins)}; every n8n process must "
                "read it, then sessions and API keys stay valid")  # fmt: skip
    return ("derived from the key, unless N8N_USER_MANAGEMENT_JWT_SECRET is set in n8n's "
            "environment: every user is logged out and every API key (keyturn's too) stops "
            "working. --pin-jwt-secret STORE keeps them")  # fmt: skip


def _derived_notes(found: Survey) -> list[str]:
    if found.version == "2.x":
        return []
    return [
        "n8n 1.x also derives from the key: the signature of resume URLs of waiting executions "
        "(unless N8N_HMAC_SIGNATURE_SECRET is set), signed binary-data URLs and the instance id "
        "(a licence bound to it must be re-activated)"
    ]


def _storage_notes(request: Request) -> list[str]:
    if request.execution_storage in ("", "database"):
        return []
    return [
        f"execution data is kept outside the database (N8N_EXECUTION_DATA_STORAGE_MODE="
        f"{request.execution_storage}): waiting executions stored there keep values under the "
        "old key; let them finish first"
    ]


def _refuse_unreadable(found: Survey, skip: bool) -> None:
    if not found.unreadable:
        return
    shown = "; ".join(item.describe() for item in found.unreadable[:SHOWN_UNREADABLE])
    more = len(found.unreadable) - SHOWN_UNREADABLE
    listing = shown + (f"; and {more} more" if more > 0 else "")
    if found.values == 0:
        raise ConfigError(
            f"No encrypted value of n8n's database reads with the old key ({listing}).",
            "The old key is wrong: pass the key n8n runs with (--old-key-file).",
        )
    if not skip:
        raise RekeyFailed(
            f"{len(found.unreadable)} value(s) cannot be read with the old key, so nothing "
            f"was changed: {listing}.",
            "Check the old key; if these rows are already broken in n8n too, "
            "--skip-unreadable leaves them as they are.",
        )


def _stores(request: Request) -> list[tuple[str, SecretStore, str]]:
    """(target, store, what it receives) for each store; each checked now, before any write."""
    stores = [(target, build_store(target, request.vault), "key") for target in request.write_back]
    stores += [(target, build_store(target, request.vault), "jwt")
               for target in request.pin_jwt_secret]  # fmt: skip
    if not request.dry_run:
        for _target, store, _what in stores:
            store.preflight()
    return stores


def _refuse_if_running(db: N8nDatabase, n8n_url: str | None, assume_stopped: bool) -> None:
    running.refuse_if_running(running.outside_evidence(db, n8n_url), assume_stopped)


def _refuse_if_used(db: N8nDatabase, connection: Connection, assume_stopped: bool) -> None:
    running.refuse_if_running(running.database_evidence(db, connection), assume_stopped)
    _lock_tables(connection, db)


def _lock_tables(connection: Connection, db: N8nDatabase) -> None:
    """PostgreSQL: hold every table the rekey reads, so nothing writes to them meanwhile
    (SQLite's BEGIN IMMEDIATE already holds the whole file)."""
    if connection.dialect.name != "postgresql":
        return
    from keyturn.rekey.places import DEPLOYMENT_KEY, PLACES

    names = {place.table for place in PLACES} | {DEPLOYMENT_KEY}
    tables = [t for t in (db.table(connection, name) for name in sorted(names)) if t is not None]
    quoted = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
    try:
        connection.exec_driver_sql(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE NOWAIT")
    except sa.exc.OperationalError:
        raise running.N8nRunning(
            "Another session holds n8n's tables (n8n, a worker, or a migration is running).",
            "Stop every n8n process, then run keyturn rekey again.",
        ) from None


def _back_up(request: Request, box: SecretBox, found: Survey, db: N8nDatabase, say: Say) -> Backup:
    manifest = Manifest(
        created=_now(),
        database=request.target.describe(),
        n8n_dir=str(request.n8n_dir),
        version=found.version,
        old_key=box.encrypt(request.keys.old),
        new_key=box.encrypt(request.keys.new),
        old_fingerprint=box.fingerprint(request.keys.old),
        new_fingerprint=box.fingerprint(request.keys.new),
        write_back=list(request.write_back),
        pin_jwt_secret=list(request.pin_jwt_secret),
    )
    backup = Backup.create(request.backup_root, manifest)
    backup.save_rows(found.changes)
    if db.target.sqlite_path is not None:
        say(f"Copying the database to {backup.folder}")
        backup.copy_sqlite(db.target.sqlite_path)
    backups.mark_pending(request.n8n_dir, backup)
    crash_point("rekey.after-backup")
    return backup


def _write(connection: Connection, db: N8nDatabase, found: Survey, say: Say) -> None:
    say(f"Writing {len(found.changes)} row(s) in one transaction")
    half = len(found.changes) // 2
    for index, change in enumerate(found.changes):
        table = db.table(connection, change.table)
        assert table is not None
        connection.execute(
            sa.update(table)
            .where(where_key(table, change.key))
            .values({change.column: change.new_text})
        )
        if index == half:
            crash_point("rekey.mid-transaction")


def _verify(connection: Connection, db: N8nDatabase, key: str, before: Survey) -> None:
    """Before COMMIT: every value reads with the new key, to the plaintext it had."""
    after = survey(connection, db, key)
    skipped = set(before.unreadable)  # --skip-unreadable: those stay as they were
    problems = [item.describe() for item in after.unreadable if item not in skipped]
    if after.digests != before.digests:
        changed = {k for k in before.digests.keys() | after.digests.keys()
                   if before.digests.get(k) != after.digests.get(k)}  # fmt: skip
        problems += [
            f"{place} ({row}{path}) reads differently" for place, row, path in sorted(changed)
        ]
    if problems:
        raise RekeyFailed(
            "The check before commit failed, so the transaction was rolled back and nothing "
            f"changed: {'; '.join(problems[:SHOWN_UNREADABLE])}.",
            "This is a keyturn bug: please report it with `keyturn -vv rekey --dry-run`.",
        )


def _finish(
    n8n_dir: Path,
    backup: Backup,
    key: str,
    stores: list[tuple[str, SecretStore, str]],
    box: SecretBox,
    outcome: Outcome,
    say: Say,
) -> None:
    """After COMMIT: n8n's config, then every store; the pending mark goes last."""
    write_config(n8n_dir, key)
    say(f"Wrote the new key to {n8n_dir / 'config'}")
    crash_point("rekey.after-config")
    old, _new = backup.keys(box)
    for target, store, what in stores:
        store.write(key if what == "key" else derived_jwt_secret(old))
        say(f"Wrote the {'new key' if what == 'key' else 'JWT secret'} to {target}")
    for _target, store, _what in stores:
        store.discard_backup()
    backup.set_phase("done")
    backups.clear_pending(n8n_dir)


def resume_pending(
    n8n_dir: Path,
    target: Target,
    vault: dict[str, Any] | None,
    box: SecretBox,
    say: Say,
    n8n_url: str | None = None,
    assume_stopped: bool = False,
) -> Outcome | None:
    """Finish a rekey a crash interrupted on this folder; None when there is none, or when it
    never committed (then nothing had changed, and the mark is dropped). Refused, like a rekey,
    while n8n or another keyturn uses the database: that one may be mid-transaction."""
    folder = backups.pending(n8n_dir)
    if folder is None:
        return None
    backup = Backup.load(folder)
    old, new = backup.keys(box)
    outcome = Outcome("resumed", target.describe(), backup.manifest.version, backup=str(folder))
    if backup.manifest.phase == "writing":
        state = _database_key(target, old, new, n8n_url, assume_stopped)
        if state == "old":
            say(f"The rekey of {backup.manifest.created} was interrupted before its commit: "
                "nothing had changed.")  # fmt: skip
            backup.set_phase("abandoned")
            backups.clear_pending(n8n_dir)
            return None
        backup.set_phase("committed")
    say(f"Finishing the rekey of {backup.manifest.created} (committed, not yet written out)")
    request = Request(
        n8n_dir,
        target,
        Keys(old, "backup", new, "backup"),
        folder.parent,
        backup.manifest.write_back,
        backup.manifest.pin_jwt_secret,
        vault,
    )
    _finish(n8n_dir, backup, new, _stores(request), box, outcome, say)
    outcome.stores = list(backup.manifest.write_back)
    outcome.config = str(n8n_dir / "config")
    return outcome


def _database_key(
    target: Target, old: str, new: str, n8n_url: str | None, assume_stopped: bool
) -> str:
    """Which key the database is on: the one that reads values while the other reads none
    (values skipped by --skip-unreadable read with neither). An empty database: "old"."""
    db = N8nDatabase(target)
    try:
        _refuse_if_running(db, n8n_url, assume_stopped)
        with db.transaction() as connection:
            _refuse_if_used(db, connection, assume_stopped)
            with_new = survey(connection, db, new).values
            with_old = survey(connection, db, old).values
    finally:
        db.close()
    if with_new and not with_old:
        return "new"
    if not with_new:
        return "old"
    raise RekeyFailed(
        "n8n's database holds values under both keys of the interrupted rekey.",
        "Restore its backup: keyturn rekey --restore BACKUP.",
    )


def restore(
    folder: Path,
    n8n_dir: Path,
    target: Target,
    vault: dict[str, Any] | None,
    box: SecretBox,
    n8n_url: str | None,
    assume_stopped: bool,
    say: Say,
) -> Outcome:
    """Put the rows back as they were, and the old key into config and the stores."""
    backup = Backup.load(folder)
    old, _new = backup.keys(box)
    outcome = Outcome("restored", target.describe(), backup.manifest.version, backup=str(folder))
    db = N8nDatabase(target)
    try:
        _refuse_if_running(db, n8n_url, assume_stopped)
        with db.transaction() as connection:
            _refuse_if_used(db, connection, assume_stopped)
            rows = backup.rows()
            say(f"Putting back {len(rows)} row(s) from {folder}")
            for row in rows:
                table = db.table(connection, row["table"])
                assert table is not None
                key = tuple((name, _typed(table.c[name], value)) for name, value in row["key"])
                connection.execute(
                    sa.update(table)
                    .where(where_key(table, key))
                    .values({row["column"]: row["value"]})
                )
            found = survey(connection, db, old)
            if found.unreadable:
                raise RekeyFailed(
                    f"After putting the rows back, {len(found.unreadable)} value(s) do not read "
                    "with the old key (written after the rekey?), so nothing was changed: "
                    + "; ".join(item.describe() for item in found.unreadable[:SHOWN_UNREADABLE]),
                    "Rekey again instead, with the old key as the new one: keyturn rekey "
                    "--new-key-file OLD_KEY_FILE.",
                )
            outcome.reencrypted = dict(found.reencrypted)
    finally:
        db.close()
    write_config(n8n_dir, old)
    outcome.config = str(n8n_dir / "config")
    for target_name in backup.manifest.write_back:
        build_store(target_name, vault).write(old)
        outcome.stores.append(target_name)
    backup.set_phase("restored")
    backups.clear_pending(n8n_dir)
    return outcome


def _typed(column: sa.Column[Any], value: Any) -> Any:
    """A key read back from rows.json as its column wants it (a uuid, on PostgreSQL)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is uuid.UUID and isinstance(value, str):
        return uuid.UUID(value)
    return value


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
