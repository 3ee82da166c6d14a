"""keyturn's command line: parse, build the pieces, call one core function, render.

Exit codes (docs/exit-codes.md): 0 ok, 1 findings, 2 usage or configuration error, 3 n8n
unreachable or refused, 4 not found or ambiguous, 5 provider error, 6 rotation failed.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from keyturn import __version__
from keyturn.config import load_env_settings, resolve_connection
from keyturn.errors import ExitCode, KeyturnError
from keyturn.formats.inventory_table import render_inventory
from keyturn.formats.json_out import print_json
from keyturn.inventory import take_inventory
from keyturn.n8n.client import N8nClient
from keyturn.redact import configure_logging, redact

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
    typer.Option("--instance", "-i", help="Instance name from keyturn.toml.", show_default=False),
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
