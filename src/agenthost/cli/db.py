"""``agenthost db upgrade|current``: the database schema."""

from __future__ import annotations

import asyncio

import typer
from dbos import error as dbos_error

from agenthost.cli.common import fail, settings_from
from agenthost.container import open_database, read_at_startup
from agenthost.jobs.engine import migrate_system_database
from agenthost.security.secrets import build_secret_store
from agenthost.settings import ConfigError, Settings
from agenthost.store.database import Database
from agenthost.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="The database schema (SQLite or PostgreSQL).", no_args_is_help=True)


def _database() -> tuple[Database, Settings]:
    """The database, and the settings with the secrets it needs resolved."""
    settings = settings_from()
    try:
        secrets = build_secret_store(settings)
        try:
            db = open_database(settings, secrets)
            return db, read_at_startup(settings, secrets, db)
        finally:
            secrets.close()
    except ConfigError as exc:
        fail(str(exc))


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply migrations up to this version's schema (run once per deploy, not per replica)."""

    async def run() -> tuple[str | None, str | None]:
        db, settings = _database()
        try:
            revisions = await upgrade(db)
        finally:
            await db.aclose()
        if settings.background_runs:  # DBOS's own tables, for background runs
            await asyncio.to_thread(migrate_system_database, settings)
        return revisions

    try:
        before, after = asyncio.run(run())
    except (OSError, dbos_error.DBOSException) as exc:
        fail(f"cannot reach the database: {exc}")
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command() -> None:
    """Print the database's schema revision and this version's; exit 1 if they differ."""

    async def run() -> str | None:
        db, _ = _database()
        try:
            return await current_revision(db)
        finally:
            await db.aclose()

    try:
        current = asyncio.run(run())
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
    head = head_revision()
    typer.echo(f"database: {current or 'empty'}; this version: {head}")
    if current != head:
        raise typer.Exit(1)
