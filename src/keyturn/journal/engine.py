"""Where keyturn keeps its journal: a SQLite file (mode 0600) or PostgreSQL by URL.

The state folder's SQLite file is created (0600) on the first connection, not before: a command
that stops earlier (a bad master key, say) leaves the state folder as it found it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from keyturn.core.crypto import (
    JOURNAL_FILE_NAME,
    ensure_private_dir,
    state_dir,
    state_folder_error,
)
from keyturn.core.errors import ConfigError, missing_extra
from keyturn.core.files import create_private_file
from keyturn.core.redact import register_secret

DB_FILE_NAME = JOURNAL_FILE_NAME
SQLITE_HEADER = b"SQLite format 3\x00"


def database_url(folder: Path | None = None) -> str:
    """`KEYTURN_DATABASE_URL` (e.g. postgresql+psycopg://...), else the SQLite file."""
    explicit = os.environ.get("KEYTURN_DATABASE_URL", "").strip()
    if explicit:
        return explicit
    return f"sqlite:///{(folder or state_dir()) / DB_FILE_NAME}"


def make_engine(url: str | None = None) -> Engine:
    in_state_folder = url is None and not os.environ.get("KEYTURN_DATABASE_URL", "").strip()
    url = url or database_url()
    if "@" in url:  # a password in the URL must never reach a log line
        register_secret(url.split("://", 1)[-1].split("@", 1)[0].partition(":")[2])
    try:
        engine = create_engine(url, future=True)
    except ModuleNotFoundError as exc:
        if exc.name == "psycopg":
            raise missing_extra(exc, "postgres", "A journal in PostgreSQL") from None
        raise ConfigError(
            f"Cannot use the journal database: its driver {exc.name!r} is not installed.",
            "Write the URL as postgresql+psycopg://user:pass@host/db and install "
            "'keyturn[postgres]'.",
        ) from None
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError(
            f"Cannot use the journal database ({type(exc).__name__}: {exc}).",
            "Check KEYTURN_DATABASE_URL (postgresql+psycopg://user:pass@host/db) "
            "or KEYTURN_STATE_DIR.",
        ) from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _refuse_what_is_not_sqlite(Path(database))
        if in_state_folder:
            event.listen(engine, "do_connect", _create_state_file(Path(database)))
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _refuse_what_is_not_sqlite(path: Path) -> None:
    """A journal file that is not SQLite (damaged, or another file): one line, before SQLite
    or Alembic touch it."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return  # nothing there yet (or not a file: the connection says so)
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the journal {path} ({exc.strerror or type(exc).__name__}).",
            "Run keyturn as a user who may read it, or point KEYTURN_STATE_DIR elsewhere.",
        ) from None
    if header and header != SQLITE_HEADER:
        raise ConfigError(
            f"The journal {path} is not a SQLite database (damaged, or another file).",
            "Restore it from a backup, or move it away to start a new journal there.",
        )


def _create_state_file(path: Path) -> Callable[..., None]:
    """Before the first connection: the state folder (0700) and the empty journal file (0600)."""

    def create(*_args: object) -> None:
        ensure_private_dir(path.parent)
        try:
            with contextlib.suppress(FileExistsError):  # another keyturn made it first
                create_private_file(path, b"")
        except OSError as exc:
            raise state_folder_error(path, exc) from None

    return create


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout=10000")  # first: the pragmas below may wait for a lock
    # A read-only journal (doctor, status, history by another user) keeps the mode it has.
    with contextlib.suppress(sqlite3.OperationalError):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def journal_exists() -> bool:
    """Whether a journal is configured or already written (reading commands need not make one)."""
    return bool(os.environ.get("KEYTURN_DATABASE_URL", "").strip()) or (
        (state_dir() / DB_FILE_NAME).exists()
    )
