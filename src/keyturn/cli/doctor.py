"""`keyturn doctor`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from keyturn.cli.app import (
    InstanceOption,
    JsonOption,
    _client,
    _flag,
    _opt,
    app,
    print_blind_spots,
)


@app.command()
def doctor(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", metavar="DURATION",
        help="How far back to read failed executions.")] = "24h",
    workflow: Annotated[str | None, _opt("--workflow", "ID", "Only this workflow.")] = None,
    retry: Annotated[bool, _flag("--retry", "Re-run the failed executions whose cause is now "
        "fixed, and report which succeeded.")] = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """Explain failing executions: which node, which credential, why, since when, what to run.

    Exit codes: 0 healthy (or every retry succeeded), 1 failures found.
    """
    from keyturn.core.durations import parse_duration
    from keyturn.core.errors import ExitCode
    from keyturn.doctor import diagnose, retry_fixed
    from keyturn.formats.doctor_out import render_report, report_document
    from keyturn.formats.rotation_out import print_document

    window = timedelta(seconds=parse_duration(since, "--since"))
    with _client(ctx, instance) as client:
        report = diagnose(
            client,
            since=datetime.now(UTC) - window,
            workflow_id=workflow,
            rotations=_journal_rotations(client.connection.name),
        )
        if retry:
            retry_fixed(client, report)
        print_blind_spots(client.blind_spots)
    if json:
        print_document(report_document(report))
    else:
        render_report(report, Console())
    all_retried_ok = bool(report.retried) and all(r.status == "success" for r in report.retried)
    if not report.healthy and not all_retried_ok:
        raise typer.Exit(int(ExitCode.FINDINGS))


def _journal_rotations(instance: str) -> list[Any]:
    """Rotations keyturn recorded for this instance, when a journal exists (else none)."""
    from keyturn.journal import journal_exists, open_journal

    if not journal_exists():
        return []
    journal = open_journal()
    try:
        return journal.rotations(instance)
    finally:
        journal.close()
