"""`keyturn scan`: the typer command (its options and --help, the live instance, --old-secret).

A scan of files only usually runs without typer (cli/scan_run.py); both run the same code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keyturn.cli.app import (
    GlobalOptions,
    InstanceOption,
    _client,
    _flag,
    _opt,
    app,
    print_blind_spots,
)
from keyturn.cli.scan_run import ScanRequest, finish, scan_files_and_instance
from keyturn.core.errors import ConfigError


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
    request = ScanRequest(
        paths=list(paths or []),
        fmt="json" if json else output_format,
        fail_on=fail_on,
        output=output,
        baseline=baseline,
        update_baseline=update_baseline,
        max_file_size=max_file_size,
        workers=workers,
    )
    threshold = request.threshold()
    options = request.scan_options(old_secrets=tuple(_read_old_secrets(ctx, old_secret or [])))
    client = _client(ctx, instance) if (live or instance or not paths) else None
    try:
        result = scan_files_and_instance(request.paths, client, options)
    finally:
        if client is not None:
            print_blind_spots(client.blind_spots)
            client.close()
    code = finish(request, result, threshold)
    if code:
        raise typer.Exit(code)


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


def _vault_table(ctx: typer.Context, location: str) -> dict[str, Any] | None:
    """keyturn.toml's [vault] for a vault: location (read only then: a scan needs no config)."""
    if not location.startswith("vault:"):
        return None
    from keyturn.core.config import find_config_file, load_env_settings, load_file_config

    options: GlobalOptions = ctx.obj
    return load_file_config(find_config_file(options.config, load_env_settings())).vault
