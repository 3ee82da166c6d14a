"""The demo provider over real HTTP: keys, revocation, faults, counters."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from keyturn.sandbox.demo_provider import DemoProvider


def admin(provider: DemoProvider) -> dict[str, str]:
    return {"X-Admin-Token": provider.admin_token}


def issue(provider: DemoProvider, **body: str) -> dict[str, str]:
    response = httpx.post(f"{provider.url}/admin/keys", json=body, headers=admin(provider))
    assert response.status_code in (200, 201)
    result: dict[str, str] = response.json()
    return result


def test_accepts_only_valid_keys_in_every_place(provider: DemoProvider) -> None:
    key = issue(provider)["key"]
    url = f"{provider.url}/v1/data"
    basic = base64.b64encode(f"demo:{key}".encode()).decode()
    for request in (
        {"headers": {"X-API-Key": key}},
        {"headers": {"Authorization": f"Bearer {key}"}},
        {"headers": {"Authorization": f"Basic {basic}"}},
        {"params": {"api_key": key}},
    ):
        assert httpx.get(url, **request).status_code == 200  # type: ignore[arg-type]
    refused = httpx.get(url, headers={"X-API-Key": "wrong"})
    assert refused.status_code == 401 and refused.json() == {"error": "invalid api key"}
    stats = httpx.get(f"{provider.url}/admin/stats", headers=admin(provider)).json()
    assert (stats["accepted"], stats["refused"]) == (4, 1)


def test_revoke_and_idempotent_issue(provider: DemoProvider) -> None:
    first = issue(provider, idempotency_key="rotation-1")
    again = issue(provider, idempotency_key="rotation-1")
    assert first == again
    listed = httpx.get(f"{provider.url}/admin/keys", headers=admin(provider)).json()["keys"]
    assert len(listed) == 1 and "key" not in listed[0] and "value" not in listed[0]
    revoked = httpx.delete(f"{provider.url}/admin/keys/{first['id']}", headers=admin(provider))
    assert revoked.json()["revoked"] is True
    assert (
        httpx.get(f"{provider.url}/v1/ping", headers={"X-API-Key": first["key"]}).status_code == 401
    )
    assert (
        httpx.delete(f"{provider.url}/admin/keys/nope", headers=admin(provider)).status_code == 404
    )


def test_injected_faults_answer_the_next_n_calls(provider: DemoProvider) -> None:
    key = issue(provider)["key"]
    fault = {"status": 429, "count": 2, "scope": "api", "retry_after": 3}
    assert (
        httpx.post(f"{provider.url}/admin/faults", json=fault, headers=admin(provider)).status_code
        == 200
    )
    answers = [httpx.get(f"{provider.url}/v1/ping", headers={"X-API-Key": key}) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert (
        httpx.post(
            f"{provider.url}/admin/faults",
            json={"status": 500, "count": 1, "scope": "admin"},
            headers=admin(provider),
        ).status_code
        == 200
    )
    assert (
        httpx.post(f"{provider.url}/admin/keys", json={}, headers=admin(provider)).status_code
        == 500
    )
    assert httpx.get(f"{provider.url}/admin/stats", headers=admin(provider)).json()["faulted"] == 3


def test_admin_calls_need_the_admin_token(provider: DemoProvider) -> None:
    assert httpx.post(f"{provider.url}/admin/keys", json={}).status_code == 401
    assert (
        httpx.post(
            f"{provider.url}/admin/keys", json={}, headers={"X-Admin-Token": "nope"}
        ).status_code
        == 401
    )


def test_its_debug_log_never_shows_a_key_sent_in_the_query(
    provider: DemoProvider, caplog: pytest.LogCaptureFixture
) -> None:
    key = issue(provider)["key"]
    with caplog.at_level(logging.DEBUG, logger="keyturn.sandbox.demo_provider"):
        assert httpx.get(f"{provider.url}/v1/data", params={"api_key": key}).status_code == 200
    assert "/v1/data" in caplog.text  # it does log the call
    assert key not in caplog.text and "api_key" not in caplog.text
