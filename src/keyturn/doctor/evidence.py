"""What doctor reads beyond the failed executions: credentials, rotations, workflows and the
last run of each workflow that succeeded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from keyturn.core.errors import N8nError
from keyturn.doctor.model import Evidence, FailedRun, first_failure
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Workflow


def gather_evidence(
    client: N8nClient, failures: list[FailedRun], rotations: Iterable[Any]
) -> Evidence:
    credentials = {c.id: c for c in client.list_credentials()} if failures else {}
    by_credential = _rotations_by_credential(rotations)
    workflows: dict[str, Workflow] = {}
    last_success: dict[str, datetime] = {}
    for workflow_id in {f.workflow_id for f in failures if f.workflow_id}:
        try:
            workflows[workflow_id] = client.get_workflow(workflow_id)
        except N8nError:
            continue
        first = first_failure([f for f in failures if f.workflow_id == workflow_id])
        success = _last_success_before(client, workflow_id, first)
        if success:
            last_success[workflow_id] = success
    return Evidence(credentials, by_credential, workflows, last_success)


def _rotations_by_credential(rotations: Iterable[Any]) -> dict[str, list[Any]]:
    """Each rotation under its credential, and under the credential that replaced it."""
    by_credential: dict[str, list[Any]] = defaultdict(list)
    for rotation in rotations:
        by_credential[rotation.credential_id].append(rotation)
        if rotation.new_credential_id:
            by_credential[rotation.new_credential_id].append(rotation)
    return by_credential


def _last_success_before(
    client: N8nClient, workflow_id: str, first: datetime | None
) -> datetime | None:
    """When the workflow last ran successfully before its first failure (newest first)."""
    for execution in client.iter_executions(
        status="success", workflow_id=workflow_id, page_size=50
    ):
        if execution.started_at and (first is None or execution.started_at < first):
            return execution.started_at
    return None
