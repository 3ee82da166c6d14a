"""Files that hold secrets: read one (Docker secrets style), write one atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from keyturn.core.errors import ConfigError, StoreError


def read_secret_file(path: Path, setting: str, *, allow_empty: bool = False) -> str:
    """Read a secret from a file (surrounding whitespace removed); a clear error if that fails."""
    try:
        value = path.expanduser().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"{setting} points at {path}, which does not exist.", "Fix the path."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read {path} ({setting}): {exc.strerror}.", "Check its permissions."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} ({setting}) is not UTF-8 text.", "Write the key as plain text."
        ) from None
    if not value and not allow_empty:
        raise ConfigError(f"{path} ({setting}) is empty.", "Write the key into the file.")
    return value


def write_atomically(path: Path, content: str) -> None:
    """Write `content` to `path` via a temporary file and a rename, keeping the file's mode."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise StoreError(
            f"Cannot write next to {path}: {exc.strerror}.", "Check the folder's permissions."
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StoreError(
            f"Cannot write {path}: {exc.strerror}.", "Check its permissions."
        ) from None


def check_writable(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise StoreError(f"The folder of {path} does not exist.", "Create it, or fix the path.")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoreError(
            f"{path} is not writable by this user.",
            "Fix its permissions, or run keyturn as its owner.",
        )
