"""Apply and check migrations (``agenthost db upgrade``; the server checks at start-up)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from agenthost.settings import ConfigError
from agenthost.store.database import Database

UPGRADE_COMMAND = "agenthost db upgrade"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "agenthost.store:migrations")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply migrations up to ``revision``; returns the revisions before and after."""
    config = alembic_config()

    def apply(connection: Connection) -> tuple[str | None, str | None]:
        before = _current(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        return before, _current(connection)

    async with db.engine.begin() as connection:
        return await connection.run_sync(apply)


async def require_current(db: Database) -> None:
    """Refuse to serve on a database whose schema is not this version's."""
    try:
        current = await current_revision(db)
    except OSError as exc:
        raise ConfigError(f"cannot reach the database at {db.display_url}: {exc}") from None
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise ConfigError(
            f"the database at {db.display_url} has no agenthost schema; run `{UPGRADE_COMMAND}`"
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise ConfigError(
            f"the database at {db.display_url} is at revision {current}, which this version of "
            "agenthost does not know (is a newer version deployed?)"
        )
    raise ConfigError(
        f"the database at {db.display_url} is at revision {current}, not {head}; "
        f"run `{UPGRADE_COMMAND}`"
    )
