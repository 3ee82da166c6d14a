"""`keyturn rotate` end to end: real n8n, real demo provider, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keyturn.sandbox.demo_provider import DemoProvider
from tests.conftest import N8nHandle, Partner, make_partner


def rotate_args(partner: Partner, *extra: str) -> list[str]:
    return [
        "rotate",
        partner.credential_id,
        "--provider",
        "partner",
        "--current-secret",
        "env:OLD_KEY",
        "--current-key-id",
        partner.key_id,
        "--verify-webhook",
        partner.webhook_path,
        "--grace",
        "0s",
        "--json",
        *extra,
    ]


@pytest.mark.parametrize("cred_type", ["httpHeaderAuth", "httpQueryAuth", "httpBasicAuth"])
@pytest.mark.parametrize("strategy", ["in_place", "replace"])
def test_rotation_happy_path(
    n8n: N8nHandle,
    provider: DemoProvider,
    tmp_path: Path,
    run_cli: Any,
    cred_type: str,
    strategy: str,
) -> None:
    partner = make_partner(n8n, provider, tmp_path, cred_type)
    result = run_cli(
        *rotate_args(partner, "--strategy", strategy, "--accept-webhook-gap"), env=partner.env
    )
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    assert {check["means"] for check in document["checks"]} == {"probe", "webhook"}
    assert all(check["ok"] for check in document["checks"])
    # The old key is revoked, exactly one new key is active, and the workflow runs on it at
    # once: n8n caches nothing, no restart was needed.
    states = partner.key_states()
    assert states[partner.key_id] is True
    assert len(partner.active_keys()) == 1
    assert partner.call_webhook() == 200
    if strategy == "replace":
        live = n8n.client.list_credentials()
        assert [c.id for c in live] == [document["new_credential_id"]]
        assert partner.credential_id not in {c.id for c in live}
    else:
        assert [c.id for c in n8n.client.list_credentials()] == [partner.credential_id]


def test_second_rotation_needs_no_current_secret(partner: Partner, run_cli: Any) -> None:
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    again = run_cli(
        "rotate",
        partner.credential_name,
        "--provider",
        "partner",
        "--grace",
        "0s",
        "--verify-webhook",
        partner.webhook_path,
        "--json",
        env=partner.env,
    )
    assert again.code == 0, again.stderr
    assert len(partner.active_keys()) == 1  # the first rotation's key was revoked in turn
    assert partner.call_webhook() == 200
    history = run_cli("history", partner.credential_id, "--json", env=partner.env)
    events = json.loads(history.stdout)["events"]
    assert [e["step"] for e in events].count("finish") >= 2
    assert all(e["os_user"] for e in events)


def test_dry_run_changes_nothing(partner: Partner, run_cli: Any) -> None:
    before = partner.key_states()
    result = run_cli(*rotate_args(partner, "--dry-run"), env=partner.env)
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["strategy"] == "in_place"
    assert plan["verify"] == ["probe", "webhook"]
    assert plan["revoke"] == f"key {partner.key_id} at partner"
    assert plan["usages"] == ["Partner sync httpHeaderAuth > Call partner API (active)"]
    assert partner.key_states() == before
    table = run_cli(
        *[a for a in rotate_args(partner, "--dry-run") if a != "--json"], env=partner.env
    )
    assert "dry run" in table.stdout and "update in place" in table.stdout


def test_status_is_empty_after_success(partner: Partner, run_cli: Any) -> None:
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    status = run_cli("status", "--json", env=partner.env)
    assert json.loads(status.stdout) == {"in_flight": []}
