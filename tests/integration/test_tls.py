"""TLS with a private CA: a real local HTTPS server whose certificate a `trustme` CA signed.

Without the CA bundle every call keyturn makes fails, and the error names the CA bundle setting
(never "turn verification off"); with it, the n8n API, the webhook proof, the readiness poll
and an HTTP provider all work.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from pydantic import SecretStr

from keyturn.core.config import N8nConnection
from keyturn.core.errors import ExitCode, N8nUnreachable, ProviderError, RestartFailed
from keyturn.n8n.client import N8nClient
from keyturn.n8n.restart import restart_n8n, wait_for_readiness
from keyturn.notify import Notifier
from keyturn.providers.http import HttpProvider, HttpProviderConfig
from keyturn.providers.interface import IssueContext
from keyturn.rotation.proofs import Verifier

API_KEY = "tls-test-api-key-0123456789"
ADMIN_TOKEN = "tls-test-admin-token-0123456789"
NEW_KEY = "tls-issued-key-0123456789"


@dataclass
class TlsServer:
    """An n8n-like and provider-like HTTPS endpoint on 127.0.0.1, signed by a private CA."""

    port: int
    ca_bundle: Path
    paths: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"


class _Handler(BaseHTTPRequestHandler):
    server_state: TlsServer

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server_state.paths.append(path)
        if path.startswith("/api/v1/"):
            if self.headers.get("X-N8N-API-KEY") != API_KEY:
                self._answer(401, {"message": "unauthorized"})
            else:
                self._answer(200, {"data": [], "nextCursor": None})
        elif path in ("/healthz/readiness", "/webhook/tls-proof"):
            self._answer(200, {"status": "ok"})
        elif path == "/v1/ping":
            ok = self.headers.get("X-API-Key") == NEW_KEY
            self._answer(200 if ok else 401, {"ok": ok})
        else:
            self._answer(404, {"message": "not found"})

    def do_POST(self) -> None:
        self.server_state.paths.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/admin/keys" and self.headers.get("X-Admin-Token") == ADMIN_TOKEN:
            self._answer(201, {"key": NEW_KEY, "id": "k1"})
        elif self.path == "/notify":
            self._answer(200, {"ok": True})
        else:
            self._answer(401, {"message": "unauthorized"})


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    ca_bundle = folder / "private-ca.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state = TlsServer(httpd.server_address[1], ca_bundle)
    _Handler.server_state = state
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("keyturn: error: ")
    return lines[0]


def _connection(server: TlsServer, ca_bundle: Path | None = None) -> N8nConnection:
    return N8nConnection(
        name="env",
        url=server.url,
        api_key=SecretStr(API_KEY),
        key_source="KEYTURN_N8N_API_KEY",
        max_attempts=1,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
    )


# -- n8n's API, through the command line ---------------------------------------------------------


def test_n8n_over_a_private_ca_fails_naming_the_ca_bundle_setting(
    tls_server: TlsServer, run_cli: Any
) -> None:
    env = {"KEYTURN_N8N_URL": tls_server.url, "KEYTURN_N8N_API_KEY": API_KEY}
    result = run_cli("inventory", "--json", env=env)
    assert result.code == ExitCode.N8N, result.stderr
    line = _one_line_error(result.stderr)
    assert "TLS" in line and "KEYTURN_N8N_CA_BUNDLE" in line
    assert "false" not in line.lower()  # never a hint to turn verification off


def test_n8n_over_a_private_ca_works_with_keyturn_n8n_ca_bundle(
    tls_server: TlsServer, run_cli: Any
) -> None:
    env = {
        "KEYTURN_N8N_URL": tls_server.url,
        "KEYTURN_N8N_API_KEY": API_KEY,
        "KEYTURN_N8N_CA_BUNDLE": str(tls_server.ca_bundle),
    }
    result = run_cli("inventory", "--json", env=env)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["credentials"] == []


def test_instance_ca_bundle_in_keyturn_toml(
    tls_server: TlsServer, run_cli: Any, tmp_path: Path
) -> None:
    config = f'[instances.prod]\nurl = "{tls_server.url}"\napi_key_env = "PROD_KEY"\n'
    (tmp_path / "keyturn.toml").write_text(config)
    failed = run_cli("inventory", "--instance", "prod", env={"PROD_KEY": API_KEY})
    assert failed.code == ExitCode.N8N
    assert "instances.prod.ca_bundle" in _one_line_error(failed.stderr)

    (tmp_path / "keyturn.toml").write_text(config + f'ca_bundle = "{tls_server.ca_bundle}"\n')
    result = run_cli("inventory", "--instance", "prod", "--json", env={"PROD_KEY": API_KEY})
    assert result.code == 0, result.stderr


def test_a_ca_bundle_that_is_missing_or_not_pem_is_one_line(
    tls_server: TlsServer, run_cli: Any, tmp_path: Path
) -> None:
    env = {"KEYTURN_N8N_URL": tls_server.url, "KEYTURN_N8N_API_KEY": API_KEY}
    missing = run_cli("inventory", env={**env, "KEYTURN_N8N_CA_BUNDLE": str(tmp_path / "nope")})
    assert missing.code == ExitCode.USAGE
    assert "KEYTURN_N8N_CA_BUNDLE" in _one_line_error(missing.stderr)

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    bad = run_cli("inventory", env={**env, "KEYTURN_N8N_CA_BUNDLE": str(garbage)})
    assert bad.code == ExitCode.USAGE
    line = _one_line_error(bad.stderr)
    assert str(garbage) in line and "KEYTURN_N8N_CA_BUNDLE" in line


def test_n8n_client_error_names_the_ca_bundle(tls_server: TlsServer) -> None:
    with N8nClient(_connection(tls_server)) as client, pytest.raises(N8nUnreachable) as info:
        client.list_credentials()
    assert "KEYTURN_N8N_CA_BUNDLE" in str(info.value)
    assert "false" not in str(info.value).lower()


# -- the webhook proof and the readiness poll use the connection's TLS settings ------------------


def test_webhook_proof_uses_the_connection_ca_bundle(tls_server: TlsServer) -> None:
    with N8nClient(_connection(tls_server, tls_server.ca_bundle)) as client:
        check = Verifier(client, None, webhook_timeout=5)._call_webhook("tls-proof")
    assert check.ok, check.detail
    with N8nClient(_connection(tls_server)) as client:
        refused = Verifier(client, None, webhook_timeout=5)._call_webhook("tls-proof")
    assert not refused.ok


def test_readiness_poll_uses_the_ca_bundle(tls_server: TlsServer) -> None:
    assert wait_for_readiness(tls_server.url, 10, verify=str(tls_server.ca_bundle))
    assert not wait_for_readiness(tls_server.url, 1)


def test_restart_waits_for_readiness_over_tls(tls_server: TlsServer) -> None:
    restart_n8n("true", tls_server.url, timeout=10, verify=str(tls_server.ca_bundle))
    with pytest.raises(RestartFailed) as info:
        restart_n8n("true", tls_server.url, timeout=1)
    assert "TLS" in str(info.value) and "CA bundle" in str(info.value)
    assert "false" not in str(info.value).lower()


# -- an HTTP provider with its own CA bundle -----------------------------------------------------


def _provider(server: TlsServer, **tls: Any) -> HttpProvider:
    config = HttpProviderConfig.model_validate(
        {
            "admin_token_env": "TLS_ADMIN_TOKEN",
            "admin_header": "X-Admin-Token",
            "admin_scheme": "",
            "max_attempts": 1,
            "issue": {"url": f"{server.url}/admin/keys", "secret_path": "key", "key_id_path": "id"},
            "probe": {"url": f"{server.url}/v1/ping", "auth": "header:X-API-Key"},
            **tls,
        }
    )
    return HttpProvider("partner", config)


def test_provider_over_a_private_ca_fails_naming_its_ca_bundle(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLS_ADMIN_TOKEN", ADMIN_TOKEN)
    context = IssueContext("tok-1", "c1", "Partner")
    with pytest.raises(ProviderError) as info:
        _provider(tls_server).issue(context)
    assert "providers.partner.ca_bundle" in str(info.value)
    assert "false" not in str(info.value).lower()
    probe = _provider(tls_server).probe(NEW_KEY)
    assert not probe.ok and "providers.partner.ca_bundle" in probe.detail


def test_provider_ca_bundle_works(tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLS_ADMIN_TOKEN", ADMIN_TOKEN)
    provider = _provider(tls_server, ca_bundle=str(tls_server.ca_bundle))
    issued = provider.issue(IssueContext("tok-2", "c1", "Partner"))
    assert issued.value == NEW_KEY and issued.key_id == "k1"
    assert provider.probe(NEW_KEY).ok
    as_verify_tls = _provider(tls_server, verify_tls=str(tls_server.ca_bundle))
    assert as_verify_tls.probe(NEW_KEY).ok


# -- notifications -------------------------------------------------------------------------------


def test_notifications_use_their_ca_bundle(
    tls_server: TlsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    table = {"webhook_url": f"{tls_server.url}/notify", "on": ["success"]}
    Notifier.from_config(table).notify("success", {"credential_id": "c1"})
    assert "notifications.ca_bundle" in caplog.text  # not delivered, and the setting is named
    assert "/notify" not in tls_server.paths

    trusted = {**table, "ca_bundle": str(tls_server.ca_bundle)}
    Notifier.from_config(trusted).notify("success", {"credential_id": "c1"})
    assert tls_server.paths.count("/notify") == 1
