"""Locations on this machine: a file that holds only the secret (Docker secrets style), one
variable of a .env file, an environment variable, standard input, and the generator."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import string
import sys
from pathlib import Path
from typing import TextIO

from keyturn.core.dotenv import is_variable_name, quote_like, unquote, variable_pattern
from keyturn.core.errors import StoreError
from keyturn.core.files import check_writable, read_secret_file, write_atomically
from keyturn.core.redact import register_secret


class FileStore:
    """A file holding the secret alone (a trailing newline is kept if there was one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file:{self.path}"

    def preflight(self) -> None:
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


class EnvFileStore:
    """One variable of a .env file, updated in place: comments, order and quoting are kept,
    and the file is backed up (mode 0600) before the first change."""

    def __init__(self, path: Path, variable: str) -> None:
        if not is_variable_name(variable):
            raise StoreError(f"{variable!r} is not a .env variable name.", "Use env-file:PATH#VAR.")
        self.path = path
        self.variable = variable
        self._pattern = variable_pattern(variable)

    def describe(self) -> str:
        return f"env-file:{self.path}#{self.variable}"

    def preflight(self) -> None:
        check_writable(self.path)
        if not self.path.is_file():
            raise StoreError(f"{self.path} does not exist.", "Fix the env-file path.")
        if self._match(self._text()) is None:
            raise StoreError(
                f"{self.path} has no variable {self.variable}.",
                "Add it (with the current value) or fix the name.",
            )

    def _match(self, text: str) -> re.Match[str] | None:
        return self._pattern.search(text)

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
        match = self._match(self._text())
        if match is None:
            return None
        value = unquote(match.group("value"))
        register_secret(value)
        return value or None

    def write(self, secret: str) -> None:
        text = self._text()
        match = self._match(text)
        if match is None:
            raise StoreError(f"{self.path} no longer has a variable {self.variable}.", None)
        backup = self.path.with_name(self.path.name + ".keyturn.bak")
        if not backup.exists():
            shutil.copyfile(self.path, backup)
            os.chmod(backup, 0o600)
        quoted = quote_like(match.group("value"), secret)
        updated = text[: match.start("value")] + quoted + text[match.end("value") :]
        write_atomically(self.path, updated)


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
