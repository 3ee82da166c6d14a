"""Every n8n in use: the same commands and guarantees on n8n 1.x and on other 2.x lines.

Each test runs once per version of the matrix (`MATRIX_VERSIONS` in keyturn/sandbox/install.py),
against a real install of that version, after the rest of the suite (the installs overlap it).
What a version offers is probed, never assumed: docs/compatibility.md has the table.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from keyturn.n8n.client import N8nClient
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.load import LoadGenerator, LoadStats
from tests.conftest import CliResult, N8nHandle, Partner, connection_for, make_partner
from tests.integration.test_rotate_live import rotate_args

LOAD_RATE = 10  # webhook calls per second during a rotation
# The first test of each version may wait for its install (started in the background by
# `make test`, or done here when that failed) before n8n starts.
pytestmark = pytest.mark.timeout(1800)


# What each version's public API offers, as n8n's specs and changelog say (not as keyturn
# probes it: the probe is what these tests check).
LISTS_CREDENTIALS = {"1.123.81": False, "2.7.5": False, "2.41.1": True}
UPDATES_IN_PLACE = {"1.123.81": False, "2.7.5": True, "2.41.1": True}
TESTS_CREDENTIALS = {"1.123.81": False, "2.7.5": False, "2.41.1": True}


def expected_strategy(handle: N8nHandle, with_login: bool) -> str:
    if UPDATES_IN_PLACE[handle.server.version]:
        return "in_place"
    return "session" if with_login else "replace"


def test_the_probes_find_what_each_version_offers(versioned: N8nHandle) -> None:
    version = versioned.server.version
    with N8nClient(connection_for(versioned.server)) as plain:
        plain.list_credentials()
        assert (not plain.blind_spots) is LISTS_CREDENTIALS[version]
        assert plain.supports_credential_update() is UPDATES_IN_PLACE[version]
        assert plain.supports_credential_test() is TESTS_CREDENTIALS[version]
    with N8nClient(connection_for(versioned.server, login=True)) as user:
        user.list_credentials()
        assert user.blind_spots == [] and user.supports_credential_test() is True


def rotate_under_load(
    partner: Partner, run_cli: Any, env: dict[str, str], *extra: str
) -> tuple[CliResult, LoadStats]:
    """A rotation while the credential's webhook workflow is called LOAD_RATE times a second,
    with traffic before and after it."""
    url = f"{partner.n8n.url}/webhook/{partner.webhook_path}"
    with LoadGenerator(url, rate_per_second=LOAD_RATE, max_seconds=120, max_requests=1200) as load:
        load.wait_for(10)
        result = run_cli(*rotate_args(partner, *extra), env=env)
        load.wait_for(load.stats.sent + 10)
    return result, load.stats


@pytest.fixture
def partner_on(versioned: N8nHandle, provider: DemoProvider, tmp_path: Path) -> Partner:
    return make_partner(versioned, provider, tmp_path)


def test_inventory_with_the_api_key_alone(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any
) -> None:
    unused = versioned.client.create_credential(
        "Spare key", "httpHeaderAuth", {"name": "X-K", "value": "spare-value-0001"}
    )
    result = run_cli("inventory", "--json", env=partner_on.env)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    by_id = {c["id"]: c for c in report["credentials"]}
    assert set(by_id) == {partner_on.credential_id, unused.id}
    used = by_id[partner_on.credential_id]
    assert used["type"] == "httpHeaderAuth" and used["name"] == partner_on.credential_name
    assert [u["workflow_name"] for u in used["usages"]] == ["Partner sync httpHeaderAuth"]
    assert "unused" in by_id[unused.id]["flags"]
    if LISTS_CREDENTIALS[versioned.server.version]:
        assert report["blind_spots"] == []
        assert used["age_days"] == 0
    else:
        (note,) = report["blind_spots"]
        assert "cannot list credentials" in note and "KEYTURN_N8N_EMAIL" in note
        assert used["age_days"] is None  # n8n's references carry no dates
    table = run_cli("inventory", env=partner_on.env)
    visible = LISTS_CREDENTIALS[versioned.server.version]
    assert table.code == 0 and (visible or "Not visible" in table.stdout)


def test_inventory_as_the_keyturn_user_sees_everything(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    env = {**partner_on.env, **versioned.login_env(tmp_path)}
    result = run_cli("inventory", "--json", env=env)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["blind_spots"] == []
    (credential,) = report["credentials"]
    assert credential["id"] == partner_on.credential_id and credential["age_days"] == 0


@pytest.mark.parametrize("with_login", [True, False], ids=["keyturn-user", "api-key-only"])
def test_rotation_under_live_webhook_traffic(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path, with_login: bool
) -> None:
    strategy = expected_strategy(versioned, with_login)
    env = {**partner_on.env, **(versioned.login_env(tmp_path) if with_login else {})}
    if strategy == "replace":
        pytest.skip("replace re-registers webhooks: covered by test_replace_needs_consent")
    result, load = rotate_under_load(partner_on, run_cli, env)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "completed" and document["strategy"] == strategy
    assert load.sent >= 20 and load.failed == 0, load.outcomes
    assert partner_on.key_states()[partner_on.key_id] is True  # the old key is revoked
    assert partner_on.call_webhook() == 200
    ids = {c.id for c in versioned.client.list_credentials()}
    assert ids == {partner_on.credential_id}  # in place: the id every node uses is kept


@pytest.mark.parametrize("step", ["created", "set", "tested"])
def test_sigkill_then_resume(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path, step: str
) -> None:
    env = {**partner_on.env, **versioned.login_env(tmp_path)}
    crashed = run_cli(*rotate_args(partner_on), env={**env, "KEYTURN_TEST_CRASH_AFTER": step})
    assert crashed.code == -signal.SIGKILL
    (in_flight,) = json.loads(run_cli("status", "--json", env=env).stdout)["in_flight"]
    assert in_flight["credential_id"] == partner_on.credential_id
    resumed = run_cli("resume", "--json", env=env)
    assert resumed.code == 0, resumed.stderr
    (done,) = json.loads(resumed.stdout)["resumed"]
    assert done["status"] == "completed"
    assert len(partner_on.active_keys()) == 1 and partner_on.key_id not in partner_on.active_keys()
    assert partner_on.call_webhook() == 200


def test_rollback_puts_the_old_key_back(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    env = {**partner_on.env, **versioned.login_env(tmp_path)}
    crashed = run_cli(*rotate_args(partner_on), env={**env, "KEYTURN_TEST_CRASH_AFTER": "set"})
    assert crashed.code == -signal.SIGKILL
    partner_on.revoke_key(next(k for k in partner_on.active_keys() if k != partner_on.key_id))
    assert partner_on.call_webhook() == 500  # n8n holds the new key, now refused
    rolled = run_cli("rollback", partner_on.credential_id, "--json", env=env)
    assert rolled.code == 0, rolled.stderr
    assert partner_on.call_webhook() == 200  # the old key is back, same credential id
    assert json.loads(run_cli("status", "--json", env=env).stdout)["in_flight"] == []


def test_rollback_after_a_completed_rotation_restores_the_previous_value(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    env = {**partner_on.env, **versioned.login_env(tmp_path)}
    # Without --current-key-id the old key is not revoked, so it can come back.
    args = [a for a in rotate_args(partner_on) if a not in ("--current-key-id", partner_on.key_id)]
    rotated = run_cli(*args, env=env)
    assert rotated.code == 0, rotated.stderr
    partner_on.revoke_key(next(k for k in partner_on.active_keys() if k != partner_on.key_id))
    assert partner_on.call_webhook() == 500
    restored = run_cli("rollback", partner_on.credential_id, "--json", env=env)
    assert restored.code == 0, restored.stderr
    assert partner_on.call_webhook() == 200


def test_failed_proof_rolls_back(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-key"
    bad.write_text("not-a-valid-key-0000\n")
    env = {**partner_on.env, **versioned.login_env(tmp_path)}
    result = run_cli(
        *rotate_args(partner_on, "--new-secret", f"file:{bad}", "--verify", "webhook"), env=env
    )
    assert result.code == ExitCode.ROTATION_FAILED, result.stderr
    assert "rolled back" in result.stderr
    assert partner_on.call_webhook() == 200
    assert partner_on.active_keys() == [partner_on.key_id]


def test_doctor_names_the_credential(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any
) -> None:
    partner_on.revoke_key(partner_on.key_id)
    assert partner_on.call_webhook() == 500
    result = run_cli("doctor", "--json", "--since", "1h", env=partner_on.env)
    assert result.code == ExitCode.FINDINGS, result.stderr
    (diagnosis,) = json.loads(result.stdout)["diagnoses"]
    assert diagnosis["cause"] == "auth_refused"
    assert diagnosis["credential_id"] == partner_on.credential_id
    assert partner_on.key not in result.stdout


def test_replace_needs_consent_where_it_would_unregister_webhooks(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any
) -> None:
    """Without a keyturn user, an n8n with no in-place update can only replace and repoint,
    which re-registers the workflow's webhooks: keyturn says so and asks for consent (asked
    for by name where the version could update in place)."""
    forced = [] if expected_strategy(versioned, False) == "replace" else ["--strategy", "replace"]
    args = rotate_args(partner_on, "--set", "name=X-API-Key", *forced)
    planned = run_cli(*args, "--dry-run", env=partner_on.env)
    assert planned.code == 0, planned.stderr
    plan = json.loads(planned.stdout)["plan"]
    assert plan["strategy"] == "replace"
    assert plan["webhook_gap"] == ["Partner sync httpHeaderAuth"]
    refused = run_cli(*args, env=partner_on.env)
    assert refused.code == ExitCode.USAGE, refused.stderr
    assert (
        "Partner sync httpHeaderAuth" in refused.stderr and "--accept-webhook-gap" in refused.stderr
    )
    assert partner_on.active_keys() == [partner_on.key_id]  # nothing was issued or changed
    accepted = run_cli(*args, "--accept-webhook-gap", env=partner_on.env)
    assert accepted.code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["status"] == "completed"
    assert partner_on.call_webhook() == 200


def test_scan_and_due_work(partner_on: Partner, versioned: N8nHandle, run_cli: Any) -> None:
    scan = run_cli("scan", "--json", env=partner_on.env)
    assert scan.code == 0, scan.stderr
    assert json.loads(scan.stdout)["findings"] == []
    due = run_cli("due", "--max-age", "30d", "--json", env=partner_on.env)
    report = json.loads(due.stdout)
    (entry,) = report["credentials"]
    assert entry["credential_id"] == partner_on.credential_id
    if LISTS_CREDENTIALS[versioned.server.version]:
        assert due.code == 0 and entry["due"] is False and entry["age_seconds"] is not None
        assert report["blind_spots"] == []
    else:  # no age to judge by: due, and the report says why
        assert due.code == ExitCode.FINDINGS and entry["due"] is True
        assert entry["age_seconds"] is None and report["blind_spots"]


def test_replace_resumes_after_a_crash_between_create_and_record(
    partner_on: Partner, versioned: N8nHandle, run_cli: Any
) -> None:
    """Killed after n8n created the replacement but before the journal knew its id, with the
    API key alone (no credential list on older n8n): resume adopts that one, never a second."""
    args = rotate_args(
        partner_on, "--set", "name=X-API-Key", "--strategy", "replace", "--accept-webhook-gap"
    )
    env = {**partner_on.env, "KEYTURN_TEST_CRASH_AFTER": "credential-created"}
    assert run_cli(*args, env=env).code == -signal.SIGKILL
    resumed = run_cli("resume", "--json", env=partner_on.env)
    assert resumed.code == 0, resumed.stderr
    (done,) = json.loads(resumed.stdout)["resumed"]
    assert done["status"] == "completed"
    names = [c.name for c in versioned.client.list_credentials()]
    assert names == [partner_on.credential_name]  # the replacement, and nothing else
    assert partner_on.call_webhook() == 200
