"""Open a location by its name, and read a secret from one.

Vault's code (hvac) is imported only when a `vault:` location is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from keyturn.core.errors import ConfigError, missing_extra
from keyturn.core.redact import register_secret
from keyturn.locations.interface import SecretLocation, SecretStore
from keyturn.locations.local import (
    EnvFileStore,
    EnvVarLocation,
    FileStore,
    GeneratedLocation,
    StdinLocation,
)
from keyturn.locations.parse import LocationName, parse_location, parse_store


def open_location(
    name: LocationName, vault: dict[str, Any] | None = None, stdin: TextIO | None = None
) -> SecretLocation:
    """The location `name` names; `vault` is keyturn.toml's `[vault]` table."""
    if name.kind == "stdin":
        return StdinLocation(stdin)
    if name.kind == "env":
        return EnvVarLocation(name.argument)
    if name.kind == "generate":
        return GeneratedLocation(int(name.argument))
    if name.kind == "provider":
        raise ConfigError("A provider's secret is issued by the provider, not read.", None)
    return _open_store(name, vault)


def build_store(target: str, vault: dict[str, Any] | None = None) -> SecretStore:
    """A write-back target: `file:PATH`, `env-file:PATH#VAR` or `vault:MOUNT/PATH#FIELD`."""
    return _open_store(parse_store(target), vault)


def read_secret(
    text: str,
    option: str = "--new-secret",
    vault: dict[str, Any] | None = None,
    stdin: TextIO | None = None,
) -> str:
    """The value at a location, non-empty and registered for redaction."""
    location = open_location(parse_location(text, option), vault, stdin)
    if isinstance(location, FileStore):
        return location.read_required()
    value = location.read_current()
    if not value:
        raise ConfigError(
            f"The secret from {location.describe()} is empty (or not there).",
            "Provide a non-empty value.",
        )
    register_secret(value)
    return value


def _open_store(name: LocationName, vault: dict[str, Any] | None) -> SecretStore:
    if name.kind == "file":
        return FileStore(Path(name.argument).expanduser())
    if name.kind == "env-file":
        path, _, variable = name.argument.rpartition("#")
        return EnvFileStore(Path(path).expanduser(), variable)
    try:
        from keyturn.locations.vault import open_vault_store
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, "vault", "A vault: location") from None
    return open_vault_store(name.argument, vault)
