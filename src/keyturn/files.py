"""Reading secrets from files (Docker secrets style)."""

from __future__ import annotations

from pathlib import Path

from keyturn.errors import ConfigError


def read_secret_file(path: Path, setting: str) -> str:
    """Read a secret from a file (trailing newline removed); a clear error if that fails."""
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
    if not value:
        raise ConfigError(f"{path} ({setting}) is empty.", "Write the key into the file.")
    return value
