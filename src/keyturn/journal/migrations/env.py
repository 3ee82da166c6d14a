"""Alembic's entry point for the journal: keyturn hands it an open connection."""

from __future__ import annotations

from alembic import context

from keyturn.journal.migrate import VERSION_TABLE
from keyturn.journal.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
