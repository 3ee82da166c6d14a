"""The harness of the rekey tests, proven on real n8n: a member with MFA logs in with a TOTP code
or a recovery code (tests/n8n_people.py), a restart keeps the API key (LocalN8n.start), and n8n
runs on PostgreSQL (tests/helpers.n8n_postgres_env)."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pytest

from keyturn.sandbox.n8n_server import OWNER_EMAIL, LocalN8n
from tests.helpers import n8n_postgres_env
from tests.n8n_people import (
    MEMBER_PASSWORD,
    create_member,
    enable_mfa,
    login,
    login_with_mfa,
    login_with_recovery_code,
)

pytestmark = pytest.mark.n8n  # starts its own n8n


def _workflows_status(server: LocalN8n, api_key: str) -> int:
    headers = {"X-N8N-API-KEY": api_key}
    return httpx.get(f"{server.url}/api/v1/workflows", headers=headers, timeout=30).status_code


@pytest.mark.parametrize("version", ["2.40.7", "1.123.81"])
def test_mfa_member_and_restart_keeping_the_api_key(version: str, tmp_path: Path) -> None:
    server = LocalN8n(user_folder=tmp_path / "n8n", version=version)
    try:
        server.start()
        api_key = server.api_key
        email = "member@keyturn.test"
        create_member(server.url, email)
        user = enable_mfa(server.url, email, MEMBER_PASSWORD)
        assert user.secret and len(user.recovery_codes) == 10
        assert login(server.url, email, MEMBER_PASSWORD).status_code == 401
        assert login_with_mfa(server.url, email, MEMBER_PASSWORD, user.secret).status_code == 200
        code = user.recovery_codes[0]
        assert login_with_recovery_code(server.url, email, MEMBER_PASSWORD, code).status_code == 200
        assert login_with_recovery_code(server.url, email, MEMBER_PASSWORD, code).status_code == 401

        server.stop()
        server.start()  # the same folder: no new API key
        assert server.api_key == api_key
        assert _workflows_status(server, api_key) == 200
        assert login_with_mfa(server.url, email, MEMBER_PASSWORD, user.secret).status_code == 200
    finally:
        server.stop()


def test_n8n_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    env = n8n_postgres_env(postgres_url)
    server = LocalN8n(user_folder=tmp_path / "n8n", extra_env=env)
    try:
        server.start()
        assert _workflows_status(server, server.api_key) == 200
    finally:
        server.stop()
    assert not (tmp_path / "n8n" / ".n8n" / "database.sqlite").exists()
    conninfo = (
        f"host={env['DB_POSTGRESDB_HOST']} port={env['DB_POSTGRESDB_PORT']} "
        f"dbname={env['DB_POSTGRESDB_DATABASE']} user={env['DB_POSTGRESDB_USER']}"
    )
    with psycopg.connect(conninfo) as conn:
        emails = [row[0] for row in conn.execute('SELECT email FROM "user"')]
    assert emails == [OWNER_EMAIL]  # n8n's own tables, in its own database
