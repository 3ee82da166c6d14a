"""Secret locations: every place a secret value can be read from or written to.

A location is named the same way wherever keyturn takes one (`--new-secret`,
`--current-secret`, `--old-secret`, `--write-back`, `write_back` in keyturn.toml):

    stdin  file:PATH  env:VAR  generate[:LENGTH]  env-file:PATH#VAR  vault:MOUNT/PATH#FIELD

Every location can be read; `file:`, `env-file:` and `vault:` can also be written, which makes
them stores: a rotation writes the new value to each right after n8n holds it, and puts the
previous value back on rollback. A secret itself is never a location: it would show in `ps`
and in shell history.
"""

from __future__ import annotations

from typing import Protocol


class SecretLocation(Protocol):
    def describe(self) -> str:
        """Where the secret is, safe to show and to write in the audit trail."""
        ...

    def read_current(self) -> str | None:
        """The value held now (None when there is none); registered for redaction."""
        ...


class SecretStore(SecretLocation, Protocol):
    """A location keyturn can also write: a rotation's write-back target."""

    def preflight(self, value: str | None = None) -> None:
        """Fail now, with a clear message, if writing later would fail (writing `value`, when
        it is known already)."""
        ...

    def write(self, secret: str) -> None:
        """Replace the stored value; atomic, so a reader never sees half a value."""
        ...

    def discard_backup(self) -> None:
        """Remove any copy of the previous value the store kept for a rollback (a .env's
        `.keyturn.bak`); called once the rotation has finished. Removing none is fine."""
        ...
