"""Test helpers: wait on a condition with a timeout, never a blind sleep; the real-world exports."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from hypothesis import strategies as st

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Call `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        time.sleep(interval)  # polling interval, bounded by the deadline


# Arbitrary JSON, for property-based tests of everything that reads workflows and executions.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=60),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=30,
)


# The 395 community workflow exports: $KEYTURN_REALWORLD_DIR, else ../shared/realworld-workflows
# beside the repository (the rule of benchmarks/_realworld.py). Tests skip without them.
REALWORLD_ENV = "KEYTURN_REALWORLD_DIR"


def realworld_dir() -> Path:
    configured = os.environ.get(REALWORLD_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "realworld-workflows"


def _realworld_missing() -> str:
    return (
        f"no real-world workflow exports at {realworld_dir()}: set {REALWORLD_ENV} to their "
        "folder or put shared/realworld-workflows beside the repository"
    )


# CI sets it: there, missing exports fail the run instead of silently skipping the checks.
REQUIRE_REALWORLD = os.environ.get("KEYTURN_REQUIRE_REALWORLD") == "1"


def realworld_files() -> list[Path]:
    """The community workflow exports: 395 files, one named `*.j` (cut short).

    Skips the test when the folder is absent.
    """
    root = realworld_dir()
    if not root.is_dir():
        if REQUIRE_REALWORLD:
            pytest.fail(_realworld_missing() + " (KEYTURN_REQUIRE_REALWORLD=1)")
        pytest.skip(_realworld_missing())
    return sorted(path for path in root.rglob("*") if path.is_file() and path.suffix != ".md")


# For a test that reads the exports through something else (benchmarks/scan_corpus.py).
needs_realworld = pytest.mark.skipif(
    not realworld_dir().is_dir() and not REQUIRE_REALWORLD, reason=_realworld_missing()
)


def n8n_postgres_env(postgres_url: str, database: str | None = None) -> dict[str, str]:
    """n8n's variables for PostgreSQL (LocalN8n's extra_env) from a URL as the `postgres_url`
    fixture gives it (postgresql+psycopg://user[:password]@host:port/db, trust auth there).

    n8n gets a new, empty database of its own (`database`, else a random name), created here on
    that server: its tables (`user`, `credentials_entity`...) then never meet the journal's.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(postgres_url)
    scheme = parts.scheme.split("+", 1)[0]  # the SQLAlchemy driver suffix: not libpq's
    database = database or f"n8n_{secrets.token_hex(4)}"
    with psycopg.connect(urlunsplit(parts._replace(scheme=scheme)), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return {
        "DB_TYPE": "postgresdb",
        "DB_POSTGRESDB_HOST": parts.hostname or "127.0.0.1",
        "DB_POSTGRESDB_PORT": str(parts.port or 5432),
        "DB_POSTGRESDB_DATABASE": database,
        "DB_POSTGRESDB_USER": unquote(parts.username or "postgres"),
        "DB_POSTGRESDB_PASSWORD": unquote(parts.password or ""),
        "DB_POSTGRESDB_SCHEMA": "public",
    }
