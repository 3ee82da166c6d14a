"""`keyturn due` and `keyturn rotate-due`: rotation on schedule (cron, systemd timers, CI)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from keyturn.cli.app import (
    DryRunOption,
    InstanceOption,
    JsonOption,
    _opt,
    app,
    print_blind_spots,
    stderr,
)
from keyturn.core.errors import ExitCode, KeyturnError
from keyturn.core.redact import redact


@app.command()
def due(
    ctx: typer.Context,
    max_age: Annotated[str | None, _opt("--max-age", "DURATION",
        "Policy for every credential (default: each credential's max_age).")] = None,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """List credentials older than their rotation policy allows (exit 1 when any is due)."""
    from keyturn.cli.rotation import _rotations
    from keyturn.formats.rotation_out import print_document, render_due
    from keyturn.rotation.schedule import due_credentials

    with _rotations(ctx, instance) as rotations:
        entries = due_credentials(
            rotations.settings,
            rotations.client.list_credentials(),
            rotations.journal.rotations(rotations.instance, instance_url=rotations.instance_url),
            max_age=max_age,
        )
        blind_spots = list(rotations.client.blind_spots)
    if json:
        print_document(
            {"credentials": [_document(entry) for entry in entries], "blind_spots": blind_spots}
        )
    else:
        render_due(entries, Console())
        print_blind_spots(blind_spots)
    if any(entry.due for entry in entries):
        raise typer.Exit(int(ExitCode.FINDINGS))


@app.command("rotate-due")
def rotate_due(
    ctx: typer.Context,
    max_age: Annotated[str | None, _opt("--max-age", "DURATION",
        "Policy for every credential (default: each credential's max_age).")] = None,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """Rotate every credential that is due, each with its keyturn.toml settings.

    One failure does not stop the others; the exit code is non-zero if any failed.
    """
    from keyturn.cli.rotation import _rotations
    from keyturn.formats.rotation_out import print_document, render_rotate_due
    from keyturn.formats.safe_text import plain
    from keyturn.rotation.planning import RotateOptions
    from keyturn.rotation.schedule import due_credentials

    results: list[dict[str, Any]] = []
    with _rotations(ctx, instance) as rotations:
        entries = [
            entry
            for entry in due_credentials(
                rotations.settings,
                rotations.client.list_credentials(),
                rotations.journal.rotations(
                    rotations.instance, instance_url=rotations.instance_url
                ),
                max_age=max_age,
            )
            if entry.due
        ]
        print_blind_spots(rotations.client.blind_spots)
        for entry in entries:
            if not entry.credential_type:  # seen only in n8n's audit: nothing to rotate with
                results.append(
                    {
                        "credential_id": entry.credential_id,
                        "status": "skipped",
                        "error": "its type is unknown on this n8n (no credential list); "
                        "a keyturn user lists it (docs/compatibility.md)",
                    }
                )
                continue
            options = RotateOptions(credential=entry.credential_id)
            try:
                if dry_run:
                    plan, _, _ = rotations.plan(options)
                    blocked = plan.webhook_gap and not plan.accept_webhook_gap
                    status = "needs_consent" if blocked else "planned"
                    results.append({"credential_id": entry.credential_id, "status": status})
                else:
                    outcome = rotations.rotate(options)
                    results.append(
                        {"credential_id": entry.credential_id, "status": outcome.rotation.status}
                    )
            except KeyturnError as exc:
                line = f"{entry.credential_name} ({entry.credential_id}): {exc}"
                stderr.print(plain(redact(line)))
                results.append(
                    {"credential_id": entry.credential_id, "status": "failed", "error": exc.message}
                )
    if json:
        print_document({"rotations": results})
    else:
        render_rotate_due(results, Console())
    if any(result["status"] == "failed" for result in results):
        raise typer.Exit(int(ExitCode.ROTATION_FAILED))


def _document(entry: Any) -> dict[str, Any]:
    return {
        "credential_id": entry.credential_id,
        "credential_name": entry.credential_name,
        "credential_type": entry.credential_type,
        "last_rotated": entry.last_rotated,
        "rotated_by_keyturn": entry.rotated_by_keyturn,
        "max_age_seconds": int(entry.max_age.total_seconds()),
        "age_seconds": int(entry.age.total_seconds()) if entry.age else None,
        "due": entry.due,
        "command": f"keyturn rotate {entry.credential_id}" if entry.due else None,
    }
