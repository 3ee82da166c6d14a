"""`keyturn due` and `keyturn rotate-due`: rotation on schedule (cron, systemd timers, CI)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from keyturn.cli import DryRunOption, InstanceOption, JsonOption, _opt, app, stderr
from keyturn.core.durations import format_duration
from keyturn.core.errors import ExitCode, KeyturnError


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
    from keyturn.formats.rotation_out import print_document
    from keyturn.rotation.schedule import due_credentials

    with _rotations(ctx, instance) as rotations:
        entries = due_credentials(
            rotations.settings,
            rotations.client.list_credentials(),
            rotations.journal.rotations(rotations.instance, instance_url=rotations.instance_url),
            max_age=max_age,
        )
    if json:
        print_document({"credentials": [_document(entry) for entry in entries]})
    else:
        _render(entries, Console())
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
    from keyturn.formats.rotation_out import print_document
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
        for entry in entries:
            options = RotateOptions(credential=entry.credential_id)
            try:
                if dry_run:
                    rotations.plan(options)
                    results.append({"credential_id": entry.credential_id, "status": "planned"})
                else:
                    outcome = rotations.rotate(options)
                    results.append(
                        {"credential_id": entry.credential_id, "status": outcome.rotation.status}
                    )
            except KeyturnError as exc:
                stderr.print(
                    f"{entry.credential_name} ({entry.credential_id}): {exc}", highlight=False
                )
                results.append(
                    {"credential_id": entry.credential_id, "status": "failed", "error": exc.message}
                )
    if json:
        print_document({"rotations": results})
    else:
        for result in results:
            Console().print(f"{result['credential_id']}: {result['status']}", highlight=False)
        if not results:
            Console().print("Nothing is due.")
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


def _render(entries: list[Any], console: Console) -> None:
    if not entries:
        console.print('No credential has a rotation policy (max_age under [rotation."..."]).')
        return
    table = Table(title="Rotation schedule", title_justify="left")
    for column in ("Credential", "ID", "Last rotated", "Age", "Max age", "Due"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            entry.credential_name,
            entry.credential_id,
            f"{entry.last_rotated:%Y-%m-%d %H:%M}"
            + (" (keyturn)" if entry.rotated_by_keyturn else ""),
            format_duration(entry.age.total_seconds()) if entry.age else "?",
            format_duration(entry.max_age.total_seconds()),
            "DUE" if entry.due else "",
            style="bold red" if entry.due else None,
        )
    console.print(table)
