"""A rekey's backup folder: what it takes to finish an interrupted rekey or to undo one.

`<backup dir>/<UTC time>-<id>/` (0700) holds `manifest.json` (the phase, both keys encrypted
with keyturn's master key, the write-back targets), `rows.json` (every row the rekey changes,
as it was) and, for SQLite, `database.sqlite`: a copy of the whole database made with SQLite's
online backup API. `<n8n dir>/.keyturn-rekey-pending` names the folder from the first write
until the rekey is done: the next `keyturn rekey` finishes it (or finds it never committed).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from keyturn.core.crypto import SecretBox, ensure_private_dir
from keyturn.core.errors import ConfigError
from keyturn.core.files import create_private_file, sync_folder, write_atomically
from keyturn.rekey import ciphers
from keyturn.rekey.plan import RowChange

PENDING_FILE = ".keyturn-rekey-pending"
MANIFEST = "manifest.json"
ROWS = "rows.json"
SQLITE_COPY = "database.sqlite"
FORMAT = 1


@dataclass
class Manifest:
    created: str
    database: str
    n8n_dir: str
    version: str
    old_key: str  # encrypted with keyturn's master key
    new_key: str
    old_fingerprint: str
    new_fingerprint: str
    write_back: list[str] = field(default_factory=list)
    pin_jwt_secret: list[str] = field(default_factory=list)
    sqlite_copy: bool = False
    skipped: list[str] = field(default_factory=list)  # --skip-unreadable: left as they were
    phase: str = "writing"  # writing, committed, done, restored, abandoned
    format: int = FORMAT


class Backup:
    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.folder = folder
        self.manifest = manifest

    @classmethod
    def create(cls, root: Path, manifest: Manifest) -> Backup:
        ensure_private_dir(root)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = root / f"{stamp}-{secrets.token_hex(3)}"
        folder.mkdir(mode=0o700)
        backup = cls(folder, manifest)
        backup.save()
        return backup

    @classmethod
    def load(cls, folder: Path) -> Backup:
        path = folder / MANIFEST
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            manifest = Manifest(**document)
        except FileNotFoundError:
            raise ConfigError(f"{folder} is not a keyturn rekey backup (no {MANIFEST}).",
                              "Give the folder keyturn rekey printed.") from None  # fmt: skip
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{path} cannot be read: {exc}.", "Give an intact backup.") from None
        if manifest.format != FORMAT:
            raise ConfigError(f"{path} is of another keyturn's format.", "Use that keyturn.")
        return cls(folder, manifest)

    def save(self) -> None:
        write_atomically(self.folder / MANIFEST, json.dumps(asdict(self.manifest), indent=2))

    def set_phase(self, phase: str) -> None:
        self.manifest.phase = phase
        self.save()

    def keys(self, box: SecretBox) -> tuple[str, str]:
        try:
            return box.decrypt(self.manifest.old_key), box.decrypt(self.manifest.new_key)
        except ConfigError:
            raise ConfigError(
                f"The rekey backup {self.folder} was written under another keyturn master key.",
                "Use the master key of that run (KEYTURN_MASTER_KEY_FILE, or its state folder's "
                "master.key).",
            ) from None

    def save_rows(self, changes: list[RowChange], old_key: str) -> None:
        """Each changed value as it was: {"table", "key", "column", "put_back": {new: old}}. A
        last resort by hand (docs/rekey.md); --restore rekeys back instead. The old key held in
        plaintext by a legacy deployment_key row is kept wrapped (n8n reads both forms)."""

        def kept(old: str) -> str:
            return ciphers.wrap(old_key, old_key) if old == old_key else old

        rows = [
            {"table": c.table, "key": [list(pair) for pair in c.key], "column": c.column,
             "put_back": {new: kept(old) for old, new in c.replacements.items()}}
            for c in changes
        ]  # fmt: skip
        # default=str: PostgreSQL's uuid keys
        create_private_file(self.folder / ROWS, json.dumps(rows, default=str).encode())

    def copy_sqlite(self, path: Path) -> None:
        """The whole database, consistent, through SQLite's online backup API."""
        target = self.folder / SQLITE_COPY
        create_private_file(target, b"")
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
                _same_tables(source, copy, target)
            finally:
                copy.close()
        finally:
            source.close()
        self.manifest.sqlite_copy = True
        self.save()


def _same_tables(source: sqlite3.Connection, copy: sqlite3.Connection, target: Path) -> None:
    """The copy is whole: it passes SQLite's check and has the source's tables."""
    query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    healthy = copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    if not healthy or source.execute(query).fetchall() != copy.execute(query).fetchall():
        raise ConfigError(f"The copy of the database in {target} is not whole.",
                          "Check the free space of the backup folder (--backup-dir).")  # fmt: skip


def mark_pending(n8n_dir: Path, backup: Backup) -> None:
    write_atomically(n8n_dir / PENDING_FILE, str(backup.folder) + "\n", mode=0o600)


def pending(n8n_dir: Path) -> Path | None:
    try:
        return Path((n8n_dir / PENDING_FILE).read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return None


def clear_pending(n8n_dir: Path) -> None:
    (n8n_dir / PENDING_FILE).unlink(missing_ok=True)
    sync_folder(n8n_dir)
