"""`keyturn rekey`'s text output: what was (or would be) re-encrypted, and what to do next."""

from __future__ import annotations

from rich.console import Console

from keyturn.formats.safe_text import plain
from keyturn.rekey.apply import Outcome

_TITLES = {
    "planned": "Plan (--dry-run: nothing was changed)",
    "rekeyed": "n8n's database is on the new key",
    "resumed": "The interrupted rekey is finished",
    "restored": "Restored: n8n's database is back on the old key",
}


def render(outcome: Outcome, console: Console | None = None) -> None:
    out = console or Console(highlight=False)
    out.print(plain(f"{_TITLES[outcome.action]}: {outcome.database} (n8n {outcome.version})"))
    _counts(out, "Re-encrypted" if outcome.action != "planned" else "To re-encrypt",
            outcome.reencrypted)  # fmt: skip
    _counts(out, "Read with their own data key (unchanged)", outcome.verified_only)
    _counts(out, "Not encrypted, left as they are", outcome.left_plain)
    if outcome.unreadable:
        out.print(plain(f"Left unreadable (--skip-unreadable): {len(outcome.unreadable)}"))
        for item in outcome.unreadable:
            out.print(plain(f"  {item.describe()}"))
    if outcome.backup:
        out.print(plain(f"Backup: {outcome.backup}"))
    if outcome.action == "restored":
        out.print(plain(f"The old key is back in {outcome.config}" + _stores(outcome)))
        out.print(plain("Start n8n with the old key everywhere."))
        return
    out.print(plain(f"JWT secret: {outcome.jwt}."))
    for note in outcome.notes:
        out.print(plain(f"Note: {note}."))
    _next_steps(out, outcome)


def _counts(out: Console, title: str, counts: dict[str, int]) -> None:
    if not counts:
        return
    out.print(plain(f"{title}: {sum(counts.values())}"))
    width = max(len(name) for name in counts)
    for name, count in sorted(counts.items()):
        out.print(plain(f"  {name.ljust(width)}  {count}"))


def _stores(outcome: Outcome) -> str:
    return f" and {', '.join(outcome.stores)}" if outcome.stores else ""


def _next_steps(out: Console, outcome: Outcome) -> None:
    written = "would be written to" if outcome.action == "planned" else "is in"
    out.print(plain("Next:"))
    out.print(plain(f"  1. The new key {written} {outcome.config}{_stores(outcome)}."))
    out.print(plain(
        "  2. Set N8N_ENCRYPTION_KEY (or N8N_ENCRYPTION_KEY_FILE) to it wherever else n8n "
        "reads it: every main, worker and webhook process (.env files, Docker secrets, "
        "Kubernetes secrets). n8n refuses to start when config and the variable differ."
    ))  # fmt: skip
    out.print(plain("  3. Start n8n, then check a credential (docs/rekey.md, 'After')."))
