"""Start a real, throw-away n8n on 127.0.0.1 with SQLite, an owner and a public API key.

Used by the sandbox (`keyturn sandbox`), the integration tests and the benchmarks. Readiness is
waited on (`/healthz/readiness`) with a timeout; on failure the error carries the log's tail.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx

from keyturn.core.errors import KeyturnError
from keyturn.core.redact import register_secret
from keyturn.n8n.restart import wait_for_readiness
from keyturn.sandbox.install import N8N_VERSION, ensure_n8n, node_bin_dir

log = logging.getLogger(__name__)

OWNER_EMAIL = "owner@keyturn.test"
OWNER_PASSWORD = "Keyturn-Sandbox-1!"  # a loopback sandbox's throw-away owner
_LOGIN = {"emailOrLdapLoginId": OWNER_EMAIL, "password": OWNER_PASSWORD}
API_KEY_SCOPES = [
    "credential:create",
    "credential:delete",
    "credential:list",
    "credential:read",
    "credential:update",
    "credential:move",
    "workflow:create",
    "workflow:delete",
    "workflow:list",
    "workflow:read",
    "workflow:update",
    "workflow:activate",
    "workflow:deactivate",
    "execution:list",
    "execution:read",
    "execution:retry",
    "securityAudit:generate",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalN8n:
    """One n8n process with its own user folder. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        user_folder: Path | None = None,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        version: str = N8N_VERSION,
    ) -> None:
        self.version = version
        self._own_folder = user_folder is None
        self.user_folder = user_folder or Path(tempfile.mkdtemp(prefix="keyturn-n8n-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = ""
        self.extra_env = extra_env or {}
        self.log_path = self.user_folder / "n8n.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def __enter__(self) -> LocalN8n:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 240.0, *, bootstrap: bool | None = None) -> None:
        """Start n8n and wait until it is ready. With `bootstrap`, then create the owner (or log
        in as it) and a new API key in `api_key`; without, keep `api_key` as it is (a restart on
        the same folder: the old key must still work). By default, bootstrap only when there is
        no API key yet (the first start of this object)."""
        if bootstrap is None:
            bootstrap = not self.api_key
        folder = ensure_n8n(self.version)
        self.user_folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self._n8n_env(), **self.extra_env}
        env["PATH"] = f"{node_bin_dir(folder)}{os.pathsep}{env.get('PATH', '')}"
        self._log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(node_bin_dir(folder) / "n8n"), "start"],
            cwd=self.user_folder,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready(timeout)
            if bootstrap:
                self.api_key = self._bootstrap_owner_and_key()
            else:
                self._wait_for_routes()
        except BaseException:
            self.stop()
            raise

    def _n8n_env(self) -> dict[str, str]:
        key_file = self.user_folder / "encryption.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(24))
        return {
            "N8N_USER_FOLDER": str(self.user_folder),
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_ENCRYPTION_KEY": key_file.read_text(),
            "N8N_RUNNERS_BROKER_PORT": str(free_port()),
            "N8N_RUNNERS_BROKER_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_SECURE_COOKIE": "false",
            "N8N_LOG_LEVEL": "warn",
            "DB_TYPE": "sqlite",
        }

    def wait_ready(self, timeout: float) -> None:
        if wait_for_readiness(self.url, timeout, lambda: self.running):
            return
        if not self.running:
            raise KeyturnError(
                f"n8n exited while starting (code {self._exit_code()}).\n{self.log_tail()}",
                f"See {self.log_path}.",
            )
        raise KeyturnError(
            f"n8n was not ready on {self.url} within {timeout:.0f}s.\n{self.log_tail()}",
            f"See {self.log_path}.",
        )

    def _bootstrap_owner_and_key(self) -> str:
        """Create the owner (POST /rest/owner/setup) and an API key with the scopes keyturn uses."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            owner = {
                "email": OWNER_EMAIL,
                "firstName": "Keyturn",
                "lastName": "Sandbox",
                "password": OWNER_PASSWORD,
            }
            response = self._until_routes_exist(lambda: http.post("/rest/owner/setup", json=owner))
            if response.status_code >= 400:  # set up already (a reused folder): log in instead
                response = http.post("/rest/login", json=_LOGIN)
            _check(response, "owner setup")
            offered = set(_check(http.get("/rest/api-keys/scopes"), "api key scopes")["data"])
            scopes = [scope for scope in API_KEY_SCOPES if scope in offered]
            body = {"label": f"keyturn-{secrets.token_hex(3)}", "scopes": scopes, "expiresAt": None}
            created = _check(http.post("/rest/api-keys", json=body), "api key")["data"]
            api_key: str = created["rawApiKey"]
        register_secret(api_key)
        return api_key

    def _wait_for_routes(self) -> None:
        """Wait (as `_until_routes_exist`) for the REST and public API routes after a restart."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            self._until_routes_exist(lambda: http.get("/rest/login"))
            headers = {"X-N8N-API-KEY": self.api_key}
            self._until_routes_exist(lambda: http.get("/api/v1/workflows", headers=headers))

    def _until_routes_exist(
        self, call: Callable[[], httpx.Response], timeout: float = 60.0
    ) -> httpx.Response:
        """n8n 1.x answers readiness a few seconds before its REST routes exist (404 until then)."""
        deadline = time.monotonic() + timeout
        while True:
            response = call()
            if response.status_code != 404 or time.monotonic() > deadline or not self.running:
                return response
            time.sleep(0.5)  # polling for the routes, bounded by the deadline

    def create_api_key(self, scopes: list[str]) -> str:
        """Another API key, with only `scopes` (to test a missing scope)."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            _check(http.post("/rest/login", json=_LOGIN), "login")
            body = {"label": f"keyturn-{secrets.token_hex(3)}", "scopes": scopes, "expiresAt": None}
            api_key: str = _check(http.post("/rest/api-keys", json=body), "api key")["data"][
                "rawApiKey"
            ]
        register_secret(api_key)
        return api_key

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def remove(self) -> None:
        """Stop, then delete the user folder if this object created it."""
        self.stop()
        if self._own_folder:
            shutil.rmtree(self.user_folder, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no n8n log)"
        return "\n".join(text.splitlines()[-lines:])

    def _exit_code(self) -> int | None:
        return self._process.poll() if self._process else None


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise KeyturnError(
            f"n8n sandbox {what} failed: {response.status_code} {response.text[:300]}",
            "See the n8n log in the sandbox folder.",
        )
    return response.json()
