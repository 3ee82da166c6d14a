"""keyturn serve: each credential's state between evaluations, and the scheduler's lease.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serve_states",
        sa.Column("instance", sa.String(length=500), primary_key=True),
        sa.Column("credential_id", sa.String(length=64), primary_key=True),
        sa.Column("credential_name", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("needs_attention", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("blocked", sa.Text(), nullable=True),
        sa.Column("health", sa.String(length=16), nullable=False, server_default="unknown"),
        sa.Column("health_detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("health_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "serve_leaders",
        sa.Column("instance", sa.String(length=500), primary_key=True),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_evaluation_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("serve_leaders")
    op.drop_table("serve_states")
