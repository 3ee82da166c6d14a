"""The generic HTTP provider on answers a real service can't give on demand (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx

from keyturn.core.errors import ConfigError, ProviderError
from keyturn.providers.http import HttpProvider, HttpProviderConfig
from keyturn.providers.interface import Capability, IssueContext

BASE = "http://provider.test"
CONTEXT = IssueContext(idempotency_token="tok-1", credential_id="c1", credential_name="Partner")


def provider(**overrides: object) -> HttpProvider:
    settings = {
        "admin_token_env": "TEST_ADMIN_TOKEN",
        "backoff_initial": 0.001,
        "issue": {
            "url": f"{BASE}/keys",
            "json": {"label": "n8n {credential_name}", "idem": "{idempotency_token}"},
            "secret_path": "data.key",
            "key_id_path": "data.id",
        },
        "revoke": {"method": "DELETE", "url": f"{BASE}/keys/{{key_id}}"},
        **overrides,
    }
    return HttpProvider("partner", HttpProviderConfig.model_validate(settings))


@pytest.fixture(autouse=True)
def admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ADMIN_TOKEN", "admin-token-xyz")


@respx.mock
def test_issue_fills_templates_and_reads_paths() -> None:
    route = respx.post(f"{BASE}/keys").mock(
        return_value=httpx.Response(201, json={"data": {"key": "new-secret-1", "id": "k9"}})
    )
    issued = provider().issue(CONTEXT)
    assert (issued.value, issued.key_id) == ("new-secret-1", "k9")
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer admin-token-xyz"
    assert request.content == b'{"label":"n8n Partner","idem":"tok-1"}'


@respx.mock
def test_retry_after_is_honoured_then_success() -> None:
    route = respx.post(f"{BASE}/keys")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503),
        httpx.Response(200, json={"data": {"key": "s-2", "id": "k2"}}),
    ]
    assert provider().issue(CONTEXT).value == "s-2"
    assert route.call_count == 3


@respx.mock
def test_gives_up_after_bounded_attempts() -> None:
    route = respx.post(f"{BASE}/keys").mock(return_value=httpx.Response(500, text="boom"))
    with pytest.raises(ProviderError, match="500 to issue after 4 attempts"):
        provider().issue(CONTEXT)
    assert route.call_count == 4


@respx.mock
def test_client_errors_are_not_retried_and_do_not_leak() -> None:
    route = respx.post(f"{BASE}/keys").mock(
        return_value=httpx.Response(403, text="token admin-token-xyz is not allowed")
    )
    with pytest.raises(ProviderError) as info:
        provider().issue(CONTEXT)
    assert route.call_count == 1
    assert "admin-token-xyz" not in str(info.value)


@respx.mock
def test_missing_secret_in_answer() -> None:
    respx.post(f"{BASE}/keys").mock(return_value=httpx.Response(200, json={"data": {}}))
    with pytest.raises(ProviderError, match="secret_path"):
        provider().issue(CONTEXT)


@respx.mock
def test_revoke_of_unknown_key_is_fine() -> None:
    respx.delete(f"{BASE}/keys/gone").mock(return_value=httpx.Response(404))
    provider().revoke("gone")


def test_capabilities_and_missing_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    only_issue = provider(revoke=None)
    assert only_issue.capabilities == frozenset({Capability.ISSUE})
    with pytest.raises(ProviderError, match=r"\[providers.partner.revoke\]"):
        only_issue.revoke("k")
    monkeypatch.delenv("TEST_ADMIN_TOKEN")
    with pytest.raises(ConfigError, match="TEST_ADMIN_TOKEN"):
        only_issue.issue(CONTEXT)
