"""Secret material at rest: Fernet encryption under a master key, and keyed fingerprints.

The master key comes from `KEYTURN_MASTER_KEY`, `KEYTURN_MASTER_KEY_FILE`, or a key file
generated on first use in the state folder (mode 0600). Fingerprints are HMAC-SHA256 under a
key derived from the master key, so a fingerprint in a log or the audit trail can be matched
against a known value by keyturn but tells an outsider nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from keyturn.core.errors import ConfigError
from keyturn.core.redact import register_secret

FINGERPRINT_PREFIX = "fp:"
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
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def create_private_file(path: Path, content: bytes) -> None:
    """Create `path` with mode 0600 from the start (no window where others could read it).

    Leaves an existing file alone: another keyturn process may have created it first.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def load_master_key(folder: Path | None = None) -> bytes:
    value = os.environ.get("KEYTURN_MASTER_KEY", "").strip()
    if value:
        register_secret(value)
        return value.encode()
    key_file = os.environ.get("KEYTURN_MASTER_KEY_FILE")
    if key_file:
        path = Path(key_file)
        if not path.is_file():
            raise ConfigError(
                f"KEYTURN_MASTER_KEY_FILE points at {path}, which does not exist.",
                "Fix the path, or unset it to let keyturn create a key file.",
            )
        value = path.read_text().strip()
        register_secret(value)
        return value.encode()
    path = ensure_private_dir(folder or state_dir()) / "master.key"
    if not path.exists():
        create_private_file(path, Fernet.generate_key())
    value = path.read_text().strip()
    register_secret(value)
    return value.encode()


def load_secret_box(folder: Path | None = None) -> SecretBox:
    return SecretBox(load_master_key(folder))
