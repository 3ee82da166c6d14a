"""`keyturn checklist`: is this rotation done, and how do we know (docs/checklist.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from keyturn.cli.app import InstanceOption, JsonOption, _opt, app

if TYPE_CHECKING:
    from keyturn.checklist import Checklist
    from keyturn.rotation.service import Rotations


@app.command()
def checklist(
    ctx: typer.Context,
    credential: Annotated[str, typer.Argument(metavar="CREDENTIAL",
        help="The credential (id or name) whose last completed rotation to check.")],
    since: Annotated[str, typer.Option("--since", metavar="DURATION",
        help="How far back the instance must have been quiet (no failed execution tied to a "
        "credential).")] = "24h",
    paths: Annotated[list[Path] | None, _opt("--path", "PATH", "Also look here for the old "
        "value (exports, .env and compose files, repositories); .env and secret files must "
        "hold the new one. Repeatable.")] = None,
    instance: InstanceOption = None,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """The production checklist of a credential's last rotation, every box checked by
    evidence: proven, no_cache, reexecuted, no_hardcoded, old_secret_gone, stores_updated,
    quiet. Values are never shown: fingerprints and places only.

    Exit codes: 0 every box ok, 1 a box is not, 2 bad input, 4 no completed rotation.
    """
    from keyturn.cli.rotation import _rotations
    from keyturn.core.durations import parse_duration

    window = checked_window(parse_duration(since, "--since"))
    with _rotations(ctx, instance) as rotations:
        result = run_checklist(rotations, credential, window, paths or [])
    print_checklist(result, json)


def checked_window(seconds: float) -> timedelta:
    from keyturn.core.errors import ConfigError

    try:
        window = timedelta(seconds=seconds)
        datetime.now(UTC) - window
    except OverflowError:
        raise ConfigError("--since is longer than any clock can go back.", "Use days.") from None
    return window


def run_checklist(
    rotations: Rotations, credential: str, window: timedelta, paths: list[Path]
) -> Checklist:
    from keyturn.checklist import build_checklist
    from keyturn.core.errors import ConfigError

    for path in paths:
        if not path.exists():
            raise ConfigError(f"--path {path} does not exist.", "Give files or folders to search.")
    return build_checklist(
        rotations.client,
        rotations.journal,
        rotations.instance,
        rotations.instance_url,
        credential,
        quiet_since=datetime.now(UTC) - window,
        paths=paths,
        vault=rotations.settings.file.vault,
    )


def print_checklist(result: Checklist, json: bool) -> None:
    from keyturn.core.errors import ExitCode
    from keyturn.formats.checklist_out import render_checklist
    from keyturn.formats.rotation_out import print_document

    if json:
        print_document(result.to_json())
    else:
        render_checklist(result)
    if not result.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))
