"""Runs stopped for approval: their stored state (``run_pauses``), their pending calls and the
decisions on them (``run_approvals``).

Stopping and continuing are steps of the run's reservation scripts (``reservations.py``), so a
run's record, state and calls change together. A decision is one conditional write (``UPDATE
... WHERE decided_at IS NULL``) after the run's row is locked, so two concurrent decisions on
one call never both succeed, and exactly one of the requests that decide a run's last calls
continues it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.scripts import Script, Statement, Step
from agenthost.store.tables import RunApprovalRow, RunPauseRow, RunRow

INSERT_PAUSE = Statement(
    "INSERT INTO run_pauses (run_id, tenant_id, round, state, created_at, expires_at) "
    "VALUES (:run_id, :tenant_id, :round, :state, :created_at, :expires_at)"
)
DELETE_PAUSE = Statement("DELETE FROM run_pauses WHERE run_id = :run_id")
INSERT_CALL = Statement(
    "INSERT INTO run_approvals (run_id, call_id, round, agent, tool, arguments, requested_at) "
    "VALUES (:run_id, :call_id, :round, :agent, :tool, :arguments, :requested_at) "
    "ON CONFLICT DO NOTHING"
)
# Locks the run's row (PostgreSQL; SQLite has one writer at a time) while it is awaiting
# approval and its state has not expired: concurrent decisions on one run go one at a time.
LOCK_AWAITING = Statement(
    "UPDATE runs SET status = status WHERE id = :run_id AND tenant_id = :tenant_id "
    "AND status = 'awaiting_approval' AND EXISTS "
    "(SELECT 1 FROM run_pauses WHERE run_pauses.run_id = :run_id AND expires_at > :now)"
)
DECIDE = Statement(
    "UPDATE run_approvals SET decided_at = :now, decided_by = :decided_by, "
    "approved = :approved, message = :message "
    "WHERE run_id = :run_id AND call_id = :call_id AND decided_at IS NULL"
)
CONTINUE = Statement(
    "UPDATE runs SET status = :status, mode = :mode, expires_at = :expires_at "
    "WHERE id = :run_id AND tenant_id = :tenant_id AND status = 'awaiting_approval' "
    "AND NOT EXISTS (SELECT 1 FROM run_approvals "
    "WHERE run_approvals.run_id = :run_id AND decided_at IS NULL)"
)


@dataclass(frozen=True, slots=True)
class Stop:
    """A run stopping for approval: the state to keep and the calls to decide."""

    round: int
    state: str
    calls: tuple[Mapping[str, str], ...]
    """Each call's ``call_id``, ``agent``, ``tool`` and ``arguments``."""
    stopped_at: datetime
    expires_at: datetime


def stop(tenant_id: str, run_id: str, at: Stop) -> Script[None]:
    """Keep ``at``'s state and calls (the run's record says ``awaiting_approval``)."""
    run = {"run_id": run_id, "round": at.round}
    pause = {"tenant_id": tenant_id, "state": at.state, "expires_at": at.expires_at}
    yield Step(INSERT_PAUSE, {**run, **pause, "created_at": at.stopped_at})
    for call in at.calls:
        yield Step(INSERT_CALL, {**run, **call, "requested_at": at.stopped_at})


class NotAwaiting(Exception):
    """The run is not awaiting approval (or its approvals expired): nothing was decided."""


class AlreadyDecided(Exception):
    def __init__(self, call_id: str) -> None:
        super().__init__(call_id)
        self.call_id = call_id


@dataclass(frozen=True, slots=True)
class Decisions:
    """Decisions on some of a run's pending calls, for :func:`decide`."""

    tenant_id: str
    run_id: str
    decisions: tuple[tuple[str, bool, str | None], ...]
    """(call id, approved, message) of each decision."""
    decided_by: str
    now: datetime


def decide(decisions: Decisions) -> Script[None]:
    """Record every decision (all or none: AlreadyDecided, NotAwaiting)."""
    run = {"tenant_id": decisions.tenant_id, "run_id": decisions.run_id, "now": decisions.now}
    if not (yield Step(LOCK_AWAITING, run)):
        raise NotAwaiting()
    for call_id, approved, message in decisions.decisions:
        step = Step(
            DECIDE,
            {
                **run,
                "call_id": call_id,
                "decided_by": decisions.decided_by,
                "approved": approved,
                "message": message,
            },
        )
        if not (yield step):
            raise AlreadyDecided(call_id)


def continue_run(
    tenant_id: str,
    run_id: str,
    status: Literal["running", "queued"],
    mode: str,
    expires_at: datetime,
) -> Script[bool]:
    """Mark the run (every call decided) as continuing; whether this script is the one that
    did (a concurrent request may have decided the last call first)."""
    params = {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "status": status,
        "mode": mode,
        "expires_at": expires_at,
    }
    return bool((yield Step(CONTINUE, params)))


async def forget_ended(tx: AsyncSession) -> None:
    """Delete the states of runs that ended without settling their continuation (a process
    that stopped mid-run: the sweep has failed them)."""
    unfinished = ("awaiting_approval", "queued", "running")
    ended = (
        ~select(RunRow.id)
        .where(RunRow.id == RunPauseRow.run_id, RunRow.status.in_(unfinished))
        .exists()
    )
    await tx.execute(delete(RunPauseRow).where(ended))


async def get_pause(tx: AsyncSession, run_id: str) -> RunPauseRow | None:
    return await tx.get(RunPauseRow, run_id)


async def calls(tx: AsyncSession, run_ids: Sequence[str]) -> Sequence[RunApprovalRow]:
    """The calls (decided or not) of the runs ``run_ids``, in the order they were asked."""
    statement = (
        select(RunApprovalRow)
        .where(RunApprovalRow.run_id.in_(run_ids))
        .order_by(RunApprovalRow.run_id, RunApprovalRow.round, RunApprovalRow.requested_at)
    )
    return (await tx.scalars(statement)).all()


async def expiries(tx: AsyncSession, run_ids: Sequence[str]) -> Sequence[tuple[str, datetime]]:
    """(run id, expires at) of those of ``run_ids`` that have a stored state."""
    statement = select(RunPauseRow.run_id, RunPauseRow.expires_at).where(
        RunPauseRow.run_id.in_(run_ids)
    )
    return [(run_id, at) for run_id, at in (await tx.execute(statement)).all()]


async def expirable(tx: AsyncSession, now: datetime) -> Sequence[tuple[str, str, str, str]]:
    """(run id, tenant id, agent, mode) of runs awaiting approval past their expiry."""
    statement = (
        select(RunRow.id, RunRow.tenant_id, RunRow.agent, RunRow.mode)
        .join(RunPauseRow, RunPauseRow.run_id == RunRow.id)
        .where(RunRow.status == "awaiting_approval", RunPauseRow.expires_at <= now)
    )
    rows = (await tx.execute(statement)).all()
    return [(row.id, row.tenant_id, row.agent, row.mode) for row in rows]


async def expire(tx: AsyncSession, run_id: str, now: datetime, code: str, message: str) -> bool:
    """End a run awaiting approval past its expiry as ``expired`` and delete its state;
    whether it was still so (a decision may have continued it first)."""
    past = (
        select(RunPauseRow.run_id)
        .where(RunPauseRow.run_id == run_id, RunPauseRow.expires_at <= now)
        .exists()
    )
    result = await tx.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == "awaiting_approval", past)
        .values(status="expired", error_code=code, error_message=message, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    pause = await tx.get(RunPauseRow, run_id)
    if pause is not None:
        await tx.delete(pause)
    return True
