"""`keyturn doctor` against a real n8n and the demo provider: each failure kind, for real."""

from __future__ import annotations

import json
from typing import Any

import httpx

from keyturn.core.errors import ExitCode
from keyturn.sandbox.workflows import webhook_workflow
from tests.conftest import Partner
from tests.helpers import wait_until


def doctor(run_cli: Any, partner: Partner, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("doctor", "--json", "--since", "1h", *args, env=partner.env)
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def fail_twice(partner: Partner) -> None:
    assert partner.call_webhook() == 500
    assert partner.call_webhook() == 500


def test_healthy_instance(partner: Partner, run_cli: Any) -> None:
    code, report = doctor(run_cli, partner)
    assert code == 0 and report["healthy"] is True and report["failed_executions"] == 0
    table = run_cli("doctor", env=partner.env)
    assert table.code == 0 and "Healthy" in table.stdout


def test_key_revoked_at_provider(partner: Partner, run_cli: Any) -> None:
    partner.revoke_key(partner.key_id)
    fail_twice(partner)
    code, report = doctor(run_cli, partner)
    assert code == ExitCode.FINDINGS
    (diagnosis,) = report["diagnoses"]
    assert diagnosis["cause"] == "auth_refused"
    assert diagnosis["credential_id"] == partner.credential_id
    assert diagnosis["count"] == 2
    assert "revoked or rotated at the provider" in diagnosis["conclusion"]
    assert diagnosis["command"].startswith(f"keyturn rotate {partner.credential_id}")
    assert partner.key not in json.dumps(report)


def test_wrong_key_set_then_retry_after_fix(partner: Partner, run_cli: Any) -> None:
    partner.n8n.client.update_credential(partner.credential_id, {"value": "a-wrong-key-0000"})
    fail_twice(partner)
    code, report = doctor(run_cli, partner)
    (diagnosis,) = report["diagnoses"]
    assert diagnosis["cause"] == "auth_refused"
    assert "new value is wrong" in diagnosis["conclusion"]
    # Changed outside keyturn: keyturn never knew the previous value, so it asks for the key.
    assert diagnosis["command"].startswith(f"keyturn rotate {partner.credential_id} --new-secret")
    assert any("updated in n8n" in line for line in diagnosis["evidence"])
    # Nothing is fixed yet: --retry retries nothing.
    _, unchanged = doctor(run_cli, partner, "--retry")
    assert unchanged["retried"] == []
    # The fix: the right key back; --retry turns both executions green.
    partner.n8n.client.update_credential(partner.credential_id, {"value": partner.key})
    code, fixed = doctor(run_cli, partner, "--retry")
    assert code == 0
    assert [r["status"] for r in fixed["retried"]] == ["success", "success"]


def test_rate_limited_then_retry(partner: Partner, run_cli: Any) -> None:
    fault = {"status": 429, "count": 2, "scope": "api", "retry_after": 0}
    headers = {"X-Admin-Token": partner.provider.admin_token}
    assert (
        httpx.post(f"{partner.provider.url}/admin/faults", json=fault, headers=headers).status_code
        == 200
    )
    fail_twice(partner)
    code, report = doctor(run_cli, partner, "--retry")
    (diagnosis,) = report["diagnoses"]
    assert diagnosis["cause"] == "rate_limited"
    assert diagnosis["command"].startswith("keyturn doctor --retry")
    assert [r["status"] for r in report["retried"]] == ["success", "success"]
    assert code == 0


def test_deleted_credential(partner: Partner, run_cli: Any) -> None:
    doomed = partner.n8n.client.create_credential(
        "Doomed API", "httpHeaderAuth", {"name": "X-API-Key", "value": partner.key}
    )
    workflow = partner.n8n.client.create_workflow(
        webhook_workflow(
            "Doomed sync",
            "doomed-sync",
            f"{partner.provider.url}/v1/data",
            "httpHeaderAuth",
            doomed,
        )
    )
    assert workflow.id is not None
    partner.n8n.client.activate_workflow(workflow.id)
    url = f"{partner.n8n.url}/webhook/doomed-sync"
    wait_until(lambda: httpx.get(url, timeout=30).status_code == 200)
    partner.n8n.client.delete_credential(doomed.id)
    assert httpx.get(url, timeout=30).status_code == 500
    _, report = doctor(run_cli, partner)
    (diagnosis,) = report["diagnoses"]
    assert diagnosis["cause"] == "credential_missing", diagnosis
    assert diagnosis["credential_id"] == doomed.id
    assert "does not exist" in diagnosis["conclusion"]


def test_duplicate_names_the_other_one_was_edited(partner: Partner, run_cli: Any) -> None:
    # Someone "rotated" by editing a second credential with the same name, then revoked the
    # old key: the node still uses the first one.
    twin = partner.n8n.client.create_credential(
        partner.credential_name, "httpHeaderAuth", {"name": "X-API-Key", "value": "placeholder-0"}
    )
    _, new_key = partner.admin.issue_key("manual rotation")
    partner.n8n.client.update_credential(twin.id, {"value": new_key})
    partner.revoke_key(partner.key_id)
    fail_twice(partner)
    _, report = doctor(run_cli, partner)
    (diagnosis,) = report["diagnoses"]
    assert diagnosis["credential_id"] == partner.credential_id
    assert f"the new key went into {twin.id}" in diagnosis["conclusion"]
    assert diagnosis["command"] == f"keyturn rotate {partner.credential_id} --new-secret SOURCE"


def test_rotation_in_the_journal_is_the_explanation(
    partner: Partner, run_cli: Any, tmp_path: Any
) -> None:
    bad = tmp_path / "bad"
    bad.write_text("a-bad-new-key-1111\n")
    # A rotation allowed to run without any proof (--allow-unverified) sets a bad value.
    forced = run_cli(
        "rotate", partner.credential_id, "--new-secret", f"file:{bad}", "--current-secret",
        "env:OLD_KEY", "--allow-unverified", "--grace", "0s", env=partner.env,
    )  # fmt: skip
    assert forced.code == 0, forced.stderr
    fail_twice(partner)
    _, report = doctor(run_cli, partner)
    (diagnosis,) = report["diagnoses"]
    assert any("keyturn rotation" in line for line in diagnosis["evidence"])
    assert diagnosis["command"] == f"keyturn rollback {partner.credential_id}"
    assert run_cli("rollback", partner.credential_id, env=partner.env).code == 0
    assert partner.call_webhook() == 200
