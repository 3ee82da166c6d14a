"""Every error keyturn ends a command with: a one-line message, a hint, a documented exit code.

One module holds them all, so the exit codes (docs/exit-codes.md) are decided in one place: each
class carries its code, and a raise may pass another one (`exit_code=`) instead of changing an
instance later.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """keyturn's exit codes (documented in docs/exit-codes.md)."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    N8N = 3
    NOT_FOUND = 4
    PROVIDER = 5
    ROTATION_FAILED = 6
    BUSY = 7  # another process holds the credential's rotation (its owner is named)
    INTERNAL = 70
    INTERRUPTED = 130


class KeyturnError(Exception):
    """An error the user can act on: what happened, and what to do about it."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


# -- settings and input ------------------------------------------------------------------------


class ConfigError(KeyturnError):
    """keyturn.toml, environment or command-line settings are missing or wrong."""

    exit_code = ExitCode.USAGE


class MissingExtra(ConfigError):
    """An optional dependency (an extra such as keyturn[aws]) is not installed."""


class CredentialNotFound(KeyturnError):
    """No credential, rotation or journal entry answers to the name or id given."""

    exit_code = ExitCode.NOT_FOUND


# -- n8n ---------------------------------------------------------------------------------------


class N8nError(KeyturnError):
    exit_code = ExitCode.N8N


class N8nUnreachable(N8nError):
    """No HTTP answer: connection refused, DNS, TLS or timeout."""


class N8nAuthError(N8nError):
    """401: the API key is wrong, expired or deleted."""


class N8nScopeError(N8nError):
    """403: the API key lacks a scope the operation needs."""

    def __init__(self, message: str, hint: str | None, scope: str | None) -> None:
        super().__init__(message, hint)
        self.scope = scope


class N8nNotFound(N8nError):
    """404: no such credential, workflow or execution."""

    exit_code = ExitCode.NOT_FOUND


class N8nUnsupported(N8nError):
    """405 (or an unknown route): this n8n does not offer the operation."""


class N8nApiError(N8nError):
    """Any other refusal (400, 409, 5xx after retries, an answer that is not n8n's API)."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class RestartFailed(KeyturnError):
    """The configured restart command failed, or n8n did not come back ready."""

    exit_code = ExitCode.N8N


# -- providers and secret locations -----------------------------------------------------------


class ProviderError(KeyturnError):
    """A key provider refused or failed (issue, revoke, probe)."""

    exit_code = ExitCode.PROVIDER


class StoreError(KeyturnError):
    """A secret location (file, .env, Vault) cannot be read or written."""

    exit_code = ExitCode.PROVIDER


# -- rotation ----------------------------------------------------------------------------------


class RotationBusy(KeyturnError):
    """Another rotation of the same credential is in flight, or another process holds it."""

    exit_code = ExitCode.BUSY


class RollbackRefused(KeyturnError):
    """A rollback would put back a key that may already be revoked: only forward is safe."""

    exit_code = ExitCode.USAGE


class StrategyError(KeyturnError):
    """Updating the credential in n8n (in place or replace-and-repoint) failed."""

    exit_code = ExitCode.ROTATION_FAILED


class RotationFailed(KeyturnError):
    """The rotation was rolled back: n8n and the provider are as they were."""

    exit_code = ExitCode.ROTATION_FAILED


class RotationPaused(KeyturnError):
    """The rotation could neither finish nor roll back now; the journal keeps it for later."""

    exit_code = ExitCode.N8N


def missing_extra(exc: ModuleNotFoundError, extra: str, what: str) -> KeyturnError:
    """The error for an optional dependency that is not installed (re-raises anything else)."""
    missing = (exc.name or "").split(".")[0]
    if not missing or missing == "keyturn":
        raise exc
    return MissingExtra(
        f"{what} needs the Python package {missing!r}, which is not installed.",
        f"Install keyturn with that extra: pip install 'keyturn[{extra}]'.",
    )
