"""Alembic's environment: migrations run on the connection ``store/migrate.py`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from agenthost.store.tables import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use `agenthost db upgrade`")
run(context.config.attributes["connection"])
