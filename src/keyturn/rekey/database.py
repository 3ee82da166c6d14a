"""n8n's database, SQLite or PostgreSQL, found the way n8n finds it.

SQLite: `DB_SQLITE_DATABASE` (default `database.sqlite`) in n8n's folder, or `--database-url
sqlite:///PATH`. PostgreSQL: `--database-url postgresql://USER@HOST:PORT/DB`, else n8n's own
`DB_POSTGRESDB_*` variables. A password is never part of a URL on the command line (it would
show in `ps`): it comes from `DB_POSTGRESDB_PASSWORD_FILE`, `DB_POSTGRESDB_PASSWORD` or
`PGPASSWORD`. `DB_TABLE_PREFIX` and `DB_POSTGRESDB_SCHEMA` are honoured.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keyturn.core.errors import ConfigError, ExitCode, KeyturnError, missing_extra
from keyturn.core.files import read_secret_file
from keyturn.core.redact import redact, register_secret

SQLITE = "sqlite"
POSTGRES = "postgresdb"
RowKey = tuple[tuple[str, Any], ...]  # the primary key of a row: ((column, value), ...)


class DatabaseError(KeyturnError):
    exit_code = ExitCode.N8N


@dataclass(frozen=True)
class Target:
    """Where n8n's database is: safe to show (no password)."""

    kind: str
    sqlite_path: Path | None = None
    url: sa.URL | None = None
    schema: str | None = None
    prefix: str = ""
    connect_args: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        prefix = f", tables {self.prefix}*" if self.prefix else ""
        if self.sqlite_path is not None:
            return f"SQLite {self.sqlite_path}" + (f" ({prefix[2:]})" if prefix else "")
        assert self.url is not None
        where = f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database}"
        schema = f"schema {self.schema}" if self.schema and self.schema != "public" else ""
        details = ", ".join(part for part in (schema, prefix[2:]) if part)
        return f"PostgreSQL {self.url.username or ''}@{where}" + (
            f" ({details})" if details else ""
        )


def find_target(n8n_dir: Path, database_url: str | None, env: Mapping[str, str]) -> Target:
    prefix = env.get("DB_TABLE_PREFIX", "")
    if database_url:
        return _from_url(database_url, env, prefix)
    kind = env.get("DB_TYPE", SQLITE).lower()
    if kind in ("postgresdb", "postgres", "postgresql"):
        return _postgres_from_env(env, prefix)
    if kind != SQLITE:
        raise ConfigError(
            f"DB_TYPE={kind} is not supported by keyturn rekey (n8n 2.x runs on SQLite and "
            "PostgreSQL only).",
            "Migrate n8n to PostgreSQL or SQLite first.",
        )
    path = Path(env.get("DB_SQLITE_DATABASE", "database.sqlite"))
    path = path if path.is_absolute() else n8n_dir / path
    return Target(SQLITE, sqlite_path=path.resolve(), prefix=prefix)


def _from_url(text: str, env: Mapping[str, str], prefix: str) -> Target:
    try:
        url = sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(
            "--database-url is not a database URL.",
            "Use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE.",
        ) from None
    if url.password is not None or "password" in url.query:
        raise ConfigError(
            "--database-url holds a password: it would show in `ps` and in shell history.",
            "Leave it out of the URL and set DB_POSTGRESDB_PASSWORD_FILE (or PGPASSWORD).",
        )
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise ConfigError("--database-url names no SQLite file.", "Use sqlite:///PATH.")
        return Target(SQLITE, sqlite_path=Path(url.database).resolve(), prefix=prefix)
    if backend != "postgresql":
        raise ConfigError(
            f"--database-url is a {backend} URL; keyturn rekey supports SQLite and PostgreSQL.",
            "Use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE.",
        )
    url = url.set(drivername="postgresql+psycopg", password=_postgres_password(env))
    schema = env.get("DB_POSTGRESDB_SCHEMA", "public")
    return Target(POSTGRES, url=url, schema=schema, prefix=prefix, connect_args=_ssl_args(env))


def _postgres_from_env(env: Mapping[str, str], prefix: str) -> Target:
    try:
        port = int(env.get("DB_POSTGRESDB_PORT", "5432"))
    except ValueError:
        raise ConfigError(
            "DB_POSTGRESDB_PORT is not a port number.", "Fix it in n8n's environment."
        ) from None
    url = sa.URL.create(
        "postgresql+psycopg",
        username=env.get("DB_POSTGRESDB_USER", "postgres"),
        password=_postgres_password(env),
        host=env.get("DB_POSTGRESDB_HOST", "localhost"),
        port=port,
        database=env.get("DB_POSTGRESDB_DATABASE", "n8n"),
    )
    schema = env.get("DB_POSTGRESDB_SCHEMA", "public")
    return Target(POSTGRES, url=url, schema=schema, prefix=prefix, connect_args=_ssl_args(env))


def _postgres_password(env: Mapping[str, str]) -> str | None:
    password: str | None = None
    if env.get("DB_POSTGRESDB_PASSWORD_FILE"):
        password = read_secret_file(
            Path(env["DB_POSTGRESDB_PASSWORD_FILE"]), "DB_POSTGRESDB_PASSWORD_FILE"
        )
    elif env.get("DB_POSTGRESDB_PASSWORD"):
        password = env["DB_POSTGRESDB_PASSWORD"]
    register_secret(password)
    return password  # None: libpq reads PGPASSWORD or ~/.pgpass itself


def _ssl_args(env: Mapping[str, str]) -> dict[str, str]:
    """n8n's DB_POSTGRESDB_SSL_* settings as libpq parameters."""
    args: dict[str, str] = {}
    enabled = env.get("DB_POSTGRESDB_SSL_ENABLED", "").lower() == "true"
    ca = env.get("DB_POSTGRESDB_SSL_CA", "")
    if enabled or ca:
        verify = env.get("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "true").lower() != "false"
        args["sslmode"] = "verify-full" if verify else "require"
        if verify and not ca:
            args["sslrootcert"] = "system"  # the system's CAs, as n8n (Node) verifies
    for variable, parameter in (("CA", "sslrootcert"), ("CERT", "sslcert"), ("KEY", "sslkey")):
        if env.get(f"DB_POSTGRESDB_SSL_{variable}"):
            args[parameter] = env[f"DB_POSTGRESDB_SSL_{variable}"]
    return args


class N8nDatabase:
    """n8n's tables, read and written with SQLAlchemy Core."""

    def __init__(self, target: Target) -> None:
        # Its debug logs would show rows before keyturn reads them (and registers secrets).
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        self.target = target
        self.engine = self._engine()
        self._tables: dict[str, sa.Table | None] = {}

    def _engine(self) -> Engine:
        target = self.target
        if target.sqlite_path is not None:
            if not target.sqlite_path.is_file():
                raise ConfigError(
                    f"n8n's database {target.sqlite_path} does not exist.",
                    "Pass n8n's folder (the one holding config and database.sqlite) as "
                    "--n8n-dir, or --database-url.",
                )
            url = sa.URL.create("sqlite", database=str(target.sqlite_path))
            engine = sa.create_engine(url, poolclass=sa.NullPool)
            sa.event.listen(engine, "connect", _sqlite_manual_transactions)
            sa.event.listen(engine, "begin", _sqlite_begin_immediate)
            return engine
        assert target.url is not None
        try:
            return sa.create_engine(
                target.url, poolclass=sa.NullPool, connect_args=dict(target.connect_args)
            )
        except ModuleNotFoundError as exc:
            raise missing_extra(exc, "postgres", "n8n's database in PostgreSQL") from None

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except sa.exc.OperationalError as exc:
            if "database is locked" in str(exc.orig):
                from keyturn.rekey.running import N8nRunning

                raise N8nRunning(
                    f"{self.target.describe()} is locked by another process (n8n?).",
                    "Stop every n8n process, then run keyturn rekey again.",
                ) from None
            raise DatabaseError(
                f"n8n's database ({self.target.describe()}) failed: {_first_line(exc)}",
                "Check that the database is reachable with these settings.",
            ) from None
        except sa.exc.DatabaseError as exc:  # not a database, damaged, a missing right
            raise DatabaseError(
                f"n8n's database ({self.target.describe()}) cannot be used: {_first_line(exc)}",
                "Check --n8n-dir or --database-url, and the database's rights.",
            ) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything in it commits together or not at all."""
        with self.connect() as connection, connection.begin():
            yield connection

    def table(self, connection: Connection, name: str) -> sa.Table | None:
        """n8n's table `name` (with its prefix), or None when this database has none. Read
        through `connection`: another one would wait for its lock."""
        if name not in self._tables:
            full = self.target.prefix + name
            if not sa.inspect(connection).has_table(full, schema=self.target.schema):
                self._tables[name] = None
            else:
                self._tables[name] = sa.Table(
                    full, sa.MetaData(), schema=self.target.schema, autoload_with=connection
                )
        return self._tables[name]

    def close(self) -> None:
        self.engine.dispose()


def _first_line(exc: sa.exc.DBAPIError) -> str:
    lines = redact(str(exc.orig)).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def row_key(table: sa.Table, row: Any) -> RowKey:
    return tuple((column.name, row._mapping[column.name]) for column in table.primary_key)


def where_key(table: sa.Table, key: RowKey) -> Any:
    return sa.and_(*(table.c[name] == value for name, value in key))


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN would be deferred


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock before reading
