"""`keyturn checklist` against a real n8n, the demo provider and real files: each box fails
for what a real instance leaves behind after a rotation, names it, and passes once fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keyturn.sandbox.workflows import chain, code_node, http_request_node
from tests.conftest import Partner
from tests.helpers import wait_until
from tests.integration.test_rotate_live import rotate_args
from tests.integration.test_secrets_never_leak import leaked_encodings

MANUAL_TRIGGER = {
    "id": "0b6f6c3e-0000-4000-8000-00000000a001",
    "name": "When clicking 'Execute workflow'",
    "type": "n8n-nodes-base.manualTrigger",
    "typeVersion": 1,
    "position": [0, 0],
    "parameters": {},
}


def boxes(result: Any) -> dict[str, dict[str, Any]]:
    document = json.loads(result.stdout)
    return {box["id"]: box for box in document["checks"]}


def test_checklist_names_what_a_rotation_left_behind_then_passes(
    partner: Partner, run_cli: Any, tmp_path: Path
) -> None:
    client, api = partner.n8n.client, f"{partner.provider.url}/v1/data"
    legacy = client.create_workflow(chain(
        "Legacy <b>sync</b>", dict(MANUAL_TRIGGER),
        http_request_node("Legacy", api, node_name="Hard-coded call",
                          headers={"X-API-Key": partner.key}),
    ))  # fmt: skip
    env_reader = client.create_workflow(chain(
        "Env reader", dict(MANUAL_TRIGGER),
        code_node("Env reader", "return [{json: {key: $env.PARTNER_API_KEY}}];", "Read env"),
    ))  # fmt: skip
    credential = client.get_credential(partner.credential_id)
    unrun = client.create_workflow(chain(
        "Monthly report", dict(MANUAL_TRIGGER),
        http_request_node("Monthly report", api, credential_type="httpHeaderAuth",
                          credential=credential),
    ))  # fmt: skip
    exports = tmp_path / "repo"
    exports.mkdir()
    (exports / ".env").write_text(f"PARTNER_API_KEY={partner.key}\n")
    new_key_file = tmp_path / "new-key"
    new_key_file.write_text("")
    rotate = rotate_args(partner, "--write-back", f"file:{new_key_file}", "--checklist")
    rotated = run_cli(*rotate, env=partner.env)
    assert rotated.code == 1, rotated.stderr  # rotated, but the checklist is not clean
    document = json.loads(rotated.stdout)
    assert document["status"] == "completed" and document["checklist"]["ok"] is False
    new_key = new_key_file.read_text().strip()
    assert partner.call_webhook() == 200

    first = run_cli("checklist", partner.credential_id, "--path", str(exports), "--json",
                    env=partner.env)  # fmt: skip
    assert first.code == 1, first.stderr
    found = boxes(first)
    assert found["proven"]["ok"], found["proven"]
    assert not found["no_cache"]["ok"] and "Read env" in str(found["no_cache"]["items"])
    assert not found["reexecuted"]["ok"]
    assert "workflow 'Monthly report' has not run since (trigger: manualTrigger)" in found[
        "reexecuted"]["items"]  # fmt: skip
    assert not found["no_hardcoded"]["ok"] and "Hard-coded call" in str(found["no_hardcoded"])
    old_places = found["old_secret_gone"]["items"]
    assert "workflow 'Legacy <b>sync</b>', node 'Hard-coded call'" in old_places
    assert f"{exports / '.env'}:1" in old_places
    assert not found["stores_updated"]["ok"]
    assert found["quiet"]["ok"], found["quiet"]

    text = run_cli("checklist", partner.credential_id, "--path", str(exports), env=partner.env)
    assert text.code == 1 and "FAIL  old_secret_gone" in text.stdout
    for result in (rotated, first, text):
        for key in (partner.key, new_key):
            assert leaked_encodings(result.stdout + result.stderr, key) == []

    for workflow in (legacy, env_reader, unrun):
        assert workflow.id is not None
        client.delete_workflow(workflow.id)
    (exports / ".env").write_text(f"PARTNER_API_KEY={new_key}\n")
    dump = exports / ".venv" / "backup.bin"  # binary, in a folder scans skip: searched anyway
    dump.parent.mkdir()
    dump.write_bytes(b"\0\1\2" + partner.key.encode())
    unsure = run_cli("checklist", partner.credential_id, "--path", str(exports), "--json",
                     env=partner.env)  # fmt: skip
    assert unsure.code == 1
    gone = boxes(unsure)["old_secret_gone"]
    assert not gone["ok"] and any(str(dump) in item for item in gone["items"]), gone
    dump.unlink()
    fixed = run_cli("checklist", partner.credential_id, "--path", str(exports), "--json",
                    env=partner.env)  # fmt: skip
    assert fixed.code == 0, fixed.stdout
    stores = boxes(fixed)["stores_updated"]["items"]
    assert f"{exports / '.env'}:1: holds the new value" in stores
    assert any(str(new_key_file) in item and "holds the new value" in item for item in stores)

    partner.revoke_key(partner.active_keys()[0])  # the new key, behind keyturn's back
    wait_until(lambda: partner.call_webhook() != 200, timeout=30)
    broken = run_cli("checklist", partner.credential_id, "--json", env=partner.env)
    assert broken.code == 1
    found = boxes(broken)
    assert not found["reexecuted"]["ok"] and not found["quiet"]["ok"]
    assert "execution" in found["reexecuted"]["items"][0]
    assert any("execution" in item for item in found["quiet"]["items"])
    for result in (unsure, fixed, broken):
        for key in (partner.key, new_key):
            assert leaked_encodings(result.stdout + result.stderr, key) == []


def test_a_credential_never_rotated_is_not_found(partner: Partner, run_cli: Any) -> None:
    result = run_cli("checklist", partner.credential_id, env=partner.env)
    assert result.code == 4
    assert "no completed rotation" in result.stderr


def test_bad_input_is_one_line(partner: Partner, run_cli: Any, tmp_path: Path) -> None:
    for args, says in (
        (["--since", "99999999999d"], "--since"),
        (["--since", "soon"], "is not a duration"),
        (["--path", str(tmp_path / "missing")], "does not exist"),
    ):
        result = run_cli("checklist", partner.credential_id, *args, env=partner.env)
        assert result.code == 2, result.stderr
        assert says in result.stderr and "Traceback" not in result.stderr
