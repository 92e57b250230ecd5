"""``agenthost tenants ...``, ``agenthost keys ...`` and ``agenthost audit``: the operator routes,
on the command line, by whoever may reach the database.

They open the database and nothing else: no server, no model clients, and the agents module
only when a tenant's settings name agents (to check the names), so they work while the agents
cannot even be imported.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agenthost.api.schemas.admin import AuditRecordOut, KeyCreated, KeyOut, TenantOut
from agenthost.cli.common import CONFIG_ERRORS, fail, settings_from
from agenthost.container import open_database
from agenthost.errors import AgentHostError
from agenthost.models.provider import settings_serve
from agenthost.registry import AgentRegistry, RegistryError, load_registry
from agenthost.security.secrets import build_secret_store
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.migrate import require_current
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.principal import Scope
from agenthost.tenancy.specs import KeyCreate, TenantCreate, TenantUpdate

T = TypeVar("T")

tenants = typer.Typer(help="Manage tenants.", no_args_is_help=True)
keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _with_admin(action: Callable[[TenantAdmin], Awaitable[T]]) -> T:
    async def run() -> T:
        # Administration never needs dev mode (nor its tenant, nor its warning).
        settings = settings_from(dev_mode=False)
        secrets = build_secret_store(settings)
        try:
            db = open_database(settings, secrets)
            try:
                await require_current(db)
                return await action(_admin(settings, db))
            finally:
                await db.aclose()
        finally:
            secrets.close()

    try:
        return asyncio.run(run())
    except CONFIG_ERRORS as exc:
        fail(str(exc))
    except AgentHostError as exc:
        fail(f"{exc.code.value}: {exc.message}", code=1)
    except OSError as exc:
        fail(f"cannot reach the database: {exc}")


def _admin(settings: Settings, db: Database) -> TenantAdmin:
    """Tenant administration over ``db``; the agents module is imported only if a tenant's
    settings name agents, and models are checked against the settings' deployments."""
    return TenantAdmin(db, lambda: _agents(settings), lambda model: settings_serve(settings, model))


def _agents(settings: Settings) -> AgentRegistry:
    try:
        return load_registry(settings.agents)
    except RegistryError:
        raise
    except Exception as exc:  # the user's module failed as it was imported
        raise RegistryError(
            f"the agents ({settings.agents}) are needed to check the agent names given, and "
            f"importing them failed: {type(exc).__name__}: {exc}"
        ) from exc


# Fields whose command-line name is not ``--`` + the field name with dashes.
_FIELD_OPTIONS = {
    "id": "ID",
    "allowed_agents": "--agents",
    "scopes": "--scope",
    "expires_at": "--expires-in-days",
}


def _spec(model: type[BaseModel], **values: Any) -> Any:
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        lines = ["invalid input:"]
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            option = _FIELD_OPTIONS.get(field, "--" + field.replace("_", "-"))
            lines.append(f"  {option}: {error['msg']}")
        fail("\n".join(lines))


def _print(rows: list[BaseModel], columns: list[str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
        return
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")  # ids wrap rather than being cut short
    for row in rows:
        data = row.model_dump(mode="json")
        # Values are user input (names, ids): shown as text, never parsed as console markup.
        table.add_row(*(escape(str(data[c])) if data[c] is not None else "-" for c in columns))
    Console().print(table)


TENANT_COLUMNS = [
    "id",
    "name",
    "operator",
    "disabled",
    "runs_per_month",
    "tokens_per_run",
    "max_concurrent_runs",
    "rate_limit",
    "allowed_agents",
]
KEY_COLUMNS = ["id", "prefix", "name", "scopes", "expires_at", "revoked_at", "last_used_at"]


@tenants.command("create")
def create_tenant(
    tenant_id: Annotated[str, typer.Argument(metavar="ID", help="Lowercase slug.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    runs_per_month: Annotated[int | None, typer.Option(help="Monthly run quota.")] = None,
    tokens_per_run: Annotated[int | None, typer.Option(help="Token limit per run.")] = None,
    max_concurrent_runs: Annotated[int | None, typer.Option(help="Runs at once.")] = None,
    rate_limit: Annotated[str | None, typer.Option(help="e.g. 600/minute.")] = None,
    agents: Annotated[
        str | None, typer.Option(help="Comma-separated agents it may use (default: all).")
    ] = None,
    operator: Annotated[
        bool,
        typer.Option(
            "--operator",
            help="An operator tenant: its keys may hold the operator scope (every tenant).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant (an operator tenant with --operator)."""
    spec = _spec(
        TenantCreate,
        id=tenant_id,
        name=name,
        runs_per_month=runs_per_month,
        tokens_per_run=tokens_per_run,
        max_concurrent_runs=max_concurrent_runs,
        rate_limit=rate_limit,
        allowed_agents=None if agents is None else [a.strip() for a in agents.split(",")],
    )
    row = _with_admin(lambda admin: admin.create_tenant(spec, actor=Actor.cli(), operator=operator))
    _print([TenantOut.model_validate(row)], TENANT_COLUMNS, as_json)


@tenants.command("bootstrap-operator")
def bootstrap_operator(
    tenant_id: Annotated[
        str, typer.Argument(metavar="ID", help="The operator tenant's id.")
    ] = "ops",
    name: Annotated[str, typer.Option(help="Display name, if it is created.")] = "Operators",
    key_name: Annotated[str, typer.Option(help="What the key is for.")] = "operator",
    expires_in_days: Annotated[float | None, typer.Option(help="Expire after N days.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the operator tenant (unless it exists as one) and a key of it holding every
    scope, in one go; print the key (the only time it is shown)."""
    tenant = _spec(TenantCreate, id=tenant_id, name=name)
    key = _spec(KeyCreate, name=key_name, scopes=list(Scope), expires_at=_expiry(expires_in_days))
    _, row, plaintext = _with_admin(
        lambda admin: admin.bootstrap_operator(tenant, key, actor=Actor.cli())
    )
    _show_key(KeyCreated.of(row, plaintext), as_json)


@tenants.command("list")
def list_tenants(as_json: JsonOption = False) -> None:
    """List tenants."""
    rows = _with_admin(lambda admin: admin.list_tenants())
    _print([TenantOut.model_validate(r) for r in rows], TENANT_COLUMNS, as_json)


@tenants.command("disable")
def disable_tenant(
    tenant_id: Annotated[str, typer.Argument(metavar="ID")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead.")] = False,
) -> None:
    """Disable a tenant: its keys get 403 until it is enabled again."""
    spec = TenantUpdate(disabled=not enable)
    _with_admin(lambda admin: admin.update_tenant(tenant_id, spec, actor=Actor.cli()))
    typer.echo(f"tenant {tenant_id} {'enabled' if enable else 'disabled'}")


@keys.command("create")
def create_key(
    tenant_id: Annotated[str, typer.Argument(metavar="TENANT")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "default",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="runs:read, runs:write, keys:admin or operator (operator tenants only); "
            "repeat for several."
        ),
    ] = None,
    expires_in_days: Annotated[float | None, typer.Option(help="Expire after N days.")] = None,
    rate_limit: Annotated[str | None, typer.Option(help="e.g. 60/minute.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it (the only time it is shown)."""
    spec = _spec(
        KeyCreate,
        name=name,
        scopes=scope,
        expires_at=_expiry(expires_in_days),
        rate_limit=rate_limit,
    )
    row, plaintext = _with_admin(lambda admin: admin.create_key(tenant_id, spec, actor=Actor.cli()))
    _show_key(KeyCreated.of(row, plaintext), as_json)


def _expiry(days: float | None) -> datetime | None:
    if days is None:
        return None
    try:
        return datetime.now(UTC) + timedelta(days=days)
    except (OverflowError, ValueError):  # nan, inf, or past the year 9999
        fail(
            f"invalid input:\n  --expires-in-days: {days} is out of range "
            "(a finite number of days, before the year 9999)"
        )


def _show_key(created: KeyCreated, as_json: bool) -> None:
    """The new key alone on stdout (or all of it as JSON), what it is on stderr."""
    if as_json:
        typer.echo(created.model_dump_json(indent=2))
        return
    typer.echo(created.key)
    Console(stderr=True).print(
        f"key {created.id} for tenant {created.tenant_id} (scopes {', '.join(created.scopes)}). "
        "It is shown only now; store it safely.",
        highlight=False,
    )


@keys.command("list")
def list_keys(
    tenant_id: Annotated[str, typer.Argument(metavar="TENANT")], as_json: JsonOption = False
) -> None:
    """List a tenant's keys (prefixes only; keys are stored as hashes)."""
    rows = _with_admin(lambda admin: admin.list_keys(tenant_id))
    _print([KeyOut.model_validate(r) for r in rows], KEY_COLUMNS, as_json)


@keys.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(metavar="KEY_ID")]) -> None:
    """Revoke a key at once."""
    _with_admin(lambda admin: admin.revoke_key(key_id, actor=Actor.cli()))
    typer.echo(f"key {key_id} revoked")


AUDIT_COLUMNS = ["id", "at", "actor", "action", "tenant_id", "target", "changes"]


def audit_command(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's records.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Newest N records.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Show the audit trail of tenant and key changes (HTTP and CLI), newest first."""
    rows = _with_admin(lambda admin: admin.audit(limit=limit, tenant_id=tenant))
    _print([AuditRecordOut.model_validate(r) for r in rows], AUDIT_COLUMNS, as_json)
