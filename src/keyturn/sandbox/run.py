"""`keyturn sandbox`: a local n8n, the demo provider, the demo workflows, and keyturn on them.

Shows the inventory, rotates the "Partner API" credential under live webhook traffic and
reports how many of those requests failed (the answer should be none), then runs doctor, fixes
what the inventory flagged and ends with the rotation's checklist (every box ok).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr
from rich.console import Console

from keyturn.checklist import build_checklist
from keyturn.core.config import FileConfig, N8nConnection, Settings
from keyturn.core.crypto import SecretBox
from keyturn.core.files import create_private_file
from keyturn.doctor import diagnose
from keyturn.formats.checklist_out import render_checklist
from keyturn.formats.doctor_out import render_report
from keyturn.formats.inventory_table import render_inventory
from keyturn.formats.rotation_out import render_history, render_outcome, render_step
from keyturn.formats.safe_text import plain
from keyturn.inventory.report import take_inventory
from keyturn.journal import open_journal
from keyturn.journal.leases import instance_identity
from keyturn.n8n.client import N8nClient
from keyturn.rotation.planning import RotateOptions
from keyturn.rotation.service import Rotations
from keyturn.sandbox.demo_provider import DemoProvider, http_provider_settings
from keyturn.sandbox.install import ensure_n8n
from keyturn.sandbox.load import LoadGenerator
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.sandbox.workflows import DemoProviderClient, DemoSeed, seed_demo

DEMO_CREDENTIAL = "Partner API"
DEMO_WEBHOOK = "partner-sync"
FLAGGED_WORKFLOWS = ("Legacy report", "Env reader")  # a hard-coded key, a secret from $env


def run_sandbox(
    out: Console, err: Console, *, keep: bool, folder: Path | None, serve: bool = False
) -> None:
    ensure_n8n()
    started = datetime.now(UTC)
    workdir = folder or Path(tempfile.mkdtemp(prefix="keyturn-sandbox-"))
    n8n = LocalN8n(user_folder=workdir / "n8n")
    provider = DemoProvider().start()
    try:
        with err.status("Starting n8n (10 to 40 s)..."):
            n8n.start()
        err.print(plain(f"n8n is ready on {n8n.url}; demo provider on {provider.url}"))
        connection = N8nConnection(
            name="sandbox", url=n8n.url, api_key=SecretStr(n8n.api_key), key_source="sandbox"
        )
        with N8nClient(connection) as client:
            with err.status("Seeding demo credentials and workflows..."):
                seed = seed_demo(client, DemoProviderClient(provider.url, provider.admin_token))
            out.rule("keyturn inventory")
            render_inventory(take_inventory(client), out)
            out.rule(f"keyturn rotate {DEMO_CREDENTIAL!r} under live traffic")
            box = SecretBox(Fernet.generate_key())
            settings = _rotate_under_load(out, err, n8n, client, provider, seed, workdir, box)
            out.rule("keyturn doctor")
            render_report(diagnose(client, since=started), out)
            out.rule(f"keyturn checklist {DEMO_CREDENTIAL!r}")
            _checklist_after_fixes(out, client, seed, workdir, box, started)
            if serve:
                out.rule("keyturn serve")
                _serve_dashboard(settings, client, workdir, box, err)
        if keep and not serve:
            _serve_until_interrupted(n8n, workdir, err)
    finally:
        n8n.stop()
        provider.stop()
        if folder is None and not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _rotate_under_load(
    out: Console,
    err: Console,
    n8n: LocalN8n,
    client: N8nClient,
    provider: DemoProvider,
    seed: DemoSeed,
    workdir: Path,
    box: SecretBox,
) -> Settings:
    secrets_dir = workdir / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    token_file, old_key_file = secrets_dir / "provider-admin-token", secrets_dir / "partner-old"
    _write_private(token_file, provider.admin_token.encode())
    _write_private(old_key_file, seed.keys[DEMO_CREDENTIAL].encode())
    settings = Settings(
        client.connection,
        FileConfig.model_validate(
            {
                "providers": {
                    "partner": http_provider_settings(
                        provider.url, str(token_file), "header:X-API-Key"
                    )
                }
            }
        ),
    )
    journal = open_journal(f"sqlite:///{workdir / 'journal.db'}", box)
    options = RotateOptions(
        credential=DEMO_CREDENTIAL,
        provider="partner",
        grace="3s",
        webhooks=[DEMO_WEBHOOK],
        current_secret=f"file:{old_key_file}",
        current_key_id=seed.key_ids[DEMO_CREDENTIAL],
    )
    rotations = Rotations(settings, client, journal, on_step=_step_printer(err))
    load = LoadGenerator(f"{n8n.url}/webhook/{DEMO_WEBHOOK}", rate_per_second=10, max_seconds=60)
    with load:
        load.wait_for(20)  # traffic flows before the rotation starts ...
        outcome = rotations.rotate(options)
        load.wait_for(load.stats.sent + 20)  # ... and goes on after it
    stats = load.stats
    render_outcome(outcome, out)
    out.print(
        f"Live traffic on {DEMO_WEBHOOK!r} during the rotation: {stats.sent} requests, "
        f"{stats.failed} failed.",
        style="bold green" if stats.failed == 0 else "bold red",
    )
    render_history(journal.history("sandbox", outcome.rotation.credential_id), out)
    journal.close()
    return settings


def _serve_dashboard(
    settings: Settings, client: N8nClient, workdir: Path, box: SecretBox, err: Console
) -> None:
    """`keyturn serve` on the sandbox: the demo credential rotated every few minutes by the
    scheduler, its health watched, the dashboard on 127.0.0.1:9464 until Ctrl-C."""
    from keyturn.serve.runner import run_serve
    from keyturn.serve.settings import serve_settings

    table = settings.file.model_dump()
    table["rotation"] = {
        DEMO_CREDENTIAL: {
            "provider": "partner",
            "max_age": "3m",
            "verify_webhooks": [DEMO_WEBHOOK],
            "grace": "3s",
            "jitter": "20s",
        }
    }
    served = Settings(client.connection, FileConfig.model_validate(table))
    journal = open_journal(f"sqlite:///{workdir / 'journal.db'}", box)
    err.print(plain("Dashboard: http://127.0.0.1:9464/ (metrics on /metrics). Ctrl-C stops."))
    try:
        run_serve(
            served,
            serve_settings({"interval": "10s", "health_interval": "30s"}),
            client,
            journal,
        )
    finally:
        journal.close()


def _checklist_after_fixes(
    out: Console,
    client: N8nClient,
    seed: DemoSeed,
    workdir: Path,
    box: SecretBox,
    started: datetime,
) -> None:
    """What a team does after the inventory: remove the hard-coded key and the `$env` reader it
    flagged; then the production checklist of the rotation, every box from evidence."""
    for name in FLAGGED_WORKFLOWS:
        workflow_id = seed.workflows[name].id
        assert workflow_id is not None
        client.delete_workflow(workflow_id)
        out.print(plain(f"Fixed what the inventory flagged: deleted workflow {name!r}."))
    journal = open_journal(f"sqlite:///{workdir / 'journal.db'}", box)
    try:
        instance_url = instance_identity(client.connection.url)
        result = build_checklist(client, journal, "sandbox", instance_url, DEMO_CREDENTIAL,
                                 quiet_since=started, paths=[])  # fmt: skip
    finally:
        journal.close()
    render_checklist(result, out)


def _step_printer(err: Console) -> Callable[[str, str], None]:
    def show(step: str, detail: str) -> None:
        render_step(step, detail, err)

    return show


def _serve_until_interrupted(n8n: LocalN8n, workdir: Path, err: Console) -> None:
    key_file = workdir / "n8n-api-key"
    _write_private(key_file, n8n.api_key.encode())
    err.print()
    for line in (
        "The sandbox keeps running. In another shell:",
        f"  export KEYTURN_N8N_URL={n8n.url}",
        f"  export KEYTURN_N8N_API_KEY_FILE={key_file}",  # a --folder path may hold `[`
        "  keyturn inventory",
        f"n8n's editor: {n8n.url}",
        "Press Ctrl-C to stop.",
    ):
        err.print(plain(line))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    os.remove(key_file)


def _write_private(path: Path, data: bytes) -> None:
    """A file of this sandbox run (0600); one left by an earlier run in the same folder goes."""
    path.unlink(missing_ok=True)
    create_private_file(path, data)
