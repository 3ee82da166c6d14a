"""`keyturn sandbox`.

The sandbox package (it installs n8n from npm and runs a demo provider) is left out of the
wheel: it runs from a source checkout (`make demo`). From a wheel, the command says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from keyturn.cli.app import app, stderr
from keyturn.core.errors import ConfigError


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
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then run `keyturn serve` on it: the dashboard on 127.0.0.1:9464, the demo "
            "credential rotated every 3 minutes, until Ctrl-C.",
        ),
    ] = False,
) -> None:
    """Start a local n8n and the demo provider, seed demo workflows and show the inventory.

    From a source checkout of keyturn (`make demo`); the first run installs n8n (about 7
    minutes, once, into ~/.cache/keyturn).
    """
    try:
        from keyturn.sandbox.run import run_sandbox
    except ModuleNotFoundError as exc:
        if exc.name != "keyturn.sandbox":
            raise
        raise ConfigError(
            "The sandbox is not part of this installation of keyturn (it ships only with the "
            "source).",
            "Run it from a source checkout of keyturn: `make demo`.",
        ) from None

    if serve:
        from keyturn.serve.logs import use_event_lines

        use_event_lines(json_lines=False)
    run_sandbox(Console(), stderr, keep=keep, folder=folder, serve=serve)
