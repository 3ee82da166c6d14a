"""keyturn's command line: parse, build the pieces, call one core function, render.

Exit codes (docs/exit-codes.md): 0 ok, 1 findings, 2 usage or configuration error, 3 n8n
unreachable or refused, 4 not found or ambiguous, 5 provider error, 6 rotation failed,
7 the credential is being rotated by another process.
Each command lives in its own module and imports what it needs when it runs, so that
`keyturn --help` and `keyturn scan` start fast.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from keyturn import __version__
from keyturn.core.errors import ExitCode, KeyturnError
from keyturn.core.redact import configure_logging, redact

if TYPE_CHECKING:
    from keyturn.n8n.client import N8nClient

log = logging.getLogger("keyturn")

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
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )


def _opt(flag: str, metavar: str, help_text: str) -> Any:
    """A command-line option with no default shown (None means keyturn.toml or the default)."""
    return typer.Option(flag, metavar=metavar, help=help_text, show_default=False)


def _flag(flag: str, help_text: str) -> Any:
    return typer.Option(flag, help=help_text)


DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing.")]


INTERRUPT_GRACE = 10.0  # seconds the unwinding after Ctrl-C may take before keyturn exits


def _on_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C: unwind as usual (journal and leases stay consistent), but never hang in it: a
    KeyboardInterrupt that lands while a library holds a lock can deadlock its cleanup."""
    watchdog = threading.Timer(INTERRUPT_GRACE, _exit_interrupted)
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt


def _exit_interrupted() -> None:
    sys.stderr.write("keyturn: interrupted\n")
    sys.stderr.flush()
    os._exit(int(ExitCode.INTERRUPTED))


def main() -> None:
    """The `keyturn` console script: one-line errors with documented exit codes."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        app()
    except KeyturnError as exc:
        _print_error(exc)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        stderr.print("keyturn: interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # a bug: one redacted line, the traceback only in debug logs
        log.debug("internal error", exc_info=True)
        print(
            f"keyturn: internal error: {type(exc).__name__}: {redact(str(exc))}. "
            "Run again with -vv for the traceback, and please report it.",
            file=sys.stderr,
        )
        sys.exit(int(ExitCode.INTERNAL))


def _print_error(exc: KeyturnError) -> None:
    from keyturn.formats.safe_text import visible  # names in errors come from n8n's editors

    text = visible(redact(str(exc)))
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        print(f"keyturn: error: {text}", file=sys.stderr)
    else:
        stderr.print(Text.assemble(("keyturn: error: ", "bold red"), text), highlight=False)


# The commands register themselves on `app` when imported.
from keyturn.cli import doctor, inventory, rotation, sandbox, scan, schedule  # noqa: E402, F401
