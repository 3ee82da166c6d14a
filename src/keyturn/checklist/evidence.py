"""What the checklist's boxes are judged on, read once: the rotation and its audit trail from
the journal; the credential's workflows, their executions since the rotation and every
workflow (pinned data too) from the live instance; doctor's classification; the files under
--path; the rotation's write-back stores. Old and new values stay in memory, registered for
redaction; only fingerprints and places leave."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from keyturn.core.errors import CredentialNotFound, KeyturnError
from keyturn.detect.documents import serialize
from keyturn.detect.oldsecrets import OldSecrets
from keyturn.doctor import diagnose
from keyturn.doctor.classify import classify
from keyturn.doctor.model import DoctorReport, FailedRun
from keyturn.inventory.usage import UsageIndex, build_usage_index
from keyturn.journal.journal import Journal
from keyturn.journal.models import AuditEvent, Label, Rotation, Status
from keyturn.locations.registry import build_store
from keyturn.n8n.client import N8nClient
from keyturn.n8n.models import Execution, Workflow
from keyturn.scan.engine import ScanOptions, scan_paths


@dataclass
class StoreState:
    target: str
    holds_new: bool | None  # None: could not be read
    detail: str


@dataclass
class Evidence:
    rotation: Rotation
    completed_at: datetime
    credential_id: str
    credential_name: str
    events: list[AuditEvent]
    old_value: str | None
    new_value: str | None
    index: UsageIndex
    executions: dict[str, list[Execution]] = field(default_factory=dict)
    failed_since: list[FailedRun] = field(default_factory=list)
    report: DoctorReport | None = None
    old_in_instance: list[str] = field(default_factory=list)  # "workflow W, node N"
    old_in_files: list[str] = field(default_factory=list)  # "PATH:LINE"
    new_in_files: list[str] = field(default_factory=list)
    stores: list[StoreState] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)


def last_completed(journal: Journal, instance: str, url: str, credential: str) -> Rotation:
    """The credential's last completed rotation (by id or name)."""
    rotations = [
        r
        for r in journal.rotations(instance, instance_url=url)
        if credential in (r.credential_id, r.new_credential_id, r.credential_name)
        and r.status == Status.COMPLETED
    ]
    if not rotations:
        raise CredentialNotFound(
            f"keyturn has no completed rotation of {credential!r} on this instance.",
            "Name the credential by its id or name as keyturn rotated it (keyturn history).",
        )
    return rotations[-1]


def gather(
    client: N8nClient,
    journal: Journal,
    instance: str,
    rotation: Rotation,
    quiet_since: datetime,
    paths: list[Path],
) -> Evidence:
    live_id = rotation.new_credential_id or rotation.credential_id
    completed_at = rotation.updated_at
    workflows = client.list_workflows()
    index = build_usage_index(client.list_credentials(), workflows)
    evidence = Evidence(
        rotation=rotation,
        completed_at=completed_at,
        credential_id=live_id,
        credential_name=rotation.credential_name,
        events=[e for e in journal.history(rotation.instance) if e.rotation_id == rotation.id],
        old_value=_value(journal, rotation.previous_secret, instance, live_id, Label.PREVIOUS),
        new_value=_value(journal, rotation.pending_secret, instance, live_id, Label.CURRENT),
        index=index,
        paths=paths,
    )
    _executions(client, evidence, workflows)
    evidence.report = diagnose(client, since=quiet_since)
    _old_in_instance(client, evidence)
    _in_files(evidence)
    _stores(evidence)
    return evidence


def _value(
    journal: Journal, token: str | None, instance: str, credential_id: str, label: Label
) -> str | None:
    try:
        value = journal.decrypt(token)
        if value is None:
            version = journal.label(instance, credential_id, label)
            value = journal.decrypt(version.secret) if version else None
    except KeyturnError:
        return None
    return value


def _executions(client: N8nClient, evidence: Evidence, workflows: list[Workflow]) -> None:
    """Each using workflow's executions since the rotation, newest first; failed ones
    classified by doctor."""
    using = {u.workflow_id for u in evidence.index.usages_of(evidence.credential_id)}
    for workflow in workflows:
        if workflow.id is None or workflow.id not in using:
            continue
        runs = list(_since(client.iter_executions(workflow_id=workflow.id), evidence.completed_at))
        evidence.executions[workflow.id] = runs
        for run in runs:
            if run.status in ("error", "crashed"):
                evidence.failed_since.append(
                    classify(client.get_execution(run.id, include_data=True))
                )


def _since(executions: Iterator[Execution], start: datetime) -> Iterator[Execution]:
    for execution in executions:
        if execution.started_at is not None and execution.started_at < start:
            return  # newest first: the rest is older
        yield execution


def _old_in_instance(client: N8nClient, evidence: Evidence) -> None:
    """The old value in any workflow of the instance, by workflow and node (pinned data too)."""
    if not evidence.old_value:
        return
    old = OldSecrets([evidence.old_value])
    for document in client.iter_workflow_documents():
        name = document.get("name", "?")
        for node in document.get("nodes") or []:
            if isinstance(node, dict) and any(True for _ in old.find_in(serialize(node))):
                evidence.old_in_instance.append(f"workflow {name!r}, node {node.get('name')!r}")
        pinned = document.get("pinData") or {}
        for node_name, items in pinned.items() if isinstance(pinned, dict) else ():
            if any(True for _ in old.find_in(serialize(items))):
                what = f"workflow {name!r}, pinned data of node {node_name!r}"
                evidence.old_in_instance.append(what)


def _in_files(evidence: Evidence) -> None:
    if not evidence.paths:
        return
    for value, found in (
        (evidence.old_value, evidence.old_in_files),
        (evidence.new_value, evidence.new_in_files),
    ):
        if not value:
            continue
        result = scan_paths(evidence.paths, ScanOptions(old_secrets=(value,)))
        found.extend(
            sorted(
                {
                    f"{f.location.path}:{f.location.line}"
                    for f in result.findings
                    if f.rule.id == "KT009"
                }
            )
        )


def _stores(evidence: Evidence) -> None:
    for target in evidence.rotation.plan.get("written", []):
        try:
            held = build_store(target).read_current()
        except KeyturnError as exc:
            evidence.stores.append(StoreState(target, None, exc.message))
            continue
        same = held is not None and held == evidence.new_value
        detail = "holds the new value" if same else "does not hold the new value"
        evidence.stores.append(StoreState(target, same, detail))


def workflow_names(evidence: Evidence) -> dict[str, tuple[str, str]]:
    """{workflow id: (name, trigger type)} of the workflows that use the credential."""
    using = {u.workflow_id for u in evidence.index.usages_of(evidence.credential_id)}
    return {
        workflow.id: (workflow.name, _trigger(workflow))
        for workflow in evidence.index.workflows
        if workflow.id is not None and workflow.id in using
    }


def _trigger(workflow: Workflow) -> str:
    for node in workflow.nodes:
        kind: Any = node.type
        if isinstance(kind, str) and ("trigger" in kind.lower() or kind.endswith(".webhook")):
            return kind.rsplit(".", 1)[-1]
    return "manual"
