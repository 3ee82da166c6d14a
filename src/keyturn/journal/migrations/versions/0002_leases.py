"""Leases: the n8n instance's identity on rotations, an owner and a heartbeat on locks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rotations") as batch:
        batch.add_column(sa.Column("instance_url", sa.String(length=500), nullable=True))
    with op.batch_alter_table("credential_locks") as batch:
        batch.alter_column("instance", type_=sa.String(length=500), existing_nullable=False)
        batch.add_column(sa.Column("owner", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credential_locks") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
        batch.alter_column("instance", type_=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table("rotations") as batch:
        batch.drop_column("instance_url")
