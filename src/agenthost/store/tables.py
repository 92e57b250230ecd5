"""The tables. Changing one needs a new migration in ``store/migrations/versions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agenthost.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY columns.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (read by SQLAlchemy)


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its keys may hold the ``operator`` scope."""
    runs_per_month: Mapped[int | None] = mapped_column(Integer)
    tokens_per_run: Mapped[int | None] = mapped_column(Integer)
    max_concurrent_runs: Mapped[int | None] = mapped_column(Integer)
    rate_limit: Mapped[str | None] = mapped_column(String(200))
    allowed_agents: Mapped[list[str] | None] = mapped_column(JSON)
    agent_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    rate_limit: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class QuotaCounterRow(Base):
    """Runs admitted per tenant and calendar month (UTC); reserved atomically."""

    __tablename__ = "quota_counters"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class RunSlotRow(Base):
    """A run holding one of its tenant's concurrency slots; the lease frees it after a crash."""

    __tablename__ = "run_slots"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_day", "tenant_id", "day"),
        Index("ix_runs_tenant_created", "tenant_id", "created_at"),
        Index("ix_runs_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    agent: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    # SQLite keeps the 16 its first schema had: it does not enforce lengths, and widening a
    # column there rebuilds the table (see migration 0005).
    status: Mapped[str] = mapped_column(String(32).with_variant(String(16), "sqlite"))
    session_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    run_metadata: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    day: Mapped[str] = mapped_column(String(10))
    """UTC date the run started (YYYY-MM-DD), for usage by period."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    """When a run still ``running`` is known to be dead (its deadline plus a margin): a crashed
    process, or an outcome that could not be written. The sweep then marks it failed."""
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None] = mapped_column(Float)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    last_agent: Mapped[str | None] = mapped_column(Text)
    """The SDK agent that answered last (any name: agents reached by handoff are unchecked)."""
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[Any | None] = mapped_column(JSON)
    cancel_requested_at: Mapped[datetime | None]
    """When a client asked to cancel the (background) run; its process stops it."""
    steps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The run's tool calls and handoffs in order (names, never arguments), written when it
    ends; None: it made none (or ended before this was recorded)."""
    trace_id: Mapped[str | None] = mapped_column(String(32))
    """The OpenTelemetry trace of the run (of its last execution, for a resumed background run)."""


class RunPauseRow(Base):
    """The SDK state of a run awaiting approval: kept until the run continues from it (and
    settles) or its approvals expire."""

    __tablename__ = "run_pauses"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)
    """How many times the run has stopped for approval, this stop included."""
    state: Mapped[str] = mapped_column(Text)
    """The SDK's serialised ``RunState`` (bounded by ``approval_state_max_bytes``)."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    """When the run becomes ``expired`` if its calls are not all decided by then."""


class RunApprovalRow(Base):
    """A tool call a run stopped at, and the decision on it (kept with the run record)."""

    __tablename__ = "run_approvals"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    round: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(Text)
    tool: Mapped[str] = mapped_column(Text)
    arguments: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    """The API key id that decided (``cli`` for the command line, ``dev`` in dev mode)."""
    approved: Mapped[bool | None] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)


class RunEventRow(Base):
    """The progress of a background run, in order, for ``GET /v1/runs/{id}/events``.

    ``key`` names the event's place in the run, so an event replayed after a crash is not
    stored twice. ``id`` orders events and is the SSE event id clients resume after.
    """

    __tablename__ = "run_events"
    __table_args__ = (
        UniqueConstraint("run_id", "key", name="uq_run_events_run_id_key"),
        Index("ix_run_events_run_id_id", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ExecutorRow(Base):
    """A process executing background runs, and when it last said it was alive."""

    __tablename__ = "executors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    """Random per process start: tells a restart from a second live process with the same id."""
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    app_version: Mapped[str] = mapped_column(String(64))
    """Only processes of the same version resume its runs (DBOS pins runs to versions)."""
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class SessionRow(Base):
    """A conversation, namespaced by tenant: two tenants may use the same session id."""

    __tablename__ = "sessions"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SessionItemRow(Base):
    __tablename__ = "session_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            ondelete="CASCADE",
            name="fk_session_items_session",
        ),
        Index("ix_session_items_session", "tenant_id", "session_id", "id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(128))
    data: Mapped[str] = mapped_column(Text)
    """One SDK input item as JSON."""
    created_at: Mapped[datetime]
    run_id: Mapped[str | None] = mapped_column(String(64))
    """The run whose turn the item is part of (None for items written before 0006)."""


class AdminAuditRow(Base):
    """One administrative change: who made it, what it changed, when (never a key or hash)."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    """The API key id that made the change, ``cli`` for the command line, ``dev`` in dev mode."""
    actor_tenant: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    """``tenant.create``, ``tenant.update``, ``key.create`` or ``key.revoke``."""
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    """The tenant changed (for keys: the key's tenant). Kept when the tenant is deleted."""
    target: Mapped[str] = mapped_column(String(64))
    """The tenant or key id acted on."""
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128))


class SessionLeaseRow(Base):
    """One row per session that runs ever waited for: locked by every change to the session's
    line, and numbering its places (``last_ticket``) in the order they were taken."""

    __tablename__ = "session_leases"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_ticket: Mapped[int] = mapped_column(BigInteger, default=0)


class SessionTicketRow(Base):
    """A run's place in its session's line; the holder is the run that ``holding``.

    A ticket stops counting when it expires (its process died), when its run's record has
    ended, or (unless it is the holder) once a newer run interrupted it.
    """

    __tablename__ = "session_tickets"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["session_leases.tenant_id", "session_leases.session_id"],
            ondelete="CASCADE",
            name="fk_session_tickets_lease",
        ),
        Index("ix_session_tickets_line", "tenant_id", "session_id", "ticket"),
    )

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(128))
    ticket: Mapped[int] = mapped_column(BigInteger)
    holding: Mapped[bool] = mapped_column(Boolean, default=False)
    """The run holds the session: it is executing (or about to)."""
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    """A newer run asked (``on_busy: interrupt``) for this one to be cancelled."""
    expires_at: Mapped[datetime]
