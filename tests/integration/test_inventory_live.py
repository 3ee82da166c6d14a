"""`keyturn inventory` against a real n8n, through the real CLI."""

from __future__ import annotations

import json
from typing import Any

from keyturn.sandbox.workflows import (
    DemoProviderClient,
    api_body_from_export,
    chain,
    http_request_node,
    seed_demo,
    webhook_node,
)
from tests.conftest import N8nHandle
from tests.helpers import realworld_files


def _inventory_json(run_cli: Any, n8n: N8nHandle) -> dict[str, Any]:
    result = run_cli("inventory", "--json", env=n8n.env())
    assert result.code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _flags(document: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [flag for flag in document["flags"] if flag["code"] == code]


def test_inventory_finds_exactly_what_was_seeded(
    n8n: N8nHandle, provider_admin: DemoProviderClient, run_cli: Any
) -> None:
    seed = seed_demo(n8n.client, provider_admin)
    document = _inventory_json(run_cli, n8n)

    assert document["schema"] == "keyturn.inventory/v1"
    assert document["summary"]["credentials"] == 6
    assert document["summary"]["workflows"] == 7
    by_id = {credential["id"]: credential for credential in document["credentials"]}
    assert set(by_id) == {credential.id for credential in seed.credentials.values()}

    partner = by_id[seed.credentials["Partner API"].id]
    assert partner["type"] == "httpHeaderAuth"
    assert partner["age_days"] == 0
    assert [(u["workflow_name"], u["node_name"], u["active"]) for u in partner["usages"]] == [
        ("Partner sync", "Call partner API", True)
    ]
    assert partner["flags"] == []

    billing_used = by_id[seed.credentials["Billing API (b)"].id]
    billing_unused = by_id[seed.credentials["Billing API (a)"].id]
    assert billing_used["flags"] == ["duplicate_name"]
    assert billing_unused["flags"] == ["duplicate_name", "unused"]
    assert {f["credential_id"] for f in _flags(document, "duplicate_name")} == {
        billing_used["id"],
        billing_unused["id"],
    }

    unused = {f["credential_id"] for f in _flags(document, "unused")}
    assert unused == {billing_unused["id"], seed.credentials["Old Slack token"].id}

    (dangling,) = _flags(document, "dangling_reference")
    assert dangling["workflow_name"] == "CRM import"
    assert dangling["credential_id"] == seed.deleted_credential_id

    (hardcoded,) = _flags(document, "hardcoded_secret")
    assert hardcoded["workflow_name"] == "Legacy report"
    assert "X-API-Key" in hardcoded["message"]
    assert "lg_9f8e7d6c5b4a39281706" not in json.dumps(document)  # only a preview is shown

    (env_flag,) = _flags(document, "env_secret")
    assert env_flag["workflow_name"] == "Env reader"
    assert "PARTNER_API_KEY" in env_flag["message"]
    assert document["summary"]["flags"] == {
        "dangling_reference": 1,
        "hardcoded_secret": 1,
        "env_secret": 1,
        "duplicate_name": 2,
        "unused": 2,
    }


def test_table_output_shows_credentials_and_flags(
    n8n: N8nHandle, provider_admin: DemoProviderClient, run_cli: Any
) -> None:
    seed_demo(n8n.client, provider_admin)
    result = run_cli("inventory", env=n8n.env())
    assert result.code == 0, result.stderr
    for expected in ("Partner API (basic)", "Billing API", "dangling_reference", "Env reader"):
        assert expected in result.stdout
    assert "6 credentials, 7 workflows" in result.stdout


def test_renamed_credential_and_archived_workflow(n8n: N8nHandle, run_cli: Any) -> None:
    credential = n8n.client.create_credential(
        "Old name", "httpHeaderAuth", {"name": "X-API-Key", "value": "k-123456789"}
    )
    body = chain(
        "Stale ref",
        webhook_node("Stale ref", "stale-ref"),
        http_request_node(
            "Stale ref",
            "http://127.0.0.1:9/",
            credential_type="httpHeaderAuth",
            credential=credential,
        ),
    )
    workflow = n8n.client.create_workflow(body)
    assert workflow.id is not None
    # Renaming a credential leaves the old name in the workflows that use it.
    n8n.client._request("PATCH", f"/credentials/{credential.id}", json={"name": "Current name"})
    n8n.client._request("POST", f"/workflows/{workflow.id}/archive")

    document = _inventory_json(run_cli, n8n)
    (entry,) = document["credentials"]
    assert entry["usages"][0]["archived"] is True
    (mismatch,) = _flags(document, "name_mismatch")
    assert "'Old name'" in mismatch["message"] and "'Current name'" in mismatch["message"]
    assert entry["flags"] == ["name_mismatch"]


def test_reads_every_realworld_workflow_from_a_live_instance(n8n: N8nHandle, run_cli: Any) -> None:
    files = realworld_files()
    assert len(files) == 395
    expected_nodes = 0
    for path in files:
        body = api_body_from_export(json.loads(path.read_text()), path.stem)
        n8n.client.create_workflow(body)
        expected_nodes += len(body["nodes"])

    document = _inventory_json(run_cli, n8n)
    assert document["summary"]["workflows"] == len(files)
    assert document["summary"]["nodes"] == expected_nodes
    # No credential exists on this instance, so every reference in the exports dangles.
    assert len(_flags(document, "dangling_reference")) > 1000
    # Two pages of credentials + workflows at 250 a page: requests do not grow per workflow.
    assert document["stats"]["api_requests"] <= 4
