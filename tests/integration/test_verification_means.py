"""Each proof that a new secret works, against a real n8n: n8n's credential test, retrying
failed executions, watching live executions; and the fact that n8n caches no credential."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from keyturn.sandbox.n8n_server import LocalN8n
from tests.conftest import N8nHandle, Partner
from tests.helpers import wait_until


def test_n8n_reads_the_credential_at_each_execution(partner: Partner) -> None:
    """No cache, no refresh endpoint, no restart: the next run uses the new value."""
    _, new_key = partner.admin.issue_key("next")
    partner.n8n.client.update_credential(partner.credential_id, {"value": new_key})
    partner.revoke_key(partner.key_id)
    assert partner.call_webhook() == 200


def test_verify_with_n8n_credential_test(
    n8n: N8nHandle, n8n_server: LocalN8n, run_cli: Any, tmp_path: Path
) -> None:
    old_key = n8n_server.create_api_key(["workflow:list"])
    new_key = n8n_server.create_api_key(["workflow:list"])
    credential = n8n.client.create_credential(
        "n8n self API", "n8nApi", {"apiKey": old_key, "baseUrl": f"{n8n.url}/api/v1"}
    )
    (tmp_path / "new").write_text(new_key)
    (tmp_path / "wrong").write_text("definitely-not-a-key-123")
    env = {**n8n.env(), "OLD": old_key, "KEYTURN_STATE_DIR": str(tmp_path / "state")}
    base = ["rotate", credential.id, "--current-secret", "env:OLD", "--grace", "0s", "--json"]

    failed = run_cli(*base, "--new-secret", f"file:{tmp_path / 'wrong'}", env=env)
    assert failed.code == 6 and "Unauthorized" in failed.stderr
    assert n8n.client.test_credential(credential.id).ok  # rolled back to the old key

    result = run_cli(*base, "--new-secret", f"file:{tmp_path / 'new'}", env=env)
    assert result.code == 0, result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert [(c["means"], c["ok"]) for c in checks] == [("n8n-test", True)]
    assert n8n.client.test_credential(credential.id).ok


def test_verify_by_retrying_failed_executions(partner: Partner, run_cli: Any) -> None:
    # The key leaked and was revoked at the provider: the workflow now fails.
    partner.revoke_key(partner.key_id)
    assert partner.call_webhook() == 500
    (failed,) = list(partner.n8n.client.iter_executions(status="error"))
    args = [
        "rotate",
        partner.credential_id,
        "--provider",
        "partner",
        "--current-secret",
        "env:OLD_KEY",
        "--grace",
        "0s",
        "--verify",
        "retry-failed",
        "--json",
    ]
    # Not chosen by default: retrying re-runs real executions (their side effects too).
    unasked = [a for a in args if a not in ("--verify", "retry-failed")]
    default_plan = json.loads(run_cli(*unasked, "--dry-run", env=partner.env).stdout)["plan"]
    assert "retry-failed" not in default_plan["verify"]
    assert default_plan["failed_executions"] == []
    dry = run_cli(*args, "--dry-run", env=partner.env)
    plan = json.loads(dry.stdout)["plan"]
    assert plan["failed_executions"] == [failed.id]
    assert any("re-runs 1 real execution" in warning for warning in plan["warnings"])
    result = run_cli(*args, env=partner.env)
    assert result.code == 0, result.stderr
    (check,) = json.loads(result.stdout)["checks"]
    assert check["means"] == "retry-failed" and check["ok"]
    retried = [e for e in partner.n8n.client.iter_executions() if e.retry_of == failed.id]
    assert [e.status for e in retried] == ["success"]


def test_verify_by_watching_live_executions(partner: Partner, run_cli: Any) -> None:
    stop = threading.Event()
    codes: list[int] = []

    def traffic() -> None:
        for _ in range(200):  # bounded: at most 200 calls
            if stop.wait(0.2):
                return
            codes.append(partner.call_webhook())

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        wait_until(lambda: len(codes) >= 2, timeout=30)
        args = [
            "rotate",
            partner.credential_id,
            "--provider",
            "partner",
            "--current-secret",
            "env:OLD_KEY",
            "--current-key-id",
            partner.key_id,
            "--grace",
            "1s",
            "--verify",
            "watch",
            "--watch",
            "3s",
            "--json",
        ]
        result = run_cli(*args, env=partner.env)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert result.code == 0, result.stderr
    (check,) = json.loads(result.stdout)["checks"]
    assert check["means"] == "watch" and check["ok"] and "succeeded" in check["detail"]
    assert codes and set(codes) == {200}  # not one failed run while rotating


def test_env_secrets_warn_and_restart_command_runs(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    from keyturn.sandbox.workflows import chain, code_node, webhook_node

    partner.n8n.client.create_workflow(
        chain(
            "Env reader",
            webhook_node("Env reader", "env-reader"),
            code_node("Env reader", "return [{ json: { k: $env.PARTNER_API_KEY } }];"),
        )
    )
    marker = tmp_path / "restarted"
    env = {**partner.env, "KEYTURN_N8N_RESTART_COMMAND": f"touch {marker}"}
    args = [
        "rotate",
        partner.credential_id,
        "--provider",
        "partner",
        "--current-secret",
        "env:OLD_KEY",
        "--grace",
        "0s",
        "--json",
    ]
    plan = json.loads(run_cli(*args, "--dry-run", env=env).stdout)["plan"]
    assert any("$env" in warning and "Env reader" in warning for warning in plan["warnings"])
    assert not marker.exists()
    result = run_cli(*args, "--restart", env=env)
    assert result.code == 0, result.stderr
    assert marker.exists()
    without = run_cli(*args, "--restart", env=partner.env)
    assert without.code == 2 and "restart_command" in without.stderr
