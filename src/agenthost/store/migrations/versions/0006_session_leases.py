"""Session leases: the line of runs waiting for a session, and the run holding it; session
items name the run whose turn they are part of.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("session_items", sa.Column("run_id", sa.String(length=64), nullable=True))
    op.create_table(
        "session_leases",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("last_ticket", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_session_leases_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "session_id", name=op.f("pk_session_leases")),
    )
    op.create_table(
        "session_tickets",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("ticket", sa.BigInteger(), nullable=False),
        sa.Column("holding", sa.Boolean(), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["session_leases.tenant_id", "session_leases.session_id"],
            name="fk_session_tickets_lease",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_session_tickets")),
    )
    op.create_index(
        "ix_session_tickets_line",
        "session_tickets",
        ["tenant_id", "session_id", "ticket"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_session_tickets_line", table_name="session_tickets")
    op.drop_table("session_tickets")
    op.drop_table("session_leases")
    with op.batch_alter_table("session_items") as batch:
        batch.drop_column("run_id")
