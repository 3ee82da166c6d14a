"""Bring a journal's schema up to date (Alembic), so an older keyturn's journal is kept.

A journal already at the newest revision costs one query and imports no Alembic. A journal
written by keyturn 0.1 (tables, no revision) is recognised and stamped at the first revision,
then upgraded. Two processes upgrading at once: the second waits for the first's lock, then
finds the work done. keyturn keeps its revision in its own table (`keyturn_alembic_version`),
so a PostgreSQL schema shared with another Alembic-managed application is no problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    column,
    create_engine,
    event,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from keyturn.core.errors import ConfigError
from keyturn.core.redact import redact

HEAD = "0003"  # the newest revision in migrations/versions; a test keeps the two in step
FIRST = "0001"  # the schema keyturn 0.1 created without Alembic
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "keyturn_alembic_version"
_LOCK_KEY = 0x6B65797475726E  # "keyturn": PostgreSQL advisory lock for migrations


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision_in(connection)


def upgrade(engine: Engine) -> None:
    """Create or upgrade the journal's tables to HEAD."""
    try:
        if current_revision(engine) == HEAD:
            return  # the common case: no Alembic import
    except SQLAlchemyError as exc:
        raise _cannot_prepare(exc) from None
    from alembic.util import CommandError

    try:
        _run_alembic(engine)
    except CommandError:
        raise ConfigError(
            f"The journal was written by a newer keyturn (revision {_revision_or_none(engine)}; "
            f"this keyturn knows up to {HEAD}).",
            "Upgrade keyturn, or point KEYTURN_DATABASE_URL / KEYTURN_STATE_DIR elsewhere.",
        ) from None
    except SQLAlchemyError as exc:
        if _needs_upgrade_by_writer(engine):
            raise ConfigError(
                f"The journal needs a schema upgrade (to revision {HEAD}), and this user may not "
                f"write it ({type(exc).__name__}).",
                "Run any keyturn command once as a user who may write the journal.",
            ) from None
        raise _cannot_prepare(exc) from None


def _cannot_prepare(exc: SQLAlchemyError) -> ConfigError:
    cause = redact(str(getattr(exc, "orig", None) or exc).splitlines()[0])
    return ConfigError(
        f"Cannot prepare the journal database ({type(exc).__name__}: {cause}).",
        "Check KEYTURN_DATABASE_URL or KEYTURN_STATE_DIR, and that keyturn may write there.",
    )


def _needs_upgrade_by_writer(engine: Engine) -> bool:
    """The journal has keyturn's tables at an older revision (or 0.1's, unstamped)."""
    try:
        with engine.connect() as connection:
            return "rotations" in inspect(connection).get_table_names()
    except SQLAlchemyError:
        return False


def _revision_or_none(engine: Engine) -> str | None:
    try:
        return current_revision(engine)
    except SQLAlchemyError:
        return None


def _run_alembic(engine: Engine) -> None:
    """One transaction under an exclusive lock: a crash leaves nothing half-made, and a second
    process waits, then finds the work done."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    locked = _locking_engine(engine)
    try:
        with locked.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if _revision_in(connection) == HEAD:
                return
            config.attributes["connection"] = connection
            if _written_by_keyturn_0_1(connection):
                command.stamp(config, FIRST)
            command.upgrade(config, "head")
    finally:
        if locked is not engine:
            locked.dispose()


def _locking_engine(engine: Engine) -> Engine:
    """For SQLite, an engine whose transactions start with BEGIN IMMEDIATE (the write lock) and
    include DDL (Python's sqlite3 would otherwise commit before each CREATE TABLE)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # PostgreSQL locks itself; an in-memory database has one user
    locked = create_engine(engine.url, poolclass=NullPool)

    @event.listens_for(locked, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(locked, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return locked


def _revision_in(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    query = select(column("version_num", String)).select_from(table(VERSION_TABLE))
    return connection.execute(query).scalar()


def _written_by_keyturn_0_1(connection: Connection) -> bool:
    tables = inspect(connection).get_table_names()
    return "rotations" in tables and VERSION_TABLE not in tables
