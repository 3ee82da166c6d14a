"""`keyturn inventory`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import Progress

from keyturn.cli.app import InstanceOption, JsonOption, _client, _progress, app


class _FetchProgress:
    """A spinner on stderr while credentials and workflows are fetched."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("Fetching credentials", total=None)

    def credentials_fetched(self, count: int) -> None:
        self._progress.update(self._task, description=f"Fetched {count} credentials")

    def workflows_fetched(self, count: int) -> None:
        self._progress.update(self._task, description=f"Fetched {count} workflows")


@app.command()
def inventory(
    ctx: typer.Context, instance: InstanceOption = None, json: JsonOption = False
) -> None:
    """List every credential, its age, the workflows and nodes that use it, and what looks wrong.

    Flags: unused credentials, several credentials with one name, dangling references (a node
    pointing at a credential that does not exist, or under another name), secrets typed into
    nodes instead of credentials, and secrets read from $env (those change only on restart).
    """
    from keyturn.formats.inventory_table import render_inventory
    from keyturn.formats.json_out import print_json
    from keyturn.inventory.report import take_inventory

    with _client(ctx, instance) as client, _progress() as progress:
        report = take_inventory(client, _FetchProgress(progress))
    if json:
        print_json(report)
    else:
        render_inventory(report, Console())
