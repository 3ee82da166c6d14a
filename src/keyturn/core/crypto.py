"""Secret material at rest: Fernet encryption under a master key, and keyed fingerprints.

The master key comes from `KEYTURN_MASTER_KEY`, else `KEYTURN_MASTER_KEY_FILE` (a Docker or
Kubernetes secret: only ever read), else `master.key` in the state folder, generated on first
use (mode 0600, written atomically). A missing `master.key` beside a journal that holds data is
never regenerated: every encrypted previous value would become unreadable. For a journal in a
database server (`KEYTURN_DATABASE_URL`), where that cannot be told cheaply, a new key is made
only on request (`KEYTURN_NEW_MASTER_KEY=1`). Fingerprints are HMAC-SHA256 under a key derived
from the master key, so a fingerprint in a log or the audit trail can be matched against a known
value by keyturn but tells an outsider nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from keyturn.core.errors import ConfigError
from keyturn.core.files import create_private_file, sync_folder
from keyturn.core.redact import register_secret

FINGERPRINT_PREFIX = "fp:"
MASTER_KEY_FILE_NAME = "master.key"
JOURNAL_FILE_NAME = "keyturn.db"  # the SQLite journal beside it (journal/engine.py)
REKEY_BACKUPS = "rekey-backups"  # keyturn rekey's backups beside it (rekey/backup.py)
NEW_MASTER_KEY_ENV = "KEYTURN_NEW_MASTER_KEY"
_FINGERPRINT_CHARS = 12


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        try:
            self._fernet = Fernet(master_key)
        except (ValueError, TypeError):
            raise ConfigError(
                "The keyturn master key is not a valid Fernet key (32 url-safe base64 bytes).",
                "Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
            ) from None
        raw = base64.urlsafe_b64decode(master_key)
        self._fingerprint_key = hmac.new(raw, b"keyturn-fingerprint-v1", hashlib.sha256).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            value = self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "A secret in keyturn's journal cannot be decrypted with this master key.",
                "Use the master key the journal was written with (KEYTURN_MASTER_KEY[_FILE]).",
            ) from None
        register_secret(value)
        return value

    def fingerprint(self, value: str) -> str:
        digest = hmac.new(self._fingerprint_key, value.encode(), hashlib.sha256).hexdigest()
        return FINGERPRINT_PREFIX + digest[:_FINGERPRINT_CHARS]


def state_dir() -> Path:
    """`$KEYTURN_STATE_DIR`, else `$XDG_STATE_HOME/keyturn`, else ~/.local/state/keyturn."""
    explicit = os.environ.get("KEYTURN_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "keyturn"


def ensure_private_dir(path: Path) -> Path:
    """Create the state folder (0700) if needed; one clear error when it cannot be a folder."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(
            f"The state folder {path} is a file, not a folder (KEYTURN_STATE_DIR).",
            "Point KEYTURN_STATE_DIR at a folder keyturn may create and write.",
        ) from None
    except OSError as exc:
        raise state_folder_error(path, exc) from None
    return path


def state_folder_error(path: Path, exc: OSError) -> ConfigError:
    """The error for a state file or folder keyturn cannot create or write."""
    return ConfigError(
        f"keyturn cannot write {path} ({exc.strerror or type(exc).__name__}).",
        "Point KEYTURN_STATE_DIR at a folder this user may write, or fix its permissions.",
    )


# -- where the journal lives, as far as the master key must know ---------------------------------


def journal_file(folder: Path | None = None) -> Path | None:
    """The journal's SQLite file, or None when the journal lives in a database server."""
    url = os.environ.get("KEYTURN_DATABASE_URL", "").strip()
    if not url:
        return (folder or state_dir()) / JOURNAL_FILE_NAME
    if url.startswith("sqlite:") and "///" in url:
        return Path(url.split("///", 1)[1].split("?", 1)[0].removeprefix("file:"))
    return None


def journal_written(path: Path) -> bool:
    """Whether a SQLite journal holds anything (keyturn creates it empty, then migrates it)."""
    wal = path.with_name(path.name + "-wal")
    return any(p.is_file() and p.stat().st_size > 0 for p in (path, wal))


# -- the master key --------------------------------------------------------------------------


_HINT_SET_KEY = (
    "Set it to the key the journal was written with (a new one: python -c 'from "
    "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
)


def load_master_key(folder: Path | None = None) -> bytes:
    value = os.environ.get("KEYTURN_MASTER_KEY", "").strip()
    if value:
        return _checked_key(value, "KEYTURN_MASTER_KEY", _HINT_SET_KEY)
    key_file = os.environ.get("KEYTURN_MASTER_KEY_FILE", "").strip()
    if key_file:
        setting = f"KEYTURN_MASTER_KEY_FILE ({key_file})"
        return _checked_key(_read_key_file(Path(key_file), setting), setting, _HINT_SET_KEY)
    folder = folder or state_dir()
    path = folder / MASTER_KEY_FILE_NAME
    if not path.exists():
        _refuse_a_new_key_beside_a_journal(folder, path)
        _create_key_file(ensure_private_dir(folder) / MASTER_KEY_FILE_NAME)
    hint = f"Restore {path} from a backup: it encrypts the previous values in the journal."
    return _checked_key(_read_key_file(path, f"the state folder's {path}"), str(path), hint)


def load_secret_box(folder: Path | None = None) -> SecretBox:
    return SecretBox(load_master_key(folder))


def _checked_key(value: str, source: str, hint: str) -> bytes:
    """The key as bytes, if it is a Fernet key; else one line naming where it came from."""
    register_secret(value)
    try:
        Fernet(value.encode())
    except (ValueError, TypeError):
        raise ConfigError(
            f"The master key in {source} is not a valid key (32 url-safe base64 bytes).", hint
        ) from None
    return value.encode()


def _read_key_file(path: Path, setting: str) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace").strip()  # not UTF-8: not a key
    except FileNotFoundError:
        raise ConfigError(
            f"{setting} does not exist.",
            "Fix the path: keyturn only reads this file, it never creates it.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the master key, {setting}: {exc.strerror or type(exc).__name__}.",
            "Let the user that runs keyturn read it (it is only read, never written).",
        ) from None


def _refuse_a_new_key_beside_a_journal(folder: Path, path: Path) -> None:
    """A journal written under a key that is now missing must not get a new key silently."""
    journal = journal_file(folder)
    if journal is None:  # a database server: keyturn cannot tell cheaply whether it holds data
        if os.environ.get(NEW_MASTER_KEY_ENV, "").strip().lower() in ("1", "true", "yes"):
            return
        raise ConfigError(
            f"No master key: KEYTURN_MASTER_KEY and KEYTURN_MASTER_KEY_FILE are unset and "
            f"{path} does not exist, and the journal in KEYTURN_DATABASE_URL may hold values "
            "encrypted with a key that is missing.",
            f"Restore the key (KEYTURN_MASTER_KEY_FILE, or put it back at {path}); every "
            f"keyturn that shares this journal needs the same key. For a new journal, run once "
            f"with {NEW_MASTER_KEY_ENV}=1 to create {path}.",
        )
    backups = folder / REKEY_BACKUPS
    if backups.is_dir() and any(backups.iterdir()):
        raise ConfigError(
            f"The master key {path} is missing, but {backups} holds rekey backups: the keys "
            "they keep encrypted cannot be read without it.",
            "Restore master.key from a backup (or set KEYTURN_MASTER_KEY_FILE to it).",
        )
    if journal_written(journal):
        raise ConfigError(
            f"The master key {path} is missing, but the journal {journal} exists: the previous "
            "values it keeps encrypted cannot be read without that key.",
            f"Restore master.key from a backup (or set KEYTURN_MASTER_KEY_FILE to it); to start "
            f"a new journal knowingly, move {journal} away first.",
        )


def _create_key_file(path: Path) -> None:
    """Write a new key to `path`, mode 0600, atomically: a process racing this one reads either
    no file or the whole key. Keeps the file another process made first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and never replaces a key already there
        except FileExistsError:
            pass  # another keyturn made it first: use that one
        except OSError:  # a file system without hard links
            with contextlib.suppress(FileExistsError):
                create_private_file(path, temporary.read_bytes())
        sync_folder(path.parent)
    except OSError as exc:
        raise state_folder_error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
