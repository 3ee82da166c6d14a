"""The stand-in services over real HTTP: each reads its credential where the real service does,
accepts only a registered tuple, and records who presented what as fingerprints only."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from keyturn.n8n.type_probes import build_request, send_probe, type_probe
from keyturn.sandbox.standin import StandIn, fingerprint

N8N = {"User-Agent": "n8n"}


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def call(standin: StandIn, service: str, path: str = "/x", **kwargs: Any) -> httpx.Response:
    kwargs["headers"] = {**N8N, **kwargs.get("headers", {})}
    return httpx.get(f"{standin.service_url(service)}{path}", **kwargs)


# Each service's tuple, and the request that carries it where the real service reads it.
GOOD: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "openai": (("sk-a1",), {"headers": {"Authorization": "Bearer sk-a1"}}),
    "gitlab": (("glpat-a1",), {"headers": {"Private-Token": "glpat-a1"}}),
    "ghost": (("gh-a1",), {"params": {"key": "gh-a1"}}),
    "wordpress": (("editor", "wp pass:1"), {"headers": basic("editor", "wp pass:1")}),
    "discourse": (("dc-a1", "system"), {"headers": {"Api-Key": "dc-a1", "Api-Username": "system"}}),
    "datadog": (
        ("dd-api", "dd-app"),
        {"headers": {"DD-API-KEY": "dd-api", "DD-APPLICATION-KEY": "dd-app"}},
    ),
}


@pytest.mark.parametrize("service", sorted(GOOD))
def test_a_registered_tuple_is_accepted_on_any_method_and_path(
    standin: StandIn, service: str
) -> None:
    values, request = GOOD[service]
    assert call(standin, service, **request).status_code == 401  # not registered yet
    standin.accept(service, *values)
    for method, path in (("GET", "/models"), ("POST", "/api/v4/projects"), ("DELETE", "")):
        response = httpx.request(
            method, f"{standin.service_url(service)}{path}", json={"a": 1}, **request
        )
        assert response.status_code == 200, (method, path)
        assert isinstance(response.json(), dict | list)
    head = httpx.head(f"{standin.service_url(service)}/x", **request)
    assert head.status_code == 200 and head.content == b""


# A request that must be refused once GOOD's tuples are registered: (why, service, request).
REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    ("wrong key", "openai", {"headers": {"Authorization": "Bearer sk-other"}}),
    ("bearer key as a bare header", "openai", {"headers": {"X-API-Key": "sk-a1"}}),
    ("openai key in the query", "openai", {"params": {"key": "sk-a1"}}),
    ("gitlab token as a bearer", "gitlab", {"headers": {"Authorization": "Bearer glpat-a1"}}),
    ("ghost key as a header", "ghost", {"headers": {"key": "gh-a1"}}),
    ("ghost key under another name", "ghost", {"params": {"api_key": "gh-a1"}}),
    ("wordpress wrong user, right password", "wordpress", {"headers": basic("admin", "wp pass:1")}),
    ("wordpress right user, wrong password", "wordpress", {"headers": basic("editor", "wp")}),
    ("wordpress password as a bearer", "wordpress", {"headers": {"Authorization": "Bearer wp"}}),
    ("discourse right key, wrong user", "discourse",
     {"headers": {"Api-Key": "dc-a1", "Api-Username": "alice"}}),
    ("discourse key without a user", "discourse", {"headers": {"Api-Key": "dc-a1"}}),
    ("datadog app key wrong", "datadog",
     {"headers": {"DD-API-KEY": "dd-api", "DD-APPLICATION-KEY": "dd-other"}}),
    ("datadog api key wrong", "datadog",
     {"headers": {"DD-API-KEY": "dd-other", "DD-APPLICATION-KEY": "dd-app"}}),
    ("datadog keys swapped", "datadog",
     {"headers": {"DD-API-KEY": "dd-app", "DD-APPLICATION-KEY": "dd-api"}}),
    ("datadog api key alone", "datadog", {"headers": {"DD-API-KEY": "dd-api"}}),
]  # fmt: skip


@pytest.mark.parametrize(("why", "service", "request_"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_wrong_tuple_or_a_key_in_the_wrong_place_is_refused(
    standin: StandIn, why: str, service: str, request_: dict[str, Any]
) -> None:
    for name, (values, _) in GOOD.items():
        standin.accept(name, *values)
    response = call(standin, service, **request_)
    assert response.status_code == 401, why
    assert "error" in response.json()
    assert standin.counts(service)["n8n"].refused == 1


def test_revoked_then_accepted_again(standin: StandIn) -> None:
    values, request = GOOD["discourse"]
    standin.accept("discourse", *values)
    standin.revoke("discourse", *values)
    assert call(standin, "discourse", **request).status_code == 401
    standin.accept("discourse", *values)
    assert call(standin, "discourse", **request).status_code == 200


def test_records_who_presented_which_secret_as_fingerprints(standin: StandIn) -> None:
    standin.accept("datadog", "dd-api", "dd-app")
    good = {"DD-API-KEY": "dd-api", "DD-APPLICATION-KEY": "dd-app"}
    call(standin, "datadog", headers=good)
    mark = standin.mark()
    call(standin, "datadog", headers={**good, "User-Agent": "keyturn/0.3.0 (probe)"})
    call(standin, "datadog", headers={"DD-API-KEY": "dd-bad", "User-Agent": "keyturn/0.3.0"})
    call(standin, "datadog", headers={"DD-API-KEY": "dd-api", "User-Agent": ""})
    assert standin.presented_by("datadog") == {
        "n8n": {fingerprint("dd-api"), fingerprint("dd-app")},
        "keyturn": {fingerprint("dd-api"), fingerprint("dd-app"), fingerprint("dd-bad")},
        "unknown": {fingerprint("dd-api")},
    }
    assert standin.callers_of("datadog", "dd-bad") == {"keyturn"}
    assert standin.callers_of("datadog", "dd-app", since=mark) == {"keyturn"}
    counts = standin.counts("datadog")
    assert (counts["n8n"].accepted, counts["n8n"].refused) == (1, 0)
    assert (counts["keyturn"].accepted, counts["keyturn"].refused) == (1, 1)
    assert standin.records("openai") == []
    last = standin.records("datadog")[-1]
    assert (last.accepted, last.method, last.path) == (False, "GET", "/datadog/x")


def test_no_raw_secret_is_stored_or_logged(
    standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="keyturn.sandbox.standin")
    secrets = ["gh-secret-in-the-query", "wp-secret-password", "wp-user"]
    standin.accept("ghost", secrets[0])
    standin.accept("wordpress", secrets[2], secrets[1])
    assert call(standin, "ghost", "/p", params={"key": secrets[0]}).status_code == 200
    assert call(standin, "ghost", "/p", params={"key": "gh-refused-value"}).status_code == 401
    assert call(standin, "wordpress", headers=basic(secrets[2], secrets[1])).status_code == 200
    stored = repr(standin.state) + repr(standin.records("ghost")) + caplog.text
    for value in [*secrets, "gh-refused-value"]:
        assert value not in stored
    assert fingerprint(secrets[0]) in stored and "ghost GET /ghost/p: accepted" in caplog.text
    assert standin.records("ghost")[0].path == "/ghost/p"  # the query (with the key) dropped


def test_unknown_service_and_wrong_arity(standin: StandIn) -> None:
    assert httpx.get(f"{standin.url}/stripe/v1").status_code == 404
    with pytest.raises(ValueError, match="wordpress takes 2"):
        standin.accept("wordpress", "only-a-password")
    with pytest.raises(ValueError, match="no stand-in service"):
        standin.service_url("stripe")


# keyturn's own probe of each type (n8n's test request, from the generated table), with the
# fields n8n's credential would hold: the stand-in must accept exactly that request.
# (type: service, base URL field, fields, the secret field the wrong-secret case changes)
PROBED = {
    "openAiApi": ("openai", "url", {"apiKey": "sk-a1"}, "apiKey"),
    "gitlabApi": ("gitlab", "server", {"accessToken": "glpat-a1"}, "accessToken"),
    "ghostContentApi": ("ghost", "url", {"apiKey": "gh-a1"}, "apiKey"),
    "wordpressApi": (
        "wordpress",
        "url",
        {"username": "editor", "password": "wp pass:1"},
        "password",
    ),
    "discourseApi": ("discourse", "url", {"apiKey": "dc-a1", "username": "system"}, "apiKey"),
    "datadogApi": ("datadog", "url", {"apiKey": "dd-api", "appKey": "dd-app"}, "appKey"),
}


@pytest.mark.parametrize("type_name", sorted(PROBED))
def test_keyturns_type_probe_is_accepted_and_a_wrong_secret_refused(
    standin: StandIn, type_name: str
) -> None:
    service, url_field, fields, secret_field = PROBED[type_name]
    standin.accept(service, *GOOD[service][0])
    probe = type_probe(type_name)
    assert probe is not None
    base = {**fields, url_field: standin.service_url(service)}
    assert send_probe(probe, build_request(probe, base)).ok
    wrong = {**base, secret_field: "not-registered"}
    result = send_probe(probe, build_request(probe, wrong), attempts=1)
    assert not result.ok and "401" in result.detail
    assert standin.callers_of(service, "not-registered") == {"keyturn"}


# -- the OAuth2 service ---------------------------------------------------------------------

CLIENT, SECRET = "app-1", "cs-secret:one"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token(standin: StandIn, data: Any = None, **kwargs: Any) -> httpx.Response:
    """A token request as an OAuth2 client sends it (a form, unless `content` says else)."""
    headers = {**N8N, **FORM, **kwargs.pop("headers", {})}
    return httpx.post(standin.token_url, data=data, headers=headers, **kwargs)


def client_credentials(standin: StandIn, secret: str = SECRET) -> str:
    """An access token for CLIENT, its secret sent by HTTP Basic."""
    response = token(standin, {"grant_type": "client_credentials"}, auth=(CLIENT, secret))
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def api(standin: StandIn, access_token: str | None, path: str = "/api/data") -> httpx.Response:
    headers = {**N8N, **({"Authorization": f"Bearer {access_token}"} if access_token else {})}
    return httpx.get(f"{standin.service_url('oauth')}{path}", headers=headers)


@pytest.mark.parametrize("placement", ["basic", "body"])
def test_client_credentials_issue_a_bearer_token_the_api_accepts(
    standin: StandIn, placement: str
) -> None:
    standin.accept_client(CLIENT, SECRET)
    form = {"grant_type": "client_credentials", "scope": "read"}
    if placement == "basic":
        response = token(standin, form, auth=(CLIENT, SECRET))
    else:
        response = token(standin, {**form, "client_id": CLIENT, "client_secret": SECRET})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read")
    assert len(body["access_token"]) >= 32 and response.headers["Cache-Control"] == "no-store"
    assert api(standin, body["access_token"]).status_code == 200
    assert httpx.post(
        f"{standin.url}/oauth/v2/items", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json() == {"data": [{"id": 1, "name": "stand-in"}], "has_more": False}
    assert standin.token_requests()[0].client_auth == placement


def test_the_api_refuses_a_missing_unknown_or_basic_credential(standin: StandIn) -> None:
    standin.accept_client(CLIENT, SECRET)
    for access_token in (None, "never-issued"):
        refused = api(standin, access_token)
        assert refused.status_code == 401 and refused.json() == {"error": "invalid_token"}
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    as_basic = httpx.get(f"{standin.url}/oauth/api/data", auth=(CLIENT, SECRET))
    assert as_basic.status_code == 401  # a client secret is not an access token
    assert standin.token_requests() == []  # API calls are not token requests


# A token request refused once CLIENT/SECRET is registered: (why, status, error, request).
TOKEN_REFUSED: list[tuple[str, int, str, dict[str, Any]]] = [
    ("wrong secret by Basic", 401, "invalid_client",
     {"data": {"grant_type": "client_credentials"}, "auth": (CLIENT, "cs-other")}),
    ("wrong secret in the body", 401, "invalid_client",
     {"data": {"grant_type": "client_credentials", "client_id": CLIENT,
               "client_secret": "cs-other"}}),
    ("unknown client, right secret", 401, "invalid_client",
     {"data": {"grant_type": "client_credentials"}, "auth": ("app-2", SECRET)}),
    ("no client authentication", 401, "invalid_client",
     {"data": {"grant_type": "client_credentials", "client_id": CLIENT}}),
    ("secret as a bearer", 401, "invalid_client",
     {"data": {"grant_type": "client_credentials"},
      "headers": {"Authorization": f"Bearer {SECRET}"}}),
    ("bad client asking for a code", 401, "invalid_client",
     {"data": {"grant_type": "authorization_code", "code": "c"}, "auth": (CLIENT, "cs-other")}),
    ("good client, made-up code", 400, "invalid_grant",
     {"data": {"grant_type": "authorization_code", "code": "made-up"}, "auth": (CLIENT, SECRET)}),
    ("good client, no code", 400, "invalid_request",
     {"data": {"grant_type": "authorization_code"}, "auth": (CLIENT, SECRET)}),
    ("good client, made-up refresh token", 400, "invalid_grant",
     {"data": {"grant_type": "refresh_token", "refresh_token": "r"}, "auth": (CLIENT, SECRET)}),
    ("good client, no grant type", 400, "invalid_request", {"data": {}, "auth": (CLIENT, SECRET)}),
    ("good client, password grant", 400, "unsupported_grant_type",
     {"data": {"grant_type": "password"}, "auth": (CLIENT, SECRET)}),
    ("Basic and the body at once", 400, "invalid_request",
     {"data": {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET},
      "auth": (CLIENT, SECRET)}),
    ("JSON, not a form", 400, "invalid_request",
     {"json": {"grant_type": "client_credentials"}, "auth": (CLIENT, SECRET),
      "headers": {"Content-Type": "application/json"}}),
    ("a parameter twice", 400, "invalid_request",
     {"content": b"grant_type=client_credentials&grant_type=password", "auth": (CLIENT, SECRET)}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("why", "status", "error", "request_"), TOKEN_REFUSED, ids=[r[0] for r in TOKEN_REFUSED]
)
def test_the_token_endpoint_refuses_as_rfc_6749_says(
    standin: StandIn, why: str, status: int, error: str, request_: dict[str, Any]
) -> None:
    standin.accept_client(CLIENT, SECRET)
    standin.accept_client("app-2", "cs-app-2")
    response = token(standin, **request_)
    assert (response.status_code, response.json()["error"]) == (status, error), why
    assert "access_token" not in response.json()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    (record,) = standin.token_requests()
    assert (record.outcome, record.status) == (error, status)
    assert record.client_accepted == why.startswith("good client")  # then the grant is refused
    assert standin.state.tokens == {}


def test_the_token_endpoint_takes_post_only(standin: StandIn) -> None:
    response = httpx.get(standin.token_url, auth=(CLIENT, SECRET))
    assert response.status_code == 405 and response.json()["error"] == "invalid_request"


def test_a_client_holds_two_secrets_while_one_is_rotated(standin: StandIn) -> None:
    standin.accept_client(CLIENT, SECRET)
    standin.accept_client(CLIENT, "cs-secret:two")
    old_token = client_credentials(standin, SECRET)
    client_credentials(standin, "cs-secret:two")
    standin.revoke_client(CLIENT, SECRET)
    refused = token(standin, {"grant_type": "client_credentials"}, auth=(CLIENT, SECRET))
    assert refused.status_code == 401
    assert api(standin, old_token).status_code == 200  # its tokens outlive the secret
    assert api(standin, client_credentials(standin, "cs-secret:two")).status_code == 200
    standin.accept_client(CLIENT, SECRET)  # un-revoked
    client_credentials(standin, SECRET)
    with pytest.raises(ValueError, match="non-empty"):
        standin.accept_client(CLIENT, "")


def test_revoking_every_token_makes_the_client_fetch_a_new_one(standin: StandIn) -> None:
    standin.accept_client(CLIENT, SECRET)
    first, second = client_credentials(standin), client_credentials(standin)
    assert first != second
    assert standin.revoke_tokens() == 2
    assert standin.revoke_tokens() == 0
    assert api(standin, first).status_code == 401 and api(standin, second).status_code == 401
    assert api(standin, client_credentials(standin)).status_code == 200


def test_records_who_presented_which_client_secret_and_token(standin: StandIn) -> None:
    standin.accept_client(CLIENT, SECRET)
    n8n_token = client_credentials(standin)
    api(standin, n8n_token)
    mark = standin.mark()
    keyturn = {"User-Agent": "keyturn/0.3.0"}
    body = {"grant_type": "authorization_code", "code": "x", "client_id": CLIENT}
    token(standin, {**body, "client_secret": "cs-bad"}, headers=keyturn)
    token(standin, {**body, "client_secret": SECRET}, headers=keyturn)
    api(standin, "not-issued")
    assert standin.client_secret_callers(SECRET) == {"n8n", "keyturn"}
    assert standin.client_secret_callers(SECRET, since=mark) == {"keyturn"}
    assert standin.client_secret_callers("cs-bad") == {"keyturn"}
    first, bad, good = standin.token_requests()
    assert (first.caller, first.client_auth, first.client_id) == ("n8n", "basic", CLIENT)
    assert (first.secret, first.grant_type, first.outcome) == (
        fingerprint(SECRET),
        "client_credentials",
        "token",
    )
    assert {"authorization", "content-type"} <= set(first.header_names)
    assert (bad.client_auth, bad.client_accepted, bad.outcome) == ("body", False, "invalid_client")
    assert (good.client_accepted, good.outcome, good.status) == (True, "invalid_grant", 400)
    assert standin.token_requests(since=mark, caller="n8n") == []
    counts = standin.token_counts()
    assert (counts["n8n"].accepted, counts["keyturn"].accepted, counts["keyturn"].refused) == (
        1, 0, 2)  # fmt: skip
    calls = standin.records("oauth")
    assert [(c.caller, c.accepted, c.path) for c in calls] == [
        ("n8n", True, "/oauth/api/data"), ("n8n", False, "/oauth/api/data")]  # fmt: skip
    assert calls[0].fingerprints == (fingerprint(n8n_token),)
    assert standin.state.issued_for(fingerprint(n8n_token)) == fingerprint(SECRET)
    assert standin.state.issued_for(fingerprint("not-issued")) is None
    assert standin.records("openai") == []  # token requests are not another service's calls


def test_no_client_secret_or_token_is_stored_or_logged(
    standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="keyturn.sandbox.standin")
    standin.accept_client(CLIENT, SECRET)
    access_token = client_credentials(standin)
    token(standin, {"grant_type": "client_credentials"}, auth=(CLIENT, "cs-refused-value"))
    assert api(standin, access_token).status_code == 200
    stored = repr(standin.state) + repr(standin.token_requests()) + caplog.text
    for value in (SECRET, "cs-refused-value", access_token):
        assert value not in stored
    assert fingerprint(SECRET) in stored and fingerprint(access_token) in stored
    assert "oauth POST /oauth/token: token" in caplog.text
    assert "oauth POST /oauth/token: invalid_client" in caplog.text


# keyturn's own probe of an OAuth2 app's client secret (the generated oAuth2Api entry) with the
# fields n8n's credential holds: (grant type, client authentication, what accepts it).
OAUTH_PROBES = [
    ("clientCredentials", "header", "issued a token"),
    ("clientCredentials", "body", "issued a token"),
    ("authorizationCode", "header", "invalid_grant"),
    ("authorizationCode", "body", "invalid_grant"),
]


@pytest.mark.parametrize(("grant", "authentication", "accepted_by"), OAUTH_PROBES)
def test_keyturns_oauth2_probe_is_judged_by_the_client_alone(
    standin: StandIn, grant: str, authentication: str, accepted_by: str
) -> None:
    standin.accept_client(CLIENT, SECRET)
    probe = type_probe("oAuth2Api")
    assert probe is not None
    fields = {
        "grantType": grant, "authentication": authentication, "accessTokenUrl": standin.token_url,
        "clientId": CLIENT, "clientSecret": SECRET,
    }  # fmt: skip
    result = send_probe(probe, build_request(probe, fields))
    assert result.ok and accepted_by in result.detail, result.detail
    wrong = send_probe(
        probe, build_request(probe, {**fields, "clientSecret": "cs-bad"}), attempts=1
    )
    assert not wrong.ok and "401 invalid_client" in wrong.detail
    placement = "basic" if authentication == "header" else "body"
    assert {r.client_auth for r in standin.token_requests()} == {placement}
    assert standin.client_secret_callers("cs-bad") == {"keyturn"}
