"""Regenerate keyturn's tables of n8n facts from the pinned n8n package.

Run when the pinned n8n changes: `python scripts/gen_n8n_tables.py [N8N_CACHE_DIR]`.
Writes, into src/keyturn/data/:
- n8n_scopes.json: the API key scope each public API v1 operation needs, read from
  `x-required-scope` in n8n's own OpenAPI spec;
- n8n_credential_types.json: each credential type's fields, which of them are secret
  (`typeOptions.password`) and whether n8n can test it (`POST /credentials/{id}/test`);
- n8n_credential_probes.json: for each credential type n8n can test, its test request and
  rules, its fields with their defaults, and where its secrets go (its declarative
  `authenticate`, or the one derived by running its code on sentinel values), so keyturn can
  prove a new key itself before n8n holds it; and docs/credential-types.md, which says for every
  type with a secret whether keyturn probes it before set, and why not;
- n8n_trigger_nodes.json: the node types that register webhooks when their workflow is
  activated (a `webhooks` entry that is not a restart webhook), and the other triggers (polling,
  queues, schedules), from n8n's own node lists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


# n8n's own credential types live in two packages: the base nodes and the AI (LangChain) nodes.
CREDENTIAL_FOLDERS = ("n8n-nodes-base", "@n8n/n8n-nodes-langchain")


def credential_folders(cache: Path) -> list[str]:
    return [
        str(cache / "node_modules" / package / "dist" / "credentials")
        for package in CREDENTIAL_FOLDERS
    ]


def credential_types(described: dict[str, Any]) -> dict[str, object]:
    """Each type's fields, secret fields (its own and those of the types it extends) and
    whether n8n can test it."""
    return {
        name: {
            "secret_fields": entry["secret_fields"],
            "fields": [f["name"] for f in entry["fields"] if f["type"] not in ("notice", "hidden")],
            "has_test": bool(entry["test"]),
            # n8n writes an OAuth2 credential whenever it stores a new token: its updatedAt
            # says nothing about when its client secret changed.
            "oauth2": "oAuth2Api" in _ancestors(name, described),
        }
        for name, entry in described.items()
    }


def credential_probes(cache: Path) -> dict[str, Any]:
    node = cache / "node_modules" / ".bin" / "node"
    out = subprocess.run(
        [str(node), str(HERE / "credential_probes.js"), *credential_folders(cache)],
        check=True,
        capture_output=True,
        text=True,
    )
    described: dict[str, Any] = json.loads(out.stdout)
    return dict(sorted(described.items()))


def probe_entries(described: dict[str, Any]) -> dict[str, Any]:
    """The entries keyturn probes from: an OAuth2 app's at its token endpoint (OAUTH2_PROBE)."""
    return {
        name: {**entry, **OAUTH2_PROBE}
        if "clientSecret" in entry["secret_fields"] and "oAuth2Api" in _ancestors(name, described)
        else entry
        for name, entry in described.items()
    }


def _ancestors(name: str, described: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    stack = list(described.get(name, {}).get("extends", []))
    while stack:
        parent = stack.pop()
        if parent not in found:
            found.add(parent)
            stack += described.get(parent, {}).get("extends", [])
    return found | {name}


# An OAuth2 app's client secret is proven at its token endpoint, as n8n's OAuth2 client sends
# it (Basic auth, or in the body when `authentication` is "body"): a client-credentials app
# gets a token; any other app asks to trade a code that does not exist, which a server that
# accepts the client answers `invalid_grant` (RFC 6749, 5.2) and one that refuses it
# `invalid_client`. The app's own test (if any) needs its access token, not its secret.
_GRANT = '$credentials.grantType === "clientCredentials"'
OAUTH2_PROBE: dict[str, Any] = {
    "test": {
        "oauth2": True,
        "request": {
            "method": "POST",
            "url": "={{$credentials.accessTokenUrl}}",
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            "body": {
                "grant_type": f'={{{{{_GRANT} ? "client_credentials" : "authorization_code"}}}}',
                "code": f'={{{{{_GRANT} ? "" : "keyturn-probe-not-a-code"}}}}',
                "scope": f'={{{{{_GRANT} ? $credentials.scope : ""}}}}',
            },
        },
    },
    "authenticate": {
        "type": "generic",
        "properties": {
            "auth": {
                "username": "={{$credentials.clientId}}",
                "password": "={{$credentials.clientSecret}}",
            }
        },
    },
    "authenticate_variants": [
        {
            "when": {"authentication": "body"},
            "authenticate": {
                "type": "generic",
                "properties": {
                    "body": {
                        "client_id": "={{$credentials.clientId}}",
                        "client_secret": "={{$credentials.clientSecret}}",
                    }
                },
            },
        }
    ],
    "authenticate_from": "oauth2",
    "pre_authentication": False,
}


def probe_verdict(entry: dict[str, Any]) -> str | None:
    """Why keyturn cannot probe a type before set (None: it can)."""
    from keyturn.n8n.expressions import ExpressionError

    request = (entry.get("test") or {}).get("request")
    if not request:
        return "n8n declares no test request for it"
    if entry.get("pre_authentication"):
        return "it trades its secret for a token first (preAuthentication)"
    if any(parent.lower().startswith("oauth") for parent in entry.get("extends", [])) and not (
        entry["test"].get("oauth2")
    ):
        return "OAuth2: its access token comes from a consent flow, not from a key"
    if entry.get("authenticate") is None and entry.get("authenticate_reason"):
        return str(entry["authenticate_reason"])
    token_url = next(
        (f.get("default") for f in entry["fields"] if f["name"] == "accessTokenUrl"), ""
    )
    if entry["test"].get("oauth2") and str(token_url).startswith("="):
        return "OAuth2: its token endpoint's address is an expression over other fields"
    from keyturn.n8n.type_probes import TypeProbe, build_request

    probe = TypeProbe.from_entry("", entry)
    try:
        build_request(
            probe,
            {
                f["name"]: _sample(f["name"])
                for f in entry["fields"]
                if f.get("default") in (None, "")
            },
        )
    except ExpressionError as exc:
        return f"keyturn cannot build its test request ({exc})"
    secrets = set(entry["secret_fields"])
    placed = json.dumps([request, entry.get("authenticate")])
    if not any(
        f"$credentials.{name}" in placed or f"$credentials?.{name}" in placed for name in secrets
    ):
        return "its test request does not carry a secret field"
    return None


def _sample(name: str) -> str:
    """A stand-in value for a field without a default, shaped like what it holds."""
    lowered = name.lower()
    if any(word in lowered for word in ("url", "host", "server", "endpoint", "uri", "domain")):
        return "https://sample.example.com"
    return f"sample-{name}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def credential_types_doc(version: str, described: dict[str, Any]) -> str:
    rows = []
    counts = {"declarative": 0, "code": 0, "oauth2": 0, "none": 0}
    for name, entry in described.items():
        if not entry["secret_fields"]:
            continue
        reason = probe_verdict(entry)
        kind = "none" if reason else (entry.get("authenticate_from") or "declarative")
        counts[kind] += 1
        verdict = "no" if reason else f"yes ({kind})"
        secret = ", ".join(f"`{field}`" for field in entry["secret_fields"])
        rows.append(f"| `{name}` | {secret} | {verdict} | {reason or ''} |")
    total = sum(counts.values())
    return (
        "# n8n's credential types: which keyturn probes before set\n\n"
        f"Generated from n8n {version} by `scripts/gen_n8n_tables.py`; do not edit by hand.\n\n"
        f"Of {total} types with a secret field, keyturn proves a new key itself, with the "
        "type's own test request, before n8n holds it (unless `--probe-url` or a provider's "
        f"probe is given), for {total - counts['none']}: "
        f"{counts['declarative']} that authenticate declaratively, {counts['code']} whose "
        "authentication is code (described by running it on sample values at generation time), "
        f"and {counts['oauth2']} OAuth2 apps whose client secret is proven at their token "
        "endpoint (docs/rotation.md). "
        f"For the other {counts['none']}, the reason is given; rotate them with `--probe-url` "
        "or a provider's probe, or prove them after set with n8n's test or a webhook.\n\n"
        "| type | secret fields | probe before set | why not |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


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
    described = credential_probes(cache)
    types = {"n8n_version": version, "types": credential_types(described)}
    described = probe_entries(described)
    (DATA / "n8n_credential_types.json").write_text(json.dumps(types, separators=(",", ":")) + "\n")
    print(f"n8n {version}: {len(types['types'])} credential types")
    probes = {
        "n8n_version": version,
        "types": {
            name: entry
            for name, entry in described.items()
            if entry["secret_fields"] and probe_verdict(entry) is None
        },
    }
    (DATA / "n8n_credential_probes.json").write_text(
        json.dumps(probes, separators=(",", ":")) + "\n"
    )
    (HERE.parent / "docs" / "credential-types.md").write_text(
        credential_types_doc(version, described)
    )
    print(f"n8n {version}: {len(probes['types'])} credential types keyturn probes before set")
    triggers = {"n8n_version": version, **trigger_nodes(cache)}
    (DATA / "n8n_trigger_nodes.json").write_text(json.dumps(triggers, indent=1) + "\n")
    print(f"n8n {version}: {len(triggers['webhook'])} node types that register webhooks")


if __name__ == "__main__":
    main()
