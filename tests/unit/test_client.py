"""The n8n client's retries and error messages, on answers a real n8n cannot give on demand."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from keyturn.core.config import N8nConnection
from keyturn.core.errors import (
    N8nApiError,
    N8nAuthError,
    N8nNotFound,
    N8nScopeError,
    N8nUnreachable,
)
from keyturn.n8n.client import N8nClient

BASE = "http://n8n.test"
API = f"{BASE}/api/v1"


def make_client(max_attempts: int = 3) -> N8nClient:
    connection = N8nConnection(
        name="env",
        url=BASE,
        api_key=SecretStr("test-api-key-123"),
        key_source="KEYTURN_N8N_API_KEY",
        max_attempts=max_attempts,
    )
    return N8nClient(connection, backoff_initial=0.001, backoff_max=0.01)


@respx.mock
def test_pagination_follows_cursor_and_counts_requests() -> None:
    route = respx.get(f"{API}/credentials")
    route.side_effect = [
        httpx.Response(
            200, json={"data": [{"id": "1", "name": "a", "type": "t"}], "nextCursor": "c2"}
        ),
        httpx.Response(
            200, json={"data": [{"id": "2", "name": "b", "type": "t"}], "nextCursor": None}
        ),
    ]
    client = make_client()
    seen: list[int] = []
    credentials = client.list_credentials(seen.append)
    assert [c.id for c in credentials] == ["1", "2"]
    assert route.calls[1].request.url.params["cursor"] == "c2"
    assert route.calls[0].request.headers["X-N8N-API-KEY"] == "test-api-key-123"
    assert client.request_count == 2
    assert seen == [1, 2]


@respx.mock
def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    route = respx.get(f"{API}/workflows")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}),
        httpx.Response(503),
        httpx.Response(200, json={"data": [], "nextCursor": None}),
    ]
    client = make_client()
    assert client.list_workflows() == []
    assert route.call_count == 3


@respx.mock
def test_gives_up_after_bounded_attempts_with_clear_message() -> None:
    route = respx.get(f"{API}/workflows").mock(return_value=httpx.Response(502))
    client = make_client(max_attempts=3)
    with pytest.raises(N8nApiError) as info:
        client.list_workflows()
    assert route.call_count == 3
    assert "502" in str(info.value) and "3 attempts" in str(info.value)


@respx.mock
def test_post_is_not_retried_on_502_but_is_on_429() -> None:
    route = respx.post(f"{API}/credentials")
    route.side_effect = [httpx.Response(502)]
    client = make_client()
    with pytest.raises(N8nApiError):
        client.create_credential("x", "httpHeaderAuth", {})
    assert route.call_count == 1

    route.side_effect = [
        httpx.Response(429),
        httpx.Response(200, json={"id": "9", "name": "x", "type": "httpHeaderAuth"}),
    ]
    assert client.create_credential("x", "httpHeaderAuth", {}).id == "9"


@respx.mock
def test_connection_refused_is_retried_then_names_the_url_setting() -> None:
    route = respx.get(f"{API}/credentials").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(N8nUnreachable) as info:
        make_client().list_credentials()
    assert route.call_count == 3
    assert BASE in str(info.value) and "KEYTURN_N8N_URL" in str(info.value)


@respx.mock
def test_tls_failure_says_so() -> None:
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    respx.get(f"{API}/credentials").mock(side_effect=error)
    with pytest.raises(N8nUnreachable) as info:
        make_client(max_attempts=1).list_credentials()
    message = str(info.value)
    assert "TLS verification failed" in message and "KEYTURN_N8N_CA_BUNDLE" in message


@respx.mock
def test_401_names_the_key_setting() -> None:
    respx.get(f"{API}/credentials").mock(return_value=httpx.Response(401, json={"message": "x"}))
    with pytest.raises(N8nAuthError) as info:
        make_client().list_credentials()
    assert "KEYTURN_N8N_API_KEY" in str(info.value)
    assert "test-api-key-123" not in str(info.value)


@respx.mock
def test_403_names_the_missing_scope() -> None:
    respx.patch(f"{API}/credentials/abc").mock(
        return_value=httpx.Response(403, json={"message": "Forbidden"})
    )
    with pytest.raises(N8nScopeError) as info:
        make_client().update_credential("abc", {"value": "v"})
    assert info.value.scope == "credential:update"
    assert "credential:update" in str(info.value)


@respx.mock
def test_404_names_the_resource_and_id() -> None:
    respx.get(f"{API}/workflows/w42").mock(
        return_value=httpx.Response(404, json={"message": "Not Found"})
    )
    with pytest.raises(N8nNotFound) as info:
        make_client().get_workflow("w42")
    assert "workflow with id 'w42'" in str(info.value)


@respx.mock
def test_partial_update_sends_only_given_fields() -> None:
    route = respx.patch(f"{API}/credentials/c1").mock(
        return_value=httpx.Response(200, json={"id": "c1", "name": "n", "type": "t"})
    )
    make_client().update_credential("c1", {"value": "new"})
    assert route.calls[0].request.content == b'{"data":{"value":"new"},"isPartialData":true}'


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (404, "Credential not found", True),
        (404, "not found", False),
        (405, "PATCH method not allowed", False),
    ],
)
@respx.mock
def test_feature_detection_of_credential_update(status: int, message: str, expected: bool) -> None:
    respx.patch(url__regex=rf"{API}/credentials/.*").mock(
        return_value=httpx.Response(status, json={"message": message})
    )
    assert make_client().supports_credential_update() is expected


@respx.mock
def test_auto_strategy_falls_back_to_replace_without_patch(tmp_path: object) -> None:
    from cryptography.fernet import Fernet

    from keyturn.core.crypto import SecretBox
    from keyturn.journal import open_journal
    from keyturn.rotation.strategies import IN_PLACE, REPLACE, choose_strategy

    journal = open_journal("sqlite://", SecretBox(Fernet.generate_key()))
    route = respx.patch(url__regex=rf"{API}/credentials/.*")
    route.mock(return_value=httpx.Response(405, json={"message": "PATCH method not allowed"}))
    assert choose_strategy(make_client(), journal, "auto").name == REPLACE
    route.mock(return_value=httpx.Response(404, json={"message": "Credential not found"}))
    assert choose_strategy(make_client(), journal, "auto").name == IN_PLACE
    assert choose_strategy(make_client(), journal, "auto", forced="replace").name == REPLACE


@respx.mock
def test_a_workflow_saved_as_draft_names_the_scope_n8n_names() -> None:
    """n8n 2.41 saves a workflow update as a draft and answers 403 naming workflow:activate
    (not the workflow:update the OpenAPI table gives for PUT /workflows/{id})."""
    respx.put(f"{API}/workflows/w1").mock(
        return_value=httpx.Response(
            403,
            json={
                "message": "Your change was saved as a draft. It wasn't published because this "
                "API key does not have the workflow:activate scope.",
                "reason": "insufficient_api_key_scope",
            },
        )
    )
    with pytest.raises(N8nScopeError) as caught:
        make_client().update_workflow("w1", {"name": "w", "nodes": [], "connections": {}})
    assert caught.value.scope == "workflow:activate"
    assert "grant workflow:activate" in (caught.value.hint or "")
