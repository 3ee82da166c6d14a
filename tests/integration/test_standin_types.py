"""Probe before set, for six of n8n's own credential types, against services that authenticate
the way the real ones do (keyturn.sandbox.standin).

For each type: a real n8n credential whose base-URL field points at its stand-in service, used
by a live webhook workflow (HTTP Request node, predefined credential type). Under live traffic,
the real CLI first refuses a new key the service does not know (n8n never holds it, and only
keyturn ever presented it), then rotates to a good one with 0 failed runs, after which the
workflow calls the service with the new key (the old one is revoked there to prove it).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.errors import ExitCode
from keyturn.n8n.models import Credential
from keyturn.sandbox.load import LoadGenerator
from keyturn.sandbox.standin import StandIn, fingerprint
from keyturn.sandbox.workflows import webhook_workflow
from tests.conftest import CliResult, N8nHandle
from tests.helpers import wait_until


@dataclass(frozen=True)
class Case:
    """One credential type and the stand-in service it is pointed at."""

    type_name: str
    service: str
    url_field: str  # the field holding the service's base URL
    call: str  # what the workflow's HTTP Request node calls, under the service
    order: tuple[str, ...]  # the credential's fields, in the order of the stand-in's tuple
    identity: dict[str, str] = field(default_factory=dict)  # non-secret fields of the tuple

    @property
    def secret_fields(self) -> list[str]:
        """The fields rotated; the first is the type's default secret field."""
        return [name for name in self.order if name not in self.identity]

    def values(self, label: str) -> dict[str, str]:
        """A fresh value for each secret field, and the fixed non-secret ones."""
        fresh = {name: f"{label}-{name}-{secrets.token_urlsafe(12)}" for name in self.secret_fields}
        return {**self.identity, **fresh}

    def tuple_of(self, values: dict[str, str]) -> tuple[str, ...]:
        return tuple(values[name] for name in self.order)


CASES = [
    Case("openAiApi", "openai", "url", "/models", ("apiKey",)),
    Case("gitlabApi", "gitlab", "server", "/api/v4/projects", ("accessToken",)),
    Case("ghostContentApi", "ghost", "url", "/ghost/api/content/posts/", ("apiKey",)),
    Case("wordpressApi", "wordpress", "url", "/wp-json/wp/v2/posts", ("username", "password"),
         {"username": "editor"}),
    Case("discourseApi", "discourse", "url", "/latest.json", ("apiKey", "username"),
         {"username": "system"}),
    Case("datadogApi", "datadog", "url", "/api/v1/validate", ("apiKey", "appKey")),
]  # fmt: skip


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


def live_workflow(n8n: N8nHandle, case: Case, credential: Credential, standin: StandIn) -> str:
    """An active webhook workflow whose HTTP Request node calls the service with the
    credential as its predefined type; returns the webhook's URL once it answers 200."""
    path = f"standin-{case.service}"
    url = f"{standin.service_url(case.service)}{case.call}"
    workflow = webhook_workflow(f"Stand-in {case.service}", path, url, case.type_name, credential)
    call = workflow["nodes"][1]
    call["parameters"].pop("genericAuthType")
    call["parameters"]["authentication"] = "predefinedCredentialType"
    call["parameters"]["nodeCredentialType"] = case.type_name
    created = n8n.client.create_workflow(workflow)
    assert created.id is not None
    n8n.client.activate_workflow(created.id)
    webhook = f"{n8n.url}/webhook/{path}"
    wait_until(lambda: httpx.get(webhook, timeout=30).status_code == 200, timeout=30)
    return webhook


def rotate_args(
    case: Case, credential_id: str, files: dict[str, Path], standin: StandIn
) -> list[str]:
    """`keyturn rotate` with each new secret from a file and each current one from the
    environment (`OLD_<FIELD>`); a second secret field as --field NAME=SOURCE."""
    first, *others = case.secret_fields
    args = ["rotate", credential_id]
    if others:
        args += ["--field", first]
    args += ["--new-secret", f"file:{files[first]}"]
    args += [arg for name in others for arg in ("--field", f"{name}=file:{files[name]}")]
    args += ["--current-secret", f"env:OLD_{first.upper()}"]
    args += [
        arg for name in others for arg in ("--current-secret", f"{name}=env:OLD_{name.upper()}")
    ]
    args += ["--set", f"{case.url_field}={standin.service_url(case.service)}"]
    args += [arg for name, value in case.identity.items() for arg in ("--set", f"{name}={value}")]
    return [*args, "--grace", "0s", "--json"]


def secret_files(folder: Path, label: str, case: Case, values: dict[str, str]) -> dict[str, Path]:
    files = {}
    for name in case.secret_fields:
        files[name] = folder / f"{label}-{name}"
        files[name].write_text(values[name] + "\n")
    return files


def calls_since(standin: StandIn, case: Case, mark: int) -> list[frozenset[str]]:
    """The fingerprints each workflow call (the node's path, not the type test's) carried."""
    path = f"/{case.service}{case.call}"
    return [
        frozenset(record.fingerprints)
        for record in standin.records(case.service, since=mark)
        if record.path == path
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.type_name for case in CASES])
def test_a_refused_key_never_reaches_n8n_and_a_good_one_rotates_under_load(
    case: Case,
    n8n: N8nHandle,
    standin: StandIn,
    run_cli: Callable[..., CliResult],
    tmp_path: Path,
) -> None:
    old, new, bad = case.values("old"), case.values("new"), case.values("bad")
    standin.accept(case.service, *case.tuple_of(old))
    standin.accept(case.service, *case.tuple_of(new))  # the good key, known to the service
    credential = n8n.client.create_credential(
        f"Stand-in {case.type_name}",
        case.type_name,
        {case.url_field: standin.service_url(case.service), **old},
    )
    webhook = live_workflow(n8n, case, credential, standin)
    env = {
        **n8n.env(),
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        **{f"OLD_{name.upper()}": old[name] for name in case.secret_fields},
    }
    bad_args = rotate_args(case, credential.id, secret_files(tmp_path, "bad", case, bad), standin)
    good_args = rotate_args(case, credential.id, secret_files(tmp_path, "new", case, new), standin)
    with LoadGenerator(webhook, rate_per_second=10, max_seconds=90) as load:
        load.wait_for(5)
        before = n8n.client.get_credential(credential.id).updated_at
        assert before is not None
        refused = run_cli(*bad_args, env=env)
        assert refused.code == ExitCode.ROTATION_FAILED, refused.stderr
        assert f"{case.type_name} test" in refused.stderr and "401" in refused.stderr
        assert n8n.client.get_credential(credential.id).updated_at == before  # never held it

        rotated = run_cli(*good_args, env=env)
        assert rotated.code == 0, rotated.stderr
        standin.revoke(case.service, *case.tuple_of(old))
        after = standin.mark()
        wait_until(lambda: len(calls_since(standin, case, after)) >= 5, timeout=30)
    assert_rotated(json.loads(rotated.stdout))
    assert load.stats.failed == 0, load.stats.outcomes
    for name in case.secret_fields:
        # Only keyturn's probe ever presented the bad key; keyturn and n8n's test the new one.
        assert standin.callers_of(case.service, bad[name]) == {"keyturn"}, name
        assert {"keyturn", "n8n"} <= standin.callers_of(case.service, new[name]), name
    assert_workflow_uses(calls_since(standin, case, after), case, new, old)


def assert_rotated(document: dict[str, Any]) -> None:
    assert document["status"] == "completed", document
    means = {check["means"] for check in document["checks"] if check["ok"]}
    assert {"probe", "n8n-test"} <= means, document["checks"]  # its own test before set


def assert_workflow_uses(
    calls: list[frozenset[str]], case: Case, new: dict[str, str], old: dict[str, str]
) -> None:
    """Every workflow call after the rotation carried the new secrets and none of the old."""
    assert calls, "no workflow call reached the service after the rotation"
    expected = frozenset(fingerprint(new[name]) for name in case.secret_fields)
    stale = {fingerprint(old[name]) for name in case.secret_fields}
    assert all(fps == expected and not fps & stale for fps in calls), len(calls)
