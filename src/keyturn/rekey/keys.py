"""The old and the new instance key: where each comes from, what n8n derives from them, and
n8n's `config` file."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyturn.core.errors import ConfigError
from keyturn.core.files import read_secret_file, write_atomically
from keyturn.core.redact import register_secret

CONFIG_FILE = "config"
MIN_NEW_KEY = 24  # n8n's own keys are 24 random bytes, base64
_KEY_CHARACTERS = re.compile(r"^[A-Za-z0-9+/=_.~-]+$")


@dataclass(frozen=True)
class Keys:
    old: str
    old_source: str
    new: str
    new_source: str


def read_config(n8n_dir: Path) -> dict[str, Any] | None:
    path = n8n_dir / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read {path}: {exc.strerror}.", "Check its permissions."
        ) from None
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} is not n8n's settings file (JSON).", "Check --n8n-dir.")
    register_secret(document.get("encryptionKey"))
    return document


def old_key(n8n_dir: Path, old_key_file: Path | None, env: Mapping[str, str]) -> tuple[str, str]:
    """The key n8n uses now: --old-key-file, else `config`, else N8N_ENCRYPTION_KEY."""
    if old_key_file is not None:
        value = read_secret_file(old_key_file, "--old-key-file")
        register_secret(value)
        return value, str(old_key_file)
    config = read_config(n8n_dir) or {}
    if isinstance(config.get("encryptionKey"), str) and config["encryptionKey"]:
        return config["encryptionKey"], str(n8n_dir / CONFIG_FILE)
    if env.get("N8N_ENCRYPTION_KEY"):
        register_secret(env["N8N_ENCRYPTION_KEY"])
        return env["N8N_ENCRYPTION_KEY"], "N8N_ENCRYPTION_KEY"
    raise ConfigError(
        f"No encryption key: {n8n_dir / CONFIG_FILE} has none and N8N_ENCRYPTION_KEY is not set.",
        "Pass the key n8n uses now with --old-key-file, and check --n8n-dir.",
    )


def new_key(new_key_file: Path | None, generate: bool, old: str) -> tuple[str, str]:
    if (new_key_file is None) == (not generate):
        raise ConfigError(
            "Say where the new key comes from: --new-key-file FILE or --generate (one of them).",
            "See keyturn rekey --help.",
        )
    if generate:
        value = secrets.token_urlsafe(32)
        register_secret(value)
        return value, "generated"
    assert new_key_file is not None
    value = read_secret_file(new_key_file, "--new-key-file")
    register_secret(value)
    _check_new_key(value, old, str(new_key_file))
    return value, str(new_key_file)


def _check_new_key(value: str, old: str, source: str) -> None:
    if value == old:
        raise ConfigError(f"The new key ({source}) is the key n8n uses now.", "Give a new key.")
    if len(value) < MIN_NEW_KEY:
        raise ConfigError(
            f"The new key ({source}) must be at least {MIN_NEW_KEY} characters.",
            "Use --generate, or: openssl rand -base64 32 > new.key",
        )
    if not _KEY_CHARACTERS.match(value):
        raise ConfigError(
            f"The new key ({source}) may hold only letters, digits and + / = _ . ~ - (n8n reads "
            "other characters differently in different places, and .env files and shells "
            "change $, quotes and spaces).",
            "Use --generate, or: openssl rand -base64 32 > new.key",
        )


def write_config(n8n_dir: Path, key: str) -> None:
    """`config` with `key`, every other field kept; atomic, 0600, owner kept."""
    document = read_config(n8n_dir) or {}
    document["encryptionKey"] = key
    write_atomically(n8n_dir / CONFIG_FILE, json.dumps(document, indent="\t"), mode=0o600)


def derived_jwt_secret(key: str) -> str:
    """The JWT secret n8n derives when N8N_USER_MANAGEMENT_JWT_SECRET is unset: SHA-256 (hex)
    of the characters at even positions (UTF-16 positions, as in JavaScript)."""
    units = key.encode("utf-16-le", "surrogatepass")
    even = b"".join(units[i : i + 2] for i in range(0, len(units), 4))
    base = even.decode("utf-16-le", "replace")  # a lone surrogate: U+FFFD, as Node's UTF-8
    secret = hashlib.sha256(base.encode()).hexdigest()
    register_secret(secret)
    return secret
