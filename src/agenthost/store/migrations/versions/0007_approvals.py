"""Tool approvals: the stored state of runs awaiting approval, the calls and decisions; the
run status column widened for ``awaiting_approval``.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _status_length(length: int, before: int) -> None:
    # SQLite does not enforce VARCHAR lengths, and changing a column there rebuilds the table
    # (dropping the old one would cascade to every table referencing it): PostgreSQL only.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "runs",
            "status",
            type_=sa.String(length=length),
            existing_type=sa.String(length=before),
            existing_nullable=False,
        )


def upgrade() -> None:
    _status_length(32, 16)
    op.create_table(
        "run_pauses",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_pauses_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_pauses")),
    )
    op.create_index(op.f("ix_run_pauses_expires_at"), "run_pauses", ["expires_at"], unique=False)
    op.create_table(
        "run_approvals",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("agent", sa.Text(), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_approvals_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "call_id", name=op.f("pk_run_approvals")),
    )


def downgrade() -> None:
    op.drop_table("run_approvals")
    op.drop_index(op.f("ix_run_pauses_expires_at"), table_name="run_pauses")
    op.drop_table("run_pauses")
    _status_length(16, 32)
