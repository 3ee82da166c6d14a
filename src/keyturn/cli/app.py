"""The typer app: the root options, the options and helpers the commands share, the commands.

`keyturn.cli.main` imports this module only when `keyturn.cli.scan_run` does not run the
command itself (a scan of files with options it knows). Each command lives in its own module
and imports what it needs when it runs, so that `keyturn --help` starts fast.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress

from keyturn import __version__
from keyturn.cli.output import progress, stderr_console
from keyturn.core.redact import configure_logging

if TYPE_CHECKING:
    from keyturn.n8n.client import N8nClient

app = typer.Typer(
    name="keyturn",
    help="Rotate the API credentials of a self-hosted n8n without breaking its workflows.\n\n"
    "Connect with KEYTURN_N8N_URL and KEYTURN_N8N_API_KEY (or KEYTURN_N8N_API_KEY_FILE), or "
    "name an instance of keyturn.toml with --instance. The API key is never a command-line "
    "argument.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (docs/install.md)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
stderr = stderr_console()

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
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="-v for info, -vv for keyturn's debug logs, -vvv also for the libraries' "
            "(botocore, httpx, hvac...). Secrets are redacted at every level.",
        ),
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
    level: str | int = os.environ.get("KEYTURN_LOG_LEVEL", "WARNING")
    if verbose:
        level = logging.INFO if verbose == 1 else logging.DEBUG
    configure_logging(level, third_party=verbose >= 3)
    ctx.obj = GlobalOptions(config=config)


def _client(ctx: typer.Context, instance: str | None) -> N8nClient:
    from keyturn.core.config import resolve_connection
    from keyturn.n8n.client import N8nClient

    options: GlobalOptions = ctx.obj
    return N8nClient(resolve_connection(instance, options.config))


def print_blind_spots(notes: list[str]) -> None:
    """What the n8n instance did not let keyturn see, on stderr (stdout may carry JSON)."""
    from keyturn.formats.safe_text import plain

    for note in dict.fromkeys(notes):
        stderr.print(plain(f"Not visible: {note}"))


def _progress() -> Progress:
    return progress()


def _opt(flag: str, metavar: str, help_text: str) -> Any:
    """A command-line option with no default shown (None means keyturn.toml or the default)."""
    return typer.Option(flag, metavar=metavar, help=help_text, show_default=False)


def _flag(flag: str, help_text: str) -> Any:
    return typer.Option(flag, help=help_text)


DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing.")]


# The commands register themselves on `app` when imported.
from keyturn.cli import (  # noqa: E402, F401
    checklist,
    doctor,
    inventory,
    rekey,
    rotation,
    sandbox,
    scan,
    schedule,
    serve,
)
