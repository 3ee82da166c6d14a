"""What the checklist's boxes are judged on, read once: the rotation and its audit trail from
the journal; the credential's workflows, their executions since the rotation and every
workflow (pinned data too) from the live instance; doctor's classification; the files under
--path; the rotation's write-back stores. Old and new values stay in memory, registered for
redaction; only fingerprints and places leave."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keyturn.core.errors import CredentialNotFound, KeyturnError
from keyturn.core.redact import register_secret
from keyturn.detect.documents import LineIndex, serialize
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
from keyturn.n8n.node_types import is_trigger
from keyturn.rotation.bundle import values_of


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
    events: list[AuditEvent]
    old_values: list[str]  # every secret value of the old journal value (one per field)
    new_values: list[str]
    index: UsageIndex
    executions: dict[str, list[Execution]] = field(default_factory=dict)
    failed_since: list[FailedRun] = field(default_factory=list)
    report: DoctorReport | None = None
    old_in_instance: list[str] = field(default_factory=list)  # "workflow W, node N"
    old_in_files: list[str] = field(default_factory=list)  # "PATH:LINE"
    new_in_files: list[str] = field(default_factory=list)
    not_searched: list[str] = field(default_factory=list)  # files under --path not read
    stores: list[StoreState] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    later: Rotation | None = None  # a later rotation of the credential that did not complete
    restarted: bool = False  # n8n restarted by the rotation (secrets read from $env)


def last_completed(
    journal: Journal, instance: str, url: str, credential: str
) -> tuple[Rotation, Rotation | None]:
    """The credential's last completed rotation (by id, else by a name that names one
    credential), and a later one still in flight or failed (the value n8n holds is unsure).
    A credential replaced by a rotation (replace-and-repoint) is the same credential."""
    rotations = journal.rotations(instance, instance_url=url)
    mine = _lineage(rotations, {credential})
    if not mine:
        named = {r.credential_id for r in rotations if r.credential_name == credential}
        lineages = {frozenset(r.id for r in _lineage(rotations, {one})) for one in named}
        if len(lineages) > 1:
            ids = sorted(
                {
                    (r.new_credential_id or r.credential_id)
                    for r in rotations
                    if r.credential_name == credential
                }
            )
            raise CredentialNotFound(
                f"{credential!r} names several credentials keyturn rotated: {', '.join(ids)}.",
                "Name the credential by its id.",
            )
        mine = _lineage(rotations, named)
    completed = [r for r in mine if r.status == Status.COMPLETED]
    if not completed:
        raise CredentialNotFound(
            f"keyturn has no completed rotation of {credential!r} on this instance.",
            "Name the credential by its id or name as keyturn rotated it (keyturn history).",
        )
    # A later rotation rolled back put this one's value back; one in flight or failed did not.
    unsettled = (Status.IN_PROGRESS, Status.FAILED)
    later = [r for r in mine if r.created_at > completed[-1].created_at and r.status in unsettled]
    return completed[-1], (later[-1] if later else None)


def _lineage(rotations: list[Rotation], ids: set[str]) -> list[Rotation]:
    """The rotations of these credentials and of those that replaced them, oldest first."""
    ids = set(ids)
    while True:
        more = {
            i
            for r in rotations
            if {r.credential_id, r.new_credential_id} & ids
            for i in (r.credential_id, r.new_credential_id)
            if i
        } - ids
        if not more:
            return [r for r in rotations if {r.credential_id, r.new_credential_id} & ids]
        ids |= more


def gather(
    client: N8nClient,
    journal: Journal,
    instance: str,
    rotation: Rotation,
    quiet_since: datetime,
    paths: list[Path],
    vault: dict[str, Any] | None = None,
) -> Evidence:
    live_id = rotation.new_credential_id or rotation.credential_id
    completed_at = rotation.updated_at
    workflows = client.list_workflows()
    index = build_usage_index(client.list_credentials(), workflows)
    evidence = Evidence(
        rotation=rotation,
        completed_at=completed_at,
        credential_id=live_id,
        events=journal.events_of(rotation.id),
        old_values=_values(journal, rotation, rotation.previous_secret, instance, Label.PREVIOUS),
        new_values=_values(journal, rotation, rotation.pending_secret, instance, Label.CURRENT),
        index=index,
        paths=paths,
    )
    _executions(client, evidence, workflows)
    evidence.report = diagnose(client, since=quiet_since)
    _old_in_instance(client, evidence)
    _in_files(evidence)
    _stores(evidence, vault)
    evidence.restarted = any(e.outcome == "restarted" for e in evidence.events)
    return evidence


def _values(
    journal: Journal, rotation: Rotation, token: str | None, instance: str, label: Label
) -> list[str]:
    """The secret values of a journal value (several for a rotation of several fields), each
    registered for redaction."""
    live_id = rotation.new_credential_id or rotation.credential_id
    try:
        value = journal.decrypt(token)
        if value is None:
            version = journal.label(instance, live_id, label)
            value = journal.decrypt(version.secret) if version else None
    except KeyturnError:
        return []
    found = values_of(value, rotation.field) if value else []
    for item in found:
        register_secret(item)
    return [item for item in found if item]


def _executions(client: N8nClient, evidence: Evidence, workflows: list[Workflow]) -> None:
    """Each using workflow's executions since the rotation, newest first; failed ones
    classified by doctor."""
    using = _using(evidence)
    for workflow in workflows:
        if workflow.id is None or workflow.id not in using:
            continue
        if workflow.is_archived:
            continue  # archived workflows do not run
        runs = list(_since(client.iter_executions(workflow_id=workflow.id), evidence.completed_at))
        evidence.executions[workflow.id] = runs
        for run in runs:
            if run.status in ("error", "crashed"):
                evidence.failed_since.append(
                    classify(client.get_execution(run.id, include_data=True))
                )


def _since(executions: Iterator[Execution], start: datetime) -> Iterator[Execution]:
    for execution in executions:
        started = execution.started_at
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)  # n8n writes UTC
        if started is not None and started < start:
            return  # newest first: the rest is older
        yield execution


def _old_in_instance(client: N8nClient, evidence: Evidence) -> None:
    """The old value in any workflow of the instance, by workflow and node (pinned data too)."""
    if not evidence.old_values:
        return
    old = OldSecrets(evidence.old_values)
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


MAX_FILE_BYTES = 256 * 1024 * 1024


def _in_files(evidence: Evidence) -> None:
    """Every file under --path, read as bytes whatever it is (binary, hidden folders such as
    .git or .venv too; symlinks not followed): where the old values are, and the new ones."""
    old = OldSecrets(evidence.old_values) if evidence.old_values else None
    new = OldSecrets(evidence.new_values) if evidence.new_values else None
    for path in _files(evidence.paths, evidence.not_searched):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                evidence.not_searched.append(f"{path}: larger than 256 MB")
                continue
            data = path.read_bytes()
        except OSError as exc:
            evidence.not_searched.append(f"{path}: {exc.strerror or type(exc).__name__}")
            continue
        index = LineIndex(data)
        for finder, found in ((old, evidence.old_in_files), (new, evidence.new_in_files)):
            if finder is not None:
                offsets = sorted(offset for offset, _ in finder.find_in(data))
                lines = dict.fromkeys(index.line_at(offset) for offset in offsets)
                found.extend(f"{path}:{line}" for line in lines)


def _files(roots: list[Path], not_searched: list[str]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
            continue
        for folder, _folders, files in os.walk(
            root, onerror=lambda e: not_searched.append(f"{e.filename}: {e.strerror}")
        ):
            for name in files:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    yield path


def _stores(evidence: Evidence, vault: dict[str, Any] | None) -> None:
    new_value = pack_of(evidence)
    for target in evidence.rotation.plan.get("written", []):
        try:
            held = build_store(target, vault).read_current()
        except KeyturnError as exc:
            evidence.stores.append(StoreState(target, None, exc.message))
            continue
        same = held is not None and held == new_value
        detail = "holds the new value" if same else "does not hold the new value"
        evidence.stores.append(StoreState(target, same, detail))


def pack_of(evidence: Evidence) -> str | None:
    """The value a store holds after the rotation: the new secret (a single field's)."""
    return evidence.new_values[0] if len(evidence.new_values) == 1 else None


def workflow_names(evidence: Evidence) -> dict[str, tuple[str, str]]:
    """{workflow id: (name, trigger type)} of the workflows that use the credential."""
    using = _using(evidence)
    return {
        workflow.id: (workflow.name, _trigger(workflow))
        for workflow in evidence.index.workflows
        if workflow.id is not None and workflow.id in using and not workflow.is_archived
    }


def _using(evidence: Evidence) -> set[str | None]:
    """The ids of the workflows that use the credential."""
    return {u.workflow_id for u in evidence.index.usages_of(evidence.credential_id)}


def _trigger(workflow: Workflow) -> str:
    for node in workflow.nodes:
        if is_trigger(node.type):
            return node.type.rsplit(".", 1)[-1]
    return "manual"
