"""Stores: other places that keep the secret and must follow a rotation.

A rotation writes the new value to each store named with `--write-back` (or `write_back` in
the credential's keyturn.toml section) right after n8n holds it, and puts the previous value
back on rollback. Targets are written like sources: `file:PATH`, `env-file:PATH#VAR`,
`vault:MOUNT/PATH#FIELD`.
"""

from __future__ import annotations

from typing import Protocol

from keyturn.errors import ExitCode, KeyturnError


class StoreError(KeyturnError):
    exit_code = ExitCode.PROVIDER


class SecretStore(Protocol):
    def describe(self) -> str:
        """Where the secret is kept, safe to show."""
        ...

    def preflight(self) -> None:
        """Fail now, with a clear message, if writing later would fail."""
        ...

    def read_current(self) -> str | None:
        """The value the store holds now (None when it holds none)."""
        ...

    def write(self, secret: str) -> None:
        """Replace the stored value; atomic, so a reader never sees half a value."""
        ...
