"""`keyturn inventory`: every credential, its age, who uses it, and what looks wrong.

Two paged listings (credentials, workflows) and one in-memory pass: the number of API requests
grows with pages of 250, never with the number of credentials.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from keyturn.inventory.usage import UsageIndex, build_usage_index
from keyturn.n8n.client import N8nClient
from keyturn.n8n.credential_types import secret_changed_at
from keyturn.n8n.models import Credential

SCHEMA_ID = "keyturn.inventory/v1"


class InventoryProgress(Protocol):
    def credentials_fetched(self, count: int) -> None: ...
    def workflows_fetched(self, count: int) -> None: ...


class UsageOut(BaseModel):
    workflow_id: str | None
    workflow_name: str
    active: bool
    archived: bool
    node_name: str
    node_type: str
    node_disabled: bool
    credential_type: str


class FlagOut(BaseModel):
    code: str = Field(
        description="unused, duplicate_name, dangling_reference, name_mismatch, "
        "hardcoded_secret or env_secret"
    )
    severity: str = Field(description="error, warning or info")
    message: str
    credential_id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    node_name: str | None = None


class CredentialOut(BaseModel):
    id: str
    name: str
    type: str
    created_at: datetime | None
    updated_at: datetime | None
    age_days: int | None = Field(
        description="Whole days since the credential was last updated (n8n records no separate "
        "time for a secret change, so updatedAt is the best evidence); for an OAuth2 app, "
        "since it was created (n8n updates it whenever it refreshes a token)."
    )
    usages: list[UsageOut]
    flags: list[str] = Field(description="Codes of the flags about this credential.")


class InstanceOut(BaseModel):
    name: str
    url: str


class SummaryOut(BaseModel):
    credentials: int
    workflows: int
    nodes: int
    flags: dict[str, int]


class StatsOut(BaseModel):
    api_requests: int
    seconds: float


class InventoryReport(BaseModel):
    """The document `keyturn inventory --json` prints (schema: docs/schemas/inventory.json)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    generated_at: datetime
    instance: InstanceOut
    summary: SummaryOut
    credentials: list[CredentialOut]
    flags: list[FlagOut]
    stats: StatsOut
    blind_spots: list[str] = Field(
        default_factory=list,
        description="What this n8n did not let keyturn see, and why (empty: nothing hidden).",
    )


def take_inventory(
    client: N8nClient, progress: InventoryProgress | None = None, now: datetime | None = None
) -> InventoryReport:
    started = time.perf_counter()
    requests_before = client.request_count
    credentials = client.list_credentials(progress.credentials_fetched if progress else None)
    workflows = client.list_workflows(progress.workflows_fetched if progress else None)
    index = build_usage_index(credentials, workflows)
    report = build_report(
        index,
        InstanceOut(name=client.connection.name, url=client.connection.url),
        StatsOut(
            api_requests=client.request_count - requests_before,
            seconds=round(time.perf_counter() - started, 3),
        ),
        now or datetime.now(UTC),
    )
    report.blind_spots = list(dict.fromkeys(client.blind_spots))
    return report


def build_report(
    index: UsageIndex, instance: InstanceOut, stats: StatsOut, now: datetime
) -> InventoryReport:
    credentials = sorted(index.credentials, key=lambda c: (c.name.casefold(), c.id))
    flags = [
        FlagOut(**{**vars(flag), "code": flag.code.value, "severity": flag.severity.value})
        for flag in index.flags
    ]
    return InventoryReport(
        generated_at=now,
        instance=instance,
        summary=SummaryOut(
            credentials=len(index.credentials),
            workflows=len(index.workflows),
            nodes=index.node_count,
            flags=dict(Counter(flag.code for flag in flags)),
        ),
        credentials=[_credential_out(index, credential, now) for credential in credentials],
        flags=flags,
        stats=stats,
    )


def _credential_out(index: UsageIndex, credential: Credential, now: datetime) -> CredentialOut:
    changed = secret_changed_at(credential)
    return CredentialOut(
        id=credential.id,
        name=credential.name,
        type=credential.type,
        created_at=credential.created_at,
        updated_at=credential.updated_at,
        age_days=(now - changed).days if changed else None,
        usages=[UsageOut(**vars(usage)) for usage in index.usages_of(credential.id)],
        flags=sorted({flag.code.value for flag in index.flags_of(credential.id)}),
    )
