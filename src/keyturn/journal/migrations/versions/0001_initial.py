"""The journal as keyturn 0.1 created it: rotations, credential locks, secret labels, audit events.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("os_user", sa.String(length=200), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("credential_name", sa.String(length=200), nullable=False),
        sa.Column("rotation_id", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "credential_locks",
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("rotation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance", "credential_id"),
    )
    op.create_table(
        "rotations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("credential_name", sa.String(length=200), nullable=False),
        sa.Column("credential_type", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("idempotency_token", sa.String(length=64), nullable=False),
        sa.Column("pending_secret", sa.Text(), nullable=True),
        sa.Column("pending_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("pending_key_id", sa.String(length=200), nullable=True),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("previous_key_id", sa.String(length=200), nullable=True),
        sa.Column("new_credential_id", sa.String(length=64), nullable=True),
        sa.Column("repointed", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "secret_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("provider_key_id", sa.String(length=200), nullable=True),
        sa.Column("rotation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance", "credential_id", "label"),
    )


def downgrade() -> None:
    op.drop_table("secret_versions")
    op.drop_table("rotations")
    op.drop_table("credential_locks")
    op.drop_table("audit_events")
