"""The master key: made once, atomically, by whichever of several processes comes first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from keyturn.core.crypto import load_master_key

LOAD = (
    "import sys\n"
    "from keyturn.core.crypto import load_master_key\n"
    "sys.stdin.readline()\n"  # every process waits here, then all go at once
    "print(load_master_key().decode())\n"
)


def test_processes_starting_together_share_one_new_key(tmp_path: Path) -> None:
    for round_ in range(3):
        state = tmp_path / f"state-{round_}"
        env = {"KEYTURN_STATE_DIR": str(state), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", LOAD],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(12)
        ]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=60) for process in processes]
        assert [p.returncode for p in processes] == [0] * len(processes), results
        keys = {out.strip() for out, _ in results}
        assert keys == {(state / "master.key").read_text().strip()}
        assert list(state.iterdir()) == [state / "master.key"]  # no temporary file left
        assert (state / "master.key").stat().st_mode & 0o777 == 0o600


def test_a_key_made_once_is_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEYTURN_MASTER_KEY", "KEYTURN_MASTER_KEY_FILE", "KEYTURN_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    first = load_master_key(tmp_path)
    Fernet(first)
    assert load_master_key(tmp_path) == first
