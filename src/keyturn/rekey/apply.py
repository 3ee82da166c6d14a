"""The rekey itself: plan, backup, one transaction, verification, then n8n's config and stores.

    survey with the old key ─ any value unreadable? stop, nothing changed
    backup (the changed values as they were, a SQLite copy, manifest, pending mark)
    UPDATE every row ─ survey again with the new key: same plaintexts? ─ COMMIT
    config ← new key, then each --write-back store, each --pin-jwt-secret store
    done: the pending mark goes

A crash before COMMIT leaves the database on the old key (the transaction never happened); a
crash after it is finished by the next `keyturn rekey` on that folder, from the manifest, once
the database is seen to read with the new key. `--restore` is a rekey back to the old key, so
it keeps what n8n wrote since (a refreshed OAuth token, a used recovery code).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import ConfigError, ExitCode, KeyturnError
from keyturn.core.files import check_writable, read_secret_file
from keyturn.locations.interface import SecretStore
from keyturn.locations.registry import build_store
from keyturn.rekey import backup as backups
from keyturn.rekey import running
from keyturn.rekey.backup import Backup, Manifest
from keyturn.rekey.database import N8nDatabase, Target, where_key
from keyturn.rekey.keys import CONFIG_FILE, Keys, derived_jwt_secret, read_config, write_config
from keyturn.rekey.places import DEPLOYMENT_KEY, PLACES
from keyturn.rekey.plan import Survey, Unreadable, survey
from keyturn.rotation.crash import crash_point

SHOWN_UNREADABLE = 20
JWT_VARIABLE = "N8N_USER_MANAGEMENT_JWT_SECRET"
N8N_TABLES = ("credentials_entity", "user", "settings")  # every n8n database has them


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
    allowed_unreadable: set[str] = field(default_factory=set)  # a restore: what was skipped


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
Stores = list[tuple[str, SecretStore, str]]


def rekey(request: Request, box: SecretBox, say: Say, action: str = "rekeyed") -> Outcome:
    db = N8nDatabase(request.target)
    try:
        stores = _stores(request)
        if not request.dry_run:
            _check_config(request.n8n_dir)
        _refuse_if_running(db, request.n8n_url, request.assume_stopped)
        backup: Backup | None = None
        committing = False
        try:
            with db.transaction() as connection:
                _refuse_if_used(db, connection, request.assume_stopped)
                _refuse_what_is_not_n8n(connection, db)
                say(f"Reading every encrypted value of {request.target.describe()} with the "
                    "old key")  # fmt: skip
                found = survey(connection, db, request.keys.old, request.keys.new)
                outcome = _outcome("planned", request, found)
                _refuse_unreadable(found, request)
                _refuse_needless_pins(found, request)
                if request.dry_run:
                    connection.rollback()
                    return outcome
                backup = _back_up(request, box, found, db, say)
                outcome.backup = str(backup.folder)
                _write(connection, db, found, say)
                _verify(connection, db, request.keys.new, found)
                crash_point("rekey.before-commit")
                committing = True  # from here, a failure may have committed (the server's word)
        except BaseException:
            if backup is not None and not committing:  # rolled back for sure: nothing pending
                backup.set_phase("abandoned")
                backups.clear_pending(request.n8n_dir)
            raise
        assert backup is not None
        backup.set_phase("committed")
        crash_point("rekey.after-commit")
        outcome.action = action
        _finish(request.n8n_dir, backup, request.keys, stores, outcome, say)
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
        return (f"pinned: the JWT secret n8n derives from the old key goes to {', '.join(pins)} "
                f"(unless one already holds a value) as {JWT_VARIABLE}; every n8n process must "
                "read it, then sessions and API keys stay valid")  # fmt: skip
    return (f"derived from the key, unless {JWT_VARIABLE} is set in n8n's environment: every "
            "user is logged out and every API key (keyturn's too) stops working. "
            "--pin-jwt-secret STORE keeps them")  # fmt: skip


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


# -- refusals, each before any change -------------------------------------------------------


def _refuse_if_running(db: N8nDatabase, n8n_url: str | None, assume_stopped: bool) -> None:
    running.refuse_if_running(running.outside_evidence(db, n8n_url), assume_stopped)


def _refuse_if_used(db: N8nDatabase, connection: Connection, assume_stopped: bool) -> None:
    running.refuse_if_running(running.database_evidence(db, connection), assume_stopped)
    _lock_tables(connection, db)


def _refuse_what_is_not_n8n(connection: Connection, db: N8nDatabase) -> None:
    """A database without n8n's tables (a wrong prefix, schema or database) would "rekey"
    nothing, and the new key would then go to config: refused."""
    missing = [name for name in N8N_TABLES if db.table(connection, name) is None]
    if missing:
        where = db.target.describe()
        prefix = f" with the table prefix {db.target.prefix!r}" if db.target.prefix else ""
        raise ConfigError(
            f"{where} is not n8n's database: it has no table {', '.join(missing)}{prefix}.",
            "Point keyturn at n8n's database: DB_TABLE_PREFIX, DB_POSTGRESDB_SCHEMA and "
            "DB_POSTGRESDB_DATABASE as n8n has them, or --database-url.",
        )


def _refuse_unreadable(found: Survey, request: Request) -> None:
    unexpected = [i for i in found.unreadable if i.describe() not in request.allowed_unreadable]
    if not unexpected:
        return
    shown = "; ".join(item.describe() for item in unexpected[:SHOWN_UNREADABLE])
    more = len(unexpected) - SHOWN_UNREADABLE
    listing = shown + (f"; and {more} more" if more > 0 else "")
    if found.keyed == 0:
        raise ConfigError(
            f"No encrypted value of n8n's database reads with the old key ({listing}).",
            "The old key is wrong: pass the key n8n runs with (--old-key-file).",
        )
    keys = [item for item in unexpected if item.place == DEPLOYMENT_KEY]
    if keys:  # n8n 2.x refuses to start on an unreadable deployment key: never skipped
        raise RekeyFailed(
            f"{len(keys)} deployment_key row(s) cannot be read with the old key, so nothing "
            f"was changed: {'; '.join(item.describe() for item in keys[:SHOWN_UNREADABLE])}.",
            "Check the old key; n8n itself cannot start with these rows.",
        )
    if not request.skip_unreadable:
        raise RekeyFailed(
            f"{len(unexpected)} value(s) cannot be read with the old key, so nothing "
            f"was changed: {listing}.",
            "Check the old key; if these rows are already broken in n8n too, "
            "--skip-unreadable leaves them as they are.",
        )


def _refuse_needless_pins(found: Survey, request: Request) -> None:
    if request.pin_jwt_secret and "signing.jwt" in found.signing_secrets:
        raise ConfigError(
            "--pin-jwt-secret is not needed here: this n8n 2.x keeps its JWT secret in "
            "deployment_key, which the rekey re-wraps unchanged.",
            "Leave --pin-jwt-secret out.",
        )


def _stores(request: Request) -> Stores:
    """(target, store, what it receives) for each store; each checked now, before any write,
    with the value it will receive when that is known (a key an .env cannot keep)."""
    stores = [(target, build_store(target, request.vault), "key") for target in request.write_back]
    stores += [(target, build_store(target, request.vault), "jwt")
               for target in request.pin_jwt_secret]  # fmt: skip
    if not request.dry_run:
        for _target, store, what in stores:
            store.preflight(request.keys.new if what == "key" and request.keys.new else None)
    return stores


def absolute_store(target: str) -> str:
    """A file store's path made absolute: a resume from another folder must write the same
    file (the manifest keeps targets as written)."""
    kind, _, argument = target.partition(":")
    if kind not in ("file", "env-file") or not argument:
        return target
    path, hash_sign, variable = argument.partition("#")
    return f"{kind}:{Path(path).expanduser().resolve()}{hash_sign}{variable}"


def _check_config(n8n_dir: Path) -> None:
    """n8n's config is written after the commit: refuse now what would fail then."""
    read_config(n8n_dir)
    check_writable(n8n_dir / CONFIG_FILE)


def _lock_tables(connection: Connection, db: N8nDatabase) -> None:
    """PostgreSQL: hold every table the rekey reads, so nothing writes to them meanwhile (and a
    second keyturn stops here); SQLite's BEGIN IMMEDIATE already holds the whole file."""
    if connection.dialect.name != "postgresql":
        return
    names = {place.table for place in PLACES} | {DEPLOYMENT_KEY}
    tables = [t for t in (db.table(connection, name) for name in sorted(names)) if t is not None]
    if not tables:
        return
    quoted = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
    try:
        connection.exec_driver_sql(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE NOWAIT")
    except sa.exc.OperationalError:
        raise running.N8nRunning(
            "Another session holds n8n's tables (n8n, a worker, another keyturn rekey, or a "
            "migration).",
            "Stop every n8n process, then run keyturn rekey again.",
        ) from None


# -- the change ------------------------------------------------------------------------------


def _back_up(request: Request, box: SecretBox, found: Survey, db: N8nDatabase, say: Say) -> Backup:
    manifest = Manifest(
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        database=request.target.describe(),
        n8n_dir=str(request.n8n_dir.resolve()),
        version=found.version,
        old_key=box.encrypt(request.keys.old),
        new_key=box.encrypt(request.keys.new),
        old_fingerprint=box.fingerprint(request.keys.old),
        new_fingerprint=box.fingerprint(request.keys.new),
        write_back=list(request.write_back),
        pin_jwt_secret=list(request.pin_jwt_secret),
        skipped=[item.describe() for item in found.unreadable],
    )
    backup = Backup.create(request.backup_root, manifest)
    backup.save_rows(found.changes, request.keys.old)
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
        where = where_key(table, change.key)
        text = connection.execute(sa.select(table.c[change.column]).where(where)).scalar_one()
        values = {change.column: change.apply(text)}
        connection.execute(sa.update(table).where(where).values(values))
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
    n8n_dir: Path, backup: Backup, keys: Keys, stores: Stores, outcome: Outcome, say: Say
) -> None:
    """After COMMIT: n8n's config, then every store; the pending mark goes last."""
    write_config(n8n_dir, keys.new)
    say(f"Wrote the key to {n8n_dir / 'config'}")
    crash_point("rekey.after-config")
    for target, store, what in stores:
        if what == "key":
            store.write(keys.new)
            say(f"Wrote the key to {target}")
        elif store.read_current():
            say(f"{target} already holds a JWT secret: left as it is (n8n uses it)")
        else:
            store.write(derived_jwt_secret(keys.old))
            say(f"Wrote the JWT secret n8n derived from the old key to {target}")
    for _target, store, _what in stores:
        store.discard_backup()
    backup.set_phase("done")
    backups.clear_pending(n8n_dir)


# -- after a crash ----------------------------------------------------------------------------


@dataclass
class Resume:
    """How `resume_pending` is called: the command's own options, to check them against."""

    n8n_dir: Path
    target: Target
    vault: dict[str, Any] | None
    n8n_url: str | None
    assume_stopped: bool
    new_key_file: Path | None
    generate: bool


def resume_pending(options: Resume, box: SecretBox, say: Say) -> Outcome | None:
    """Finish a rekey interrupted after its commit on this folder. None when there is no mark,
    or when the database is still on that rekey's old key (it never committed, or was put back
    by hand): then nothing is pending and the mark goes. Refused, like a rekey, while n8n or
    another keyturn uses the database: that one may be mid-transaction."""
    folder = backups.pending(options.n8n_dir)
    if folder is None:
        return None
    backup = Backup.load(folder)
    _same_database(backup, options)
    old, new = backup.keys(box)
    if _database_key(options, old, new) == "old":
        say(f"The rekey of {backup.manifest.created} ({folder}) had not changed the database "
            "(interrupted before its commit, or put back since): its mark is dropped.")  # fmt: skip
        if backup.manifest.phase in ("writing", "committed"):
            backup.set_phase("abandoned")
        backups.clear_pending(options.n8n_dir)
        return None
    _refuse_another_new_key(options, new, backup)
    say(f"Finishing the rekey of {backup.manifest.created}: the database is on its new key")
    backup.set_phase("committed")
    outcome = Outcome("resumed", options.target.describe(), backup.manifest.version)
    outcome.backup, outcome.config = str(folder), str(options.n8n_dir / "config")
    outcome.stores = list(backup.manifest.write_back)
    request = Request(options.n8n_dir, options.target, Keys(old, "backup", new, "backup"),
                      folder.parent, backup.manifest.write_back,
                      backup.manifest.pin_jwt_secret, options.vault)  # fmt: skip
    _finish(options.n8n_dir, backup, request.keys, _stores(request), outcome, say)
    return outcome


def _same_database(backup: Backup, options: Resume) -> None:
    if backup.manifest.database != options.target.describe():
        raise ConfigError(
            f"{options.n8n_dir} has an unfinished rekey of {backup.manifest.database}, not of "
            f"{options.target.describe()}.",
            "Run keyturn with the database settings of that rekey to finish it.",
        )


def _refuse_another_new_key(options: Resume, new: str, backup: Backup) -> None:
    given = None
    if options.new_key_file is not None:
        given = read_secret_file(options.new_key_file, "--new-key-file")
    if options.generate or (given is not None and given != new):
        raise ConfigError(
            f"A rekey of {backup.manifest.created} committed its new key to the database but "
            "did not finish; this run's new key would be another one.",
            f"Finish that one first: keyturn rekey --n8n-dir {options.n8n_dir} (no new key), "
            "then rekey again if you want another key.",
        )


def _database_key(options: Resume, old: str, new: str) -> str:
    """Which key the database is on: the one that reads values while the other reads none
    (values skipped by --skip-unreadable read with neither). An empty database: "old"."""
    db = N8nDatabase(options.target)
    try:
        _refuse_if_running(db, options.n8n_url, options.assume_stopped)
        with db.transaction() as connection:
            _refuse_if_used(db, connection, options.assume_stopped)
            _refuse_what_is_not_n8n(connection, db)
            with_new = survey(connection, db, new).keyed
            with_old = survey(connection, db, old).keyed
    finally:
        db.close()
    if with_old and not with_new:
        return "old"
    if not with_old:
        return "new"  # or nothing encrypted at all: finishing writes config, harmless
    raise RekeyFailed(
        "n8n's database holds values under both keys of the interrupted rekey (n8n ran on the "
        "old key after the commit?).",
        "Put it back on the old key with keyturn rekey --restore BACKUP (the folder in "
        ".keyturn-rekey-pending), then rekey again.",
    )


def restore(folder: Path, request: Request, box: SecretBox, say: Say) -> Outcome:
    """Put a rekey back: a rekey from its new key to its old one (so what n8n wrote since is
    kept), to config and the stores of that rekey. Its own backup makes it undoable too."""
    backup = Backup.load(folder)
    old, new = backup.keys(box)
    say(f"Putting back the rekey of {backup.manifest.created}: rekeying to its old key")
    back = dataclasses.replace(
        request,
        keys=Keys(new, "the backup's new key", old, "the backup's old key"),
        write_back=list(backup.manifest.write_back),
        pin_jwt_secret=[],
        allowed_unreadable=set(backup.manifest.skipped),
    )
    outcome = rekey(back, box, say, action="restored")
    if not request.dry_run:
        backup.set_phase("restored")
    return outcome
