"""The client factory's transport rules: a secret over plain http to a remote host is warned
about once; loopback and https are not; proxies come from the environment.

A remote host over plain http cannot be served on a test machine, so those requests go to
httpx's mock transport (the warning fires before the transport is reached); the proxy test runs
a real forward proxy on loopback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from keyturn.core.config import N8nConnection
from keyturn.core.http import is_loopback, new_client
from keyturn.core.probe import AuthPlacement, probe_url
from keyturn.n8n.client import N8nClient
from keyturn.providers.http import HttpProvider, HttpProviderConfig
from keyturn.providers.interface import IssueContext

API_KEY = "transport-test-api-key-0123"


def _ok(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/admin/keys"):
        return httpx.Response(201, json={"key": "issued-key-0123456", "id": "k1"})
    return httpx.Response(200, json={"data": [], "nextCursor": None})


def _client(url: str) -> N8nClient:
    connection = N8nConnection("env", url, SecretStr(API_KEY), "KEYTURN_N8N_API_KEY")
    return N8nClient(connection, transport=httpx.MockTransport(_ok))


def _plain_http_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "plain http" in record.getMessage()
    ]


def test_api_key_over_plain_http_to_a_remote_host_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    with _client("http://n8n-once.example.test:5678") as client:
        client.list_credentials()
        client.list_workflows()
    with _client("http://n8n-once.example.test:5678") as client:
        client.list_credentials()
    warnings = _plain_http_warnings(caplog)
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "the n8n API key" in message and "http://n8n-once.example.test:5678" in message
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5678",
        "http://127.9.8.7:5678",
        "http://localhost:5678",
        "http://[::1]:5678",
        "https://n8n-tls.example.test",
    ],
)
def test_loopback_and_https_do_not_warn(caplog: pytest.LogCaptureFixture, url: str) -> None:
    caplog.set_level(logging.WARNING)
    with _client(url) as client:
        client.list_credentials()
    assert _plain_http_warnings(caplog) == []


def test_a_client_without_a_secret_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with new_client(transport=httpx.MockTransport(_ok)) as http:
        http.get("http://no-secret.example.test/healthz/readiness")
    assert _plain_http_warnings(caplog) == []


def test_provider_admin_token_over_plain_http_warns(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("TRANSPORT_ADMIN_TOKEN", "admin-token-0123456789")
    config = HttpProviderConfig.model_validate(
        {
            "admin_token_env": "TRANSPORT_ADMIN_TOKEN",
            "issue": {"url": "http://partner.example.test/admin/keys", "secret_path": "key"},
        }
    )
    provider = HttpProvider("partner", config, transport=httpx.MockTransport(_ok))
    provider.issue(IssueContext("tok", "c1", "Partner"))
    warnings = _plain_http_warnings(caplog)
    assert len(warnings) == 1 and "provider 'partner'" in warnings[0].getMessage()
    assert "admin-token-0123456789" not in caplog.text


def test_probe_secret_over_plain_http_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    probe_url(
        "http://probe.example.test/v1/ping",
        "probe-secret-0123456",
        AuthPlacement("header", "X-API-Key"),
        transport=httpx.MockTransport(_ok),
    )
    assert len(_plain_http_warnings(caplog)) == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.255.0.1", True), ("::1", True), ("localhost", True),
     ("10.0.0.1", False), ("n8n.internal", False), ("128.0.0.1", False), ("::2", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- proxies: httpx's trust_env, kept on ---------------------------------------------------------


class _ForwardProxy(BaseHTTPRequestHandler):
    seen: list[str] = []

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(self.path)  # a proxy gets the absolute URL
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def forward_proxy() -> Iterator[str]:
    _ForwardProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_proxies_come_from_the_environment(
    forward_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", forward_proxy)
    result = probe_url(
        "http://upstream.invalid/v1/ping", "proxied-secret-0123", AuthPlacement("bearer")
    )
    assert result.ok, result.detail
    assert _ForwardProxy.seen == ["http://upstream.invalid/v1/ping"]

    monkeypatch.setenv("NO_PROXY", "upstream.invalid")
    bypassed = probe_url(
        "http://upstream.invalid/v1/ping",
        "proxied-secret-0123",
        AuthPlacement("bearer"),
        attempts=1,
    )
    assert not bypassed.ok  # NO_PROXY: straight to a host that does not exist
    assert len(_ForwardProxy.seen) == 1
