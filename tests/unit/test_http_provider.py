"""The generic HTTP provider on answers a real service can't give on demand (respx).

The last test runs against the real demo provider (a real HTTP server)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import respx

from keyturn.core.errors import ConfigError, ProviderError
from keyturn.providers.http import HttpProvider, HttpProviderConfig
from keyturn.providers.interface import Capability, IssueContext
from keyturn.sandbox.demo_provider import DemoProvider

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


# Placeholders: a credential name (any n8n editor sets it) or a key id (a provider's answer)
# is one path segment or one query value of a request that carries the admin token.
HOSTILE_NAME = "../admin?delete=all#x y/é"
HOSTILE_ENCODED = "..%2Fadmin%3Fdelete%3Dall%23x%20y%2F%C3%A9"


def _hostile_context(name: str = HOSTILE_NAME) -> IssueContext:
    return IssueContext(idempotency_token="tok-1", credential_id="c1", credential_name=name)


@respx.mock
def test_url_placeholders_are_percent_encoded_and_json_stays_plain() -> None:
    route = respx.route(method="POST", host="provider.test").mock(
        return_value=httpx.Response(201, json={"data": {"key": "s", "id": "k"}})
    )
    issue = {
        "url": f"{BASE}/keys/{{credential_id}}?label={{credential_name}}&id={{credential_id}}",
        "json": {"label": "n8n {credential_name}", "idem": "{idempotency_token}"},
        "secret_path": "data.key",
    }
    provider(issue=issue).issue(_hostile_context())
    request = route.calls[0].request
    assert request.url.raw_path.decode() == f"/keys/c1?label={HOSTILE_ENCODED}&id=c1"
    assert json.loads(request.content) == {"label": f"n8n {HOSTILE_NAME}", "idem": "tok-1"}


@pytest.mark.parametrize(
    ("key_id", "raw_path"),
    [
        ("x?delete=all", "/keys/x%3Fdelete%3Dall"),
        ("a#b c", "/keys/a%23b%20c"),
        ("ab/cd==", "/keys/ab%2Fcd%3D%3D"),  # a base64 id: one segment, not refused
        ("ключ", "/keys/%D0%BA%D0%BB%D1%8E%D1%87"),
    ],
)
@respx.mock
def test_revoke_key_id_is_one_path_segment(key_id: str, raw_path: str) -> None:
    route = respx.route(method="DELETE", host="provider.test").mock(
        return_value=httpx.Response(200)
    )
    provider().revoke(key_id)
    assert route.calls[0].request.url.raw_path.decode() == raw_path


@pytest.mark.parametrize("key_id", ["", ".", "..", "../admin", "a/../b", "a\\..", "a//b"])
@respx.mock
def test_a_dot_segment_or_empty_path_value_is_refused_before_any_request(key_id: str) -> None:
    route = respx.route(host="provider.test").mock(return_value=httpx.Response(200))
    with pytest.raises(ProviderError, match="key_id"):
        provider().revoke(key_id)
    assert route.call_count == 0


@respx.mock
def test_a_value_that_looks_like_a_placeholder_is_not_filled_again() -> None:
    route = respx.post(f"{BASE}/keys").mock(
        return_value=httpx.Response(201, json={"data": {"key": "s", "id": "k"}})
    )
    provider().issue(_hostile_context("{idempotency_token}"))
    assert json.loads(route.calls[0].request.content)["label"] == "n8n {idempotency_token}"


def _issue_without_token(**extra: object) -> dict[str, object]:
    return {
        "url": f"{BASE}/keys",
        "json": {"label": "n8n {credential_name}"},
        "secret_path": "data.key",
        **extra,
    }


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503, text="busy"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
    ids=["503", "read-timeout", "disconnected"],
)
@respx.mock
def test_issue_without_idempotency_token_is_not_retried_once_sent(failure: object) -> None:
    route = respx.post(f"{BASE}/keys")
    route.side_effect = [failure, httpx.Response(201, json={"data": {"key": "s", "id": "k"}})]
    with pytest.raises(ProviderError) as info:
        provider(issue=_issue_without_token()).issue(CONTEXT)
    assert route.call_count == 1
    assert "{idempotency_token}" in str(info.value)
    assert "attempts" not in str(info.value)


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(429, headers={"Retry-After": "0"}), httpx.ConnectError("refused")],
    ids=["429", "connect-error"],
)
@respx.mock
def test_issue_without_idempotency_token_is_retried_when_nothing_was_done(
    failure: object,
) -> None:
    route = respx.post(f"{BASE}/keys")
    route.side_effect = [failure, httpx.Response(201, json={"data": {"key": "s", "id": "k"}})]
    assert provider(issue=_issue_without_token()).issue(CONTEXT).value == "s"
    assert route.call_count == 2


@respx.mock
def test_idempotency_token_in_a_header_is_filled_and_allows_retries() -> None:
    route = respx.post(f"{BASE}/keys")
    route.side_effect = [
        httpx.ReadTimeout("slow"),
        httpx.Response(503),
        httpx.Response(201, json={"data": {"key": "s", "id": "k"}}),
    ]
    issue = _issue_without_token(headers={"Idempotency-Key": "{idempotency_token}"})
    assert provider(issue=issue).issue(CONTEXT).value == "s"
    assert route.call_count == 3
    assert {call.request.headers["Idempotency-Key"] for call in route.calls} == {"tok-1"}


@respx.mock
def test_a_value_that_cannot_be_a_header_is_refused_before_any_request() -> None:
    route = respx.post(f"{BASE}/keys").mock(return_value=httpx.Response(200))
    issue = _issue_without_token(headers={"X-Label": "{credential_name}"})
    with pytest.raises(ProviderError, match="X-Label"):
        provider(issue=issue).issue(_hostile_context("evil\r\nX-Admin: 1"))
    assert route.call_count == 0


@respx.mock
def test_revoke_is_retried_on_5xx() -> None:
    route = respx.delete(f"{BASE}/keys/k1")
    route.side_effect = [httpx.Response(502), httpx.ReadTimeout("slow"), httpx.Response(200)]
    provider().revoke("k1")
    assert route.call_count == 3


def test_a_hostile_credential_name_is_one_path_segment_at_the_real_provider(
    provider: DemoProvider, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unencoded, `../faults` turned POST /admin/keys/{name} into POST /admin/faults; encoded as
    `..%2Ffaults` a server that decodes %2F could still walk the path: refused."""
    config = HttpProviderConfig.model_validate(
        {
            "admin_token_env": "TEST_ADMIN_TOKEN",
            "admin_header": "X-Admin-Token",
            "admin_scheme": "",
            "issue": {
                "url": f"{provider.url}/admin/keys/{{credential_name}}",
                "json": {"idempotency_key": "{idempotency_token}"},
                "secret_path": "key",
            },
        }
    )
    monkeypatch.setenv("TEST_ADMIN_TOKEN", provider.admin_token)
    caplog.set_level(logging.DEBUG, logger="keyturn.sandbox.demo_provider")
    with pytest.raises(ProviderError, match="nothing was sent"):
        HttpProvider("demo", config).issue(_hostile_context("../faults"))
    assert provider.state.faults == []
    assert provider.state.issued == 0
    seen = [r.getMessage() for r in caplog.records if r.name == "keyturn.sandbox.demo_provider"]
    assert not any("POST /admin" in line for line in seen), seen  # no request at all
    with pytest.raises(ProviderError, match="404"):  # a name with odd characters: one segment
        HttpProvider("demo", config).issue(_hostile_context("a b?c#d"))
    seen = [r.getMessage() for r in caplog.records if r.name == "keyturn.sandbox.demo_provider"]
    assert any("POST /admin/keys/a%20b%3Fc%23d 404" in line for line in seen), seen
