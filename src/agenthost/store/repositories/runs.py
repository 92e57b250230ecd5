"""Run records and the usage totals computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.scripts import Script, Statement, Step, decode_json, decode_time
from agenthost.store.tables import RunRow


async def insert(tx: AsyncSession, row: RunRow) -> None:
    tx.add(row)
    await tx.flush()


OPEN = ("queued", "running")
UNFINISHED = (*OPEN, "awaiting_approval")
"""Runs whose usage is not counted yet: a run awaiting approval counts once it ends."""


async def _update(
    tx: AsyncSession, tenant_id: str, run_id: str, *where: ColumnElement[bool], **values: Any
) -> bool:
    """Update the tenant's run if it matches ``where``; whether it did."""
    result = await tx.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.tenant_id == tenant_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(tx: AsyncSession, tenant_id: str, run_id: str, **values: Any) -> bool:
    return await _update(tx, tenant_id, run_id, **values)


async def finish_open(tx: AsyncSession, tenant_id: str, run_id: str, **values: Any) -> bool:
    """Like :func:`finish`, only if the run is still queued or running."""
    return await _update(tx, tenant_id, run_id, RunRow.status.in_(OPEN), **values)


async def abandon_expired(tx: AsyncSession, now: datetime, code: str, message: str) -> int:
    """Fail every sync or streamed run still ``running`` after its ``expires_at``; returns how
    many. (Background runs are durable: a dead process's runs are resumed, not abandoned.)"""
    result = await tx.execute(
        update(RunRow)
        .where(RunRow.status == "running", RunRow.expires_at < now, RunRow.mode != "background")
        .values(status="failed", error_code=code, error_message=message, finished_at=now)
    )
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


START = Statement(
    "UPDATE runs SET status = 'running', expires_at = :expires_at "
    "WHERE id = :run_id AND tenant_id = :tenant_id AND status IN ('queued', 'running') "
    "AND cancel_requested_at IS NULL"
)
STATUS = Statement("SELECT status FROM runs WHERE id = :run_id AND tenant_id = :tenant_id")


def start(
    tenant_id: str, run_id: str, expires_at: datetime
) -> Script[Literal["run", "cancel", "ended"]]:
    """Mark a queued (or resumed) background run running. ``cancel``: a client asked to
    cancel it; ``ended``: it already ended (cancelled while queued)."""
    run = {"tenant_id": tenant_id, "run_id": run_id}
    if (yield Step(START, {**run, "expires_at": expires_at})):
        return "run"
    rows = yield Step(STATUS, run, fetch=True)
    return "cancel" if rows and rows[0][0] in OPEN else "ended"


_OUTCOME = (
    "id", "tenant_id", "agent", "mode", "status", "request_id", "metadata", "created_at",
    "finished_at", "duration_ms", "requests", "input_tokens", "output_tokens", "total_tokens",
    "last_agent", "cached", "error_code", "error_message", "output",
)  # fmt: skip
FIND_OUTCOME = Statement(
    f"SELECT {', '.join(_OUTCOME)} FROM runs "  # noqa: S608 - constant column names
    "WHERE id = :run_id AND tenant_id = :tenant_id"
)


def find_outcome(tenant_id: str, run_id: str) -> Script[RunRow | None]:
    """The run's record as far as its outcome goes (not its input or steps), as a script."""
    rows = yield Step(FIND_OUTCOME, {"tenant_id": tenant_id, "run_id": run_id}, fetch=True)
    if not rows:
        return None
    values = dict(zip(_OUTCOME, rows[0], strict=True))
    values["run_metadata"] = decode_json(values.pop("metadata")) or {}
    values["output"] = decode_json(values["output"])
    values["cached"] = bool(values["cached"])
    values["created_at"] = decode_time(values["created_at"])
    values["finished_at"] = decode_time(values["finished_at"])
    return RunRow(**values)


async def request_cancel(tx: AsyncSession, tenant_id: str, run_id: str, now: datetime) -> bool:
    """Ask to cancel a queued or running background run; False if it is not one."""
    return await _update(
        tx,
        tenant_id,
        run_id,
        RunRow.mode == "background",
        RunRow.status.in_(OPEN),
        cancel_requested_at=func.coalesce(RunRow.cancel_requested_at, now),
    )


async def cancel_queued(
    tx: AsyncSession, tenant_id: str, run_id: str, now: datetime, message: str
) -> bool:
    """End a run that is still queued as cancelled; False if it already started."""
    return await _update(
        tx,
        tenant_id,
        run_id,
        RunRow.status == "queued",
        status="cancelled",
        error_code="RUN_CANCELLED",
        error_message=message,
        finished_at=now,
    )


async def cancel_requested(tx: AsyncSession, run_ids: Sequence[str]) -> Sequence[str]:
    """Which of ``run_ids`` a client asked to cancel."""
    statement = select(RunRow.id).where(
        RunRow.id.in_(run_ids), RunRow.cancel_requested_at.is_not(None)
    )
    return (await tx.scalars(statement)).all()


async def background_counts(tx: AsyncSession) -> dict[str, int]:
    """How many background runs are queued and running."""
    result = await tx.execute(
        select(RunRow.status, func.count())
        .where(RunRow.mode == "background", RunRow.status.in_(OPEN))
        .group_by(RunRow.status)
    )
    return {status: count for status, count in result.all()}


async def get(tx: AsyncSession, tenant_id: str, run_id: str) -> RunRow | None:
    """The run, only if it belongs to ``tenant_id`` (others' runs look missing)."""
    return await tx.scalar(select(RunRow).where(RunRow.id == run_id, RunRow.tenant_id == tenant_id))


async def page(
    tx: AsyncSession,
    tenant_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    agent: str | None = None,
    status: str | None = None,
    mode: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[RunRow]:
    """The tenant's runs, newest first, continuing after the (created_at, id) of ``after``;
    only those created in [``since``, ``until``) when given."""
    statement = select(RunRow).where(RunRow.tenant_id == tenant_id)
    if after is not None:
        created, run_id = after
        statement = statement.where(
            or_(
                RunRow.created_at < created,
                and_(RunRow.created_at == created, RunRow.id < run_id),
            )
        )
    if agent is not None:
        statement = statement.where(RunRow.agent == agent)
    if status is not None:
        statement = statement.where(RunRow.status == status)
    if mode is not None:
        statement = statement.where(RunRow.mode == mode)
    if since is not None:
        statement = statement.where(RunRow.created_at >= since)
    if until is not None:
        statement = statement.where(RunRow.created_at < until)
    statement = statement.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit)
    return (await tx.scalars(statement)).all()


async def usage_by_day(
    tx: AsyncSession, tenant_id: str, since_day: str, until_day: str
) -> Sequence[Row[Any]]:
    """Totals per (day, agent) of the tenant's finished runs between two UTC days, inclusive
    (a run awaiting approval is not finished; an expired one is)."""
    succeeded = func.sum(case((RunRow.status == "succeeded", 1), else_=0))
    result = await tx.execute(
        select(
            RunRow.day,
            RunRow.agent,
            func.count().label("runs"),
            succeeded.label("succeeded"),
            func.sum(RunRow.requests).label("requests"),
            func.sum(RunRow.input_tokens).label("input_tokens"),
            func.sum(RunRow.output_tokens).label("output_tokens"),
            func.sum(RunRow.total_tokens).label("total_tokens"),
        )
        .where(
            RunRow.tenant_id == tenant_id,
            RunRow.day >= since_day,
            RunRow.day <= until_day,
            RunRow.status.not_in(UNFINISHED),
        )
        .group_by(RunRow.day, RunRow.agent)
        .order_by(RunRow.day, RunRow.agent)
    )
    rows: Sequence[Row[Any]] = result.all()
    return rows
