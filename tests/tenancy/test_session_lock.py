"""Session leases on SQLite and PostgreSQL: one holder, a line in ticket order, expiry of a
dead holder, interrupts, and a turn written once (also when its write is attempted again)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agenthost.errors import RunCancelled, SessionBusy
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.tenancy.auth import ensure_tenant
from agenthost.tenancy.session_lock import SessionLocks, SessionTurn
from agenthost.tenancy.sessions import SessionStore


def _message(text: str) -> Any:
    return {"role": "user", "content": text}


@pytest.fixture
async def locks(db: Database) -> SessionLocks:
    await ensure_tenant(db, "acme", "Acme")
    return SessionLocks(db, Settings(session_poll_s=0.01), margin_s=0)


def _turn(locks: SessionLocks, run_id: str, timeout_s: float = 30, mode: Any = "sync") -> Any:
    return locks.turn("acme", "s1", run_id, timeout_s, mode)


async def _history(db: Database) -> list[str]:
    view = await SessionStore(db, 100).view("acme", "s1")
    return [] if view is None else [item["content"] for item in view.items]


async def _turn_of(turn: SessionTurn, text: str) -> None:
    """What a run does: wait for its turn, read, add, write."""
    await turn.get_items()
    await turn.add_items([_message(text)])
    await turn.commit()


async def test_one_holder_and_a_line_served_in_ticket_order(
    locks: SessionLocks, db: Database
) -> None:
    first = _turn(locks, "run-1")
    await first.take("reject")
    with pytest.raises(SessionBusy) as refused:
        await _turn(locks, "run-x").take("reject")
    assert refused.value.retry_after is not None
    waiting = [_turn(locks, f"run-{i}") for i in range(2, 6)]
    for turn in waiting:
        await turn.take("enqueue")
    # Started in reverse order: the line, not the polling, decides who goes next.
    tasks = [asyncio.create_task(_turn_of(t, t.run_id)) for t in reversed(waiting)]
    await asyncio.sleep(0.1)
    assert await _history(db) == []  # all of them wait for the first
    await _turn_of(first, "run-1")
    await asyncio.gather(*tasks)
    assert await _history(db) == [f"run-{i}" for i in range(1, 6)]
    for turn in (first, *waiting):
        await turn.release()
    await _turn(locks, "run-free").take("reject")  # the session is free again


async def test_a_dead_holders_lease_expires(locks: SessionLocks, db: Database) -> None:
    crashed = _turn(locks, "run-crashed", timeout_s=0.2)  # its process never comes back
    await crashed.take("reject")
    await crashed.get_items()
    later = _turn(locks, "run-later")
    with pytest.raises(SessionBusy):
        await later.take("reject")
    await later.take("enqueue")
    await asyncio.wait_for(_turn_of(later, "later"), timeout=5)
    assert await _history(db) == ["later"]


async def test_interrupt_stops_the_holder_and_drops_the_waiters(
    locks: SessionLocks, db: Database
) -> None:
    holder, waiter, newer = (_turn(locks, f"run-{n}") for n in ("h", "w", "n"))
    interrupted = asyncio.Event()
    holder.on_interrupt = interrupted.set
    await holder.take("reject")
    await holder.get_items()
    await holder.add_items([_message("partial")])
    await waiter.take("enqueue")
    await newer.take("interrupt")
    await asyncio.wait_for(interrupted.wait(), timeout=5)
    with pytest.raises(RunCancelled):
        await waiter.get_items()
    with pytest.raises(RunCancelled):
        await holder.commit()  # finished anyway: still cancelled, nothing written
    await waiter.release()
    await asyncio.wait_for(_turn_of(newer, "newer"), timeout=5)
    assert await _history(db) == ["newer"]


async def test_a_durable_write_attempted_again_writes_nothing_more(
    locks: SessionLocks, db: Database
) -> None:
    async def step(_name: str, work: Any) -> Any:
        return await work()  # a step whose result was never recorded: it runs again

    for attempt in range(2):  # the run, then its replay after a crash right after the write
        turn = _turn(locks, "run-bg", mode="background")
        turn.steps = step
        if attempt == 0:
            await turn.take("reject")
        await _turn_of(turn, "background turn")
        await turn.release()
    assert await _history(db) == ["background turn"]
    await _turn(locks, "run-next").take("reject")


async def test_a_run_sees_its_own_items_but_the_session_only_after_it_succeeds(
    locks: SessionLocks, db: Database
) -> None:
    await ensure_tenant(db, "acme", "Acme")
    turn = _turn(locks, "run-1")
    await turn.take("reject")
    await turn.add_items([_message("a"), _message("b")])
    assert await turn.get_items() == [_message("a"), _message("b")]
    assert await turn.pop_item() == _message("b")
    assert await _history(db) == []
    await turn.commit()
    assert await _history(db) == ["a"]
    failed = _turn(locks, "run-2")
    await failed.take("reject")
    assert await failed.get_items() == [_message("a")]
    await failed.add_items([_message("never kept")])
    await failed.release()  # the run failed
    assert await _history(db) == ["a"]
