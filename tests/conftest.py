"""Shared fixtures: a real n8n (once per session), the demo provider, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from keyturn.config import N8nConnection
from keyturn.n8n.client import N8nClient
from keyturn.n8n.errors import N8nApiError, N8nNotFound
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.install import cache_dir
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.sandbox.workflows import DemoProviderClient
from tests.helpers import wait_until

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld-workflows"


def realworld_files() -> list[Path]:
    """The community workflow exports in ../shared: 395 files, one named `*.j` (cut short)."""
    root = Path(os.environ.get("KEYTURN_REALWORLD_DIR", REALWORLD))
    assert root.is_dir(), (
        f"{root} is missing: clone keyturn beside shared/ or set KEYTURN_REALWORLD_DIR"
    )
    return sorted(path for path in root.rglob("*") if path.is_file() and path.suffix != ".md")


@dataclass
class N8nHandle:
    server: LocalN8n
    client: N8nClient

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_key(self) -> str:
        return self.server.api_key

    def env(self) -> dict[str, str]:
        return {"KEYTURN_N8N_URL": self.url, "KEYTURN_N8N_API_KEY": self.api_key}


@pytest.fixture(scope="session")
def n8n_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalN8n]:
    server = LocalN8n(user_folder=tmp_path_factory.mktemp("n8n"))
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start n8n: {exc}\n--- n8n log ---\n{server.log_tail(60)}")
    yield server
    server.stop()


def connection_for(server: LocalN8n, api_key: str | None = None) -> N8nConnection:
    return N8nConnection(
        name="test",
        url=server.url,
        api_key=SecretStr(api_key or server.api_key),
        key_source="the test's API key",
    )


def wipe(client: N8nClient) -> None:
    """Delete every workflow and credential, so each test sees only what it seeds."""
    for workflow in client.list_workflows():
        assert workflow.id is not None
        if workflow.active:
            client.deactivate_workflow(workflow.id)
        wait_until(lambda wid=workflow.id: _deleted(client, wid), timeout=30)
    for credential in client.list_credentials():
        client.delete_credential(credential.id)


def _deleted(client: N8nClient, workflow_id: str) -> bool:
    """Delete a workflow; False while n8n is still unpublishing it (409)."""
    try:
        client.delete_workflow(workflow_id)
    except N8nNotFound:
        return True
    except N8nApiError as exc:
        if exc.status == 409:
            return False
        raise
    return True


@pytest.fixture
def n8n(n8n_server: LocalN8n) -> Iterator[N8nHandle]:
    """The session's n8n, emptied for this test."""
    with N8nClient(connection_for(n8n_server)) as client:
        wipe(client)
        yield N8nHandle(n8n_server, client)


@pytest.fixture
def provider() -> Iterator[DemoProvider]:
    with DemoProvider() as server:
        yield server


@pytest.fixture
def provider_admin(provider: DemoProvider) -> DemoProviderClient:
    return DemoProviderClient(provider.url, provider.admin_token)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run the real `keyturn` command in a clean folder with a clean environment."""

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> CliResult:
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KEYTURN_", "VAULT_", "AWS_"))
        }
        base.update({"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")})
        base["COLUMNS"] = "200"
        base["KEYTURN_N8N_CACHE"] = str(cache_dir())
        completed = subprocess.run(
            [sys.executable, "-m", "keyturn", *args],
            cwd=tmp_path,
            env={**base, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return CliResult(completed.returncode, completed.stdout, completed.stderr)

    return run
