"""The journal: where every rotation is written ahead, and the audit trail.

`open_journal()` is the one way to get one: the database (SQLite file or PostgreSQL, from
KEYTURN_DATABASE_URL), the master key that encrypts secrets, and the schema brought up to date.
"""

from __future__ import annotations

from keyturn.core.crypto import SecretBox, load_secret_box
from keyturn.journal.engine import journal_exists, make_engine
from keyturn.journal.journal import Journal
from keyturn.journal.models import AuditEvent, Label, Rotation, SecretVersion, Status, Step

__all__ = [
    "AuditEvent",
    "Journal",
    "Label",
    "Rotation",
    "SecretVersion",
    "Status",
    "Step",
    "journal_exists",
    "open_journal",
]


def open_journal(url: str | None = None, box: SecretBox | None = None) -> Journal:
    """The journal at `url` (default: KEYTURN_DATABASE_URL, else the state folder's SQLite
    file), encrypting with `box` (default: the master key in the state folder)."""
    return Journal(make_engine(url), box or load_secret_box())
