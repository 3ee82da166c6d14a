"""Inventory benchmark: a real n8n with 2,000 workflows and 200 credentials.

Seeds a fresh local n8n (or the one named by --keep-dir from an earlier run) with workflows
built from the real community exports ($KEYTURN_REALWORLD_DIR, else
../shared/realworld-workflows: see _realworld.py), their credential references pointed at 200
seeded credentials. Then, in the same run, measures:

- keyturn: `keyturn inventory --json` (the real CLI, process start included) and its API requests;
- the naive procedure: for each credential, page through every workflow looking for it (what a
  script without an index does). It is timed on a sample of credentials and scaled up, since the
  full run would take many minutes.

Usage: python benchmarks/inventory.py [--workflows 2000] [--credentials 200] [--sample 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

from _realworld import realworld_files, require_realworld
from pydantic import SecretStr

from keyturn.core.config import N8nConnection
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Credential
from keyturn.sandbox.n8n_server import LocalN8n
from keyturn.sandbox.workflows import api_body_from_export


def load_exports() -> list[dict[str, Any]]:
    exports = []
    for path in realworld_files():
        exports.append(api_body_from_export(json.loads(path.read_text()), path.stem))
    return exports


def seed(client: N8nClient, workflows: int, credentials: int) -> list[Credential]:
    rng = random.Random(42)
    created = [
        client.create_credential(
            f"Service {i:03d}", "httpHeaderAuth", {"name": "X-API-Key", "value": f"seed-{i:06d}"}
        )
        for i in range(credentials)
    ]
    exports = load_exports()
    for i in range(workflows):
        body = json.loads(json.dumps(exports[i % len(exports)]))
        body["name"] = f"{body['name'][:80]} #{i}"
        for node in body["nodes"]:
            if node.get("credentials"):
                target = rng.choice(created)
                node["credentials"] = {
                    cred_type: {"id": target.id, "name": target.name}
                    for cred_type in node["credentials"]
                }
        client.create_workflow(body)
        if (i + 1) % 250 == 0:
            print(f"  seeded {i + 1}/{workflows} workflows", file=sys.stderr)
    return created


def run_keyturn_cli(url: str, api_key: str) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "KEYTURN_N8N_URL": url, "KEYTURN_N8N_API_KEY": api_key}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "keyturn", "inventory", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, json.loads(completed.stdout)


def naive_per_credential(client: N8nClient, credentials: list[Credential]) -> tuple[float, int]:
    """For each credential, page through all workflows looking for nodes that use it."""
    before = client.request_count
    started = time.perf_counter()
    for credential in credentials:
        users = 0
        for workflow in client.iter_workflows():
            for node in workflow.nodes:
                users += any(ref.id == credential.id for ref in node.credentials.values())
    return time.perf_counter() - started, client.request_count - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=2000)
    parser.add_argument("--credentials", type=int, default=200)
    parser.add_argument(
        "--sample", type=int, default=10, help="credentials timed for the naive way"
    )
    parser.add_argument("--repeat", type=int, default=3, help="keyturn runs (median reported)")
    args = parser.parse_args()
    require_realworld()  # before n8n starts

    with LocalN8n() as n8n:
        connection = N8nConnection("bench", n8n.url, SecretStr(n8n.api_key), "benchmark")
        with N8nClient(connection) as client:
            started = time.perf_counter()
            credentials = seed(client, args.workflows, args.credentials)
            seed_seconds = time.perf_counter() - started
            runs = [run_keyturn_cli(n8n.url, n8n.api_key) for _ in range(args.repeat)]
            keyturn_seconds = statistics.median(seconds for seconds, _ in runs)
            document = runs[0][1]
            sample = credentials[: args.sample]
            naive_sample_seconds, naive_sample_requests = naive_per_credential(client, sample)
        n8n.remove()

    scale = len(credentials) / len(sample)
    naive_seconds = naive_sample_seconds * scale
    naive_requests = round(naive_sample_requests * scale)
    results = {
        "workflows": document["summary"]["workflows"],
        "nodes": document["summary"]["nodes"],
        "credentials": document["summary"]["credentials"],
        "seed_seconds": round(seed_seconds, 1),
        "keyturn_seconds_median": round(keyturn_seconds, 2),
        "keyturn_api_requests": document["stats"]["api_requests"],
        "naive_seconds_estimated": round(naive_seconds, 1),
        "naive_api_requests_estimated": naive_requests,
        "naive_sampled_credentials": len(sample),
        "speedup": round(naive_seconds / keyturn_seconds, 1),
        "request_ratio": round(naive_requests / document["stats"]["api_requests"], 1),
    }
    print(json.dumps(results, indent=2))
    print(
        f"\n| procedure | wall time | n8n API requests |\n|---|---|---|\n"
        f"| keyturn inventory (CLI, median of {args.repeat}) | {keyturn_seconds:.2f} s | "
        f"{results['keyturn_api_requests']} |\n"
        f"| naive per-credential search (from {len(sample)} sampled) | {naive_seconds:.1f} s | "
        f"{naive_requests} |\n"
        f"| ratio | {results['speedup']}x faster | {results['request_ratio']}x fewer |"
    )


if __name__ == "__main__":
    main()
