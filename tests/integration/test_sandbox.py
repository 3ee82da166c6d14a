"""The README's first command: `keyturn sandbox` (what `make demo` runs)."""

from __future__ import annotations

from typing import Any

import pytest

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
    assert "Healthy: no failed execution" in out  # doctor, at the end
