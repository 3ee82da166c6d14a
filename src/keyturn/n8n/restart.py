"""Restarting n8n for secrets it reads from its environment (`$env`), then waiting until ready."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable

import httpx

from keyturn.core.errors import RestartFailed
from keyturn.core.http import new_client


def wait_for_readiness(
    base_url: str, timeout: float, still_running: Callable[[], bool] = lambda: True
) -> bool:
    """Poll n8n's `/healthz/readiness` until it answers 200 (True), or until `timeout` passes
    or `still_running` says the process is gone (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_running():
        try:
            with new_client(timeout=2) as http:
                ready = http.get(f"{base_url}/healthz/readiness").status_code == 200
            if ready:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.5)  # polling interval of a readiness wait, bounded by the deadline
    return False


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
    if wait_for_readiness(base_url, timeout):
        return
    raise RestartFailed(
        f"n8n at {base_url} was not ready {timeout:.0f}s after the restart.",
        "Check n8n's logs.",
    )
