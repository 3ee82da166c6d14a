"""Restarting n8n for secrets it reads from its environment (`$env`), then waiting until ready."""

from __future__ import annotations

import shlex
import subprocess
import time

import httpx

from keyturn.errors import ExitCode, KeyturnError


class RestartFailed(KeyturnError):
    exit_code = ExitCode.N8N


def restart_n8n(command: str, base_url: str, timeout: float = 180.0) -> None:
    """Run the configured restart command, then wait for n8n's `/healthz/readiness`."""
    completed = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=timeout
    )
    if completed.returncode != 0:
        raise RestartFailed(
            f"restart_command exited {completed.returncode}: {completed.stderr.strip()[:200]}",
            "Check the instance's restart_command in keyturn.toml.",
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz/readiness", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1.0)  # polling interval of a readiness wait, bounded by the deadline
    raise RestartFailed(
        f"n8n at {base_url} was not ready {timeout:.0f}s after the restart.",
        "Check n8n's logs.",
    )
