"""The keyturn user's session (n8n's internal `/rest` API), its login settings, and the client's
fallbacks to it (or to workflow references and the audit) on answers a real n8n cannot give on
demand."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr, ValidationError

from keyturn.core.config import InstanceConfig, N8nConnection, N8nLogin, resolve_connection
from keyturn.core.errors import (
    ConfigError,
    N8nApiError,
    N8nAuthError,
    N8nError,
    N8nNotFound,
    N8nUnreachable,
    N8nUnsupported,
)
from keyturn.core.http import RetryPolicy
from keyturn.core.redact import REDACTED, redact
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Workflow
from keyturn.n8n.node_types import registers_webhook
from keyturn.n8n.session import BLANK, EMPTY, CredentialData, N8nSession
from keyturn.rotation.planning import webhook_gap

BASE = "http://n8n.test"
API = f"{BASE}/api/v1"
REST = f"{BASE}/rest"
EMAIL = "keyturn@example.com"
PASSWORD = "pw-session-test-Zq81!x"
COOKIE = "cookie-token-abc123"


def make_login(password: str = PASSWORD) -> N8nLogin:
    return N8nLogin(EMAIL, SecretStr(password), f"KEYTURN_N8N_EMAIL ({EMAIL})")


def make_connection(*, login: bool = True, max_attempts: int = 1) -> N8nConnection:
    return N8nConnection(
        name="env",
        url=BASE,
        api_key=SecretStr("test-api-key-123"),
        key_source="KEYTURN_N8N_API_KEY",
        max_attempts=max_attempts,
        login=make_login() if login else None,
    )


def make_session() -> N8nSession:
    return N8nSession(make_connection(), make_login())


def make_client(*, login: bool = True) -> N8nClient:
    return N8nClient(make_connection(login=login), backoff_initial=0.001, backoff_max=0.01)


def logged_in(
    cookie: str = COOKIE, *, secure: bool = False, role: str = "global:owner"
) -> httpx.Response:
    attributes = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    return httpx.Response(
        200,
        headers={"Set-Cookie": f"n8n-auth={cookie}{attributes}"},
        json={"data": {"id": "u1", "email": EMAIL, "role": role}},
    )


def mock_login(*responses: httpx.Response) -> respx.Route:
    route = respx.post(f"{REST}/login")
    route.side_effect = list(responses) if responses else [logged_in()]
    return route


def body_of(call: Any) -> Any:
    return json.loads(call.request.content)


def credential_body(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"id": "c1", "name": "Partner", "type": "httpHeaderAuth", "data": data}}


# -- login and cookie ------------------------------------------------------------------------


@respx.mock
def test_login_body_carries_email_or_ldap_login_id_and_password() -> None:
    login = mock_login()
    respx.get(f"{REST}/credentials").mock(return_value=httpx.Response(200, json={"data": []}))
    make_session().list_credentials()
    body = body_of(login.calls[0])
    assert body["emailOrLdapLoginId"] == EMAIL
    assert body["password"] == PASSWORD


@pytest.mark.parametrize("secure", [False, True], ids=["plain-cookie", "secure-cookie-on-http"])
@respx.mock
def test_session_cookie_and_browser_id_are_sent_on_later_calls(secure: bool) -> None:
    login = mock_login(logged_in(secure=secure))
    listed = respx.get(f"{REST}/credentials").mock(
        return_value=httpx.Response(200, json={"data": []})
    )
    make_session().list_credentials()
    request = listed.calls[0].request
    assert request.headers.get_list("cookie") == [f"n8n-auth={COOKIE}"]
    browser_id = request.headers["browser-id"]
    assert browser_id and login.calls[0].request.headers["browser-id"] == browser_id


@respx.mock
def test_login_asking_for_mfa_says_mfa() -> None:
    mock_login(httpx.Response(401, json={"code": 998, "message": "MFA Error"}))
    with pytest.raises(N8nAuthError) as info:
        make_session().list_credentials()
    assert "MFA" in info.value.message


@respx.mock
def test_login_rate_limit_says_so_after_the_retries() -> None:
    route = mock_login(*[httpx.Response(429, json={"message": "Too many requests"})] * 3)
    session = N8nSession(
        make_connection(max_attempts=3), make_login(), retry=RetryPolicy(3, 0.001, 0.01)
    )
    with pytest.raises(N8nApiError) as info:
        session.list_credentials()
    assert route.call_count == 3  # retried, with backoff, before giving up
    assert "429" in info.value.message and "a minute" in (info.value.hint or "")


@respx.mock
def test_wrong_password_names_the_email_setting_not_the_password() -> None:
    mock_login(httpx.Response(401, json={"message": "Wrong username or password."}))
    with pytest.raises(N8nAuthError) as info:
        make_session().list_credentials()
    assert "KEYTURN_N8N_EMAIL" in str(info.value)
    assert "MFA" not in str(info.value)
    assert PASSWORD not in str(info.value)


@respx.mock
def test_missing_login_route_is_unsupported() -> None:
    mock_login(httpx.Response(404, json={"message": "not found"}))
    with pytest.raises(N8nUnsupported, match="/rest/login"):
        make_session().list_credentials()


@respx.mock
def test_login_without_session_cookie_is_unsupported() -> None:
    mock_login(httpx.Response(200, json={"data": {"id": "u1"}}))
    with pytest.raises(N8nUnsupported, match="n8n-auth"):
        make_session().list_credentials()


@respx.mock
def test_unreachable_login_names_the_url() -> None:
    respx.post(f"{REST}/login").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(N8nUnreachable, match=BASE):
        make_session().list_credentials()


@respx.mock
def test_expired_session_logs_in_again_once_and_retries() -> None:
    login = mock_login(logged_in("first-cookie"), logged_in("second-cookie"))
    listed = respx.get(f"{REST}/credentials")
    listed.side_effect = [
        httpx.Response(401, json={"message": "Unauthorized"}),
        httpx.Response(200, json={"data": [{"id": "c1", "name": "a", "type": "t"}]}),
    ]
    assert [c.id for c in make_session().list_credentials()] == ["c1"]
    assert login.call_count == 2
    assert listed.calls[1].request.headers["cookie"] == "n8n-auth=second-cookie"


@respx.mock
def test_second_401_after_logging_in_again_raises() -> None:
    login = mock_login(logged_in(), logged_in())
    listed = respx.get(f"{REST}/credentials").mock(
        return_value=httpx.Response(401, json={"message": "Unauthorized"})
    )
    with pytest.raises(N8nError, match="401"):
        make_session().list_credentials()
    assert (login.call_count, listed.call_count) == (2, 2)


@respx.mock
def test_close_logs_out_only_a_logged_in_session() -> None:
    mock_login()
    logout = respx.post(f"{REST}/logout").mock(return_value=httpx.Response(200, json={}))
    make_session().close()
    assert logout.call_count == 0
    respx.get(f"{REST}/credentials").mock(return_value=httpx.Response(200, json={"data": []}))
    session = make_session()
    session.list_credentials()
    session.close()
    assert logout.calls[0].request.headers["cookie"] == f"n8n-auth={COOKIE}"


# -- refusals --------------------------------------------------------------------------------


@respx.mock
def test_403_on_update_asks_for_owner_or_admin_role() -> None:
    mock_login()
    respx.patch(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(403, json={"message": "Forbidden"})
    )
    current = CredentialData("c1", "Partner", "httpHeaderAuth", {"value": BLANK})
    with pytest.raises(N8nAuthError) as info:
        make_session().update_credential(current, {"value": "new"})
    assert "owner or admin role" in str(info.value)


@respx.mock
def test_404_naming_the_credential_is_not_found() -> None:
    mock_login()
    respx.get(f"{REST}/credentials/c9").mock(
        return_value=httpx.Response(
            404, json={"message": "Credential with ID c9 could not be found."}
        )
    )
    with pytest.raises(N8nNotFound, match="c9"):
        make_session().read_credential("c9")


@respx.mock
def test_bare_404_on_a_rest_route_is_unsupported() -> None:
    mock_login()
    respx.get(f"{REST}/credentials").mock(
        return_value=httpx.Response(404, json={"message": "not found"})
    )
    with pytest.raises(N8nUnsupported):
        make_session().list_credentials()


# -- reading, updating and testing -----------------------------------------------------------


@respx.mock
def test_read_credential_returns_its_data_with_include_data() -> None:
    mock_login()
    route = respx.get(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(
            200, json=credential_body({"name": "X-API-Key", "value": BLANK})
        )
    )
    read = make_session().read_credential("c1")
    assert read == CredentialData(
        "c1", "Partner", "httpHeaderAuth", {"name": "X-API-Key", "value": BLANK}
    )
    assert route.calls[0].request.url.params["includeData"] == "true"


def test_clear_fields_leave_out_placeholders_and_oauth_token_data() -> None:
    data = {
        "name": "X-API-Key",
        "user": "alice",
        "value": BLANK,
        "empty": EMPTY,
        "expression": "=" + BLANK,
        "oauthTokenData": {"access_token": "tok"},
    }
    clear = CredentialData("c1", "Partner", "httpHeaderAuth", data).clear_fields()
    assert clear == {"name": "X-API-Key", "user": "alice"}


def test_blank_placeholder_is_the_one_n8n_uses() -> None:
    assert BLANK == "__n8n_BLANK_VALUE_e5362baf-c777-4d57-a609-6eaf1f9e87f6"


@respx.mock
def test_update_sends_name_type_and_data_with_only_the_change() -> None:
    mock_login()
    route = respx.patch(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(200, json={"data": {"id": "c1"}})
    )
    current = CredentialData(
        "c1",
        "Partner",
        "oAuth2Api",
        {"clientId": "id-1", "clientSecret": BLANK, "oauthTokenData": {"access_token": "t"}},
    )
    make_session().update_credential(current, {"clientSecret": "new-secret"})
    assert body_of(route.calls[0]) == {
        "name": "Partner",
        "type": "oAuth2Api",
        "data": {"clientId": "id-1", "clientSecret": "new-secret"},
    }


@respx.mock
def test_update_keeps_unchanged_secrets_as_the_placeholder() -> None:
    mock_login()
    route = respx.patch(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(200, json={"data": {"id": "c1"}})
    )
    current = CredentialData("c1", "Partner", "basic", {"user": BLANK, "password": BLANK})
    make_session().update_credential(current, {"password": "new-pass"})
    assert body_of(route.calls[0])["data"] == {"user": BLANK, "password": "new-pass"}


@respx.mock
def test_session_credential_test_sends_changes_unsaved_and_reads_the_result() -> None:
    mock_login()
    route = respx.post(f"{REST}/credentials/test").mock(
        return_value=httpx.Response(200, json={"data": {"status": "OK", "message": "fine"}})
    )
    current = CredentialData("c1", "Partner", "httpHeaderAuth", {"value": BLANK})
    result = make_session().test_credential(current, {"value": "candidate"})
    assert result.ok
    sent = body_of(route.calls[0])["credentials"]
    assert (sent["id"], sent["data"]) == ("c1", {"value": "candidate"})


# -- the password stays out of logs and errors -----------------------------------------------


@respx.mock
def test_password_is_in_no_debug_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="keyturn")
    login = mock_login(
        httpx.Response(503, json={"message": "restarting"}), logged_in(), logged_in()
    )
    respx.get(f"{REST}/credentials").side_effect = [
        httpx.Response(401, json={"message": "Unauthorized"}),
        httpx.Response(200, json={"data": []}),
    ]
    respx.post(f"{REST}/logout").mock(return_value=httpx.Response(200, json={}))
    connection = make_connection(max_attempts=2)
    session = N8nSession(connection, make_login())
    session._retry = RetryPolicy(2, 0.001, 0.01)  # no real backoff in a unit test
    session.list_credentials()
    session.close()
    assert login.call_count == 3 and caplog.records  # a retry and a second login were logged
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        assert PASSWORD not in str(record.args)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(401, json={"message": "Wrong username or password."}), N8nAuthError),
        (httpx.Response(400, json={"message": "bad request"}), N8nAuthError),
        (httpx.Response(500, json={"message": "boom"}), N8nApiError),
        (httpx.Response(404), N8nUnsupported),
    ],
)
@respx.mock
def test_password_is_in_no_error_message(answer: httpx.Response, error: type[N8nError]) -> None:
    respx.post(f"{REST}/login").mock(return_value=answer)
    with pytest.raises(error) as info:
        make_session().list_credentials()
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value)


def test_password_is_not_in_the_repr_of_the_connection() -> None:
    assert PASSWORD not in repr(make_connection())


# -- settings --------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "KEYTURN_N8N_URL",
        "KEYTURN_N8N_API_KEY",
        "KEYTURN_N8N_API_KEY_FILE",
        "KEYTURN_N8N_EMAIL",
        "KEYTURN_N8N_PASSWORD_FILE",
        "KEYTURN_CONFIG",
        "KEYTURN_INSTANCE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KEYTURN_N8N_URL", "http://127.0.0.1:5678")
    monkeypatch.setenv("KEYTURN_N8N_API_KEY", "key-1234")
    return tmp_path


def password_file(folder: Path, content: str) -> Path:
    path = folder / "n8n-password"
    path.write_text(content)
    return path


def test_env_login_is_read_and_its_password_registered_for_redaction(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pw-env-login-Qr5-unique"
    monkeypatch.setenv("KEYTURN_N8N_EMAIL", f" {EMAIL} ")
    monkeypatch.setenv("KEYTURN_N8N_PASSWORD_FILE", str(password_file(clean_env, secret + "\n")))
    login = resolve_connection().login
    assert login is not None
    assert (login.email, login.password.get_secret_value()) == (EMAIL, secret)
    assert "KEYTURN_N8N_EMAIL" in login.source
    assert redact(f"password={secret}") == f"password={REDACTED}"


def test_no_login_settings_means_no_login(clean_env: Path) -> None:
    assert resolve_connection().login is None


@pytest.mark.parametrize("given", ["email", "password_file"])
def test_env_login_needs_both_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    if given == "email":
        monkeypatch.setenv("KEYTURN_N8N_EMAIL", EMAIL)
    else:
        monkeypatch.setenv("KEYTURN_N8N_PASSWORD_FILE", str(password_file(clean_env, "pw-1234")))
    with pytest.raises(ConfigError) as info:
        resolve_connection()
    assert "KEYTURN_N8N_EMAIL" in str(info.value)
    assert "KEYTURN_N8N_PASSWORD_FILE" in str(info.value)


def test_empty_password_file_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTURN_N8N_EMAIL", EMAIL)
    monkeypatch.setenv("KEYTURN_N8N_PASSWORD_FILE", str(password_file(clean_env, "\n")))
    with pytest.raises(ConfigError, match="empty"):
        resolve_connection()


def test_toml_login_is_read_with_its_setting_names(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pw-toml-login-Kd2-unique"
    path = password_file(clean_env, secret)
    (clean_env / "keyturn.toml").write_text(
        f'[instances.prod]\nurl = "https://prod.example.com"\napi_key_env = "PROD_KEY"\n'
        f'email = "{EMAIL}"\npassword_file = "{path}"\n'
    )
    monkeypatch.setenv("PROD_KEY", "prod-key-1")
    login = resolve_connection("prod").login
    assert login is not None and login.password.get_secret_value() == secret
    assert login.source.startswith("instances.prod.email")
    assert secret not in redact(f"login with {secret}")


@pytest.mark.parametrize("given", ['email = "k@example.com"', 'password_file = "/run/pw"'])
def test_toml_login_needs_both_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    (clean_env / "keyturn.toml").write_text(
        f'[instances.prod]\nurl = "https://prod.example.com"\napi_key_env = "PROD_KEY"\n{given}\n'
    )
    monkeypatch.setenv("PROD_KEY", "prod-key-1")
    with pytest.raises(ConfigError) as info:
        resolve_connection("prod")
    assert "email" in str(info.value) and "password_file" in str(info.value)


@pytest.mark.parametrize(
    "given", [{"email": "k@example.com"}, {"password_file": "/run/pw"}], ids=["email", "file"]
)
def test_instance_config_validator_refuses_half_a_login(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="email and password_file go together"):
        InstanceConfig.model_validate({"url": "https://n8n.example.com", **given})


# -- the client's fallbacks ------------------------------------------------------------------


def workflow(wid: str, nodes: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"id": wid, "name": f"wf {wid}", "nodes": nodes, **fields}


def node(node_type: str, refs: dict[str, dict[str, str]] | None = None, **fields: Any) -> Any:
    return {"name": node_type, "type": node_type, "credentials": refs or {}, **fields}


def audit_report(*unused: tuple[str, str]) -> dict[str, Any]:
    location = [{"kind": "credential", "id": cid, "name": name} for cid, name in unused]
    section = {"title": "Credentials not used in any workflow", "location": location}
    other = {"title": "Credentials not used in an active workflow", "location": []}
    return {"Credentials Risk Report": {"risk": "credentials", "sections": [section, other]}}


def mock_public_list_refused() -> respx.Route:
    return respx.get(f"{API}/credentials").mock(
        return_value=httpx.Response(405, json={"message": "GET method not allowed"})
    )


def mock_workflows() -> respx.Route:
    header = {"httpHeaderAuth": {"id": "c1", "name": "Partner key"}}
    basic = {"httpBasicAuth": {"id": "c2", "name": "Basic"}}
    page = {
        "data": [
            workflow("w1", [node("n8n-nodes-base.httpRequest", header)]),
            workflow("w2", [node("n8n-nodes-base.httpRequest", {**header, **basic})]),
        ],
        "nextCursor": None,
    }
    return respx.get(f"{API}/workflows").mock(return_value=httpx.Response(200, json=page))


@respx.mock
def test_list_falls_back_to_the_session_on_405() -> None:
    mock_public_list_refused()
    mock_login()
    rest = respx.get(f"{REST}/credentials").mock(
        return_value=httpx.Response(200, json={"data": [{"id": "c1", "name": "a", "type": "t"}]})
    )
    client = make_client()
    assert [c.id for c in client.list_credentials()] == ["c1"]
    assert rest.call_count == 1 and client.blind_spots == []


@respx.mock
def test_a_member_keyturn_user_says_the_list_is_partial() -> None:
    respx.get(f"{API}/credentials").mock(return_value=httpx.Response(405, json={}))
    mock_login(logged_in(role="global:member"))
    respx.get(f"{REST}/credentials").mock(
        return_value=httpx.Response(200, json={"data": [{"id": "c1", "name": "A", "type": "t"}]})
    )
    client = make_client()
    assert [c.id for c in client.list_credentials()] == ["c1"]
    (note,) = client.blind_spots
    assert "global:member" in note and "shared with it" in note


@respx.mock
def test_list_capability_is_probed_once_per_client() -> None:
    public = mock_public_list_refused()
    mock_login()
    respx.get(f"{REST}/credentials").mock(return_value=httpx.Response(200, json={"data": []}))
    client = make_client()
    client.list_credentials()
    client.list_credentials()
    assert public.call_count == 1


@respx.mock
def test_list_without_session_uses_references_and_audit() -> None:
    mock_public_list_refused()
    mock_workflows()
    audit = respx.post(f"{API}/audit").mock(
        return_value=httpx.Response(200, json=audit_report(("c9", "Spare")))
    )
    client = make_client(login=False)
    found = {c.id: (c.name, c.type) for c in client.list_credentials()}
    assert found == {
        "c1": ("Partner key", "httpHeaderAuth"),
        "c2": ("Basic", "httpBasicAuth"),
        "c9": ("Spare", ""),
    }
    assert body_of(audit.calls[0]) == {"additionalOptions": {"categories": ["credentials"]}}
    (note,) = client.blind_spots
    assert "KEYTURN_N8N_EMAIL" in note and "audit" in note


@respx.mock
def test_list_without_session_and_refused_audit_uses_references_alone() -> None:
    mock_public_list_refused()
    mock_workflows()
    respx.post(f"{API}/audit").mock(return_value=httpx.Response(403, json={"message": "no"}))
    client = make_client(login=False)
    assert sorted(c.id for c in client.list_credentials()) == ["c1", "c2"]
    (note,) = client.blind_spots
    assert "audit" not in note and "KEYTURN_N8N_EMAIL" in note


@respx.mock
def test_credential_test_falls_back_to_the_session_on_405() -> None:
    public = respx.post(f"{API}/credentials/c1/test").mock(
        return_value=httpx.Response(405, json={"message": "POST method not allowed"})
    )
    mock_login()
    respx.get(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(200, json=credential_body({"value": BLANK}))
    )
    rest_test = respx.post(f"{REST}/credentials/test").mock(
        return_value=httpx.Response(200, json={"data": {"status": "OK", "message": ""}})
    )
    client = make_client()
    assert client.test_credential("c1").ok
    assert client.test_credential("c1").ok
    assert public.call_count == 1 and rest_test.call_count == 2


@respx.mock
def test_credential_test_falls_back_to_the_session_where_the_route_is_missing() -> None:
    respx.post(f"{API}/credentials/c1/test").mock(
        return_value=httpx.Response(404, json={"message": "not found"})  # n8n 1.x
    )
    mock_login()
    respx.get(f"{REST}/credentials/c1").mock(
        return_value=httpx.Response(200, json=credential_body({"value": BLANK}))
    )
    respx.post(f"{REST}/credentials/test").mock(
        return_value=httpx.Response(200, json={"data": {"status": "OK", "message": ""}})
    )
    assert make_client().test_credential("c1").ok


@respx.mock
def test_credential_test_without_session_or_route_names_the_login_settings() -> None:
    respx.post(f"{API}/credentials/c1/test").mock(
        return_value=httpx.Response(405, json={"message": "POST method not allowed"})
    )
    with pytest.raises(N8nUnsupported, match="KEYTURN_N8N_EMAIL"):
        make_client(login=False).test_credential("c1")


@respx.mock
def test_supports_credential_test_with_a_session_sends_nothing() -> None:
    client = make_client()
    assert client.supports_credential_test() is True
    assert client.request_count == 0 and not respx.calls


@pytest.mark.parametrize(
    ("message", "expected"),
    [("not found", False), ("Credential with ID keyturn-probe-0 not found", True)],
)
@respx.mock
def test_supports_credential_test_probes_without_a_session(message: str, expected: bool) -> None:
    probe = respx.post(f"{API}/credentials/keyturn-probe-0/test").mock(
        return_value=httpx.Response(404, json={"message": message})
    )
    client = make_client(login=False)
    assert client.supports_credential_test() is expected
    assert client.supports_credential_test() is expected
    assert probe.call_count == 1


# -- node types and the webhook gap ----------------------------------------------------------


@pytest.mark.parametrize(
    ("node_type", "expected"),
    [
        ("n8n-nodes-base.webhook", True),
        ("n8n-nodes-base.formTrigger", True),
        ("@n8n/n8n-nodes-langchain.chatTrigger", True),
        ("n8n-nodes-base.scheduleTrigger", False),
        ("n8n-nodes-base.manualTrigger", False),
        ("n8n-nodes-base.googleSheetsTrigger", False),  # polling
        ("acme.fooTrigger", True),  # an unknown community trigger: assumed to register one
        ("acme.doThing", False),
        # send-and-wait and Wait nodes only have restart webhooks, registered while an
        # execution waits, not when the workflow is activated
        ("n8n-nodes-base.slack", False),
        ("n8n-nodes-base.wait", False),
        ("n8n-nodes-base.slackTrigger", True),
    ],
)
def test_registers_webhook(node_type: str, expected: bool) -> None:
    assert registers_webhook(node_type) is expected


USES_C1 = {"httpHeaderAuth": {"id": "c1", "name": "Partner key"}}


def gap_workflow(wid: str, trigger: str = "n8n-nodes-base.webhook", **fields: Any) -> Workflow:
    fields.setdefault("active", True)
    nodes = [node(trigger, disabled=fields.pop("trigger_disabled", False))]
    nodes.append(node("n8n-nodes-base.httpRequest", fields.pop("refs", USES_C1)))
    return Workflow.model_validate(workflow(wid, nodes, **fields))


def test_webhook_gap_names_active_webhook_workflows_using_the_credential() -> None:
    workflows = [gap_workflow("w2"), gap_workflow("w1", "n8n-nodes-base.formTrigger")]
    assert webhook_gap(workflows, "c1") == ["wf w1", "wf w2"]


@pytest.mark.parametrize(
    "fields",
    [
        {"active": False},
        {"isArchived": True},
        {"refs": {"httpHeaderAuth": {"id": "c2", "name": "Other"}}},
        {"trigger": "n8n-nodes-base.scheduleTrigger"},
        {"trigger_disabled": True},
    ],
    ids=["inactive", "archived", "other-credential", "schedule-only", "webhook-disabled"],
)
def test_webhook_gap_leaves_out(fields: dict[str, Any]) -> None:
    trigger = fields.pop("trigger", "n8n-nodes-base.webhook")
    assert webhook_gap([gap_workflow("w1", trigger, **fields)], "c1") == []
