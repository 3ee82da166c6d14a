"""Locations on this machine: a file that holds only the secret (Docker secrets style), one
variable of a .env file, an environment variable, standard input, and the generator."""

from __future__ import annotations

import os
import secrets
import string
import sys
from pathlib import Path
from typing import TextIO

from keyturn.core.dotenv import dotenv_values_of, is_variable_name, last_assignment, quote_like
from keyturn.core.errors import StoreError
from keyturn.core.files import (
    check_writable,
    create_private_file,
    editing,
    read_secret_file,
    write_atomically,
    write_target,
)
from keyturn.core.redact import register_secret


class FileStore:
    """A file holding the secret alone (a trailing newline is kept if there was one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file:{self.path}"

    def preflight(self, value: str | None = None) -> None:
        check_writable(self.path)

    def read_current(self) -> str | None:
        if not self.path.exists():
            return None
        value = read_secret_file(self.path, self.describe(), allow_empty=True)
        register_secret(value)
        return value or None

    def read_required(self) -> str:
        """The secret as a source: a missing, unreadable or empty file is a clear error."""
        value = read_secret_file(self.path, self.describe())
        register_secret(value)
        return value

    def write(self, secret: str) -> None:
        newline = "\n" if self.path.exists() and self.path.read_text().endswith("\n") else ""
        write_atomically(self.path, secret + newline)

    def discard_backup(self) -> None:
        """Nothing to remove: the file is replaced without a copy."""


class EnvFileStore:
    """One variable of a .env file, read as python-dotenv reads it (the last assignment wins)
    and updated in place under a lock: comments, order and quoting are kept, and the file is
    backed up (created 0600) before the first change, until the rotation finishes."""

    def __init__(self, path: Path, variable: str) -> None:
        if not is_variable_name(variable):
            raise StoreError(f"{variable!r} is not a .env variable name.", "Use env-file:PATH#VAR.")
        self.path = path
        self.variable = variable

    def describe(self) -> str:
        return f"env-file:{self.path}#{self.variable}"

    @property
    def backup(self) -> Path:
        """The copy of the file from before the rotation, beside the file (a symlink's target)."""
        target = write_target(self.path)
        return target.with_name(target.name + ".keyturn.bak")

    def preflight(self, value: str | None = None) -> None:
        check_writable(self.path)
        if not self.path.is_file():
            raise StoreError(f"{self.path} does not exist.", "Fix the env-file path.")
        if last_assignment(self._text(), self.variable) is None:
            raise StoreError(
                f"{self.path} has no variable {self.variable}.",
                "Add it (with the current value) or fix the name.",
            )
        if value is not None:
            self._with_value(self._text(), value)

    def _text(self) -> str:
        """The file as written (CRLF line ends kept, so a rewrite keeps them too)."""
        try:
            with self.path.open(encoding="utf-8", newline="") as handle:
                return handle.read()
        except FileNotFoundError:
            raise StoreError(f"{self.path} does not exist.", "Fix the env-file path.") from None
        except OSError as exc:
            raise StoreError(
                f"Cannot read {self.path}: {exc.strerror}.", "Check its permissions."
            ) from None
        except UnicodeDecodeError:
            raise StoreError(
                f"{self.path} is not UTF-8 text.", "Check the env-file path."
            ) from None

    def read_current(self) -> str | None:
        found = last_assignment(self._text(), self.variable)
        if found is None:
            return None
        register_secret(found.value)
        return found.value or None

    def write(self, secret: str) -> None:
        with editing(self.path):
            text = self._text()
            updated = self._with_value(text, secret)
            self._back_up(text)
            write_atomically(self.path, updated)

    def _with_value(self, text: str, secret: str) -> str:
        """`text` with the variable's last assignment set to `secret`; checked by reading it
        back as python-dotenv does (nothing else may change)."""
        found = last_assignment(text, self.variable)
        if found is None:
            raise StoreError(f"{self.path} no longer has a variable {self.variable}.", None)
        quoted = quote_like(found.written, secret)
        if quoted is None:
            raise StoreError(
                f"The new value of {self.variable} holds a `$` and characters that need double "
                f"quotes; docker compose and python-dotenv read no quoting of it alike.",
                "Issue a value without `$` (or without quotes, backslashes and line breaks), "
                "or write it back to a file: location.",
            )
        updated = text[: found.start] + quoted + text[found.end :]
        if dotenv_values_of(updated) != {**dotenv_values_of(text), self.variable: secret}:
            raise StoreError(
                f"keyturn cannot rewrite {self.variable} in {self.path} so that it reads back "
                "unchanged; the file was left as it was.",
                "Simplify that line (one KEY=VALUE), then run keyturn again.",
            )
        return updated

    def _back_up(self, text: str) -> None:
        """Keep the file from before the first change (a rollback's write keeps it as it is)."""
        try:
            create_private_file(self.backup, text.encode("utf-8"))
        except FileExistsError:
            return
        except OSError as exc:
            raise StoreError(
                f"Cannot back up {self.path} to {self.backup}: {exc.strerror}.",
                "Check the folder's permissions.",
            ) from None

    def discard_backup(self) -> None:
        """Remove the backup once the rotation has finished: it holds the old secret."""
        try:
            self.backup.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot remove {self.backup}: {exc.strerror}.",
                "Delete it by hand: it holds the previous secret.",
            ) from None


class EnvVarLocation:
    """An environment variable of keyturn's own process (read-only)."""

    def __init__(self, variable: str) -> None:
        self.variable = variable

    def describe(self) -> str:
        return f"env:{self.variable}"

    def read_current(self) -> str | None:
        value = os.environ.get(self.variable, "").strip()
        register_secret(value)
        return value or None


class StdinLocation:
    """Standard input, read once (read-only)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def describe(self) -> str:
        return "stdin"

    def read_current(self) -> str | None:
        value = (self.stream or sys.stdin).read().strip()
        register_secret(value)
        return value or None


class GeneratedLocation:
    """A new random value of letters and digits (read-only: each read is a new value)."""

    ALPHABET = string.ascii_letters + string.digits

    def __init__(self, length: int) -> None:
        self.length = length

    def describe(self) -> str:
        return f"generate:{self.length}"

    def read_current(self) -> str | None:
        value = "".join(secrets.choice(self.ALPHABET) for _ in range(self.length))
        register_secret(value)
        return value
