"""Rotation plans, outcomes, status, history and schedule: rich tables, or JSON documents.

Credential names, errors and details come from n8n, providers and the journal: every one is
printed as plain text (formats/safe_text.py), never as Rich markup.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from keyturn.core.durations import format_duration
from keyturn.core.redact import redact_document
from keyturn.formats.safe_text import plain
from keyturn.journal import AuditEvent, Rotation
from keyturn.rotation.planning import RotationPlan
from keyturn.rotation.protocol import Outcome
from keyturn.rotation.schedule import DueCredential


def print_document(document: dict[str, Any]) -> None:
    plain = json.loads(json.dumps(document, default=str))  # datetimes etc. as strings first
    sys.stdout.write(json.dumps(redact_document(plain), indent=2) + "\n")


def render_plan(plan: RotationPlan, console: Console, title: str = "Rotation plan") -> None:
    table = Table(title=plain(title), title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in plan.lines():
        table.add_row(label, plain(value), style="yellow" if label == "warning" else None)
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
        plain(
            f"Rotated '{rotation.credential_name}' ({rotation.credential_id}): {rotation.status}, "
            f"now {rotation.pending_fingerprint} (was {rotation.previous_fingerprint or 'unknown'})"
        )
    )
    for check in outcome.checks:
        mark = "ok  " if check.ok else "FAIL"
        console.print(plain(f"  {mark} {check.means}: {check.detail}"))


def render_rolled_back(rotation: Rotation, console: Console) -> None:
    console.print(
        plain(
            f"Rolled back '{rotation.credential_name}' ({rotation.credential_id}): "
            f"{rotation.status}."
        )
    )


def render_step(step: str, detail: str, console: Console) -> None:
    """One step of a rotation as it happens (on stderr)."""
    console.print(Text.assemble(plain(f"{step:>8} ", "bold cyan"), plain(detail)))


def render_notes(lines: list[str], suffix: str, console: Console) -> None:
    """Sentences that quote the journal or n8n (what resume or rollback would do)."""
    for line in lines:
        console.print(plain(line + suffix))


def render_rotations(rotations: list[Rotation], console: Console, title: str) -> None:
    if not rotations:
        console.print(plain(f"{title}: none"))
        return
    table = Table(title=plain(title), title_justify="left")
    for column in ("Rotation", "Credential", "Step", "Status", "Strategy", "Started", "Error"):
        table.add_column(column, overflow="fold")
    for rotation in rotations:
        table.add_row(
            plain(rotation.short_id),
            plain(f"{rotation.credential_name} ({rotation.credential_id})"),
            plain(rotation.step),
            plain(rotation.status),
            plain(rotation.strategy),
            rotation.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            plain(rotation.error or ""),
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
            plain(event.os_user),
            plain(event.credential_name),
            plain((event.rotation_id or "")[:8]),
            plain(event.step),
            plain(event.outcome),
            plain(event.detail),
        )
    console.print(table)


def render_due(entries: list[DueCredential], console: Console) -> None:
    """`keyturn due`: each credential with a policy, its age, and whether it is due."""
    if not entries:
        console.print('No credential has a rotation policy (max_age under [rotation."..."]).')
        return
    table = Table(title="Rotation schedule", title_justify="left")
    for column in ("Credential", "ID", "Last rotated", "Age", "Max age", "Due"):
        table.add_column(column)
    for entry in entries:
        last = f"{entry.last_rotated:%Y-%m-%d %H:%M}" if entry.last_rotated else "?"
        table.add_row(
            plain(entry.credential_name),
            plain(entry.credential_id),
            last + (" (keyturn)" if entry.rotated_by_keyturn else ""),
            format_duration(entry.age.total_seconds()) if entry.age else "?",
            format_duration(entry.max_age.total_seconds()),
            "DUE" if entry.due else "",
            style="bold red" if entry.due else None,
        )
    console.print(table)


def render_rotate_due(results: list[dict[str, Any]], console: Console) -> None:
    """`keyturn rotate-due`: one line per credential it tried."""
    for result in results:
        console.print(plain(f"{result['credential_id']}: {result['status']}"))
    if not results:
        console.print("Nothing is due.")
