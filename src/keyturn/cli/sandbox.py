"""`keyturn sandbox`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from keyturn.cli import app, stderr


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
