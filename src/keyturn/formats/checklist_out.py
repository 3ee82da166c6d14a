"""`keyturn checklist`'s text: one row per box, its evidence, and the places it names."""

from __future__ import annotations

from rich.console import Console

from keyturn.checklist import Checklist
from keyturn.core.redact import redact
from keyturn.formats.safe_text import plain

SHOWN_ITEMS = 20


def render_checklist(checklist: Checklist, console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    credential, rotation = checklist.credential, checklist.rotation
    passed = sum(box.ok for box in checklist.checks)
    out.print(plain(
        f"Checklist of credential {credential['name']!r} ({credential['id']}), rotation "
        f"{rotation['id'][:8]} completed {rotation['completed_at']}: {passed} of "
        f"{len(checklist.checks)} boxes ok"
    ))  # fmt: skip
    width = max(len(box.id) for box in checklist.checks)
    for box in checklist.checks:
        mark = "ok  " if box.ok else "FAIL"
        out.print(plain(redact(f"  {mark}  {box.id.ljust(width)}  {box.evidence}")))
        for item in box.items[:SHOWN_ITEMS]:
            out.print(plain(redact(f"        {' ' * width}  - {item}")))
        if len(box.items) > SHOWN_ITEMS:
            out.print(plain(f"        {' ' * width}  ... and {len(box.items) - SHOWN_ITEMS} more"))
