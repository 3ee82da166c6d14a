"""A credential type's own test request, sent by keyturn to a real local service."""

from __future__ import annotations

import httpx

from keyturn.n8n.type_probes import build_request, send_probe, type_probe
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.n8n_server import free_port
from keyturn.sandbox.workflows import DemoProviderClient


def openai_probe(base_url: str, key: str) -> tuple[bool, str]:
    probe = type_probe("openAiApi")
    assert probe is not None
    result = send_probe(probe, build_request(probe, {"apiKey": key, "url": base_url}))
    return result.ok, result.detail


def test_a_valid_key_passes_and_a_refused_one_fails(provider: DemoProvider) -> None:
    admin = DemoProviderClient(provider.url, provider.admin_token)
    key_id, key = admin.issue_key("type probe")
    ok, detail = openai_probe(f"{provider.url}/v1/", key)
    assert ok, detail
    assert "GET " + provider.url + "/v1/models" in detail and key not in detail
    revoked = httpx.delete(
        f"{provider.url}/admin/keys/{key_id}", headers={"X-Admin-Token": provider.admin_token}
    )
    assert revoked.status_code == 200
    ok, detail = openai_probe(f"{provider.url}/v1", key)
    assert not ok and "401" in detail and key not in detail


def test_an_unreachable_service_is_a_failed_proof_that_says_so() -> None:
    ok, detail = openai_probe(f"http://127.0.0.1:{free_port()}/v1", "sk-anything-1234")
    assert not ok and "could not reach" in detail
