"""Builders for real n8n workflows, and the demo set seeded into the sandbox and the tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from keyturn.core.redact import register_secret
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Credential, Workflow

_SETTINGS = {"executionOrder": "v1"}


def _node_id(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def webhook_node(workflow_name: str, path: str) -> dict[str, Any]:
    return {
        "id": _node_id(f"{workflow_name}/webhook"),
        "name": "Webhook",
        "type": "n8n-nodes-base.webhook",
        "typeVersion": 2,
        "position": [0, 0],
        "webhookId": _node_id(f"{workflow_name}/{path}/hook"),
        "parameters": {"httpMethod": "GET", "path": path, "responseMode": "lastNode"},
    }


def http_request_node(
    workflow_name: str,
    url: str,
    *,
    node_name: str = "Call partner API",
    credential_type: str | None = None,
    credential: Credential | dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP Request node (v4.2); with a credential, generic auth of `credential_type`."""
    parameters: dict[str, Any] = {"url": url, "options": {}}
    node: dict[str, Any] = {
        "id": _node_id(f"{workflow_name}/{node_name}"),
        "name": node_name,
        "type": "n8n-nodes-base.httpRequest",
        "typeVersion": 4.2,
        "position": [220, 0],
        "parameters": parameters,
    }
    if credential_type and credential is not None:
        parameters["authentication"] = "genericCredentialType"
        parameters["genericAuthType"] = credential_type
        ref = (
            {"id": credential.id, "name": credential.name}
            if isinstance(credential, Credential)
            else credential
        )
        node["credentials"] = {credential_type: ref}
    if headers:
        parameters["sendHeaders"] = True
        parameters["headerParameters"] = {
            "parameters": [{"name": name, "value": value} for name, value in headers.items()]
        }
    return node


def code_node(workflow_name: str, js_code: str, node_name: str = "Prepare") -> dict[str, Any]:
    return {
        "id": _node_id(f"{workflow_name}/{node_name}"),
        "name": node_name,
        "type": "n8n-nodes-base.code",
        "typeVersion": 2,
        "position": [440, 0],
        "parameters": {"jsCode": js_code},
    }


def chain(name: str, *nodes: dict[str, Any]) -> dict[str, Any]:
    """A workflow whose nodes run one after another."""
    connections = {
        first["name"]: {"main": [[{"node": second["name"], "type": "main", "index": 0}]]}
        for first, second in itertools.pairwise(nodes)
    }
    return {"name": name, "nodes": list(nodes), "connections": connections, "settings": _SETTINGS}


def webhook_workflow(
    name: str, path: str, url: str, credential_type: str, credential: Credential
) -> dict[str, Any]:
    """Webhook -> HTTP Request with the credential: calling the webhook exercises the key."""
    return chain(
        name,
        webhook_node(name, path),
        http_request_node(name, url, credential_type=credential_type, credential=credential),
    )


@dataclass
class DemoProviderClient:
    """The demo provider's admin API, as a provider client would use it."""

    url: str
    admin_token: str

    def issue_key(self, label: str) -> tuple[str, str]:
        response = httpx.post(
            f"{self.url}/admin/keys",
            json={"label": label},
            headers={"X-Admin-Token": self.admin_token},
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        register_secret(body["key"])
        return body["id"], body["key"]

    def add_fault(self, *, status: int = 500, count: int = 1, scope: str = "all") -> None:
        """Make the next `count` requests in `scope` (api, admin or all) fail with `status`."""
        response = httpx.post(
            f"{self.url}/admin/faults",
            json={"status": status, "count": count, "scope": scope},
            headers={"X-Admin-Token": self.admin_token},
            timeout=10,
        )
        response.raise_for_status()

    def clear_faults(self) -> None:
        response = httpx.delete(
            f"{self.url}/admin/faults", headers={"X-Admin-Token": self.admin_token}, timeout=10
        )
        response.raise_for_status()


@dataclass
class DemoSeed:
    """What `seed_demo` created, for the demo's printout and the tests' assertions."""

    credentials: dict[str, Credential] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    deleted_credential_id: str = ""


# Each issued by the demo provider: (label, credential type, the credential's data for a key).
_PARTNER_CREDENTIALS: list[tuple[str, str, Callable[[str], dict[str, Any]]]] = [
    ("Partner API", "httpHeaderAuth", lambda k: {"name": "X-API-Key", "value": k}),
    ("Partner API (query)", "httpQueryAuth", lambda k: {"name": "api_key", "value": k}),
    ("Partner API (basic)", "httpBasicAuth", lambda k: {"user": "demo", "password": k}),
]
# Active webhook workflows that call the demo provider: (name, path, credential label).
_PARTNER_WORKFLOWS = [
    ("Partner sync", "partner-sync", "Partner API"),
    ("Partner sync (query)", "partner-sync-query", "Partner API (query)"),
    ("Partner sync (basic)", "partner-sync-basic", "Partner API (basic)"),
]


def seed_demo(client: N8nClient, provider: DemoProviderClient) -> DemoSeed:
    """Credentials and workflows that show each thing the inventory reports."""
    seed = DemoSeed()
    _create_partner_credentials(client, provider, seed)
    _create_other_credentials(client, seed)
    doomed = client.create_credential(
        "Retired CRM key", "httpHeaderAuth", {"name": "X-API-Key", "value": "retired-0000"}
    )
    seed.deleted_credential_id = doomed.id
    api = f"{provider.url}/v1/data"
    bodies = {**_partner_workflows(api, seed), **_other_workflows(api, seed, doomed)}
    for name, body in bodies.items():
        seed.workflows[name] = client.create_workflow(body)
    client.delete_credential(doomed.id)  # leaves "CRM import" pointing at a deleted credential
    for name, _, _ in _PARTNER_WORKFLOWS:
        client.activate_workflow(_id(seed.workflows[name]))
    return seed


def _create_partner_credentials(
    client: N8nClient, provider: DemoProviderClient, seed: DemoSeed
) -> None:
    """One credential per auth placement, each with a real key from the demo provider."""
    for label, cred_type, data_for_key in _PARTNER_CREDENTIALS:
        key_id, key = provider.issue_key(label)
        seed.credentials[label] = client.create_credential(label, cred_type, data_for_key(key))
        seed.key_ids[label] = key_id
        seed.keys[label] = key


def _create_other_credentials(client: N8nClient, seed: DemoSeed) -> None:
    """Two credentials with one name, and one that no workflow uses."""
    billing_a = client.create_credential(
        "Billing API", "httpHeaderAuth", {"name": "X-API-Key", "value": "billing-a-0000"}
    )
    billing_b = client.create_credential(
        "Billing API", "httpHeaderAuth", {"name": "X-API-Key", "value": "billing-b-0000"}
    )
    seed.credentials["Billing API (a)"], seed.credentials["Billing API (b)"] = billing_a, billing_b
    seed.credentials["Old Slack token"] = client.create_credential(
        "Old Slack token", "httpBearerAuth", {"token": "xoxb-unused-0000"}
    )


def _partner_workflows(api: str, seed: DemoSeed) -> dict[str, dict[str, Any]]:
    types = {label: cred_type for label, cred_type, _ in _PARTNER_CREDENTIALS}
    return {
        name: webhook_workflow(name, path, api, types[label], seed.credentials[label])
        for name, path, label in _PARTNER_WORKFLOWS
    }


def _other_workflows(api: str, seed: DemoSeed, doomed: Credential) -> dict[str, dict[str, Any]]:
    """A twin's user, a hard-coded key, a deleted credential's user and an `$env` reader."""
    billing_b = seed.credentials["Billing API (b)"]
    return {
        "Billing export": chain(
            "Billing export",
            webhook_node("Billing export", "billing-export"),
            http_request_node(
                "Billing export", api, credential_type="httpHeaderAuth", credential=billing_b
            ),
        ),
        "Legacy report": chain(
            "Legacy report",
            webhook_node("Legacy report", "legacy-report"),
            http_request_node(
                "Legacy report", api, headers={"X-API-Key": "lg_9f8e7d6c5b4a39281706"}
            ),
        ),
        "CRM import": chain(
            "CRM import",
            webhook_node("CRM import", "crm-import"),
            http_request_node(
                "CRM import", api, credential_type="httpHeaderAuth", credential=doomed
            ),
        ),
        "Env reader": chain(
            "Env reader",
            webhook_node("Env reader", "env-reader"),
            code_node(
                "Env reader",
                "const key = $env.PARTNER_API_KEY;\nreturn [{ json: { configured: !!key } }];",
            ),
        ),
    }


def _id(workflow: Workflow) -> str:
    assert workflow.id is not None
    return workflow.id


# Node keys n8n's public API accepts on create (others, left by old exports, are refused).
_API_NODE_KEYS = frozenset(
    {
        "id", "name", "webhookId", "disabled", "notesInFlow", "notes", "type", "typeVersion",
        "executeOnce", "alwaysOutputData", "retryOnFail", "maxTries", "waitBetweenTries",
        "continueOnFail", "onError", "position", "parameters", "credentials",
    }
)  # fmt: skip


def api_body_from_export(export: dict[str, Any], fallback_name: str) -> dict[str, Any]:
    """The body to create an exported workflow through the public API."""
    nodes = [
        {key: value for key, value in node.items() if key in _API_NODE_KEYS}
        for node in export.get("nodes", [])
        if isinstance(node, dict)
    ]
    return {
        "name": export.get("name") or fallback_name,
        "nodes": nodes,
        "connections": export.get("connections") or {},
        "settings": {},
    }
