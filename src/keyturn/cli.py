"""keyturn's command line: parse, build the pieces, call one core function, render.

Exit codes (docs/exit-codes.md): 0 ok, 1 findings, 2 usage or configuration error, 3 n8n
unreachable or refused, 4 not found or ambiguous, 5 provider error, 6 rotation failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from keyturn import __version__
from keyturn.config import load_env_settings, load_settings, resolve_connection
from keyturn.errors import ConfigError, ExitCode, KeyturnError
from keyturn.formats.inventory_table import render_inventory
from keyturn.formats.json_out import print_json
from keyturn.formats.scan_out import (
    dumps,
    json_document,
    render_table,
    sarif_document,
    summary_line,
)
from keyturn.inventory import take_inventory
from keyturn.n8n.client import N8nClient
from keyturn.redact import configure_logging, redact

if TYPE_CHECKING:  # the rotation stack (SQLAlchemy, cryptography) loads only when used
    from keyturn.rotation.journal import Journal
    from keyturn.rotation.service import Rotations
from keyturn.scan.baseline import apply_baseline, load_baseline, write_baseline
from keyturn.scan.engine import ScanOptions, run_scan
from keyturn.scan.findings import ScanResult
from keyturn.scan.rules import Severity
from keyturn.secret_sources import parse_source, read_source

log = logging.getLogger("keyturn")

app = typer.Typer(
    name="keyturn",
    help="Rotate the API credentials of a self-hosted n8n without breaking its workflows.\n\n"
    "Connect with KEYTURN_N8N_URL and KEYTURN_N8N_API_KEY (or KEYTURN_N8N_API_KEY_FILE), or "
    "name an instance of keyturn.toml with --instance. The API key is never a command-line "
    "argument.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
stderr = Console(stderr=True)

InstanceOption = Annotated[
    str | None,
    typer.Option(
        "--instance",
        "-i",
        metavar="NAME",
        help="Instance name from keyturn.toml.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document (schema in docs/) instead.")
]


@dataclass
class GlobalOptions:
    config: Path | None


def _version(value: bool) -> None:
    if value:
        print(f"keyturn {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v for info, -vv for debug logs.")
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="keyturn.toml to read (default: ./keyturn.toml, then "
            "~/.config/keyturn/keyturn.toml).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    level: str | int = load_env_settings().log_level
    if verbose:
        level = logging.INFO if verbose == 1 else logging.DEBUG
    configure_logging(level)
    ctx.obj = GlobalOptions(config=config)


def _client(ctx: typer.Context, instance: str | None) -> N8nClient:
    options: GlobalOptions = ctx.obj
    return N8nClient(resolve_connection(instance, options.config))


class _FetchProgress:
    """A spinner on stderr while credentials and workflows are fetched."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("Fetching credentials", total=None)

    def credentials_fetched(self, count: int) -> None:
        self._progress.update(self._task, description=f"Fetched {count} credentials")

    def workflows_fetched(self, count: int) -> None:
        self._progress.update(self._task, description=f"Fetched {count} workflows")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )


@app.command()
def inventory(
    ctx: typer.Context, instance: InstanceOption = None, json: JsonOption = False
) -> None:
    """List every credential, its age, the workflows and nodes that use it, and what looks wrong.

    Flags: unused credentials, several credentials with one name, dangling references (a node
    pointing at a credential that does not exist, or under another name), secrets typed into
    nodes instead of credentials, and secrets read from $env (those change only on restart).
    """
    with _client(ctx, instance) as client, _progress() as progress:
        report = take_inventory(client, _FetchProgress(progress))
    if json:
        print_json(report)
    else:
        render_inventory(report, Console())


DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing.")]


@contextlib.contextmanager
def _rotations(ctx: typer.Context, instance: str | None) -> Iterator[Rotations]:
    from keyturn.crypto import load_secret_box
    from keyturn.rotation.journal import Journal
    from keyturn.rotation.service import Rotations
    from keyturn.store import make_engine

    options: GlobalOptions = ctx.obj
    settings = load_settings(instance, options.config)
    journal = Journal(make_engine(), load_secret_box())
    client = N8nClient(settings.connection)
    try:
        yield Rotations(settings, client, journal, stdin=sys.stdin, on_step=_print_step)
    finally:
        client.close()
        journal.close()


@contextlib.contextmanager
def _journal(ctx: typer.Context, instance: str | None) -> Iterator[tuple[Journal, str]]:
    """The journal, and the name of the instance whose rotations to show."""
    from keyturn.crypto import load_secret_box
    from keyturn.rotation.journal import Journal
    from keyturn.store import make_engine

    options: GlobalOptions = ctx.obj
    settings = load_settings(instance, options.config)
    journal = Journal(make_engine(), load_secret_box())
    try:
        yield journal, settings.connection.name
    finally:
        journal.close()


def _print_step(step: str, detail: str) -> None:
    stderr.print(Text.assemble((f"{step:>8} ", "bold cyan"), detail), highlight=False)


def _opt(flag: str, metavar: str, help_text: str) -> Any:
    """A command-line option with no default shown (None means keyturn.toml or the default)."""
    return typer.Option(flag, metavar=metavar, help=help_text, show_default=False)


def _flag(flag: str, help_text: str) -> Any:
    return typer.Option(flag, help=help_text)


@app.command()
def rotate(
    ctx: typer.Context,
    credential: Annotated[
        str, typer.Argument(metavar="CREDENTIAL", help="Credential id, or a name only one has.")
    ],
    new_secret: Annotated[str | None, _opt("--new-secret", "SOURCE", "Where the new value "
        "comes from: stdin, file:PATH, env:VAR, generate[:LENGTH] or provider. Never the value "
        "itself.")] = None,
    secret_field: Annotated[str | None, _opt("--field", "NAME", "Credential data field to rotate "
        "(default: the type's secret field, e.g. httpHeaderAuth value).")] = None,
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
        "header:NAME, query:NAME, bearer or basic:USER.")] = None,
    verify_webhook: Annotated[list[str] | None, _opt("--verify-webhook", "PATH",
        "Call this webhook path of a workflow that uses the credential as proof "
        "(it really runs).")] = None,
    watch: Annotated[str | None, _opt("--watch", "DURATION",
        "Watch the next executions for this long as proof.")] = None,
    current_secret: Annotated[str | None, _opt("--current-secret", "SOURCE",
        "SOURCE of the value now in n8n, so a failed rotation can be rolled back "
        "(first rotation only).")] = None,
    current_key_id: Annotated[str | None, _opt("--current-key-id", "ID",
        "The provider's id of the key now in use, to revoke it at finish.")] = None,
    strategy: Annotated[str | None, _opt("--strategy", "STRATEGY",
        "in_place or replace (default: probe the instance).")] = None,
    set_fields: Annotated[list[str] | None, _opt("--set", "FIELD=VALUE",
        "A non-secret field of the credential, for replace.")] = None,
    allow_unverified: Annotated[bool, _flag("--allow-unverified", "Rotate even with no proof "
        "available.")] = False,
    allow_no_rollback: Annotated[bool, _flag("--allow-no-rollback", "Rotate even though the "
        "current value is unknown, so a failure cannot be rolled back.")] = False,
    restart: Annotated[bool, _flag("--restart", "Run the instance's restart_command after set "
        "and wait until n8n is ready (for secrets read from $env).")] = False,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """Rotate a credential: create, set, test, finish; roll back on any failure.

    The new secret is saved (encrypted) before anything changes, proven to work before the old
    one is revoked, and the n8n credential is updated in place so no workflow reference breaks.
    """
    from keyturn.formats.rotation_out import (
        print_document,
        render_outcome,
        render_plan,
        rotation_document,
    )
    from keyturn.rotation.service import RotateOptions

    if strategy not in (None, "in_place", "replace"):
        raise ConfigError("--strategy takes in_place or replace.", None)
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
        restart=restart,
    )
    with _rotations(ctx, instance) as rotations:
        if dry_run:
            plan, _, _ = rotations.plan(options)
            if json:
                print_document({"dry_run": True, "plan": plan.as_dict()})
            else:
                render_plan(plan, Console(), "Rotation plan (dry run: nothing changed)")
            return
        outcome = rotations.rotate(options)
    if json:
        print_document(
            {**rotation_document(outcome.rotation), "checks": [vars(c) for c in outcome.checks]}
        )
    else:
        render_outcome(outcome, Console())


@app.command()
def status(ctx: typer.Context, instance: InstanceOption = None, json: JsonOption = False) -> None:
    """List rotations in flight (interrupted or paused), with their last completed step."""
    from keyturn.formats.rotation_out import print_document, render_rotations, rotation_document

    with _journal(ctx, instance) as (journal, name):
        rotations = journal.in_flight(name)
    if json:
        print_document({"in_flight": [rotation_document(r) for r in rotations]})
    else:
        render_rotations(rotations, Console(), "Rotations in flight")


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
    from keyturn.formats.rotation_out import print_document, render_outcome, rotation_document

    with _rotations(ctx, instance) as rotations:
        if dry_run:
            for line in rotations.describe_resume(rotation_id) or ["No rotation in flight."]:
                Console().print(line + " (dry run)")
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
    from keyturn.formats.rotation_out import print_document, rotation_document

    with _rotations(ctx, instance) as rotations:
        if dry_run:
            Console().print(rotations.describe_rollback(credential) + " (dry run)")
            return
        rotation = rotations.rollback(credential, force=force)
    if json:
        print_document(rotation_document(rotation))
    else:
        Console().print(
            f"Rolled back {rotation.credential_name!r} ({rotation.credential_id}): "
            f"{rotation.status}."
        )


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

    with _journal(ctx, instance) as (journal, name):
        events = journal.history(name, credential)
    if json:
        print_document({"events": [event_document(e) for e in events]})
    else:
        render_history(events, Console())


@app.command()
def scan(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="[PATH]...", help="Files and folders: workflow exports (one "
                       "workflow, an --all array, --separate folders), .env, compose files, "
                       "any text. Without PATH, the live instance is scanned.",
                       show_default=False),
    ] = None,
    live: Annotated[bool, _flag("--live", "Also scan the live instance's workflows.")] = False,
    old_secret: Annotated[list[str] | None, _opt("--old-secret", "SOURCE",
        "Find where this old value survives, also encoded (stdin, file:PATH, env:VAR).")] = None,
    output_format: Annotated[str, typer.Option("--format", metavar="FORMAT",
        help="table, json or sarif.")] = "table",
    json: Annotated[bool, _flag("--json", "Same as --format json.")] = False,
    output: Annotated[Path | None, _opt("--output", "FILE", "Write the report to FILE.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", metavar="SEVERITY",
        help="Exit 1 when a finding is at least this severe: low, medium or high.")] = "medium",
    baseline: Annotated[Path | None, _opt("--baseline", "FILE",
        "Do not report findings recorded in this baseline.")] = None,
    update_baseline: Annotated[bool, _flag("--update-baseline",
        "Record the current findings in --baseline FILE.")] = False,
    max_file_size: Annotated[int, typer.Option("--max-file-size", metavar="MB",
        help="Skip larger files.")] = 64,
    workers: Annotated[int, typer.Option("--workers", metavar="N",
        help="Processes for large folders (0: one per core).")] = 0,
    instance: InstanceOption = None,
) -> None:  # fmt: skip
    """Find hard-coded and stale secrets in n8n workflows, exports, .env files and folders.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage or input error.
    """
    fmt = "json" if json else output_format
    if fmt not in ("table", "json", "sarif"):
        raise ConfigError("--format takes table, json or sarif.", None)
    try:
        threshold = Severity.parse(fail_on)
    except KeyError:
        raise ConfigError("--fail-on takes low, medium or high.", None) from None
    if update_baseline and baseline is None:
        raise ConfigError("--update-baseline needs --baseline FILE.", None)
    for path in paths or []:
        if not path.exists() and not path.is_symlink():
            raise ConfigError(f"{path} does not exist.", "Check the PATH arguments.")
    options = ScanOptions(
        old_secrets=tuple(_read_old_secrets(old_secret or [])),
        max_file_bytes=max_file_size * 1024 * 1024,
        workers=workers,
    )
    client = _client(ctx, instance) if (live or instance or not paths) else None
    try:
        with _progress() as progress:
            progress.add_task("Scanning", total=None)
            result = run_scan(list(paths or []), client, options)
    finally:
        if client is not None:
            client.close()
    if update_baseline and baseline is not None:
        write_baseline(baseline, result)
        stderr.print(f"Baseline {baseline}: {len(result.findings)} findings recorded.")
        return
    if baseline is not None:
        apply_baseline(result, load_baseline(baseline))
    _emit_scan_report(result, fmt, output)
    if any(finding.rule.severity >= threshold for finding in result.findings):
        raise typer.Exit(int(ExitCode.FINDINGS))


def _read_old_secrets(sources: list[str]) -> list[str]:
    values = []
    for text in sources:
        source = parse_source(text, "--old-secret")
        if source.kind in ("generate", "provider"):
            raise ConfigError("--old-secret takes stdin, file:PATH or env:VAR.", None)
        values.append(read_source(source))
    return values


def _emit_scan_report(result: ScanResult, fmt: str, output: Path | None) -> None:
    if fmt == "table":
        console = Console(file=output.open("w"), width=200) if output else Console()
        render_table(result, console)
        if output:
            console.file.close()
            stderr.print(summary_line(result), highlight=False)
        return
    document = sarif_document(result) if fmt == "sarif" else json_document(result)
    text = redact(dumps(document))
    if output:
        output.write_text(text, encoding="utf-8")
        stderr.print(summary_line(result), highlight=False)
    else:
        sys.stdout.write(text)


@app.command()
def sandbox(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep n8n and the demo provider running until Ctrl-C.")
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder for the sandbox's n8n (default: a temporary one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start a local n8n and the demo provider, seed demo workflows and show the inventory.

    The first run installs n8n (about 7 minutes, once, into ~/.cache/keyturn).
    """
    from keyturn.sandbox.run import run_sandbox

    run_sandbox(Console(), stderr, keep=keep, folder=folder)


def main() -> None:
    """The `keyturn` console script: one-line errors with documented exit codes."""
    try:
        app()
    except KeyturnError as exc:
        _print_error(exc)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        stderr.print("keyturn: interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))


def _print_error(exc: KeyturnError) -> None:
    text = redact(str(exc))
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        print(f"keyturn: error: {text}", file=sys.stderr)
    else:
        stderr.print(Text.assemble(("keyturn: error: ", "bold red"), text), highlight=False)
