"""`keyturn rotate`, `status`, `resume`, `rollback`, `history`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from keyturn.cli.app import (
    DryRunOption,
    GlobalOptions,
    InstanceOption,
    JsonOption,
    _flag,
    _opt,
    app,
    stderr,
)
from keyturn.core.errors import ConfigError

if TYPE_CHECKING:  # the rotation stack (SQLAlchemy, cryptography) loads only when used
    from keyturn.journal import Journal
    from keyturn.journal.leases import Lease
    from keyturn.rotation.planning import RotateOptions
    from keyturn.rotation.protocol import Outcome
    from keyturn.rotation.service import Rotations


@contextlib.contextmanager
def _rotations(ctx: typer.Context, instance: str | None) -> Iterator[Rotations]:
    from keyturn.core.config import load_settings
    from keyturn.journal import open_journal
    from keyturn.n8n.client import N8nClient
    from keyturn.rotation.service import Rotations

    options: GlobalOptions = ctx.obj
    settings = load_settings(instance, options.config)
    journal = open_journal()
    client = N8nClient(settings.connection)
    try:
        yield Rotations(settings, client, journal, stdin=sys.stdin, on_step=_print_step)
    finally:
        client.close()
        journal.close()


@contextlib.contextmanager
def _journal(ctx: typer.Context, instance: str | None) -> Iterator[tuple[Journal, str, str]]:
    """The journal, and the name and identity (URL) of the instance whose rotations to show."""
    from keyturn.core.config import load_settings
    from keyturn.journal import open_journal
    from keyturn.journal.leases import instance_identity

    options: GlobalOptions = ctx.obj
    settings = load_settings(instance, options.config)
    journal = open_journal()
    try:
        yield journal, settings.connection.name, instance_identity(settings.connection.url)
    finally:
        journal.close()


def _print_step(step: str, detail: str) -> None:
    from keyturn.formats.rotation_out import render_step

    render_step(step, detail, stderr)


@app.command()
def rotate(
    ctx: typer.Context,
    credential: Annotated[
        str, typer.Argument(metavar="CREDENTIAL", help="Credential id, or a name only one has.")
    ],
    new_secret: Annotated[str | None, _opt("--new-secret", "SOURCE", "Where the new value "
        "comes from: stdin, file:PATH, env:VAR, vault:MOUNT/PATH#FIELD, generate[:LENGTH] or "
        "provider. Never the value itself.")] = None,
    secret_fields: Annotated[list[str] | None, _opt("--field", "NAME[=SOURCE]", "Credential "
        "data field to rotate (default: the type's secret field, e.g. httpHeaderAuth value). "
        "Repeat as NAME=SOURCE for each other secret field rotated at the same time (e.g. "
        "--field appKey=file:PATH).")] = None,
    provider: Annotated[str | None, _opt("--provider", "NAME", "Provider from keyturn.toml that "
        "issues, probes and revokes keys.")] = None,
    grace: Annotated[str | None, _opt("--grace", "DURATION", "Wait before revoking the old key "
        "(default 60s).")] = None,
    verify: Annotated[list[str] | None, _opt("--verify", "MODE",
        "Only these proofs: probe, n8n-test, webhook, retry-failed, watch "
        "(default: every one available).")] = None,
    probe_url: Annotated[str | None, _opt("--probe-url", "URL", "GET this URL with the secret "
        "applied; 2xx = works.")] = None,
    probe_auth: Annotated[str | None, _opt("--probe-auth", "AUTH", "How the secret is sent: "
        "header:NAME, query:NAME, bearer or basic:USER; auto finds it with the new key (the "
        "key accepted, a random one refused; a few requests). Remembered for next time.")] = None,
    verify_webhook: Annotated[list[str] | None, _opt("--verify-webhook", "PATH",
        "Call this webhook path of a workflow that uses the credential as proof "
        "(it really runs).")] = None,
    watch: Annotated[str | None, _opt("--watch", "DURATION",
        "Watch the next executions for this long as proof.")] = None,
    current_secrets: Annotated[list[str] | None, _opt("--current-secret", "[NAME=]SOURCE",
        "SOURCE of the value now in n8n, so a failed rotation can be rolled back "
        "(first rotation only); NAME=SOURCE for each other field rotated.")] = None,
    current_key_id: Annotated[str | None, _opt("--current-key-id", "ID",
        "The provider's id of the key now in use, to revoke it at finish.")] = None,
    strategy: Annotated[str | None, _opt("--strategy", "STRATEGY",
        "in_place (public API), session (as the keyturn user) or replace (default: the best "
        "the instance offers).")] = None,
    set_fields: Annotated[list[str] | None, _opt("--set", "FIELD=VALUE",
        "A non-secret field of the credential, for replace.")] = None,
    allow_unverified: Annotated[bool, _flag("--allow-unverified", "Rotate even with no proof "
        "available.")] = False,
    allow_no_rollback: Annotated[bool, _flag("--allow-no-rollback", "Rotate even though the "
        "current value is unknown, so a failure cannot be rolled back.")] = False,
    accept_webhook_gap: Annotated[bool, _flag("--accept-webhook-gap", "Let replace-and-repoint "
        "save active webhook workflows (n8n re-registers their webhooks; calls in that moment "
        "answer 404).")] = False,
    write_back: Annotated[list[str] | None, _opt("--write-back", "TARGET",
        "Also write the new value here, and put the old one back on rollback: file:PATH, "
        "env-file:PATH#VAR or vault:MOUNT/PATH#FIELD.")] = None,
    restart: Annotated[bool, _flag("--restart", "Run the instance's restart_command after set "
        "and wait until n8n is ready (for secrets read from $env).")] = False,
    checklist: Annotated[bool, _flag("--checklist", "Then run `keyturn checklist` on it (exit "
        "1 when a box is not ok; docs/checklist.md).")] = False,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """Rotate a credential: create, set, test, finish; roll back on any failure.

    The new secret is saved (encrypted) before anything changes, proven to work before the old
    one is revoked, and the n8n credential is updated in place so no workflow reference breaks.
    """
    from keyturn.rotation.planning import RotateOptions, split_sources

    secret_field, extra_secrets = split_sources(secret_fields or [], "--field")
    current_secret, current_extras = split_sources(current_secrets or [], "--current-secret")
    if strategy not in (None, "in_place", "session", "replace"):
        raise ConfigError("--strategy takes in_place, session or replace.", None)
    options = RotateOptions(
        credential=credential,
        new_secret=new_secret,
        secret_field=secret_field,
        provider=provider,
        grace=grace,
        verify=verify,
        probe_url=probe_url,
        probe_auth=probe_auth,
        webhooks=verify_webhook or [],
        watch=watch,
        current_secret=current_secret,
        current_key_id=current_key_id,
        strategy=strategy,
        set_fields=set_fields or [],
        allow_unverified=allow_unverified,
        allow_no_rollback=allow_no_rollback,
        accept_webhook_gap=accept_webhook_gap,
        restart=restart,
        write_back=write_back or [],
        extra_secrets=extra_secrets,
        current_extras=current_extras,
    )
    with _rotations(ctx, instance) as rotations:
        if dry_run:
            _print_plan(rotations, options, json=json)
            return
        outcome = rotations.rotate(options)
        if checklist:
            _print_rotation_and_checklist(rotations, outcome, json=json)
            return
    _print_rotation(outcome, json=json)


def _print_rotation_and_checklist(rotations: Rotations, outcome: Outcome, *, json: bool) -> None:
    """The rotation first (it is done whatever the checklist finds), then its checklist; a
    checklist that cannot run is said, never hiding the rotation's result."""
    from datetime import timedelta

    from keyturn.cli.checklist import print_checklist, run_checklist
    from keyturn.cli.output import stderr_console
    from keyturn.core.errors import ExitCode, KeyturnError
    from keyturn.core.redact import redact
    from keyturn.formats.rotation_out import print_document, rotation_document
    from keyturn.formats.safe_text import plain

    live = outcome.rotation.new_credential_id or outcome.rotation.credential_id
    try:
        result = run_checklist(rotations, live, timedelta(hours=24), [])
    except Exception as exc:  # the rotation is done: its result is printed whatever happened
        _print_rotation(outcome, json=json)
        why = exc.message if isinstance(exc, KeyturnError) else f"internal error: {exc!r}"
        stderr_console().print(plain(redact(f"keyturn: the checklist could not run: {why}")))
        raise typer.Exit(int(ExitCode.FINDINGS)) from None
    if json:
        document = rotation_document(outcome.rotation)
        document["checks"] = [vars(c) for c in outcome.checks]
        print_document({**document, "checklist": result.to_json()})
        if not result.ok:
            raise typer.Exit(int(ExitCode.FINDINGS))
        return
    _print_rotation(outcome, json=False)
    print_checklist(result, json=False)


def _print_plan(rotations: Rotations, options: RotateOptions, *, json: bool) -> None:
    """The plan of a rotation (`--dry-run`): what would happen, and nothing changed."""
    from keyturn.formats.rotation_out import print_document, render_plan

    plan, _, _ = rotations.plan(options)
    if json:
        print_document({"dry_run": True, "plan": plan.as_dict()})
    else:
        render_plan(plan, Console(), "Rotation plan (dry run: nothing changed)")


def _print_rotation(outcome: Outcome, *, json: bool) -> None:
    """How a rotation went, with the checks that proved the new key."""
    from keyturn.formats.rotation_out import print_document, render_outcome, rotation_document

    if json:
        print_document(
            {**rotation_document(outcome.rotation), "checks": [vars(c) for c in outcome.checks]}
        )
    else:
        render_outcome(outcome, Console())


@app.command()
def status(ctx: typer.Context, instance: InstanceOption = None, json: JsonOption = False) -> None:
    """List rotations in flight (interrupted or paused), with their last completed step."""
    from keyturn.formats.rotation_out import (
        print_document,
        render_notes,
        render_rotations,
        rotation_document,
    )

    with _journal(ctx, instance) as (journal, name, url):
        rotations = journal.in_flight(name, url)
        leases = {r.id: journal.lease(r) for r in rotations}
    if json:
        print_document(
            {
                "in_flight": [
                    {**rotation_document(r), **_lease_document(leases[r.id])} for r in rotations
                ]
            }
        )
    else:
        render_rotations(rotations, Console(), "Rotations in flight")
        for rotation in rotations:
            lease = leases[rotation.id]
            held = lease.describe() if lease else "nobody (released)"
            render_notes([f"{rotation.short_id}: held by {held}"], "", Console())


def _lease_document(lease: Lease | None) -> dict[str, Any]:
    """Who holds a rotation's lease, and whether it is alive or its owner crashed."""
    if lease is None:
        return {"lease": None}
    return {
        "lease": {"owner": lease.owner, "heartbeat_at": lease.heartbeat_at, "alive": lease.alive()}
    }


@app.command()
def resume(
    ctx: typer.Context,
    rotation_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[ROTATION]", help="Rotation id (or its first 8 characters); default all."
        ),
    ] = None,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:
    """Finish rotations interrupted by a crash, from their last completed step."""
    from keyturn.formats.rotation_out import (
        print_document,
        render_notes,
        render_outcome,
        rotation_document,
    )

    with _rotations(ctx, instance) as rotations:
        if dry_run:
            lines = rotations.describe_resume(rotation_id) or ["No rotation in flight."]
            render_notes(lines, " (dry run)", Console())
            return
        outcomes = rotations.resume(rotation_id)
    if json:
        print_document({"resumed": [rotation_document(o.rotation) for o in outcomes]})
        return
    if not outcomes:
        Console().print("No rotation in flight.")
    for outcome in outcomes:
        render_outcome(outcome, Console())


@app.command()
def rollback(
    ctx: typer.Context,
    credential: Annotated[
        str, typer.Argument(metavar="CREDENTIAL", help="Credential id or name (or a rotation id).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Restore even a key revoked at the provider.")
    ] = False,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:
    """Undo a rotation in flight, or put a credential's previous value back into n8n."""
    from keyturn.formats.rotation_out import (
        print_document,
        render_notes,
        render_rolled_back,
        rotation_document,
    )

    with _rotations(ctx, instance) as rotations:
        if dry_run:
            render_notes([rotations.describe_rollback(credential)], " (dry run)", Console())
            return
        rotation = rotations.rollback(credential, force=force)
    if json:
        print_document(rotation_document(rotation))
    else:
        render_rolled_back(rotation, Console())


@app.command()
def history(
    ctx: typer.Context,
    credential: Annotated[
        str | None,
        typer.Argument(metavar="[CREDENTIAL]", help="Only this credential (id or name)."),
    ] = None,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:
    """Show the audit trail: who rotated what, when, each step and its outcome."""
    from keyturn.formats.rotation_out import event_document, print_document, render_history

    with _journal(ctx, instance) as (journal, name, _url):
        events = journal.history(name, credential)
    if json:
        print_document({"events": [event_document(e) for e in events]})
    else:
        render_history(events, Console())
