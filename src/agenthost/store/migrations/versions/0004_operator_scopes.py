"""Operator tenants; the ``admin`` scope split into ``operator`` and ``keys:admin``.

Tenants get an ``operator`` flag (false for every existing tenant). A key's ``admin`` scope
becomes ``operator`` only when its tenant is an operator tenant — none is before this
migration, so every ``admin`` key loses it; mark an operator tenant afterwards with
``agenthost tenants bootstrap-operator``. The number of keys changed is logged (WARNING, so it
shows on the console of ``agenthost db upgrade``).

Downgrading turns ``operator`` back into ``admin`` and drops ``keys:admin`` (the old version
knows neither).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

_tenants = sa.table("tenants", sa.column("id", sa.String), sa.column("operator", sa.Boolean))
_keys = sa.table(
    "api_keys",
    sa.column("id", sa.String),
    sa.column("tenant_id", sa.String),
    sa.column("scopes", sa.JSON),
)


def upgrade() -> None:
    # A plain ALTER TABLE on SQLite too: a batch copy would drop the old table, and its keys
    # with it (ON DELETE CASCADE).
    op.add_column(
        "tenants", sa.Column("operator", sa.Boolean(), nullable=False, server_default=sa.false())
    )

    def migrate(scopes: set[str], operator: bool) -> set[str]:
        if "admin" not in scopes:
            return scopes
        return (scopes - {"admin"}) | ({"operator"} if operator else set())

    changed = _rewrite_scopes(migrate)
    promoted = sum(1 for scopes in changed.values() if "operator" in scopes)
    logger.warning(
        "0004: %d API key(s) had the 'admin' scope: %d now hold 'operator' (their tenant is an "
        "operator tenant), %d lost it; create an operator with "
        "`agenthost tenants bootstrap-operator`",
        len(changed),
        promoted,
        len(changed) - promoted,
    )


def downgrade() -> None:
    def restore(scopes: set[str], operator: bool) -> set[str]:
        kept = scopes - {"operator", "keys:admin"}
        return kept | {"admin"} if "operator" in scopes else kept

    changed = _rewrite_scopes(restore)
    logger.warning("0004 downgrade: %d API key(s) changed scopes", len(changed))
    op.drop_column("tenants", "operator")


def _rewrite_scopes(change: Callable[[set[str], bool], set[str]]) -> dict[str, list[str]]:
    """Apply ``change(scopes, tenant is operator)`` to every key; the keys changed, with their
    new scopes."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_keys.c.id, _keys.c.scopes, _tenants.c.operator).join(
            _tenants, _tenants.c.id == _keys.c.tenant_id
        )
    ).all()
    changed: dict[str, list[str]] = {}
    for key_id, scopes, operator in rows:
        new = change(set(scopes or []), bool(operator))
        if new != set(scopes or []):
            changed[key_id] = sorted(new)
    for key_id, scopes in changed.items():
        connection.execute(sa.update(_keys).where(_keys.c.id == key_id).values(scopes=scopes))
    return changed
