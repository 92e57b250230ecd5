"""Run records keep their tool calls and handoffs (names) and their trace id.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("steps", sa.JSON(), nullable=True))
    op.add_column("runs", sa.Column("trace_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE on SQLite too: a batch copy would drop the old table, and the runs'
    # events with it (ON DELETE CASCADE).
    op.drop_column("runs", "trace_id")
    op.drop_column("runs", "steps")
