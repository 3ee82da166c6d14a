"""Typed errors for talking to n8n; each message says what happened and what to do."""

from __future__ import annotations

from keyturn.errors import ExitCode, KeyturnError


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
