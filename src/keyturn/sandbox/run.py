"""`keyturn sandbox`: a local n8n, the demo provider, the demo workflows, and keyturn on them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from keyturn.config import N8nConnection
from keyturn.formats.inventory_table import render_inventory
from keyturn.inventory import take_inventory
from keyturn.n8n.client import N8nClient
from keyturn.sandbox.demo_provider import DemoProvider
from keyturn.sandbox.install import ensure_n8n
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.sandbox.workflows import DemoProviderClient, seed_demo


def run_sandbox(out: Console, err: Console, *, keep: bool, folder: Path | None) -> None:
    ensure_n8n()
    workdir = folder or Path(tempfile.mkdtemp(prefix="keyturn-sandbox-"))
    n8n = LocalN8n(user_folder=workdir / "n8n")
    provider = DemoProvider().start()
    try:
        with err.status("Starting n8n (30 s or so)..."):
            n8n.start()
        err.print(f"n8n is ready on {n8n.url}; demo provider on {provider.url}")
        connection = N8nConnection(
            name="sandbox", url=n8n.url, api_key=SecretStr(n8n.api_key), key_source="sandbox"
        )
        with N8nClient(connection) as client:
            with err.status("Seeding demo credentials and workflows..."):
                seed_demo(client, DemoProviderClient(provider.url, provider.admin_token))
            out.rule("keyturn inventory")
            render_inventory(take_inventory(client), out)
        if keep:
            _serve_until_interrupted(n8n, workdir, err)
    finally:
        n8n.stop()
        provider.stop()
        if folder is None and not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _serve_until_interrupted(n8n: LocalN8n, workdir: Path, err: Console) -> None:
    key_file = workdir / "n8n-api-key"
    key_file.write_text(n8n.api_key)
    os.chmod(key_file, 0o600)
    err.print(
        "\nThe sandbox keeps running. In another shell:\n"
        f"  export KEYTURN_N8N_URL={n8n.url}\n"
        f"  export KEYTURN_N8N_API_KEY_FILE={key_file}\n"
        "  keyturn inventory\n"
        f"n8n's editor: {n8n.url} (owner@keyturn.test / see keyturn/sandbox/n8n_server.py)\n"
        "Press Ctrl-C to stop."
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
