"""Where keyturn keeps its journal: a SQLite file (mode 0600) or PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from keyturn.core.crypto import create_private_file, ensure_private_dir, state_dir
from keyturn.core.errors import ConfigError, missing_extra
from keyturn.core.redact import register_secret

DB_FILE_NAME = "keyturn.db"


def database_url(folder: Path | None = None) -> str:
    """`KEYTURN_DATABASE_URL` (e.g. postgresql+psycopg://...), else the SQLite file."""
    explicit = os.environ.get("KEYTURN_DATABASE_URL", "").strip()
    if explicit:
        return explicit
    path = ensure_private_dir(folder or state_dir()) / DB_FILE_NAME
    create_private_file(path, b"")
    return f"sqlite:///{path}"


def make_engine(url: str | None = None) -> Engine:
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
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


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
