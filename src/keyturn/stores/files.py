"""File stores: a file that holds only the secret (Docker secrets style), and a .env variable."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from keyturn.redact import register_secret
from keyturn.stores.interface import StoreError


def write_atomically(path: Path, content: str) -> None:
    """Write `content` to `path` via a temporary file and a rename, keeping the file's mode."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise StoreError(
            f"Cannot write next to {path}: {exc.strerror}.", "Check the folder's permissions."
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StoreError(
            f"Cannot write {path}: {exc.strerror}.", "Check its permissions."
        ) from None


def _check_writable(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise StoreError(f"The folder of {path} does not exist.", "Create it, or fix the path.")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoreError(
            f"{path} is not writable by this user.",
            "Fix its permissions, or run keyturn as its owner.",
        )


class FileStore:
    """A file holding the secret alone (a trailing newline is kept if there was one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file:{self.path}"

    def preflight(self) -> None:
        _check_writable(self.path)

    def read_current(self) -> str | None:
        try:
            value = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read {self.path}: {exc.strerror}.", None) from None
        register_secret(value)
        return value or None

    def write(self, secret: str) -> None:
        newline = "\n" if self.path.exists() and self.path.read_text().endswith("\n") else ""
        write_atomically(self.path, secret + newline)


_ASSIGNMENT = (
    r"^(?P<lead>[ \t]*(?:export[ \t]+)?{name}[ \t]*=[ \t]*)"
    r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^ \t#\n]*)"
    r"(?P<trail>[ \t]*(?:#.*)?)$"
)


class EnvFileStore:
    """One variable of a .env file, updated in place: comments, order and quoting are kept,
    and the file is backed up (mode 0600) before the first change."""

    def __init__(self, path: Path, variable: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", variable):
            raise StoreError(f"{variable!r} is not a .env variable name.", "Use env-file:PATH#VAR.")
        self.path = path
        self.variable = variable
        self._pattern = re.compile(_ASSIGNMENT.format(name=re.escape(variable)), re.MULTILINE)

    def describe(self) -> str:
        return f"env-file:{self.path}#{self.variable}"

    def preflight(self) -> None:
        _check_writable(self.path)
        if not self.path.is_file():
            raise StoreError(f"{self.path} does not exist.", "Fix the env-file path.")
        if self._match(self.path.read_text(encoding="utf-8")) is None:
            raise StoreError(
                f"{self.path} has no variable {self.variable}.",
                "Add it (with the current value) or fix the name.",
            )

    def _match(self, text: str) -> re.Match[str] | None:
        return self._pattern.search(text)

    def read_current(self) -> str | None:
        match = self._match(self.path.read_text(encoding="utf-8"))
        if match is None:
            return None
        value = _unquote(match.group("value"))
        register_secret(value)
        return value or None

    def write(self, secret: str) -> None:
        text = self.path.read_text(encoding="utf-8")
        match = self._match(text)
        if match is None:
            raise StoreError(f"{self.path} no longer has a variable {self.variable}.", None)
        backup = self.path.with_name(self.path.name + ".keyturn.bak")
        if not backup.exists():
            shutil.copyfile(self.path, backup)
            os.chmod(backup, 0o600)
        quoted = _quote_like(match.group("value"), secret)
        updated = text[: match.start("value")] + quoted + text[match.end("value") :]
        write_atomically(self.path, updated)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _quote_like(old: str, new: str) -> str:
    """Quote `new` as `old` was quoted (double quotes when the new value needs them)."""
    if len(old) >= 2 and old[0] == old[-1] and old[0] in "'\"":
        return f"{old[0]}{new}{old[0]}"
    if re.search(r"[\s#'\"$]", new):
        return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return new
