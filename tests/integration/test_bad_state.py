"""A bad state folder, journal or master key: one line, exit 2, and nothing changed.

`keyturn status` opens the journal without calling n8n, so these tests need no server (but the
last, which needs PostgreSQL).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from keyturn.core.errors import ExitCode
from tests.conftest import CliResult

NO_N8N = {"KEYTURN_N8N_URL": "http://127.0.0.1:9", "KEYTURN_N8N_API_KEY": "unused-api-key-1234"}
BAD_KEY = "not-a-fernet-key-but-a-secret-0123"


def _one_line_error(result: CliResult) -> str:
    assert result.code == ExitCode.USAGE, (result.code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keyturn: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes ({} when the folder does not exist)."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _run_unprivileged(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    """Run keyturn where file permissions hold: as root, without the capabilities that let root
    write anywhere (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        caps = "-dac_override,-dac_read_search"
        prefix = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KEYTURN_", "VAULT_"))}
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "keyturn", *args],
        cwd=cwd,
        env={**base, "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def _new_journal(run_cli: Any, state: Path, **extra: str) -> None:
    created = run_cli("history", env={**NO_N8N, "KEYTURN_STATE_DIR": str(state), **extra})
    assert created.code == 0, created.stderr
    assert (state / "keyturn.db").stat().st_size > 0


# -- the state folder --------------------------------------------------------------------------


def test_state_dir_that_is_a_file(run_cli: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("I am a file\n")
    result = run_cli("status", env={**NO_N8N, "KEYTURN_STATE_DIR": str(state)})
    line = _one_line_error(result)
    assert "KEYTURN_STATE_DIR" in line and str(state) in line
    assert state.read_text() == "I am a file\n"


@pytest.mark.parametrize("where", ["the folder", "its parent"])
def test_unwritable_state_dir(tmp_path: Path, where: str) -> None:
    parent = tmp_path / "readonly"
    parent.mkdir()
    state = parent / "state"
    if where == "the folder":
        state.mkdir()
    (state if where == "the folder" else parent).chmod(0o500)
    try:
        result = _run_unprivileged(
            ["status"], {**NO_N8N, "KEYTURN_STATE_DIR": str(state)}, tmp_path
        )
    finally:
        (state if where == "the folder" else parent).chmod(0o700)
    line = _one_line_error(result)
    assert str(state) in line and "KEYTURN_STATE_DIR" in line
    assert _snapshot(parent) == {}


def test_a_journal_in_a_folder_this_user_may_not_write(run_cli: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _new_journal(run_cli, state)
    before = _snapshot(state)
    state.chmod(0o500)
    try:
        result = _run_unprivileged(
            ["status"], {**NO_N8N, "KEYTURN_STATE_DIR": str(state)}, tmp_path
        )
    finally:
        state.chmod(0o700)
    assert "KEYTURN_STATE_DIR" in _one_line_error(result)
    assert _snapshot(state) == before


# -- the journal database ----------------------------------------------------------------------


def test_corrupt_journal(run_cli: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "keyturn.db").write_bytes(b"\x00garbage, not SQLite\xff" * 200)
    before = _snapshot(state)
    result = run_cli("status", env={**NO_N8N, "KEYTURN_STATE_DIR": str(state)})
    line = _one_line_error(result)
    assert str(state / "keyturn.db") in line and "not a SQLite database" in line
    assert "backup" in line
    assert _snapshot(state) == before  # no master key made, the file untouched


def test_journal_from_a_newer_keyturn(run_cli: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _new_journal(run_cli, state)
    with sqlite3.connect(state / "keyturn.db") as connection:
        connection.execute("UPDATE keyturn_alembic_version SET version_num = '9999'")
    connection.close()
    before = (state / "keyturn.db").read_bytes(), (state / "master.key").read_bytes()
    result = run_cli("status", env={**NO_N8N, "KEYTURN_STATE_DIR": str(state)})
    line = _one_line_error(result)
    assert "newer keyturn" in line and "9999" in line
    assert ((state / "keyturn.db").read_bytes(), (state / "master.key").read_bytes()) == before


# -- the master key ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["KEYTURN_MASTER_KEY", "KEYTURN_MASTER_KEY_FILE", "master.key"])
def test_malformed_master_key(run_cli: Any, tmp_path: Path, source: str) -> None:
    state = tmp_path / "state"
    env = {**NO_N8N, "KEYTURN_STATE_DIR": str(state)}
    if source == "KEYTURN_MASTER_KEY":
        env[source] = BAD_KEY
    elif source == "KEYTURN_MASTER_KEY_FILE":
        key_file = tmp_path / "secret-key"
        key_file.write_text(BAD_KEY + "\n")
        env[source] = str(key_file)
    else:
        state.mkdir(mode=0o700)
        (state / "master.key").write_text(BAD_KEY)
    before = _snapshot(state)
    line = _one_line_error(run_cli("status", env=env))
    assert source in line
    assert BAD_KEY not in line
    assert _snapshot(state) == before


def test_missing_master_key_while_a_journal_exists_is_never_regenerated(
    run_cli: Any, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    _new_journal(run_cli, state)
    (state / "master.key").unlink()
    journal = (state / "keyturn.db").read_bytes()
    line = _one_line_error(run_cli("status", env={**NO_N8N, "KEYTURN_STATE_DIR": str(state)}))
    assert "master.key" in line and "backup" in line and "KEYTURN_MASTER_KEY_FILE" in line
    assert "move" in line  # how to start a new journal knowingly
    assert not (state / "master.key").exists()
    assert (state / "keyturn.db").read_bytes() == journal


def test_master_key_file_apart_from_the_journal_is_only_read(run_cli: Any, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key_file = secrets / "master.key"
    key_file.write_bytes(Fernet.generate_key() + b"\n")
    key_file.chmod(0o400)
    before = key_file.read_bytes(), key_file.stat().st_mtime_ns
    state = tmp_path / "state"
    _new_journal(run_cli, state, KEYTURN_MASTER_KEY_FILE=str(key_file))
    again = run_cli(
        "status",
        env={**NO_N8N, "KEYTURN_STATE_DIR": str(state), "KEYTURN_MASTER_KEY_FILE": str(key_file)},
    )
    assert again.code == 0, again.stderr
    assert not (state / "master.key").exists()
    assert (key_file.read_bytes(), key_file.stat().st_mtime_ns) == before
    assert key_file.stat().st_mode & 0o777 == 0o400


def test_master_key_file_missing_or_unreadable(tmp_path: Path, run_cli: Any) -> None:
    state = tmp_path / "state"
    missing = tmp_path / "no-such-key"
    env = {**NO_N8N, "KEYTURN_STATE_DIR": str(state), "KEYTURN_MASTER_KEY_FILE": str(missing)}
    line = _one_line_error(run_cli("status", env=env))
    assert "KEYTURN_MASTER_KEY_FILE" in line and str(missing) in line
    assert not state.exists()

    unreadable = tmp_path / "unreadable-key"
    unreadable.write_bytes(Fernet.generate_key())
    unreadable.chmod(0o000)
    env["KEYTURN_MASTER_KEY_FILE"] = str(unreadable)
    line = _one_line_error(_run_unprivileged(["status"], env, tmp_path))
    assert "KEYTURN_MASTER_KEY_FILE" in line and str(unreadable) in line


def test_missing_master_key_with_a_postgres_journal_needs_consent(
    run_cli: Any, tmp_path: Path, postgres_url: str
) -> None:
    """keyturn cannot tell cheaply whether a PostgreSQL journal holds values encrypted with a
    lost key: it makes a new key only when told to (KEYTURN_NEW_MASTER_KEY=1)."""
    state = tmp_path / "state"
    env = {**NO_N8N, "KEYTURN_STATE_DIR": str(state), "KEYTURN_DATABASE_URL": postgres_url}
    line = _one_line_error(run_cli("status", env=env))
    assert "KEYTURN_NEW_MASTER_KEY=1" in line and "KEYTURN_MASTER_KEY_FILE" in line
    assert not (state / "master.key").exists()

    created = run_cli("status", env={**env, "KEYTURN_NEW_MASTER_KEY": "1"})
    assert created.code == 0, created.stderr
    key = (state / "master.key").read_bytes()
    assert run_cli("status", env=env).code == 0  # the key now exists: no consent needed
    assert (state / "master.key").read_bytes() == key
