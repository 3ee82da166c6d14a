"""The inventory as rich tables: credentials with their users, then the flags.

Every name, type, message and URL is n8n's data: printed as plain text (formats/safe_text.py).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from keyturn.formats.safe_text import plain, plain_lines
from keyturn.inventory.report import CredentialOut, FlagOut, InventoryReport

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
_MAX_LISTED_USERS = 3


def render_inventory(report: InventoryReport, console: Console) -> None:
    console.print(_credentials_table(report))
    if report.flags:
        _print_flags(report, console)
    summary = report.summary
    counts = ", ".join(f"{count} {code}" for code, count in sorted(summary.flags.items()))
    console.print(
        plain(
            f"{summary.credentials} credentials, {summary.workflows} workflows, "
            f"{summary.nodes} nodes on {report.instance.url}; flags: {counts or 'none'}"
            f" ({report.stats.api_requests} API requests, {report.stats.seconds:.1f}s)"
        )
    )
    for note in report.blind_spots:
        console.print(Text("Not visible: ", style="yellow") + plain(note))


def _credentials_table(report: InventoryReport) -> Table:
    table = Table(title="Credentials", title_justify="left", expand=False)
    table.add_column("Name", overflow="fold")
    table.add_column("ID", style="dim", no_wrap=True)
    table.add_column("Type")
    table.add_column("Age", justify="right")
    table.add_column("Used by", overflow="fold")
    table.add_column("Flags")
    for credential in report.credentials:
        table.add_row(
            plain(credential.name),
            plain(credential.id),
            plain(credential.type),
            f"{credential.age_days}d" if credential.age_days is not None else "?",
            _users(credential),
            plain(", ".join(credential.flags), "yellow"),
        )
    return table


def _users(credential: CredentialOut) -> Text:
    if not credential.usages:
        return Text("-")
    lines = []
    for usage in credential.usages[:_MAX_LISTED_USERS]:
        state = "archived" if usage.archived else ("active" if usage.active else "inactive")
        lines.append(f"{usage.workflow_name} > {usage.node_name} ({state})")
    if len(credential.usages) > _MAX_LISTED_USERS:
        lines.append(f"… and {len(credential.usages) - _MAX_LISTED_USERS} more (see --json)")
    return plain_lines(lines)


def _print_flags(report: InventoryReport, console: Console) -> None:
    console.print(Text("Flags", style="italic"))
    order = {"error": 0, "warning": 1, "info": 2}
    for flag in sorted(report.flags, key=lambda f: (order.get(f.severity, 3), f.code)):
        line = Text.assemble(
            plain(f"{flag.severity:<8}", _SEVERITY_STYLE.get(flag.severity, "")),
            plain(f"{flag.code:<19}", "bold"),
            plain(_where(report, flag), "cyan"),
            ": ",
            plain(flag.message),
        )
        console.print(line, highlight=False)


def _where(report: InventoryReport, flag: FlagOut) -> str:
    if flag.workflow_name is not None:
        return f"{flag.workflow_name} > {flag.node_name}"
    names = [c.name for c in report.credentials if c.id == flag.credential_id]
    return f"credential {names[0] if names else '?'} ({flag.credential_id})"
