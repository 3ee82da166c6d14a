"""Errors that end a keyturn command with a clear one-line message and a documented exit code."""

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
    INTERNAL = 70
    INTERRUPTED = 130


class KeyturnError(Exception):
    """An error the user can act on: what happened, and what to do about it."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class ConfigError(KeyturnError):
    """keyturn.toml, environment or command-line settings are missing or wrong."""

    exit_code = ExitCode.USAGE
