"""Secrets never leak: not in output, logs, tracebacks, the audit trail or the journal's bytes."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path
from typing import Any

from tests.conftest import Partner
from tests.integration.test_rotate_live import rotate_args


def every_file_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_no_plaintext_secret_anywhere(partner: Partner, run_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad-key"
    bad.write_text("leaky-bad-value-0000\n")
    env = {**partner.env, "KEYTURN_LOG_LEVEL": "DEBUG"}
    # After the first rotation keyturn knows the current value and key id itself.
    known = {"--current-secret", "env:OLD_KEY", "--current-key-id", partner.key_id}
    later = [arg for arg in rotate_args(partner) if arg not in known]
    outputs = [
        run_cli("-vv", *rotate_args(partner), env=env),  # a full rotation, logs at debug
        run_cli(*later, "--new-secret", f"file:{bad}", "--verify", "webhook", env=env),
        run_cli(*later, env={**env, "KEYTURN_TEST_CRASH_AFTER": "set"}),
        run_cli("status", env=env),
        run_cli("status", "--json", env=env),
        run_cli("resume", "--json", env=env),
        run_cli("history", env=env),
        run_cli("history", "--json", env=env),
        run_cli("inventory", "--json", env=env),
        run_cli(*later, "--dry-run", env=env),
    ]
    codes = [result.code for result in outputs]
    assert codes == [0, 6, -signal.SIGKILL, 0, 0, 0, 0, 0, 0, 0], outputs
    assert partner.call_webhook() == 200
    assert "DEBUG" in outputs[0].stderr  # the debug logs were really written, and checked
    with partner.provider.state.lock:
        keys = [key.value for key in partner.provider.state.keys.values()]
    assert len(keys) >= 3
    secrets = [*keys, "leaky-bad-value-0000", partner.provider.admin_token, partner.n8n.api_key]

    state = Path(partner.env["KEYTURN_STATE_DIR"])
    written = "\n".join(result.stdout + result.stderr for result in outputs).encode()
    journal_bytes = [
        path.read_bytes() for path in every_file_under(state) if path.name != "master.key"
    ]
    assert journal_bytes, "the journal wrote nothing?"
    for secret in secrets:
        assert secret.encode() not in written, "a secret reached the output"
        for blob in journal_bytes:
            assert secret.encode() not in blob, "a secret reached the journal in clear"
    # Fingerprints stand in for secrets.
    assert b"fp:" in written


def test_state_files_are_private(partner: Partner, run_cli: Any) -> None:
    assert run_cli(*rotate_args(partner), env=partner.env).code == 0
    state = Path(partner.env["KEYTURN_STATE_DIR"])
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("keyturn.db", "master.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    assert os.access(state / "master.key", os.R_OK)
