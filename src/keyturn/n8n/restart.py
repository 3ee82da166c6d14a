"""Restarting n8n for secrets it reads from its environment (`$env`), then waiting until ready.

The readiness poll checks n8n's certificate as every other call to the instance does: pass the
connection's `tls_verify` (its CA bundle, or `verify_tls`).
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable

import httpx

from keyturn.core.errors import RestartFailed
from keyturn.core.http import new_client, tls_failure

POLL_TIMEOUT = 2.0  # seconds for one readiness request
POLL_INTERVAL = 0.5


def wait_for_readiness(
    base_url: str,
    timeout: float,
    still_running: Callable[[], bool] = lambda: True,
    *,
    verify: bool | str = True,
) -> bool:
    """Poll n8n's `/healthz/readiness` until it answers 200 (True), or until `timeout` passes
    or `still_running` says the process is gone (False)."""
    return _poll_readiness(base_url, timeout, still_running, verify) is None


def _poll_readiness(
    base_url: str, timeout: float, still_running: Callable[[], bool], verify: bool | str
) -> httpx.TransportError | int | str | None:
    """None once ready; else what the last poll saw (a transport error or a status)."""
    deadline = time.monotonic() + timeout
    last: httpx.TransportError | int | str = "no answer"
    with new_client(timeout=POLL_TIMEOUT, verify=verify) as http:
        while time.monotonic() < deadline and still_running():
            try:
                status = http.get(f"{base_url}/healthz/readiness").status_code
            except httpx.TransportError as exc:
                last = exc
            else:
                if status == 200:
                    return None
                last = status
            time.sleep(POLL_INTERVAL)  # a readiness wait's polling, bounded by the deadline
    return last


def restart_n8n(
    command: str, base_url: str, timeout: float = 180.0, *, verify: bool | str = True
) -> None:
    """Run the configured restart command, then wait for n8n's `/healthz/readiness`.

    `verify`: how n8n's certificate is checked (`N8nConnection.tls_verify`).
    """
    completed = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=timeout
    )
    if completed.returncode != 0:
        raise RestartFailed(
            f"restart_command exited {completed.returncode}: {completed.stderr.strip()[:200]}",
            "Check the instance's restart_command in keyturn.toml.",
        )
    last = _poll_readiness(base_url, timeout, lambda: True, verify)
    if last is None:
        return
    if isinstance(last, httpx.TransportError) and tls_failure(last):
        raise RestartFailed(
            f"n8n at {base_url} restarted, but TLS verification of its readiness check failed.",
            "If n8n's certificate comes from a private CA, set the instance's CA bundle "
            "(KEYTURN_N8N_CA_BUNDLE or instances.NAME.ca_bundle) to that CA's certificate.",
        )
    raise RestartFailed(
        f"n8n at {base_url} was not ready {timeout:.0f}s after the restart.",
        "Check n8n's logs.",
    )
