"""A session's line of runs: who holds the session, who waits, in which order.

Every change locks the session's lease row first (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite has one writer at a time), and each statement after the lock sees every change
committed before it, so concurrent runs — in one process or many — agree on one order and on
one holder. Tickets are numbered under that lock, so a lower ticket was always committed
before a higher one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, exists, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.store.repositories.runs import OPEN
from agenthost.store.repositories.upsert import insert_ignore
from agenthost.store.tables import RunRow, SessionLeaseRow, SessionTicketRow

Attempt = Literal["held", "wait", "interrupted", "lost"]
Ticket = SessionTicketRow


@dataclass(frozen=True, slots=True)
class Line:
    tenant_id: str
    session_id: str

    def of(self) -> ColumnElement[bool]:
        return and_(Ticket.tenant_id == self.tenant_id, Ticket.session_id == self.session_id)


def _ended() -> ColumnElement[bool]:
    """The ticket's run has a record, and it has ended."""
    return exists().where(RunRow.id == Ticket.run_id, RunRow.status.not_in(OPEN))


def _counts(now: datetime) -> ColumnElement[bool]:
    """The ticket still keeps the runs behind it waiting."""
    return and_(
        Ticket.expires_at > now, or_(Ticket.holding, not_(Ticket.interrupted)), not_(_ended())
    )


async def _lock(tx: AsyncSession, line: Line) -> SessionLeaseRow | None:
    return await tx.scalar(
        select(SessionLeaseRow)
        .where(
            SessionLeaseRow.tenant_id == line.tenant_id,
            SessionLeaseRow.session_id == line.session_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def take(
    tx: AsyncSession, line: Line, run_id: str, on_busy: str, expires_at: datetime, now: datetime
) -> bool | None:
    """Give ``run_id`` the next place in the line. None: refused (busy, ``reject``); True: it
    holds the session at once; False: it waits (after interrupting the others, if asked)."""
    await insert_ignore(
        tx,
        SessionLeaseRow,
        {"tenant_id": line.tenant_id, "session_id": line.session_id, "last_ticket": 0},
    )
    lease = await _lock(tx, line)
    assert lease is not None
    busy = await tx.scalar(select(exists().where(line.of(), _counts(now))))
    if busy and on_busy == "reject":
        return None
    await tx.execute(
        delete(Ticket).where(line.of(), or_(Ticket.expires_at <= now, _ended()))
    )  # the places of runs that are over
    if busy and on_busy == "interrupt":
        await tx.execute(update(Ticket).where(line.of()).values(interrupted=True))
    lease.last_ticket += 1
    tx.add(
        Ticket(
            run_id=run_id,
            tenant_id=line.tenant_id,
            session_id=line.session_id,
            ticket=lease.last_ticket,
            holding=not busy,
            interrupted=False,
            expires_at=expires_at,
        )
    )
    await tx.flush()
    return not busy


async def _mine(tx: AsyncSession, run_id: str) -> Ticket | None:
    """The run's ticket, read again after its line was locked."""
    ticket = await tx.get(Ticket, run_id)
    if ticket is None or await _lock(tx, Line(ticket.tenant_id, ticket.session_id)) is None:
        return None
    return await tx.get(Ticket, run_id, populate_existing=True)


async def attempt(tx: AsyncSession, run_id: str, expires_at: datetime, now: datetime) -> Attempt:
    """Take the session if ``run_id``'s turn has come (``held``, until ``expires_at``).
    ``interrupted``: a newer run asked it to stop; ``lost``: it has no place (anymore)."""
    mine = await _mine(tx, run_id)
    if mine is None:
        return "lost"
    if mine.expires_at <= now:
        await tx.delete(mine)
        return "lost"
    if mine.interrupted:
        return "interrupted"
    if not mine.holding and await tx.scalar(select(_ahead(mine, now))):
        return "wait"
    mine.holding, mine.expires_at = True, expires_at
    return "held"


def _ahead(mine: Ticket, now: datetime) -> ColumnElement[bool]:
    """A run ahead of ``mine`` in its line still counts."""
    line = Line(mine.tenant_id, mine.session_id)
    return exists().where(line.of(), Ticket.ticket < mine.ticket, _counts(now))


async def still_waits(tx: AsyncSession, run_id: str, now: datetime) -> bool:
    """A lock-free look: ``run_id`` waits and a run ahead of it still counts (if not, the
    caller makes an :func:`attempt`)."""
    mine = await tx.get(Ticket, run_id)
    if mine is None or mine.holding or mine.interrupted or mine.expires_at <= now:
        return False
    return bool(await tx.scalar(select(_ahead(mine, now))))


async def interrupted_among(tx: AsyncSession, run_ids: Sequence[str]) -> Sequence[str]:
    """Which of ``run_ids`` a newer run of their session interrupted."""
    statement = select(Ticket.run_id).where(Ticket.run_id.in_(run_ids), Ticket.interrupted)
    return (await tx.scalars(statement)).all()


async def leave(tx: AsyncSession, run_id: str) -> bool:
    """Give up ``run_id``'s place (or the session it holds); whether it had one."""
    result = await tx.execute(delete(Ticket).where(Ticket.run_id == run_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def holder_state(tx: AsyncSession, run_id: str) -> Literal["holding", "interrupted", "gone"]:
    """Whether ``run_id`` still holds its session (read after locking its line): ``gone`` if
    it has no place anymore (it gave it up, or it expired)."""
    mine = await _mine(tx, run_id)
    if mine is None or not mine.holding:
        return "gone"
    return "interrupted" if mine.interrupted else "holding"
