"""One rotation per credential, whoever starts it: real keyturn processes, two config routes to one
n8n (environment variables, and a keyturn.toml instance whose URL is written differently),
SQLite and PostgreSQL journals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from tests.conftest import Partner, cache_dir
from tests.helpers import wait_until
from tests.integration.test_rotate_failures import failed_runs, issued
from tests.integration.test_rotate_live import rotate_args


def with_grace(args: list[str], grace: str) -> list[str]:
    index = args.index("--grace")
    return [*args[: index + 1], grace, *args[index + 2 :]]


def second_route(partner: Partner, tmp_path: Path, journal_url: str | None) -> dict[str, str]:
    """The same n8n through keyturn.toml: `[instances.prod]` with the URL written another way
    (a trailing /api/v1/), the API key from another variable, the same journal."""
    config = tmp_path / "route-b.toml"
    config.write_text(
        (tmp_path / "keyturn.toml").read_text()
        + f'\n[instances.prod]\nurl = "{partner.n8n.url}/api/v1/"\napi_key_env = "PROD_KEY"\n'
    )
    env = {key: value for key, value in partner.env.items() if not key.startswith("KEYTURN_N8N_")}
    env.update({"PROD_KEY": partner.n8n.api_key, "KEYTURN_CONFIG": str(config)})
    env["KEYTURN_INSTANCE"] = "prod"
    if journal_url:
        env.update(postgres_journal(journal_url))
    return env


def postgres_journal(url: str) -> dict[str, str]:
    """A PostgreSQL journal, and consent to make its master key on first use."""
    return {"KEYTURN_DATABASE_URL": url, "KEYTURN_NEW_MASTER_KEY": "1"}


def start_cli(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KEYTURN_", "VAULT_"))}
    base.update({"HOME": str(tmp_path), "COLUMNS": "200"})
    base["KEYTURN_N8N_CACHE"] = str(cache_dir())
    return subprocess.Popen(
        [sys.executable, "-m", "keyturn", *args],
        cwd=tmp_path,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_two_rotations_of_one_credential_started_together(
    partner: Partner, tmp_path: Path, journal_url: str | None
) -> None:
    route_a = {**partner.env, **(postgres_journal(journal_url) if journal_url else {})}
    route_b = second_route(partner, tmp_path, journal_url)
    args = with_grace(rotate_args(partner), "3s")
    processes = [start_cli(tmp_path, args, route_a), start_cli(tmp_path, args, route_b)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes == [ExitCode.OK, ExitCode.BUSY], results
    (loser_err,) = [err for code, _, err in results if code == ExitCode.BUSY]
    assert "already being rotated" in loser_err and " pid " in loser_err
    assert len(loser_err.strip().splitlines()) == 1
    assert issued(partner) == 2  # the initial key and exactly one new one
    assert len(partner.active_keys()) == 1 and partner.call_webhook() == 200
    assert failed_runs(partner) == 0


def test_a_live_rotation_is_not_resumed_or_rolled_back_by_another_process(
    partner: Partner, tmp_path: Path, run_cli: Any
) -> None:
    route_b = second_route(partner, tmp_path, None)
    running = start_cli(tmp_path, with_grace(rotate_args(partner), "20s"), partner.env)

    def in_grace() -> bool:
        status = run_cli("status", "--json", env=route_b)
        flights = json.loads(status.stdout)["in_flight"] if status.code == 0 else []
        return bool(flights) and flights[0]["step"] == "tested"

    wait_until(in_grace, timeout=60, interval=0.3)
    for command in (["resume"], ["rollback", partner.credential_id]):
        refused = run_cli(*command, env=route_b)
        assert refused.code == ExitCode.BUSY, refused.stderr
        assert "running in another process" in refused.stderr and " pid " in refused.stderr
    code, out, err = running.wait(timeout=120), *running.communicate()
    assert code == 0, err
    assert json.loads(out)["status"] == "completed"
    assert partner.key_states()[partner.key_id] is True  # revoked once, by the owner
    assert len(partner.active_keys()) == 1 and partner.call_webhook() == 200
