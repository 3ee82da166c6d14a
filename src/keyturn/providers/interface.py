"""The provider interface: where new secrets come from and where old ones are revoked.

A provider states what it can do; the rotation plan shows it. Adding a provider is one module
in this folder that implements `SecretProvider`, plus its entry in `providers/registry.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keyturn.core.probe import AuthPlacement, ProbeResult


class Capability(StrEnum):
    ISSUE = "issue"  # create a new secret
    REVOKE = "revoke"  # invalidate a secret by its key id
    PROBE = "probe"  # check that a secret works


@dataclass(frozen=True)
class IssuedSecret:
    value: str
    key_id: str | None


@dataclass(frozen=True)
class IssueContext:
    """What a provider may put in its requests (placeholders in keyturn.toml)."""

    idempotency_token: str
    credential_id: str
    credential_name: str
    started_at: datetime | None = None  # when the rotation started (keyturn's clock)
    current_key_id: str | None = None  # the provider's id of the key in use now
    # The provider's key ids before this rotation's first issue, as recorded in the journal
    # (None on the first attempt): a resumed issue tells a key a crashed attempt created
    # from a key someone else uses by these ids, never by comparing two clocks.
    keys_before: frozenset[str] | None = None
    # Saves those ids in the journal (write-ahead); a provider calls it before it creates
    # anything, and only when `keys_before` is None.
    record_keys_before: Callable[[frozenset[str]], None] | None = None


class SecretProvider(Protocol):
    name: str
    # The credential field that holds the provider's key id, when the key id is part of the
    # credential (AWS: accessKeyId); None for providers whose keys are a single value.
    key_id_field: str | None

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def probe_placement(self) -> AuthPlacement | None:
        """How the provider's probe sends a key: how a credential for it must send it too."""
        ...

    def issue(self, context: IssueContext) -> IssuedSecret:
        """Create a new secret. The same idempotency token must never issue two."""
        ...

    def current_key_id(self) -> str | None:
        """The provider's id of the key in use now, when the provider can tell (else None)."""
        ...

    def revoke(self, key_id: str) -> None:
        """Invalidate the secret with this id; revoking an already revoked one is fine."""
        ...

    def probe(self, secret: str, key_id: str | None = None) -> ProbeResult:
        """Whether `secret` (with its key id, for providers that need one) works now."""
        ...
