"""``agenthost db upgrade|current``: the database schema."""

from __future__ import annotations

import asyncio

import typer

from agenthost.cli.common import fail, settings_from
from agenthost.container import open_database
from agenthost.security.secrets import build_secret_store
from agenthost.settings import ConfigError
from agenthost.store.database import Database
from agenthost.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="The database schema (SQLite or PostgreSQL).", no_args_is_help=True)


def _database() -> Database:
    settings = settings_from()
    try:
        secrets = build_secret_store(settings)
        try:
            return open_database(settings, secrets)
        finally:
            secrets.close()
    except ConfigError as exc:
        fail(str(exc))


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply migrations up to this version's schema (run once per deploy, not per replica)."""

    async def run() -> tuple[str | None, str | None]:
        db = _database()
        try:
            return await upgrade(db)
        finally:
            await db.aclose()

    try:
        before, after = asyncio.run(run())
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command() -> None:
    """Print the database's schema revision and this version's; exit 1 if they differ."""

    async def run() -> str | None:
        db = _database()
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
