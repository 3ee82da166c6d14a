"""The provider interface: where new secrets come from and where old ones are revoked.

A provider states what it can do; the rotation plan shows it. Adding a provider is one module
in this folder that implements `SecretProvider`, plus its entry in `providers/registry.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from keyturn.errors import ExitCode, KeyturnError

if TYPE_CHECKING:
    from keyturn.verify.probe import AuthPlacement


class Capability(StrEnum):
    ISSUE = "issue"  # create a new secret
    REVOKE = "revoke"  # invalidate a secret by its key id
    PROBE = "probe"  # check that a secret works


class ProviderError(KeyturnError):
    exit_code = ExitCode.PROVIDER


@dataclass(frozen=True)
class IssuedSecret:
    value: str
    key_id: str | None


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


@dataclass(frozen=True)
class IssueContext:
    """What a provider may put in its requests (placeholders in keyturn.toml)."""

    idempotency_token: str
    credential_id: str
    credential_name: str


class SecretProvider(Protocol):
    name: str

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def probe_placement(self) -> AuthPlacement | None:
        """How the provider's probe sends a key: how a credential for it must send it too."""
        ...

    def issue(self, context: IssueContext) -> IssuedSecret:
        """Create a new secret. The same idempotency token must never issue two."""
        ...

    def revoke(self, key_id: str) -> None:
        """Invalidate the secret with this id; revoking an already revoked one is fine."""
        ...

    def probe(self, secret: str) -> ProbeResult:
        """Whether `secret` is accepted by the provider now."""
        ...
