"""Rotation on schedule: `keyturn due` and `keyturn rotate-due`, against a real n8n."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keyturn.core.errors import ExitCode
from tests.conftest import Partner
from tests.integration.test_rotate_live import rotate_args


def test_due_then_rotate_due(partner: Partner, run_cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "keyturn.toml"
    config.write_text(
        config.read_text()
        + f'\n[rotation."{partner.credential_name}"]\nprovider = "partner"\nmax_age = "90d"\n'
        f'verify_webhooks = ["{partner.webhook_path}"]\ngrace = "0s"\n'
    )
    fresh = run_cli("due", "--json", env=partner.env)
    assert fresh.code == 0, fresh.stderr
    (entry,) = json.loads(fresh.stdout)["credentials"]
    assert entry["due"] is False and entry["max_age_seconds"] == 90 * 86400

    # The first rotation is hands-on (keyturn learns the current value); later ones run alone.
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    due = run_cli("due", "--max-age", "0s", "--json", env=partner.env)
    assert due.code == ExitCode.FINDINGS
    (entry,) = json.loads(due.stdout)["credentials"]
    assert entry["due"] is True and entry["rotated_by_keyturn"] is True
    assert entry["command"] == f"keyturn rotate {partner.credential_id}"

    planned = run_cli("rotate-due", "--max-age", "0s", "--dry-run", "--json", env=partner.env)
    assert json.loads(planned.stdout)["rotations"][0]["status"] == "planned"
    keys_before = partner.active_keys()
    rotated = run_cli("rotate-due", "--max-age", "0s", "--json", env=partner.env)
    assert rotated.code == 0, rotated.stderr
    assert json.loads(rotated.stdout)["rotations"] == [
        {"credential_id": partner.credential_id, "status": "completed"}
    ]
    assert partner.active_keys() != keys_before and len(partner.active_keys()) == 1
    assert partner.call_webhook() == 200
    table = run_cli("due", env=partner.env)
    assert table.code == 0 and "Rotation schedule" in table.stdout
