"""`keyturn serve`'s HTTP application, in process: routes, sign-in, CSRF, headers, escaping."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from starlette.testclient import TestClient

from keyturn.serve import view as v
from keyturn.serve.web import CSP, create_app
from keyturn.serve.web_auth import SESSION_COOKIE, SESSION_SECONDS, LoginLimiter, Signer
from keyturn.serve.web_render import human_age, relative
from tests.serve_views import HOSTILE_NAMES, NOW, dashboard_view

TOKEN = "s3cr3t-dashboard-token"
METRICS = (b"# HELP keyturn_up 1\nkeyturn_up 1\n", "text/plain; version=0.0.4; charset=utf-8")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client(
    *,
    token: str | None = TOKEN,
    rotate_now: Callable[[str], str] | None = None,
    view: Callable[[], v.DashboardView] = dashboard_view,
    ready: Callable[[], tuple[bool, str]] = lambda: (True, "ready: leader elected"),
    metrics: Callable[[], tuple[bytes, str]] = lambda: METRICS,
    limiter: LoginLimiter | None = None,
    clock: Callable[[], float] | None = None,
    https: bool = False,
) -> TestClient:
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    app = create_app(
        view=view,
        metrics=metrics,
        ready=ready,
        token=token,
        rotate_now=rotate_now,
        limiter=limiter,
        **extra,
    )
    base = "https://127.0.0.1" if https else "http://127.0.0.1"
    return TestClient(app, base_url=base, follow_redirects=False)


def sign_in(web: TestClient, token: str = TOKEN) -> None:
    response = web.post("/login", data={"token": token})
    assert response.status_code == 303, response.text


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, "no rotate-now form on the page"
    return match.group(1)


class Rotations:
    def __init__(self, message: str = "Rotation of Stripe live started (rotation rot-9).") -> None:
        self.calls: list[str] = []
        self.message = message

    def __call__(self, credential_id: str) -> str:
        self.calls.append(credential_id)
        return self.message


# -- probes and metrics


def test_healthz_is_open_even_with_a_token() -> None:
    response = client().get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_readyz_answers_200_or_503_with_the_detail() -> None:
    assert client().get("/readyz").text == "ready: leader elected"
    not_ready = client(ready=lambda: (False, "n8n unreachable (ConnectError)")).get("/readyz")
    assert (not_ready.status_code, not_ready.text) == (503, "n8n unreachable (ConnectError)")


def test_metrics_are_open_without_a_token() -> None:
    response = client(token=None).get("/metrics")
    assert response.status_code == 200
    assert response.content == METRICS[0]
    assert response.headers["content-type"] == METRICS[1]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer "},
    ],
)
def test_metrics_refuse_anything_but_the_bearer_token(headers: dict[str, str]) -> None:
    response = client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert b"keyturn_up" not in response.content


def test_metrics_take_the_bearer_token_never_a_query() -> None:
    web = client()
    assert web.get("/metrics", params={"token": TOKEN}).status_code == 401
    response = web.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content == METRICS[0]


def test_metrics_open_to_a_signed_in_browser() -> None:
    web = client()
    sign_in(web)
    assert web.get("/metrics").status_code == 200


# -- the dashboard, open and signed in


def test_open_dashboard_without_a_token_has_no_sign_in_and_no_rotate() -> None:
    web = client(token=None, rotate_now=Rotations())
    page = web.get("/")
    assert page.status_code == 200
    assert "Stripe live" in page.text
    assert 'name="csrf"' not in page.text and "/logout" not in page.text
    assert web.get("/login").headers["location"] == "/"
    assert web.post("/login", data={"token": "x"}).status_code == 405
    assert web.post("/rotate/cred000", data={"csrf": "x"}).status_code == 404


def test_dashboard_shows_the_header_and_every_part() -> None:
    page = client(token=None).get("/").text
    assert "n8n-prod &lt;eu-1&gt;" in page
    assert "standby" in page and "web-2:4412" in page
    assert '<time datetime="2025-03-04T03:06:20Z">2025-03-04 03:06Z</time>' in page  # evaluation
    assert "12d 4h" in page  # an age
    for label in ("needs attention", "retrying", "blocked", "rotating", "due", "no policy"):
        assert f">{label}</span>" in page
    for health in ("failing", "healthy", "unknown"):
        assert f'health-{health}">{health}</span>' in page
    assert "provider unreachable (ConnectError)" in page and "next attempt" in page
    assert 'id="in-flight"' in page and "rot-1" in page
    assert "keyturn doctor cred000" in page


def test_the_leader_says_so() -> None:
    leader = replace(dashboard_view(), leader=True, leader_holder="web-1:99")
    page = client(token=None, view=lambda: leader).get("/").text
    assert "this replica runs the scheduler" in page


def test_credentials_needing_a_person_come_first_and_the_timeline_newest_first() -> None:
    page = client(token=None).get("/").text
    states = re.findall(r'class="badge tone-\w+ state-(\w+)"', page)
    assert states[0] == v.NEEDS_ATTENTION and states[-1] == v.NO_POLICY
    steps = re.findall(r'<td data-label="Step"><span class="step">(\w+)</span>', page)
    assert steps[-3:] == ["test", "set", "finish"]  # 1 hour, 1 day, 2 days ago


def test_failures_are_grouped_by_cause() -> None:
    page = client(token=None).get("/").text
    causes = re.findall(
        r'<span class="cause">(\w+)</span> <span class="count">([^<]+)</span>', page
    )
    assert causes == [("rate_limited", "7 failed runs"), ("auth_refused", "4 failed runs")]


def test_empty_dashboard_says_so() -> None:
    empty = v.DashboardView("n8n", NOW, True, None, None)
    page = client(token=None, view=lambda: empty).get("/").text
    assert "No credentials yet." in page and "No rotation in flight." in page
    assert "nothing needs attention" in page


def test_a_browser_without_a_session_is_sent_to_sign_in() -> None:
    response = client().get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_a_program_with_a_wrong_bearer_gets_401_not_a_form() -> None:
    response = client().get("/", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_bearer_token_opens_the_dashboard_without_rotate_forms() -> None:
    web = client(rotate_now=Rotations())
    page = web.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    assert "Stripe live" in page.text and 'name="csrf"' not in page.text


# -- sign-in


def test_sign_in_sets_a_strict_http_only_cookie() -> None:
    web = client()
    form = web.get("/login")
    assert form.status_code == 200 and 'name="token"' in form.text
    response = web.post("/login", data={"token": TOKEN})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes
    assert web.get("/").status_code == 200
    assert web.get("/login").headers["location"] == "/"  # already signed in


def test_the_cookie_is_secure_over_https() -> None:
    response = client(https=True).post("/login", data={"token": TOKEN})
    assert "secure" in {part.strip().lower() for part in response.headers["set-cookie"].split(";")}


def test_the_cookie_is_an_hmac_of_a_random_session_id_keyed_by_the_token() -> None:
    web = client()
    sign_in(web)
    value = web.cookies[SESSION_COOKIE]
    session_id, issued, mac = value.split(".")
    expected = hmac.new(
        TOKEN.encode(), b"keyturn-session\x00" + f"{session_id}.{issued}".encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(mac, expected)
    assert len(session_id) >= 32
    web.post("/logout")
    sign_in(web)
    assert web.cookies[SESSION_COOKIE].split(".")[0] != session_id  # a new id each time


def test_a_cookie_is_worthless_after_the_token_changes_or_when_forged() -> None:
    cookie = Signer("old-token").new_cookie()
    forged = cookie.split(".")[0] + ".\u00b2." + "f" * 64  # a digit int() refuses
    web = client()
    altered = cookie[:-1] + ("1" if cookie[-1] == "0" else "0")
    for value in (cookie, altered, "a.b.c", "", "x.1.y.z", forged, cookie + "\u00e9"):
        header = f"{SESSION_COOKIE}={value}".encode("latin-1")
        assert web.get("/", headers={"Cookie": header}).status_code == 303, value


def test_a_session_expires() -> None:
    clock = Clock()
    web = client(clock=clock)
    sign_in(web)
    clock.now += SESSION_SECONDS - 1
    assert web.get("/").status_code == 200
    clock.now += 2
    assert web.get("/").status_code == 303


def test_a_wrong_token_gets_the_form_again_with_one_line() -> None:
    web = client()
    response = web.post("/login", data={"token": "guess"})
    assert response.status_code == 401
    assert 'name="token"' in response.text
    errors = re.findall(r'<p class="error" role="alert">([^<]*)</p>', response.text)
    assert errors == ["Wrong token."]
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert "guess" not in response.text
    assert web.post("/login", data={}).status_code == 401
    assert web.post("/login", data={"token": TOKEN + "\u00e9"}).status_code == 401


def test_repeated_failures_from_one_client_are_slowed() -> None:
    clock = Clock()
    web = client(limiter=LoginLimiter(free=3, base=2.0, cap=60.0, clock=clock))
    for _ in range(3):
        assert web.post("/login", data={"token": "guess"}).status_code == 401
    refused = web.post("/login", data={"token": TOKEN})  # refused unchecked while waiting
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert "try again in 2s" in refused.text
    clock.now += 2
    assert web.post("/login", data={"token": "guess"}).status_code == 401
    assert web.post("/login", data={"token": TOKEN}).headers["retry-after"] == "4"  # doubled
    clock.now += 4
    sign_in(web)  # a success forgets the failures
    assert web.post("/login", data={"token": "guess"}).status_code == 401


def test_the_limiter_forgets_old_failures_and_bounds_its_memory() -> None:
    clock = Clock()
    limiter = LoginLimiter(free=1, base=10.0, forget_after=100.0, max_clients=2, clock=clock)
    limiter.failed("a")
    assert limiter.wait("a") == 10.0
    clock.now += 101
    assert limiter.wait("a") == 0.0
    for name in ("b", "c", "d"):
        limiter.failed(name)
    assert limiter.wait("b") == 0.0 and limiter.wait("d") == 10.0


def test_sign_out_clears_the_cookie() -> None:
    web = client()
    sign_in(web)
    response = web.post("/logout")
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    assert web.get("/").status_code == 303


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        client(token=" ")


# -- rotate now


def test_rotate_now_redirects_and_shows_its_message_once() -> None:
    rotations = Rotations()
    web = client(rotate_now=rotations)
    sign_in(web)
    page = web.get("/").text
    assert 'action="/rotate/cred000"' in page
    response = web.post("/rotate/cred000", data={"csrf": csrf_of(page)})
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/\?m=[\w-]{16,}", location)
    assert rotations.calls == ["cred000"]
    shown = web.get(location).text
    assert '<p class="flash" role="status">Rotation of Stripe live started' in shown
    assert "Rotation of Stripe live" not in web.get(location).text  # once


def test_rotate_now_is_absent_for_a_credential_already_rotating() -> None:
    web = client(rotate_now=Rotations())
    sign_in(web)
    page = web.get("/").text
    rotating = [r.credential_id for r in dashboard_view().credentials if r.state == v.ROTATING]
    assert rotating and all(f'action="/rotate/{cid}"' not in page for cid in rotating)


def test_the_message_is_escaped_and_the_query_never_reflected() -> None:
    web = client(rotate_now=Rotations("<b>started</b>\u202e"))
    sign_in(web)
    csrf = csrf_of(web.get("/").text)
    location = web.post("/rotate/cred001", data={"csrf": csrf}).headers["location"]
    page = web.get(location).text
    assert "&lt;b&gt;started&lt;/b&gt;\\u202e" in page and "<b>" not in page
    hostile = web.get("/", params={"m": "<script>alert(1)</script>", "x": "injected"}).text
    assert "alert(1)</script>" not in hostile and "injected" not in hostile
    assert 'class="flash"' not in hostile


def test_a_credential_id_is_one_path_segment() -> None:
    rotations = Rotations()
    odd = v.DashboardView("n8n", NOW, True, None, None, [dashboard_view().credentials[0]])
    odd.credentials[0] = replace(odd.credentials[0], credential_id="a/b c?d")
    web = client(rotate_now=rotations, view=lambda: odd)
    sign_in(web)
    page = web.get("/").text
    assert 'action="/rotate/a%2Fb%20c%3Fd"' in page
    web.post("/rotate/a%2Fb%20c%3Fd", data={"csrf": csrf_of(page)})
    assert rotations.calls == ["a/b c?d"]


def test_rotate_now_without_a_valid_session_and_csrf_token_is_403() -> None:
    rotations = Rotations()
    web = client(rotate_now=rotations)
    sign_in(web)
    csrf = csrf_of(web.get("/").text)
    assert web.post("/rotate/cred000", data={}).status_code == 403
    altered = csrf[:-1] + ("1" if csrf[-1] == "0" else "0")  # never the token itself
    assert web.post("/rotate/cred000", data={"csrf": altered}).status_code == 403
    assert web.post("/rotate/cred000", data={"csrf": ""}).status_code == 403
    assert web.post("/rotate/cred000", data={"csrf": "\u00e9" + csrf[1:]}).status_code == 403

    other = client(rotate_now=rotations)  # another session's token
    sign_in(other)
    assert other.post("/rotate/cred000", data={"csrf": csrf}).status_code == 403

    bare = client(rotate_now=rotations)  # the right token, no cookie
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert bare.post("/rotate/cred000", data={"csrf": csrf}, headers=bearer).status_code == 403
    refused = bare.post("/rotate/cred000", data={"csrf": csrf})
    assert refused.status_code == 403 and "reload" in refused.text
    assert rotations.calls == []


def test_a_failing_rotate_now_is_a_one_line_500() -> None:
    web = client(rotate_now=boom)
    sign_in(web)
    csrf = csrf_of(web.get("/").text)
    response = web.post("/rotate/cred000", data={"csrf": csrf})
    assert response.status_code == 500
    assert "sk_live_LEAK" not in response.text


def test_rotate_now_needs_the_callable() -> None:
    web = client(rotate_now=None)
    sign_in(web)
    assert 'name="csrf"' not in web.get("/").text
    assert web.post("/rotate/cred000", data={"csrf": "x"}).status_code == 404


# -- headers


@pytest.mark.parametrize(
    "path", ["/", "/login", "/healthz", "/readyz", "/metrics", "/static/dashboard.css", "/nope"]
)
def test_security_headers_on_every_response(path: str) -> None:
    web = client()
    sign_in(web)
    response = web.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    if path in ("/", "/metrics", "/login"):
        assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_redirects_and_refusals() -> None:
    web = client()
    for response in (web.get("/"), web.get("/metrics"), web.post("/login", data={"token": "x"})):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_served_and_linked() -> None:
    web = client(token=None)
    css = web.get("/static/dashboard.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@media (max-width" in css.text
    link = re.search(
        r'<link rel="stylesheet" href="(/static/dashboard\.css\?v=\w+)">', web.get("/").text
    )
    assert link and web.get(link.group(1)).content == css.content


def test_the_page_has_no_script_no_inline_style_and_no_outside_asset() -> None:
    web = client(rotate_now=Rotations())
    sign_in(web)
    for page in (web.get("/").text, client().get("/login").text):
        assert "<script" not in page.replace("&lt;script", "")
        assert "style=" not in page and "<style" not in page
        assert not re.search(r'(?:src|href|action)="(?:https?:)?//', page)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


# -- hostile names


def names_in_cells(page: str) -> list[str]:
    return [unescape(cell) for cell in re.findall(r'<td class="name">([^<]*)</td>', page)]


def test_hostile_names_are_shown_as_text() -> None:
    page = client(token=None).get("/").text
    shown = names_in_cells(page)
    for name in HOSTILE_NAMES:
        if "\u202e" not in name:
            assert name in shown, name
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_no_template_injection() -> None:
    page = client(token=None).get("/").text
    assert "{{ 7*7 }}" in names_in_cells(page)
    assert ">49<" not in page


def test_a_bidirectional_override_is_shown_not_obeyed() -> None:
    page = client(token=None).get("/").text
    assert "\u202e" not in page
    assert "invoice\\u202egnp.exe" in names_in_cells(page)


def test_an_emoji_sequence_and_a_long_name_survive_whole() -> None:
    shown = names_in_cells(client(token=None).get("/").text)
    assert "ops \U0001f469\u200d\U0001f4bb team" in shown
    assert "long-" + "x" * 495 in shown


def test_hostile_values_everywhere_else_are_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    data = dashboard_view([evil] * 4)
    data = replace(data, instance=evil, leader_holder=evil)
    data.credentials[0] = replace(
        data.credentials[0], type=evil, policy=evil, health_detail=evil, detail=evil, state=evil
    )
    data.credentials[1] = replace(data.credentials[1], health=evil, last_rotation_status=evil)
    page = client(token=None, view=lambda: data).get("/").text
    assert "<img" not in page
    assert "state-other" in page and "health-other" in page  # a class never comes from data


# -- failures


def boom(*_: object) -> Any:
    raise RuntimeError("could not reach https://n8n.example/?api_key=sk_live_LEAK")


@pytest.mark.parametrize("path", ["/", "/readyz", "/metrics"])
def test_an_exception_gives_a_one_line_500_and_logs_only_its_class(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    failing = {
        "/": client(view=boom),
        "/readyz": client(ready=boom),
        "/metrics": client(metrics=boom),
    }
    web = failing[path]
    web.headers["Authorization"] = f"Bearer {TOKEN}"
    with caplog.at_level(logging.DEBUG):
        response = web.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 500
    lines = re.findall(r'<p class="line">([^<]*)</p>', response.text)
    assert lines == ["Internal error: the server log names its cause."]
    for text in (response.text, caplog.text):
        assert "sk_live_LEAK" not in text and "Traceback" not in text
    assert "RuntimeError" in caplog.text
    assert response.headers["content-security-policy"] == CSP
    plain = web.get(path)
    assert (plain.status_code, plain.text) == (
        500,
        "Internal error: the server log names its cause.",
    )


# -- formatting


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "\u2014"),
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (3 * 3600 + 5 * 60 + 9, "3h 5m"),
        (12 * 86400 + 4 * 3600 + 59, "12d 4h"),
        (12 * 86400 + 5 * 60, "12d"),
        (-5, "0s"),
    ],
)
def test_human_age(seconds: float | None, text: str) -> None:
    assert human_age(seconds) == text


def test_relative_times() -> None:
    assert relative(NOW + timedelta(days=3, hours=2), NOW) == "in 3d 2h"
    assert relative(NOW - timedelta(minutes=5), NOW) == "5m ago"
    assert relative(NOW.replace(tzinfo=None), NOW) == "now"  # a naive time is UTC


def test_an_oversized_form_is_refused_without_reading_it_whole() -> None:
    web = client()
    response = web.post("/login", data={"token": "x" * 100_000})
    assert response.status_code == 400
    assert response.headers["content-security-policy"] == CSP
    assert web.post("/login", data={f"f{i}": "x" for i in range(10)}).status_code == 400


# -- review fixes: DNS rebinding, bearer guessing


def test_without_a_token_only_loopback_names_are_answered() -> None:
    """A page whose DNS name points at 127.0.0.1 (DNS rebinding) sends its own Host."""
    web = client(token=None)
    for host in ("127.0.0.1:9464", "localhost", "[::1]:9464", "LOCALHOST:80"):
        assert web.get("/", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:9464", "127.0.0.1.evil.example", ""):
        refused = web.get("/metrics", headers={"Host": host})
        assert refused.status_code == 421, host
        assert "Partner" not in refused.text


def test_with_a_token_any_host_may_ask_but_must_sign_in() -> None:
    web = client()
    assert web.get("/", headers={"Host": "keyturn.internal"}).status_code == 303


def test_wrong_bearer_tokens_are_slowed_like_wrong_sign_ins() -> None:
    clock = Clock()
    web = client(limiter=LoginLimiter(clock=clock))
    wrong = {"Authorization": "Bearer not-the-token"}
    right = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(5):
        assert web.get("/metrics", headers=wrong).status_code == 401
    assert web.get("/metrics", headers=right).status_code == 401  # made to wait: unchecked
    clock.now += 2
    assert web.get("/metrics", headers=right).status_code == 200


# -- the checklist page ----------------------------------------------------------------------


def checklist_result(name: str = "<script>alert(1)</script> Stripe") -> Any:
    from keyturn.checklist import Box, Checklist

    result = Checklist(
        credential={"id": "cred/1", "name": name, "type": "httpHeaderAuth"},
        rotation={"id": "rot-1234567890", "completed_at": "2026-11-29T10:00:00+00:00"},
        since="2026-11-28T10:00:00+00:00",
    )
    result.checks = [
        Box("proven", True, "2 proof(s) passed"),
        Box("old_secret_gone", False, "still in 1 place(s)", ("workflow '<img src=x>', node 'N'",)),
    ]
    return result


def checklist_app(checklist: Callable[[str], Any], token: str | None = TOKEN) -> TestClient:
    app = create_app(view=dashboard_view, metrics=lambda: METRICS,
                     ready=lambda: (True, "ready"), token=token, checklist=checklist)  # fmt: skip
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def test_checklist_page_escapes_names_and_needs_sign_in() -> None:
    asked: list[str] = []

    def checklist(credential_id: str) -> Any:
        asked.append(credential_id)
        return checklist_result()

    web = checklist_app(checklist)
    assert web.get("/checklist/cred%2F1").status_code == 303  # sign in first
    assert web.get("/checklist/cred%2F1", headers={"Authorization": "Bearer x"}).status_code == 401
    assert asked == []
    sign_in(web)
    page = web.get("/checklist/cred%2F1")
    assert page.status_code == 200 and asked == ["cred/1"]
    assert "<script>" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;" in page.text and "1 of 2 boxes ok" in page.text
    bearer = checklist_app(checklist).get(
        "/checklist/cred%2F1", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert bearer.status_code == 200


def test_checklist_page_says_why_there_is_none() -> None:
    from keyturn.core.errors import CredentialNotFound

    def checklist(credential_id: str) -> Any:
        raise CredentialNotFound(f"keyturn has no completed rotation of {credential_id!r}.")

    page = checklist_app(checklist, token=None).get("/checklist/c9")
    assert page.status_code == 404 and "no completed rotation" in unescape(page.text)


def test_the_dashboard_links_completed_rotations_to_their_checklist() -> None:
    page = checklist_app(lambda _: checklist_result(), token=None).get("/")
    assert page.status_code == 200 and 'href="/checklist/' in page.text


def test_checklist_page_redacts_what_its_items_name() -> None:
    from keyturn.core.redact import register_secret

    secret = "sk-old-value-typed-into-a-node-name"
    register_secret(secret)
    result = checklist_result()
    result.checks[1] = replace(result.checks[1], items=(f"workflow 'W', node {secret!r}",))
    page = checklist_app(lambda _: result, token=None).get("/checklist/c1")
    assert page.status_code == 200 and secret not in page.text


def test_a_second_checklist_at_once_is_asked_to_wait() -> None:
    from keyturn.core.errors import ExitCode, KeyturnError

    def busy(_: str) -> Any:
        raise KeyturnError("Another checklist is being computed.", None, exit_code=ExitCode.BUSY)

    assert checklist_app(busy, token=None).get("/checklist/c1").status_code == 429
