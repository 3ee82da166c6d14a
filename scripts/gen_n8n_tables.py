"""Regenerate keyturn's tables of n8n facts from the pinned n8n package.

Run when the pinned n8n changes: `python scripts/gen_n8n_tables.py [N8N_CACHE_DIR]`.
Writes, into src/keyturn/data/:
- n8n_scopes.json: the API key scope each public API v1 operation needs, read from
  `x-required-scope` in n8n's own OpenAPI spec;
- n8n_credential_types.json: each credential type's fields, which of them are secret
  (`typeOptions.password`) and whether n8n can test it (`POST /credentials/{id}/test`);
- n8n_trigger_nodes.json: the node types that register webhooks when their workflow is
  activated (a `webhooks` entry that is not a restart webhook), and the other triggers (polling,
  queues, schedules), from n8n's own node lists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "src" / "keyturn" / "data"


def n8n_cache() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    from keyturn.sandbox.install import ensure_n8n

    return ensure_n8n()


def scopes(spec_path: Path) -> list[dict[str, str]]:
    spec = yaml.safe_load(spec_path.read_text())
    rows = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "x-required-scope" not in operation:
                continue
            rows.append(
                {"method": method.upper(), "path": path, "scope": operation["x-required-scope"]}
            )
    return sorted(rows, key=lambda row: (row["path"], row["method"]))


def credential_types(cache: Path) -> dict[str, object]:
    node = cache / "node_modules" / ".bin" / "node"
    folder = cache / "node_modules" / "n8n-nodes-base" / "dist" / "credentials"
    out = subprocess.run(
        [str(node), str(HERE / "credential_types.js"), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    types: dict[str, object] = json.loads(out.stdout)
    return dict(sorted(types.items()))


NODE_LISTS = {
    "n8n-nodes-base": "n8n-nodes-base/dist/types/nodes.json",
    "@n8n/n8n-nodes-langchain": "@n8n/n8n-nodes-langchain/dist/types/nodes.json",
}


def trigger_nodes(cache: Path) -> dict[str, list[str]]:
    webhook: set[str] = set()
    other: set[str] = set()
    for package, relative in NODE_LISTS.items():
        for node in json.loads((cache / "node_modules" / relative).read_text()):
            name = node["name"] if "." in node["name"] else f"{package}.{node['name']}"
            # A "restart" webhook (send-and-wait, Wait, Form pages) exists only while an
            # execution waits: activating the workflow does not register it.
            if any(not hook.get("restartWebhook") for hook in node.get("webhooks") or []):
                webhook.add(name)
            elif "trigger" in node.get("group", []):
                other.add(name)
    return {"webhook": sorted(webhook), "other_triggers": sorted(other)}


def main() -> None:
    cache = n8n_cache()
    package = cache / "node_modules" / "n8n"
    version = json.loads((package / "package.json").read_text())["version"]
    spec = package / "dist" / "public-api" / "v1" / "openapi.yml"
    table = {"n8n_version": version, "operations": scopes(spec)}
    (DATA / "n8n_scopes.json").write_text(json.dumps(table, indent=1) + "\n")
    print(f"n8n {version}: {len(table['operations'])} operations with a scope")
    types = {"n8n_version": version, "types": credential_types(cache)}
    (DATA / "n8n_credential_types.json").write_text(json.dumps(types, separators=(",", ":")) + "\n")
    print(f"n8n {version}: {len(types['types'])} credential types")
    triggers = {"n8n_version": version, **trigger_nodes(cache)}
    (DATA / "n8n_trigger_nodes.json").write_text(json.dumps(triggers, indent=1) + "\n")
    print(f"n8n {version}: {len(triggers['webhook'])} node types that register webhooks")


if __name__ == "__main__":
    main()
