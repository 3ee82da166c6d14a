"""`keyturn scan`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from keyturn.cli import (
    GlobalOptions,
    InstanceOption,
    _client,
    _flag,
    _opt,
    _progress,
    app,
    print_blind_spots,
    stderr,
)
from keyturn.core.errors import ConfigError, ExitCode
from keyturn.core.redact import redact_document

if TYPE_CHECKING:
    from keyturn.detect.findings import ScanResult
    from keyturn.detect.rules import Severity
    from keyturn.n8n.client import N8nClient
    from keyturn.scan.engine import ScanOptions


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
    from keyturn.scan.baseline import apply_baseline, load_baseline
    from keyturn.scan.engine import ScanOptions

    fmt = "json" if json else output_format
    threshold = _check_options(fmt, fail_on, update_baseline, baseline, paths or [])
    options = ScanOptions(
        old_secrets=tuple(_read_old_secrets(ctx, old_secret or [])),
        max_file_bytes=max_file_size * 1024 * 1024,
        workers=workers,
    )
    client = _client(ctx, instance) if (live or instance or not paths) else None
    result = _scan_with_progress(list(paths or []), client, options)
    if update_baseline and baseline is not None:
        _record_baseline(baseline, result)
        return
    if baseline is not None:
        apply_baseline(result, load_baseline(baseline))
    _emit_scan_report(result, fmt, output)
    if any(finding.rule.severity >= threshold for finding in result.findings):
        raise typer.Exit(int(ExitCode.FINDINGS))


def _check_options(
    fmt: str, fail_on: str, update_baseline: bool, baseline: Path | None, paths: list[Path]
) -> Severity:
    """Refuse contradictory or unknown options and missing paths; the --fail-on severity."""
    from keyturn.detect.rules import Severity

    if fmt not in ("table", "json", "sarif"):
        raise ConfigError("--format takes table, json or sarif.", None)
    try:
        threshold = Severity.parse(fail_on)
    except KeyError:
        raise ConfigError("--fail-on takes low, medium or high.", None) from None
    if update_baseline and baseline is None:
        raise ConfigError("--update-baseline needs --baseline FILE.", None)
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise ConfigError(f"{path} does not exist.", "Check the PATH arguments.")
    return threshold


def _scan_with_progress(
    paths: list[Path], client: N8nClient | None, options: ScanOptions
) -> ScanResult:
    """Scan with a spinner on stderr; closes the client."""
    from keyturn.scan.engine import run_scan

    try:
        with _progress() as progress:
            progress.add_task("Scanning", total=None)
            return run_scan(paths, client, options)
    finally:
        if client is not None:
            print_blind_spots(client.blind_spots)
            client.close()


def _record_baseline(baseline: Path, result: ScanResult) -> None:
    from keyturn.formats.safe_text import plain
    from keyturn.scan.baseline import write_baseline

    write_baseline(baseline, result)
    stderr.print(plain(f"Baseline {baseline}: {len(result.findings)} findings recorded."))


def _read_old_secrets(ctx: typer.Context, sources: list[str]) -> list[str]:
    from keyturn.locations.parse import parse_location
    from keyturn.locations.registry import read_secret

    values = []
    for text in sources:
        if parse_location(text, "--old-secret").kind in ("generate", "provider"):
            raise ConfigError(
                "--old-secret takes a location that holds the old value: stdin, file:PATH, "
                "env:VAR, env-file:PATH#VAR or vault:MOUNT/PATH#FIELD.",
                None,
            )
        values.append(read_secret(text, "--old-secret", _vault_table(ctx, text)))
    return values


def _emit_scan_report(result: ScanResult, fmt: str, output: Path | None) -> None:
    from keyturn.formats.scan_out import (
        dumps,
        json_document,
        render_table,
        sarif_document,
        summary_line,
    )

    if fmt == "table":
        console = Console(file=output.open("w"), width=200) if output else Console()
        render_table(result, console)
        if output:
            console.file.close()
            stderr.print(summary_line(result), highlight=False)
        return
    document = sarif_document(result) if fmt == "sarif" else json_document(result)
    text = dumps(redact_document(document))
    if output:
        output.write_text(text, encoding="utf-8")
        stderr.print(summary_line(result), highlight=False)
    else:
        sys.stdout.write(text)


def _vault_table(ctx: typer.Context, location: str) -> dict[str, Any] | None:
    """keyturn.toml's [vault] for a vault: location (read only then: a scan needs no config)."""
    if not location.startswith("vault:"):
        return None
    from keyturn.core.config import find_config_file, load_env_settings, load_file_config

    options: GlobalOptions = ctx.obj
    return load_file_config(find_config_file(options.config, load_env_settings())).vault
