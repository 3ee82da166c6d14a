"""An OAuth2 app's client secret, proven at the app's token endpoint before n8n holds it.

A real n8n credential of type `oAuth2Api` (client credentials grant) whose token URL is the
stand-in's OAuth2 service, used by a live webhook workflow (HTTP Request node, generic
credential type oAuth2Api) that calls the stand-in's API with the token n8n fetched and stored
(`oauthTokenData`). Under live traffic, the real CLI refuses a client secret the token
endpoint does not know (n8n never holds it, only keyturn presented it), then rotates to a good
one with 0 failed runs, and n8n keeps its token: no token request because of the rotation.
Once the old secret and every token are revoked, n8n fetches a new token with the new secret.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.load import LoadGenerator
from keyturn.sandbox.standin import Presentation, StandIn, TokenRequest, fingerprint
from keyturn.sandbox.workflows import webhook_workflow
from tests.conftest import CliResult, N8nHandle
from tests.helpers import wait_until

CLIENT = "keyturn-oauth2-app"
# n8n fetches tokens with axios's own User-Agent (`axios/1.x`), not the `n8n` its HTTP Request
# node sends: the stand-in names that caller `axios`.
N8N_TOKEN_CALLER = "axios"
API_PATH = "/oauth/api/data"


@dataclass
class App:
    """The OAuth2 app in n8n: its credential, the live webhook that uses it, the old secret."""

    standin: StandIn
    credential_id: str
    webhook: str
    old: str
    env: dict[str, str]


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


@pytest.fixture
def app(n8n: N8nHandle, standin: StandIn, tmp_path: Path) -> App:
    """The credential and its workflow, after the first run made n8n fetch and keep a token."""
    old = f"old-{secrets.token_urlsafe(16)}"
    standin.accept_client(CLIENT, old)
    credential = n8n.client.create_credential(
        "Stand-in OAuth2 app",
        "oAuth2Api",
        {
            "grantType": "clientCredentials",
            "accessTokenUrl": standin.token_url,
            "clientId": CLIENT,
            "clientSecret": old,
        },
    )
    workflow = webhook_workflow(
        "OAuth2 sync", "oauth2-sync", f"{standin.url}{API_PATH}", "oAuth2Api", credential
    )
    created = n8n.client.create_workflow(workflow)
    assert created.id is not None
    n8n.client.activate_workflow(created.id)
    webhook = f"{n8n.url}/webhook/oauth2-sync"
    wait_until(lambda: httpx.get(webhook, timeout=30).status_code == 200, timeout=30)
    assert_one_token_fetched(standin.token_requests(caller=N8N_TOKEN_CALLER), old)
    env = {**n8n.env(), "KEYTURN_STATE_DIR": str(tmp_path / "state"), "OLD_SECRET": old}
    return App(standin, credential.id, webhook, old, env)


def assert_one_token_fetched(requests: list[TokenRequest], secret: str) -> None:
    """n8n made exactly one token request, a client-credentials one with this secret, sent
    by HTTP Basic (n8n's default `authentication: header`), and got a token."""
    assert [(r.client_auth, r.client_id, r.secret, r.grant_type, r.outcome) for r in requests] == [
        ("basic", CLIENT, fingerprint(secret), "client_credentials", "token")
    ]


def rotate_args(app: App, new_secret: Path, *extra: str) -> list[str]:
    return [
        "rotate", app.credential_id, "--field", "clientSecret",
        "--new-secret", f"file:{new_secret}", "--current-secret", "env:OLD_SECRET",
        "--set", f"accessTokenUrl={app.standin.token_url}", "--set", f"clientId={CLIENT}",
        "--set", "grantType=clientCredentials", "--grace", "0s", "--json", *extra,
    ]  # fmt: skip


def secret_file(folder: Path, label: str) -> tuple[str, Path]:
    value = f"{label}-{secrets.token_urlsafe(16)}"
    path = folder / f"{label}-secret"
    path.write_text(value + "\n")
    return value, path


def api_calls(standin: StandIn, since: int) -> list[Presentation]:
    return [call for call in standin.records("oauth", since) if call.path == API_PATH]


def test_dry_run_shows_the_token_request_with_the_secret_masked(
    app: App, run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    new, path = secret_file(tmp_path, "new")
    mark = app.standin.mark()
    planned = run_cli(*rotate_args(app, path, "--dry-run"), env=app.env)
    assert planned.code == 0, planned.stderr
    plan = json.loads(planned.stdout)["plan"]
    assert plan["probe_type"] == "oAuth2Api" and "probe" in plan["verify"], plan
    request = plan["probe_request"]
    assert request.startswith(f"POST {app.standin.token_url}"), request
    assert "***" in request and f"Basic auth user '{CLIENT}', password ***" in request, request
    assert "client_credentials" in request, request
    for value in (new, app.old):
        assert value not in planned.stdout + planned.stderr
    assert app.standin.token_requests(since=mark) == []  # a dry run sends nothing


def test_a_refused_secret_never_reaches_n8n_and_a_good_one_keeps_n8ns_token(
    app: App, n8n: N8nHandle, run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    standin = app.standin
    bad, bad_path = secret_file(tmp_path, "bad")
    new, new_path = secret_file(tmp_path, "new")
    standin.accept_client(CLIENT, new)  # the good secret, known to the app beside the old one
    mark = standin.mark()
    with LoadGenerator(app.webhook, rate_per_second=8, max_seconds=60) as load:
        load.wait_for(5)
        before = n8n.client.get_credential(app.credential_id).updated_at
        assert before is not None
        refused = run_cli(*rotate_args(app, bad_path), env=app.env)
        assert refused.code == ExitCode.ROTATION_FAILED, refused.stderr
        assert "oAuth2Api test" in refused.stderr and "invalid_client" in refused.stderr
        assert n8n.client.get_credential(app.credential_id).updated_at == before  # never held it

        rotated = run_cli(*rotate_args(app, new_path), env=app.env)
        assert rotated.code == 0, rotated.stderr
        after = standin.mark()
        wait_until(lambda: len(api_calls(standin, after)) >= 10, timeout=30)
    assert load.stats.failed == 0, load.stats.outcomes
    for result, secret in ((refused, bad), (rotated, new)):
        assert secret not in result.stdout + result.stderr
    assert_rotated(json.loads(rotated.stdout))
    assert standin.client_secret_callers(bad) == {"keyturn"}
    assert standin.client_secret_callers(new) == {"keyturn"}  # n8n has not needed it yet
    assert_token_kept(standin, mark)
    assert_new_token_on_revocation(app, new)


def assert_rotated(document: dict[str, Any]) -> None:
    assert document["status"] == "completed", document
    probes = [check for check in document["checks"] if check["means"] == "probe"]
    assert probes and all(check["ok"] for check in probes), document["checks"]
    assert "issued a token" in probes[0]["detail"], probes


def assert_token_kept(standin: StandIn, mark: int) -> None:
    """n8n made no token request during the load and every workflow call carried the token it
    fetched before: the partial update kept oauthTokenData (had it been wiped, the next run
    would have fetched a new token)."""
    assert standin.token_requests(since=mark, caller=N8N_TOKEN_CALLER) == []
    calls = api_calls(standin, mark)
    assert len(calls) >= 15 and all(call.accepted for call in calls), len(calls)
    assert len({call.fingerprints for call in calls}) == 1, "n8n switched tokens"


def assert_new_token_on_revocation(app: App, new: str) -> None:
    """The old secret and every token revoked, the next run still succeeds: n8n, refused with
    its token, fetched a new one with the new secret and repeated the call with it."""
    standin = app.standin
    standin.revoke_client(CLIENT, app.old)
    assert standin.revoke_tokens() >= 1
    last = standin.mark()
    assert httpx.get(app.webhook, timeout=30).status_code == 200
    assert_one_token_fetched(standin.token_requests(since=last, caller=N8N_TOKEN_CALLER), new)
    refused, accepted = api_calls(standin, last)
    assert not refused.accepted and accepted.accepted
    assert standin.state.issued_for(accepted.fingerprints[0]) == fingerprint(new)
    assert standin.client_secret_callers(new, since=last) == {N8N_TOKEN_CALLER}
    assert standin.client_secret_callers(app.old, since=last) == set()
