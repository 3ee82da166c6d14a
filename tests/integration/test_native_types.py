"""n8n's own credential types: keyturn proves a new key with the type's own test request
before n8n holds it. An `openAiApi` credential whose base URL points at the demo provider
(which answers `/v1/models` like an AI provider and accepts `Authorization: Bearer`), used by a
live webhook workflow through the HTTP Request node's predefined credential type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.load import LoadGenerator
from keyturn.sandbox.workflows import DemoProviderClient, webhook_workflow
from tests.conftest import N8nHandle, write_provider_config
from tests.helpers import wait_until

NAME = "Partner AI"


@pytest.fixture
def native(n8n: N8nHandle, provider: DemoProvider, tmp_path: Path) -> dict[str, Any]:
    admin = DemoProviderClient(provider.url, provider.admin_token)
    key_id, key = admin.issue_key("ai")
    credential = n8n.client.create_credential(
        NAME, "openAiApi", {"apiKey": key, "url": f"{provider.url}/v1"}
    )
    workflow = webhook_workflow(
        "AI sync", "ai-sync", f"{provider.url}/v1/data", "openAiApi", credential
    )
    call = workflow["nodes"][1]
    call["parameters"].pop("genericAuthType")
    call["parameters"]["authentication"] = "predefinedCredentialType"
    call["parameters"]["nodeCredentialType"] = "openAiApi"
    created = n8n.client.create_workflow(workflow)
    assert created.id is not None
    n8n.client.activate_workflow(created.id)
    webhook = f"{n8n.url}/webhook/ai-sync"
    wait_until(lambda: httpx.get(webhook, timeout=30).status_code == 200, timeout=30)
    write_provider_config(tmp_path / "keyturn.toml", provider, None)  # the type test probes
    env = {
        **n8n.env(),
        "PARTNER_ADMIN_TOKEN": provider.admin_token,
        "KEYTURN_STATE_DIR": str(tmp_path / "state"),
        "OLD_KEY": key,
    }
    return {"id": credential.id, "key_id": key_id, "env": env, "webhook": webhook}


def args(native: dict[str, Any], provider: DemoProvider, *extra: str) -> list[str]:
    return [
        "rotate", native["id"], "--current-secret", "env:OLD_KEY", "--grace", "0s", "--json",
        "--set", f"url={provider.url}/v1", *extra,
    ]  # fmt: skip


def stats(provider: DemoProvider) -> dict[str, Any]:
    response = httpx.get(
        f"{provider.url}/admin/stats", headers={"X-Admin-Token": provider.admin_token}
    )
    result: dict[str, Any] = response.json()
    return result


def test_dry_run_shows_the_type_test_request_with_the_secret_masked(
    native: dict[str, Any], provider: DemoProvider, run_cli: Any
) -> None:
    planned = run_cli(
        *args(native, provider, "--provider", "partner", "--new-secret", "provider", "--dry-run"),
        env=native["env"],
    )
    assert planned.code == 0, planned.stderr
    plan = json.loads(planned.stdout)["plan"]
    assert plan["probe_type"] == "openAiApi" and "probe" in plan["verify"]
    assert plan["probe_request"].startswith(f"GET {provider.url}/v1/models")
    assert "Authorization: Bearer ***" in plan["probe_request"]
    assert plan["probe_fields"]["url"] == f"{provider.url}/v1"


def test_a_good_key_rotates_under_live_traffic_proven_before_and_after_set(
    native: dict[str, Any], provider: DemoProvider, run_cli: Any
) -> None:
    with LoadGenerator(native["webhook"], rate_per_second=10, max_seconds=60) as load:
        load.wait_for(10)
        result = run_cli(
            *args(
                native, provider, "--provider", "partner", "--new-secret", "provider",
                "--current-key-id", native["key_id"],
            ),
            env=native["env"],
        )  # fmt: skip
        load.wait_for(load.stats.sent + 10)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    means = {check["means"] for check in document["checks"] if check["ok"]}
    assert {"probe", "n8n-test"} <= means  # its own test before set, n8n's after
    assert load.stats.failed == 0, load.stats.outcomes
    # Remembered: the next rotation needs no --set.
    again = run_cli(
        "rotate", native["id"], "--provider", "partner", "--new-secret", "provider",
        "--grace", "0s", "--json", "--dry-run", env=native["env"],
    )  # fmt: skip
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["plan"]["probe_type"] == "openAiApi"


def test_a_refused_key_never_reaches_n8n(
    native: dict[str, Any], provider: DemoProvider, run_cli: Any, tmp_path: Path, n8n: N8nHandle
) -> None:
    before = next(c for c in n8n.client.list_credentials() if c.id == native["id"])
    bad = tmp_path / "bad-key"
    bad.write_text("sk-refused-by-the-service-0000\n")
    refused_before = stats(provider)["refused_by"]
    result = run_cli(*args(native, provider, "--new-secret", f"file:{bad}"), env=native["env"])
    assert result.code == ExitCode.ROTATION_FAILED, result.stderr
    assert "openAiApi test" in result.stderr and "401" in result.stderr
    after = next(c for c in n8n.client.list_credentials() if c.id == native["id"])
    assert after.updated_at == before.updated_at  # n8n never held it
    refused = stats(provider)["refused_by"]
    assert refused.get("keyturn", 0) == refused_before.get("keyturn", 0) + 1
    others = {k: v for k, v in refused.items() if k != "keyturn"}
    assert others == {k: v for k, v in refused_before.items() if k != "keyturn"}  # none from n8n
    assert httpx.get(native["webhook"], timeout=30).status_code == 200
