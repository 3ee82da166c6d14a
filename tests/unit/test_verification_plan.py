"""Which proofs a rotation plans: n8n's own credential test only where this n8n can run it."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from keyturn.core.config import N8nConnection, N8nLogin
from keyturn.core.errors import ConfigError
from keyturn.n8n.client import N8nClient
from keyturn.rotation.proofs import N8N_TEST, plan_verification
from tests.unit.test_client import API, BASE


def client(login: bool = False) -> N8nClient:
    return N8nClient(
        N8nConnection(
            name="env",
            url=BASE,
            api_key=SecretStr("test-api-key-123"),
            key_source="KEYTURN_N8N_API_KEY",
            login=N8nLogin("k@example.com", SecretStr("pw-123456789"), "KEYTURN_N8N_EMAIL")
            if login
            else None,
        )
    )


def plan(n8n: N8nClient, requested: list[str] | None = None) -> list[str]:
    return plan_verification(
        n8n,
        credential_id="c1",
        cred_type="openAiApi",  # a type n8n can test
        workflow_ids=[],
        can_probe=False,
        webhooks=[],
        watch_seconds=0,
        requested=requested,
    ).modes


@respx.mock
@pytest.mark.parametrize(
    ("message", "expected"),
    [("not found", []), ('Credential with ID "keyturn-probe-0" was not found.', [N8N_TEST])],
    ids=["no-test-route (1.x)", "test-route (2.20 on)"],
)
def test_n8n_test_is_planned_only_where_the_public_api_can_run_it(
    message: str, expected: list[str]
) -> None:
    respx.post(f"{API}/credentials/keyturn-probe-0/test").mock(
        return_value=httpx.Response(404, json={"message": message})
    )
    assert plan(client()) == expected


@respx.mock
def test_a_keyturn_user_can_always_run_it() -> None:
    probe = respx.post(url__regex=r".*/test")
    assert plan(client(login=True)) == [N8N_TEST]
    assert not probe.called


@respx.mock
def test_asking_for_it_where_it_cannot_run_names_the_keyturn_user() -> None:
    respx.post(f"{API}/credentials/keyturn-probe-0/test").mock(
        return_value=httpx.Response(404, json={"message": "not found"})
    )
    with pytest.raises(ConfigError) as caught:
        plan(client(), requested=[N8N_TEST])
    assert "keyturn user" in (caught.value.hint or "")
