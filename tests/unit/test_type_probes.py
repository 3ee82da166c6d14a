"""The probe keyturn builds from n8n's own description of a credential type's test."""

from __future__ import annotations

import httpx
import pytest

from keyturn.n8n.expressions import ExpressionError
from keyturn.n8n.type_probes import (
    TypeProbe,
    build_request,
    judge,
    needed_fields,
    probe_gaps,
    probed_types,
    send_probe,
    type_probe,
)


def probe(name: str) -> TypeProbe:
    found = type_probe(name)
    assert found is not None, name
    return found


def test_the_table_covers_the_ai_and_chat_types_people_rotate() -> None:
    names = set(probed_types())
    assert {"openAiApi", "anthropicApi", "slackApi", "stripeApi", "githubApi"} <= names
    assert len(names) >= 150
    assert type_probe("httpHeaderAuth") is None  # n8n has no test for the generic types


@pytest.mark.parametrize(
    ("type_name", "values", "method", "url", "where"),
    [
        (
            "openAiApi",
            {"apiKey": "sk-new-1"},
            "GET",
            "https://api.openai.com/v1/models",
            ("headers", "Authorization", "Bearer sk-new-1"),
        ),
        (
            "slackApi",
            {"accessToken": "xoxb-new"},
            "GET",
            "https://slack.com/api/users.profile.get",
            ("headers", "Authorization", "Bearer xoxb-new"),
        ),
        (
            "stripeApi",
            {"secretKey": "sk_live_new"},
            "GET",
            "https://api.stripe.com/v1/charges",
            ("headers", "Authorization", "Bearer sk_live_new"),
        ),
        (
            "githubApi",
            {"accessToken": "ghp_new", "server": "http://127.0.0.1:9/api/v3"},
            "GET",
            "http://127.0.0.1:9/api/v3/user",
            ("headers", "Authorization", "token ghp_new"),
        ),
    ],
)
def test_requests_built_from_the_table(
    type_name: str, values: dict[str, str], method: str, url: str, where: tuple[str, str, str]
) -> None:
    request = build_request(probe(type_name), values)
    assert (request.method, request.url) == (method, url)
    section, name, value = where
    assert getattr(request, section)[name] == value


def test_a_base_url_field_set_by_the_user_wins_over_the_default() -> None:
    request = build_request(probe("openAiApi"), {"apiKey": "k-1", "url": "http://127.0.0.1:8/v1/"})
    assert request.url == "http://127.0.0.1:8/v1/models"


def test_a_missing_base_url_names_the_field_to_set() -> None:
    jira = probe("jiraSoftwareCloudApi")
    assert needed_fields(jira) == ["domain"]
    with pytest.raises(ExpressionError, match="domain"):
        build_request(jira, {"apiToken": "t-1", "email": "a@b.c"})


def test_the_description_masks_every_secret() -> None:
    request = build_request(probe("openAiApi"), {"apiKey": "sk-secret-value"})
    text = request.describe(["sk-secret-value"])
    assert "sk-secret-value" not in text and "Bearer ***" in text


def test_basic_auth_types_carry_user_and_password() -> None:
    basic = [
        name
        for name in probed_types()
        if (probe(name).authenticate_for(probe(name).defaults) or {})
        .get("properties", {})
        .get("auth")
    ]
    assert basic, "some types authenticate with Basic auth"
    entry = probe(basic[0])
    values = {field: f"v-{field}" for field in entry.secret_fields}
    values.update({field: "https://x.example.com" for field in needed_fields(entry)})
    request = build_request(entry, values)
    assert request.basic_auth is not None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"ok": True}, True),
        (401, {}, False),
        (200, {"ok": False, "error": "invalid_auth"}, False),  # Slack answers 200 on a bad token
    ],
)
def test_judging_follows_n8n_rules(status: int, body: dict[str, object], expected: bool) -> None:
    ok, detail = judge(status, body, probe("slackApi"), accept_http_errors=False)
    assert ok is expected, detail
    if body.get("error") == "invalid_auth":
        assert detail == "Invalid access token"


def test_a_code_authenticate_follows_the_credentials_switch_fields() -> None:
    """n8n's code authenticate branches on a field: the table keeps a variant per value."""
    openai = probe("openAiApi")
    plain = build_request(openai, {"apiKey": "sk-1"})
    assert "X-Custom" not in plain.headers
    extra = build_request(
        openai, {"apiKey": "sk-1", "header": True, "headerName": "X-Custom", "headerValue": "v2"}
    )
    assert extra.headers["X-Custom"] == "v2"
    woo = probe("wooCommerceApi")
    values = {"url": "https://shop.example.com", "consumerKey": "ck_1", "consumerSecret": "cs_1"}
    assert build_request(woo, values).basic_auth == ("ck_1", "cs_1")
    in_query = build_request(woo, {**values, "includeCredentialsInQuery": "true"})  # from --set
    assert in_query.basic_auth is None
    assert in_query.params["consumer_secret"] == "cs_1"


def test_an_oauth2_client_secret_is_proven_at_the_apps_token_endpoint() -> None:
    google = probe("googleOAuth2Api")
    request = build_request(google, {"clientId": "app-1", "clientSecret": "s3cr+t/="})
    assert (request.method, request.url) == ("POST", "https://oauth2.googleapis.com/token")
    assert request.body["grant_type"] == "authorization_code"  # a made-up code: no token
    assert request.carries("s3cr+t/=") and "s3cr" not in request.describe()
    sent_in = request.body if isinstance(request.body, dict) else {}
    by_header = request.basic_auth == ("app-1", "s3cr+t/=")
    assert by_header or sent_in.get("client_secret") == "s3cr+t/="
    generic = probe("oAuth2Api")
    values = {
        "clientId": "app-2", "clientSecret": "cs-2", "grantType": "clientCredentials",
        "accessTokenUrl": "https://idp.example.com/token", "scope": "read",
    }  # fmt: skip
    request = build_request(generic, values)
    assert request.body["grant_type"] == "client_credentials" and request.body["scope"] == "read"
    assert request.basic_auth == ("app-2", "cs-2")  # n8n's default: Basic auth header
    in_body = build_request(generic, {**values, "authentication": "body"})
    assert in_body.basic_auth is None and in_body.body["client_secret"] == "cs-2"


@pytest.mark.parametrize(
    ("status", "body", "ok"),
    [
        (200, {"access_token": "t", "token_type": "bearer"}, True),
        (400, {"error": "invalid_grant"}, True),  # the client authenticated; the code is bad
        (200, {"error": "bad_verification_code"}, True),  # GitHub answers 200
        (401, {"error": "invalid_client"}, False),
        (400, {"error": "invalid_client"}, False),
        (200, {"ok": False, "error": "bad_client_secret"}, False),  # Slack
        (401, None, False),
        (400, {"error": "invalid_request"}, False),  # tells nothing: not a proof
        (500, None, False),
        (200, {"ok": True}, False),
    ],
)
def test_the_token_endpoints_answer_is_judged_for_the_client_only(
    status: int, body: object, ok: bool
) -> None:
    assert judge(status, body, probe("oAuth2Api"), False)[0] is ok


def test_field_values_given_as_text_take_the_fields_type() -> None:
    mattermost = probe("mattermostApi")
    values = {"accessToken": "t-1", "baseUrl": "https://chat.example.com"}
    assert build_request(mattermost, {**values, "allowUnauthorizedCerts": "false"}).verify_tls
    insecure = build_request(mattermost, {**values, "allowUnauthorizedCerts": "true"})
    assert not insecure.verify_tls and "NOT verified" in insecure.describe()
    with pytest.raises(ExpressionError, match="true or false"):
        build_request(mattermost, {**values, "allowUnauthorizedCerts": "nope"})
    with pytest.raises(ExpressionError, match="longer than"):
        build_request(mattermost, {**values, "baseUrl": "https://x.example.com" + "/" * 3000})


def test_a_redirect_proves_nothing() -> None:
    github = probe("githubApi")
    request = build_request(github, {"accessToken": "ghp_wrong", "server": "https://gh.example"})
    transport = httpx.MockTransport(
        lambda r: httpx.Response(302, headers={"Location": "https://login.example/sso"})
    )
    result = send_probe(github, request, transport=transport, attempts=1)
    assert not result.ok and "redirect to login.example" in result.detail


def test_an_oauth2_verdict_counts_only_when_a_random_secret_is_refused() -> None:
    app = probe("googleOAuth2Api")
    real = build_request(app, {"clientId": "c-1", "clientSecret": "real-secret-1"})
    decoy = build_request(app, {"clientId": "c-1", "clientSecret": "decoy-secret-2"})

    def server(checks_client_first: bool) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            good = b"real-secret-1" in request.content
            if checks_client_first and not good:
                return httpx.Response(401, json={"error": "invalid_client"})
            return httpx.Response(400, json={"error": "invalid_grant"})

        return httpx.MockTransport(answer)

    sound = send_probe(app, real, control=decoy, transport=server(True), attempts=1)
    assert sound.ok and "random secret refused" in sound.detail
    blind = send_probe(app, real, control=decoy, transport=server(False), attempts=1)
    assert not blind.ok and "proves nothing" in blind.detail
    assert judge(400, {"error": "unauthorized_client"}, app, False)[0] is False


@pytest.mark.parametrize(
    ("type_name", "fields", "rotated", "gap"),
    [
        ("twilioApi", {}, ["authToken"], "accountSid"),
        ("googleOAuth2Api", {}, ["clientSecret"], "clientId"),
        ("trelloApi", {}, ["apiToken"], "apiKey, a secret keyturn does not know"),
    ],
)
def test_a_probe_that_cannot_prove_the_key_with_what_keyturn_knows_says_why(
    type_name: str, fields: dict[str, str], rotated: list[str], gap: str
) -> None:
    reason = probe_gaps(probe(type_name), fields, rotated)
    assert reason is not None and gap in reason


def test_a_probe_with_everything_it_needs_has_no_gap() -> None:
    assert probe_gaps(probe("openAiApi"), {}, ["apiKey"]) is None
    assert probe_gaps(probe("googleOAuth2Api"), {"clientId": "c"}, ["clientSecret"]) is None
    assert probe_gaps(probe("datadogApi"), {"url": "https://d"}, ["apiKey", "appKey"]) is None
    # An optional secret keyturn does not know goes empty, as n8n sends it unset.
    assert probe_gaps(probe("datadogApi"), {"url": "https://d"}, ["apiKey"]) is None
    # A branch not taken sends nothing: Twilio by auth token needs no API key pair.
    assert probe_gaps(probe("twilioApi"), {"accountSid": "AC1"}, ["authToken"]) is None
