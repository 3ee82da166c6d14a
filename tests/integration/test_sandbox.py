"""The README's first command: `keyturn sandbox` (what `make demo` runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from keyturn.sandbox.install import cache_dir
from tests.helpers import wait_until

pytestmark = pytest.mark.n8n  # `keyturn sandbox` starts its own n8n and demo provider


def test_sandbox_shows_inventory_and_rotates_under_live_traffic(run_cli: Any) -> None:
    result = run_cli("sandbox")
    assert result.code == 0, result.stderr[-3000:]
    out = result.stdout
    assert "6 credentials, 7 workflows" in out
    assert "Rotated 'Partner API'" in out and "completed" in out
    line = next(line for line in out.splitlines() if line.startswith("Live traffic"))
    sent = int(line.split(": ")[1].split(" requests")[0])
    assert sent >= 40 and line.endswith(", 0 failed.")
    assert "Audit trail" in out
    assert "Healthy: no failed execution" in out  # doctor
    assert "deleted workflow 'Legacy report'" in out  # what the inventory flagged, fixed
    assert "7 of 7 boxes ok" in out and "FAIL" not in out  # the checklist, at the end


def test_sandbox_serve_shows_the_dashboard_then_stops_on_sigterm(tmp_path: Path) -> None:
    """`keyturn sandbox --serve`: the demo, then serve with its dashboard on 127.0.0.1:9464."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KEYTURN_", "VAULT_"))},
        "HOME": str(tmp_path),
        "KEYTURN_N8N_CACHE": str(cache_dir()),
    }
    log = tmp_path / "sandbox.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "keyturn", "sandbox", "--serve"],
            cwd=tmp_path, env=env, stdout=sink, stderr=sink, text=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "http.listening" in log.read_text() or process.poll() is not None, 300)
        assert process.poll() is None, log.read_text()[-3000:]
        page = httpx.get("http://127.0.0.1:9464/", timeout=10)
        assert page.status_code == 200 and "Partner API" in page.text  # before any evaluation
        wait_until(lambda: "keyturn_scheduler_leader 1.0" in _metrics(), 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert "serve.stopped" in log.read_text()


def _metrics() -> str:
    return httpx.get("http://127.0.0.1:9464/metrics", timeout=10).text
