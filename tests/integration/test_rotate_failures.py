"""Rotations that go wrong: rollback, crashes and resume, provider faults, n8n down, bad input."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.core.errors import ExitCode
from keyturn.sandbox.n8n_server import LocalN8n
from tests.conftest import N8nHandle, Partner
from tests.helpers import wait_until
from tests.integration.test_rotate_live import rotate_args


def failed_runs(partner: Partner) -> int:
    executions = partner.n8n.client.iter_executions(status="error")
    return sum(1 for _ in executions)


def issued(partner: Partner) -> int:
    return len(partner.key_states())


def inject(partner: Partner, status: int, count: int, scope: str = "admin") -> None:
    response = httpx.post(
        f"{partner.provider.url}/admin/faults",
        json={"status": status, "count": count, "scope": scope, "retry_after": 0},
        headers={"X-Admin-Token": partner.provider.admin_token},
    )
    assert response.status_code == 200


def clear_faults(partner: Partner) -> None:
    response = httpx.delete(
        f"{partner.provider.url}/admin/faults",
        headers={"X-Admin-Token": partner.provider.admin_token},
    )
    assert response.status_code == 200


def test_bad_new_secret_never_reaches_n8n(partner: Partner, run_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad-key"
    bad.write_text("not-a-valid-key-0000\n")
    result = run_cli(*rotate_args(partner, "--new-secret", f"file:{bad}"), env=partner.env)
    assert result.code == ExitCode.ROTATION_FAILED
    assert "does not work" in result.stderr and "rolled back" in result.stderr
    assert partner.call_webhook() == 200  # still on the old key
    assert failed_runs(partner) == 0
    assert partner.active_keys() == [partner.key_id]


def test_failed_verification_rolls_back_to_the_old_key(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-key"
    bad.write_text("not-a-valid-key-0000\n")
    # Only the webhook proves anything here, so the bad value reaches n8n, fails, and is undone.
    result = run_cli(
        *rotate_args(partner, "--new-secret", f"file:{bad}", "--verify", "webhook"),
        env=partner.env,
    )
    assert result.code == ExitCode.ROTATION_FAILED, result.stderr
    assert "verification failed" in result.stderr
    assert partner.call_webhook() == 200
    assert partner.active_keys() == [partner.key_id]
    history = json.loads(run_cli("history", "--json", env=partner.env).stdout)["events"]
    assert ("rollback", "restored") in {(e["step"], e["outcome"]) for e in history}
    assert json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"] == []


@pytest.mark.parametrize("step", ["issued", "created", "set", "tested", "finished"])
def test_sigkill_after_each_step_then_resume(partner: Partner, run_cli: Any, step: str) -> None:
    crashed = run_cli(*rotate_args(partner), env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": step})
    assert crashed.code == -signal.SIGKILL
    status = json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"]
    if step == "finished":
        assert status == []  # the journal committed the end before the crash
    else:
        (in_flight,) = status
        assert in_flight["credential_id"] == partner.credential_id
        busy = run_cli(*rotate_args(partner), env=partner.env)
        assert busy.code == ExitCode.BUSY and "already being rotated" in busy.stderr
        resumed = run_cli("resume", "--json", env=partner.env)
        assert resumed.code == 0, resumed.stderr
        (done,) = json.loads(resumed.stdout)["resumed"]
        assert done["status"] == "completed"
    assert issued(partner) == 2  # the initial key and exactly one new one
    assert partner.active_keys() != [partner.key_id] and len(partner.active_keys()) == 1
    assert partner.call_webhook() == 200
    assert failed_runs(partner) == 0


def test_provider_429_then_success(partner: Partner, run_cli: Any) -> None:
    inject(partner, 429, 2)
    result = run_cli(*rotate_args(partner), env=partner.env)
    assert result.code == 0, result.stderr
    assert issued(partner) == 2


def test_provider_500_forever_changes_nothing(partner: Partner, run_cli: Any) -> None:
    inject(partner, 500, 100)
    result = run_cli(*rotate_args(partner), env=partner.env)
    assert result.code == ExitCode.PROVIDER
    assert "500" in result.stderr and "attempts" in result.stderr
    clear_faults(partner)
    assert partner.call_webhook() == 200
    assert json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"] == []
    assert issued(partner) == 1


def test_provider_500_at_revoke_pauses_then_resumes(partner: Partner, run_cli: Any) -> None:
    crashed = run_cli(
        *rotate_args(partner), env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": "tested"}
    )
    assert crashed.code == -signal.SIGKILL
    inject(partner, 500, 100)
    paused = run_cli("resume", env=partner.env)
    assert paused.code == ExitCode.PROVIDER
    assert "works and is in n8n" in paused.stderr and "keyturn resume" in paused.stderr
    assert partner.call_webhook() == 200  # the new key is live; the old one still valid
    clear_faults(partner)
    assert run_cli("resume", env=partner.env).code == 0
    assert partner.key_states()[partner.key_id] is True


def test_n8n_down_mid_rotation(partner: Partner, n8n_server: LocalN8n, run_cli: Any) -> None:
    crashed = run_cli(
        *rotate_args(partner), env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": "created"}
    )
    assert crashed.code == -signal.SIGKILL
    n8n_server.stop()
    try:
        down = run_cli("resume", env=partner.env)
        assert down.code == ExitCode.N8N
        assert "Cannot connect to n8n" in down.stderr and "keyturn resume" in down.stderr
        assert (
            len(json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"]) == 1
        )
    finally:
        n8n_server.start()
    resumed = run_cli("resume", env=partner.env)
    assert resumed.code == 0, resumed.stderr
    wait_until(lambda: partner.call_webhook() == 200, timeout=30)
    assert partner.key_states()[partner.key_id] is True


def test_rollback_command_restores_previous_value(partner: Partner, run_cli: Any) -> None:
    # Without --current-key-id the old key is not revoked, so it can come back.
    args = [a for a in rotate_args(partner) if a not in ("--current-key-id", partner.key_id)]
    assert run_cli(*args, env=partner.env).code == 0
    new_keys = [k for k in partner.active_keys() if k != partner.key_id]
    partner.revoke_key(new_keys[0])
    assert partner.call_webhook() == 500  # the new key was revoked behind keyturn's back
    result = run_cli("rollback", partner.credential_name, "--json", env=partner.env)
    assert result.code == 0, result.stderr
    assert partner.call_webhook() == 200


def test_rollback_refuses_a_revoked_previous_key(partner: Partner, run_cli: Any) -> None:
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    result = run_cli("rollback", partner.credential_id, env=partner.env)
    assert result.code == ExitCode.USAGE and "was revoked" in result.stderr
    assert partner.call_webhook() == 200


def test_no_verification_available_is_refused(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    (tmp_path / "keyturn.toml").write_text("")
    new = tmp_path / "new-key"
    new.write_text("whatever-0000-1111\n")
    args = [
        "rotate",
        partner.credential_id,
        "--new-secret",
        f"file:{new}",
        "--current-secret",
        "env:OLD_KEY",
    ]
    result = run_cli(*args, env=partner.env)
    assert result.code == ExitCode.USAGE and "will not rotate blind" in result.stderr
    assert partner.call_webhook() == 200


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["rotate", "nope-id", "--new-secret", "generate"], ExitCode.NOT_FOUND, "no credential"),
        (
            ["rotate", "{id}", "--new-secret", "file:/does/not/exist"],
            ExitCode.USAGE,
            "does not exist",
        ),
        (["rotate", "{id}", "--new-secret", "env:EMPTY_VAR"], ExitCode.USAGE, "is empty"),
        (
            ["rotate", "{id}", "--new-secret", "sk-literal-secret-123"],
            ExitCode.USAGE,
            "never accepted",
        ),
        (
            ["rotate", "{id}", "--new-secret", "provider", "--provider", "nope"],
            ExitCode.USAGE,
            "Unknown provider",
        ),
        (["rotate", "{id}", "--new-secret", "provider"], ExitCode.USAGE, "needs a provider"),
        (
            ["rotate", "{id}", "--new-secret", "generate", "--grace", "soon"],
            ExitCode.USAGE,
            "not a duration",
        ),
    ],
)
def test_bad_input_changes_nothing(
    partner: Partner, run_cli: Any, args: list[str], code: int, fragment: str
) -> None:
    argv = [a.replace("{id}", partner.credential_id) for a in args]
    argv += ["--current-secret", "env:OLD_KEY", "--verify-webhook", partner.webhook_path]
    result = run_cli(*argv, env={**partner.env, "EMPTY_VAR": ""})
    assert result.code == code, result.stderr
    assert fragment in result.stderr
    assert "sk-literal-secret-123" not in result.stderr
    assert partner.call_webhook() == 200
    assert partner.active_keys() == [partner.key_id]
    assert json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"] == []


def test_ambiguous_name_lists_ids(n8n: N8nHandle, run_cli: Any) -> None:
    first = n8n.client.create_credential(
        "Twin", "httpHeaderAuth", {"name": "X", "value": "a-1234567"}
    )
    second = n8n.client.create_credential(
        "Twin", "httpHeaderAuth", {"name": "X", "value": "b-1234567"}
    )
    result = run_cli("rotate", "Twin", "--new-secret", "generate", env=n8n.env())
    assert result.code == ExitCode.NOT_FOUND
    assert first.id in result.stderr and second.id in result.stderr


def test_a_name_n8n_will_not_update_is_refused_before_anything_changes(
    n8n: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    """n8n creates a credential named "ab" but refuses every update of it (3 to 128
    characters, checked even when the name does not change): keyturn says so up front."""
    short = n8n.client.create_credential(
        "ab", "httpHeaderAuth", {"name": "X", "value": "v-12345678"}
    )
    for extra in ([], ["--strategy", "session"]):
        env = {**n8n.env(), **(n8n.login_env(tmp_path) if extra else {})}
        result = run_cli(
            "rotate", short.id, "--new-secret", "generate", "--allow-unverified",
            "--allow-no-rollback", *extra, env=env,
        )  # fmt: skip
        assert result.code == ExitCode.USAGE, result.stderr
        assert "3 to 128" in result.stderr and "Rename it" in result.stderr
    assert [c.updated_at for c in n8n.client.list_credentials()] == [short.updated_at]


def test_dry_runs_of_resume_and_rollback_change_nothing(partner: Partner, run_cli: Any) -> None:
    crashed = run_cli(*rotate_args(partner), env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": "set"})
    assert crashed.code == -signal.SIGKILL
    resume = run_cli("resume", "--dry-run", env=partner.env)
    assert resume.code == 0 and "after step set" in resume.stdout
    rollback = run_cli("rollback", partner.credential_id, "--dry-run", env=partner.env)
    assert (
        rollback.code == 0
        and "back into n8n" in rollback.stdout
        and "revoke pending" in rollback.stdout
    )
    assert len(json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"]) == 1
    assert run_cli("rollback", partner.credential_id, env=partner.env).code == 0
    assert partner.active_keys() == [partner.key_id]  # the pending key was revoked
    assert partner.call_webhook() == 200


@pytest.mark.parametrize("step", ["created", "credential-created", "set", "tested"])
def test_replace_strategy_survives_sigkill(partner: Partner, run_cli: Any, step: str) -> None:
    args = rotate_args(partner, "--strategy", "replace", "--accept-webhook-gap")
    crashed = run_cli(*args, env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": step})
    assert crashed.code == -signal.SIGKILL
    resumed = run_cli("resume", "--json", env=partner.env)
    assert resumed.code == 0, resumed.stderr
    (done,) = json.loads(resumed.stdout)["resumed"]
    credentials = partner.n8n.client.list_credentials()
    assert [c.id for c in credentials] == [done["new_credential_id"]]  # old one deleted, no orphan
    assert partner.call_webhook() == 200
    assert issued(partner) == 2 and failed_runs(partner) == 0


def test_replace_strategy_rollback_after_crash_repoints_back(
    partner: Partner, run_cli: Any
) -> None:
    args = rotate_args(partner, "--strategy", "replace", "--accept-webhook-gap")
    crashed = run_cli(*args, env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": "set"})
    assert crashed.code == -signal.SIGKILL
    assert len(partner.n8n.client.list_credentials()) == 2  # the replacement exists
    assert run_cli("rollback", partner.credential_id, env=partner.env).code == 0
    assert [c.id for c in partner.n8n.client.list_credentials()] == [partner.credential_id]
    workflow = next(iter(partner.n8n.client.list_workflows()))
    refs = [ref.id for node in workflow.nodes for ref in node.credentials.values()]
    assert refs == [partner.credential_id]
    assert partner.call_webhook() == 200
    assert partner.active_keys() == [partner.key_id]


@pytest.mark.parametrize("step", ["created", "set"])
def test_an_unexpected_error_rolls_back_instead_of_exit_70(
    partner: Partner, run_cli: Any, step: str
) -> None:
    """A bug or an odd failure (not a KeyturnError) during create or set: rolled back, exit 6."""
    result = run_cli(*rotate_args(partner), env={**partner.env, "KEYTURN_TEST_FAIL_AFTER": step})
    assert result.code == ExitCode.ROTATION_FAILED, result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("keyturn:")]
    assert "unexpected error (InjectedFailure" in error and "rolled back" in error
    assert "Traceback" not in result.stderr
    assert partner.active_keys() == [partner.key_id]  # the new key was revoked, the old works
    assert partner.call_webhook() == 200
    assert json.loads(run_cli("status", "--json", env=partner.env).stdout)["in_flight"] == []


@pytest.mark.parametrize("strategy", ["in_place", "replace"])
def test_rollback_refuses_once_the_old_key_may_be_revoked(
    partner: Partner, run_cli: Any, strategy: str
) -> None:
    """A crash (or n8n going down) after the old key's revocation: rolling back would put a dead
    key into n8n and revoke the working one. keyturn refuses and says how to go forward."""
    args = rotate_args(partner, "--strategy", strategy, "--accept-webhook-gap")
    crashed = run_cli(*args, env={**partner.env, "KEYTURN_TEST_CRASH_AFTER": "finish-revoked"})
    assert crashed.code == -signal.SIGKILL
    assert partner.key_states()[partner.key_id] is True  # the old key is revoked
    (new_key,) = partner.active_keys()
    refused = run_cli("rollback", partner.credential_id, env=partner.env)
    assert refused.code == ExitCode.USAGE, refused.stderr
    assert "keyturn resume" in refused.stderr and "cannot be rolled back" in refused.stderr
    assert partner.active_keys() == [new_key]  # the working key was not revoked
    assert partner.call_webhook() == 200
    resumed = run_cli("resume", "--json", env=partner.env)
    assert resumed.code == 0, resumed.stderr
    (done,) = json.loads(resumed.stdout)["resumed"]
    assert done["status"] == "completed"
    assert partner.active_keys() == [new_key] and partner.call_webhook() == 200
    events = json.loads(run_cli("history", "--json", env=partner.env).stdout)["events"]
    assert [e["outcome"] for e in events if e["outcome"] == "revoked"] == ["revoked"]  # once
