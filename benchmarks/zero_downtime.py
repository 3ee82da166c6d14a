"""Zero-downtime benchmark: rotate a credential 10 times under live webhook traffic.

A real n8n (`--n8n-version`, default the pinned one) and the demo provider on loopback. A
bounded load generator calls a webhook workflow that uses the credential (default 20
requests/s for 60 s) while, in the same run:

- keyturn rotates the credential N times (provider issue, probe, in-place set, webhook proof,
  grace, revoke of the old key), counting n8n API requests and wall time per rotation;
- the naive procedure the guides describe rotates it N times: new key at the provider, old
  key revoked, then the n8n credential edited (after a human's `--edit-delay`, default 1 s).

On a version whose public API cannot update a credential in place (n8n 1.x: no PATCH
/credentials/{id}), keyturn gets the owner's login and takes its session strategy, and the naive
edit goes through the same logged-in UI route (read the credential, save it), as a human does.

First, a control: the same load with no rotation, so a rate this n8n cannot sustain on this
machine shows as its own failures, not as the rotation's. Reports the n8n version, keyturn's
strategy, failed/total requests for each phase (unanswered calls count as failed), the ratio,
median rotation time (without grace) and n8n API requests per rotation. Target: 0 failed
requests for keyturn, wherever the control has 0.

Usage: python benchmarks/zero_downtime.py [--n8n-version 2.40.7] [--rotations 10] [--rate 20]
       [--seconds 60] [--max-requests 2000] [--grace 2] [--edit-delay 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from keyturn.core.config import FileConfig, N8nConnection, N8nLogin, Settings
from keyturn.core.crypto import SecretBox
from keyturn.journal import open_journal
from keyturn.n8n.client import N8nClient
from keyturn.rotation.planning import RotateOptions
from keyturn.rotation.service import Rotations
from keyturn.sandbox.demo_provider import DemoProvider, http_provider_settings
from keyturn.sandbox.install import N8N_VERSION
from keyturn.sandbox.load import LoadGenerator, LoadStats
from keyturn.sandbox.n8n_server import OWNER_EMAIL, OWNER_PASSWORD, LocalN8n
from keyturn.sandbox.workflows import DemoProviderClient, webhook_workflow


def setup(
    n8n: LocalN8n, client: N8nClient, provider: DemoProvider, name: str
) -> tuple[str, str, str]:
    admin = DemoProviderClient(provider.url, provider.admin_token)
    _, key = admin.issue_key(name)
    credential = client.create_credential(
        name, "httpHeaderAuth", {"name": "X-API-Key", "value": key}
    )
    path = f"bench-{credential.id.lower()}"
    workflow = client.create_workflow(
        webhook_workflow(name, path, f"{provider.url}/v1/data", "httpHeaderAuth", credential)
    )
    assert workflow.id is not None
    client.activate_workflow(workflow.id)
    url = f"{n8n.url}/webhook/{path}"
    deadline = time.monotonic() + 30
    while httpx.get(url, timeout=30).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("webhook never became ready")
        time.sleep(0.5)
    return credential.id, key, path


def keyturn_phase(
    args: argparse.Namespace,
    n8n: LocalN8n,
    connection: N8nConnection,
    provider: DemoProvider,
    work: Path,
) -> dict[str, Any]:
    token_file = work / "admin-token"
    token_file.write_text(provider.admin_token)
    settings = Settings(
        connection,
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
    client = N8nClient(connection)
    credential_id, key, path = setup(n8n, client, provider, "Bench keyturn")
    (work / "old").write_text(key)
    journal = open_journal(f"sqlite:///{work / 'journal.db'}", SecretBox(Fernet.generate_key()))
    rotations = Rotations(settings, client, journal)
    times, requests, strategies = [], [], set()
    with LoadGenerator(
        f"{n8n.url}/webhook/{path}", args.rate, args.seconds, args.max_requests
    ) as load:
        for index in range(args.rotations):
            options = RotateOptions(
                credential=credential_id,
                provider="partner",
                grace=f"{args.grace}s",
                webhooks=[path],
                current_secret=f"file:{work / 'old'}" if index == 0 else None,
            )
            before, started = client.request_count, time.perf_counter()
            outcome = rotations.rotate(options)
            times.append(time.perf_counter() - started - args.grace)
            requests.append(client.request_count - before)
            assert outcome.rotation.status == "completed"
            strategies.add(outcome.rotation.strategy)
        wait_out(load, args)
    journal.close()
    client.close()
    return {
        **summary("keyturn", load.stats, times, requests),
        "strategy": "/".join(sorted(strategies)),
    }


def naive_phase(
    args: argparse.Namespace, n8n: LocalN8n, connection: N8nConnection, provider: DemoProvider
) -> dict[str, Any]:
    client = N8nClient(connection)
    credential_id, _, path = setup(n8n, client, provider, "Bench naive")
    admin = DemoProviderClient(provider.url, provider.admin_token)
    headers = {"X-Admin-Token": provider.admin_token}
    key_ids = [
        k["id"]
        for k in httpx.get(f"{provider.url}/admin/keys", headers=headers).json()["keys"]
        if k["label"] == "Bench naive"
    ]
    old_id = key_ids[-1]
    times, requests = [], []
    with LoadGenerator(
        f"{n8n.url}/webhook/{path}", args.rate, args.seconds, args.max_requests
    ) as load:
        for _ in range(args.rotations):
            started, before = time.perf_counter(), client.request_count
            new_id, new_key = admin.issue_key("Bench naive")
            httpx.delete(f"{provider.url}/admin/keys/{old_id}", headers=headers)
            time.sleep(args.edit_delay)  # the human opens n8n and pastes the key
            if client.session is None:
                client.update_credential(credential_id, {"value": new_key})
            else:  # no public PATCH: the human edits it in n8n's UI
                client.session.update_credential(
                    client.session.read_credential(credential_id), {"value": new_key}
                )
            times.append(time.perf_counter() - started)
            requests.append(client.request_count - before)
            old_id = new_id
            time.sleep(args.grace)
        wait_out(load, args)
    edit = "public API PATCH" if client.session is None else "session (n8n's UI route)"
    client.close()
    return {**summary("naive", load.stats, times, requests), "edit": edit}


def control_phase(
    args: argparse.Namespace, n8n: LocalN8n, connection: N8nConnection, provider: DemoProvider
) -> dict[str, Any]:
    """The same load with no rotation at all: what this instance fails by itself at this rate
    on this machine (an overloaded n8n times out without any key change)."""
    client = N8nClient(connection)
    _, _, path = setup(n8n, client, provider, "Bench control")
    with LoadGenerator(
        f"{n8n.url}/webhook/{path}", args.rate, args.seconds, args.max_requests
    ) as load:
        wait_out(load, args)
    client.close()
    return {
        "procedure": "control",
        "requests": load.stats.sent,
        "failed": load.stats.failed,
        "outcomes": dict(load.stats.outcomes),
    }


def wait_out(load: LoadGenerator, args: argparse.Namespace) -> None:
    """Let the load run its full time, so both phases send the same traffic."""
    remaining = args.seconds - load.elapsed
    if remaining > 0:
        time.sleep(remaining)


def summary(name: str, stats: LoadStats, times: list[float], requests: list[int]) -> dict[str, Any]:
    return {
        "procedure": name,
        "requests": stats.sent,
        "failed": stats.failed,
        "outcomes": dict(stats.outcomes),
        "rotation_seconds_median": round(statistics.median(times), 2),
        "n8n_api_requests_per_rotation": round(statistics.mean(requests), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n8n-version", default=N8N_VERSION)
    parser.add_argument("--rotations", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=2000)
    parser.add_argument("--grace", type=int, default=2, help="seconds")
    parser.add_argument("--edit-delay", type=float, default=1.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="keyturn-bench-") as folder,  # holds secrets: removed
        LocalN8n(version=args.n8n_version) as n8n,
        DemoProvider() as provider,
    ):
        work = Path(folder)
        connection = N8nConnection("bench", n8n.url, SecretStr(n8n.api_key), "benchmark")
        with N8nClient(connection) as probe:
            patch = probe.supports_credential_update()
        if not patch:  # keyturn, and the human, log in as n8n's UI does
            login = N8nLogin(OWNER_EMAIL, SecretStr(OWNER_PASSWORD), "benchmark login")
            connection = replace(connection, login=login)
        control = control_phase(args, n8n, connection, provider)
        keyturn = keyturn_phase(args, n8n, connection, provider, work)
        naive = naive_phase(args, n8n, connection, provider)
        n8n.remove()
    results = {
        "n8n_version": args.n8n_version,
        "strategy": keyturn["strategy"],
        "control": control,
        "keyturn": keyturn,
        "naive": naive,
        "settings": vars(args),
    }
    print(json.dumps(results, indent=2))
    print(
        f"\nn8n {args.n8n_version}: keyturn's strategy {keyturn['strategy']}, "
        f"the naive edit through {naive['edit']}"
    )
    print(
        "\n| procedure | failed / total requests | rotation time (median, no grace) "
        "| n8n API requests per rotation |\n|---|---|---|---|"
    )
    control_line = f"{control['failed']} / {control['requests']}"
    print(f"| control (same load, no rotation) | {control_line} | - | - |")
    for row in (keyturn, naive):
        print(
            f"| {row['procedure']} | {row['failed']} / {row['requests']} | "
            f"{row['rotation_seconds_median']} s | {row['n8n_api_requests_per_rotation']} |"
        )
    if control["failed"]:
        print(
            f"\nThe control failed {control['failed']} requests with no rotation at all: this n8n "
            f"cannot sustain {args.rate:g} requests/s on this machine, so the phases below "
            "measure its overload, not the rotation. Run again with a lower --rate."
        )
    ratio = naive["failed"] / max(keyturn["failed"], 1)
    print(
        f"\nnaive failed {naive['failed']} requests, keyturn {keyturn['failed']} "
        f"({'∞' if keyturn['failed'] == 0 and naive['failed'] else f'{ratio:.0f}x'} fewer failures)"
    )


if __name__ == "__main__":
    main()
