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
