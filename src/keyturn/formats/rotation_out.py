"""Rotation plans, outcomes, status and history: rich tables, or JSON documents."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from keyturn.core.redact import redact
from keyturn.journal import AuditEvent, Rotation
from keyturn.rotation.planning import RotationPlan
from keyturn.rotation.protocol import Outcome


def print_document(document: dict[str, Any]) -> None:
    sys.stdout.write(redact(json.dumps(document, indent=2, default=str)) + "\n")


def render_plan(plan: RotationPlan, console: Console, title: str = "Rotation plan") -> None:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in plan.lines():
        table.add_row(label, value, style="yellow" if label == "warning" else None)
    console.print(table)


def rotation_document(rotation: Rotation) -> dict[str, Any]:
    """A rotation as JSON: fingerprints, never secrets."""
    return {
        "id": rotation.id,
        "instance": rotation.instance,
        "credential_id": rotation.credential_id,
        "credential_name": rotation.credential_name,
        "credential_type": rotation.credential_type,
        "field": rotation.field,
        "strategy": rotation.strategy,
        "status": rotation.status,
        "step": rotation.step,
        "provider": rotation.provider,
        "pending_fingerprint": rotation.pending_fingerprint,
        "previous_fingerprint": rotation.previous_fingerprint,
        "new_credential_id": rotation.new_credential_id,
        "checks": rotation.plan.get("checks", []),
        "error": rotation.error,
        "created_at": rotation.created_at,
        "updated_at": rotation.updated_at,
    }


def render_outcome(outcome: Outcome, console: Console) -> None:
    rotation = outcome.rotation
    console.print(
        f"Rotated {rotation.credential_name!r} ({rotation.credential_id}): {rotation.status}, "
        f"now {rotation.pending_fingerprint} (was {rotation.previous_fingerprint or 'unknown'})"
    )
    for check in outcome.checks:
        mark = "ok  " if check.ok else "FAIL"
        console.print(f"  {mark} {check.means}: {check.detail}", highlight=False)


def render_rotations(rotations: list[Rotation], console: Console, title: str) -> None:
    if not rotations:
        console.print(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for column in ("Rotation", "Credential", "Step", "Status", "Strategy", "Started", "Error"):
        table.add_column(column, overflow="fold")
    for rotation in rotations:
        table.add_row(
            rotation.short_id,
            f"{rotation.credential_name} ({rotation.credential_id})",
            rotation.step,
            rotation.status,
            rotation.strategy,
            rotation.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            rotation.error or "",
        )
    console.print(table)


def event_document(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "os_user": event.os_user,
        "instance": event.instance,
        "credential_id": event.credential_id,
        "credential_name": event.credential_name,
        "rotation_id": event.rotation_id,
        "step": event.step,
        "outcome": event.outcome,
        "detail": event.detail,
    }


def render_history(events: list[AuditEvent], console: Console) -> None:
    if not events:
        console.print("No rotation recorded.")
        return
    table = Table(title="Audit trail", title_justify="left")
    for column in ("When (UTC)", "Who", "Credential", "Rotation", "Step", "Outcome", "Detail"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"),
            event.os_user,
            event.credential_name,
            (event.rotation_id or "")[:8],
            event.step,
            event.outcome,
            event.detail,
        )
    console.print(table)
