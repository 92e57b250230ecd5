"""One run at a time per session, in order, through a lease in the database.

A run of a session takes a place in the session's line when it is admitted
(``store/repositories/session_leases.py``): at once the holder if no other run of the session
is in flight; else, by its ``on_busy``, refused (SESSION_BUSY), queued behind the others, or
queued after asking every run ahead to stop. The place is a row with an expiry (the run's
deadline plus a margin), so a process that dies does not keep a session forever.

The run sees the session through a :class:`SessionTurn` (the Agents SDK's ``Session``): its
first read waits for the run's turn, then reads the history once; what the run adds is kept
in memory and written in one transaction with giving up the lease, only if the run succeeds
and still holds the session. A failed, timed-out or interrupted run leaves the session as it
was. For a background run both the read and the write are durable steps: a resumed run sees
the history it started with, and its turn is never written twice (session items name their
run, and a write that is attempted again finds the turn already there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from agents.items import TResponseInputItem
from agents.memory import SessionSettings

from agenthost.errors import RunCancelled, SessionBusy
from agenthost.execution.types import OnBusy, RunMode
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.repositories import session_leases as leases
from agenthost.store.repositories import sessions as rows
from agenthost.store.types import utcnow
from agenthost.tenancy.session_watch import InterruptWatch
from agenthost.tenancy.sessions import decode_item, encode_item

T = TypeVar("T")
StepRunner = Callable[[str, Callable[[], Coroutine[Any, Any, Any]]], Coroutine[Any, Any, Any]]
"""Runs a named piece of work as a durable step (background runs)."""
BUSY_RETRY_AFTER_S = 1.0
INTERRUPTED_MESSAGE = "the run was interrupted by a newer run of its session"


class SessionLocks:
    """Builds the :class:`SessionTurn` of each run that continues a session."""

    def __init__(self, db: Database, settings: Settings, margin_s: float) -> None:
        self._db = db
        self._history_limit = settings.session_history_limit
        self._poll_s = settings.session_poll_s
        self._queue_s = settings.session_queue_s
        self._margin_s = margin_s
        self._watch = InterruptWatch(db, settings.session_poll_s)

    def turn(
        self, tenant_id: str, session_id: str, run_id: str, timeout_s: float, mode: RunMode
    ) -> SessionTurn:
        hold_s = timeout_s + self._margin_s
        return SessionTurn(
            self._db,
            self._watch,
            leases.Line(tenant_id, session_id),
            run_id,
            history_limit=self._history_limit,
            poll_s=self._poll_s,
            hold_s=hold_s,
            queued_s=self._queue_s if mode == "background" else hold_s,
        )


class SessionTurn:
    """One run's use of its session (implements the SDK's ``Session``)."""

    def __init__(
        self,
        db: Database,
        watch: InterruptWatch,
        line: leases.Line,
        run_id: str,
        *,
        history_limit: int,
        poll_s: float,
        hold_s: float,
        queued_s: float,
    ) -> None:
        self._db = db
        self._line = line
        self.session_id = line.session_id
        self.run_id = run_id
        self.part = run_id
        """What the items it writes are marked with: the run's id, and for the part of a run
        after a stop for approval, ``<run id>.<round>`` (so a retried write of either part
        finds only its own items)."""
        self.session_settings: SessionSettings | None = SessionSettings(limit=history_limit)
        self._poll_s, self._hold_s, self._queued_s = poll_s, hold_s, queued_s
        self._held = False
        self._history: list[TResponseInputItem] | None = None
        self._added: list[TResponseInputItem] = []
        self._cleared = False
        self._released = False
        self._watch = watch
        self.on_interrupt: Callable[[], None] = lambda: None
        """Stop the run (set by admission: it aborts the run as cancelled)."""
        self.steps: StepRunner | None = None
        """Set for background runs: the history read and the write are durable steps."""

    async def take(self, on_busy: OnBusy) -> None:
        """Take the run's place in the session's line; SessionBusy if refused."""
        now = utcnow()
        expires = now + timedelta(seconds=self._queued_s)
        async with self._db.transaction() as tx:
            taken = await leases.take(tx, self._line, self.run_id, on_busy, expires, now)
        if taken is None:
            raise SessionBusy(
                f"session {self.session_id!r} has a run in flight; retry later, or send "
                '"on_busy": "enqueue" to wait for it, or "interrupt" to cancel it',
                retry_after=BUSY_RETRY_AFTER_S,
            )
        self._held = taken

    # --- the SDK's Session protocol ----------------------------------------------------

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        if self._history is None:
            await self._hold()
            self._history = await self._step("session:read", self._read)
        items = [*self._history, *self._added]
        if limit is None and self.session_settings is not None:
            limit = self.session_settings.limit
        return items[-limit:] if limit else items

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        self._added.extend(items)

    async def pop_item(self) -> TResponseInputItem | None:
        """Only items this run added can be taken back (the stored history is not its own)."""
        return self._added.pop() if self._added else None

    async def clear_session(self) -> None:
        """Forget the history, when (and if) the run's turn is written."""
        self._history, self._added, self._cleared = [], [], True

    # --- the lease ---------------------------------------------------------------------

    async def commit(self) -> None:
        """Write what the run added and give up the session, in one transaction; a run
        interrupted meanwhile is cancelled instead (and writes nothing)."""
        if self._history is None:
            await self.get_items()  # never read: still wait for the turn before writing
        self.stop_watching()
        verdict = await self._step("session:write", self._write)
        self._released = True
        if verdict == "interrupted":
            raise RunCancelled(INTERRUPTED_MESSAGE)
        if verdict == "gone":  # its process stalled past the lease: another run may have run
            raise SessionBusy(
                "the run's lease on its session expired before its turn could be written; "
                "the turn was not saved"
            )

    async def release(self) -> None:
        """Give up the run's place or the session (after a failure, or after the write)."""
        self.stop_watching()
        if not self._released:
            async with self._db.transaction() as tx:
                await leases.leave(tx, self.run_id)
            self._released = True

    def stop_watching(self) -> None:
        self._watch.forget(self.run_id)

    async def _hold(self) -> None:
        """Wait until the run holds the session, then watch for an interrupt."""
        while not self._held:
            verdict = await self._attempt()
            if verdict == "interrupted":
                raise RunCancelled(INTERRUPTED_MESSAGE)
            if verdict == "held":
                self._held = True
            elif verdict == "lost":  # a resumed background run whose place expired
                await self.take("enqueue")
            else:
                await asyncio.sleep(self._poll_s)
        self._watch.watch(self.run_id, self.on_interrupt)

    async def _attempt(self) -> leases.Attempt:
        """One look at the line: lock-free while runs ahead still count, then locked."""
        now = utcnow()
        async with self._db.transaction(read_only=True) as tx:
            if await leases.still_waits(tx, self.run_id, now):
                return "wait"
        expires = now + timedelta(seconds=self._hold_s)
        async with self._db.transaction() as tx:
            return await leases.attempt(tx, self.run_id, expires, now)

    async def _read(self) -> list[TResponseInputItem]:
        limit = self.session_settings.limit if self.session_settings else None
        async with self._db.transaction(read_only=True) as tx:
            data = await rows.items(tx, self._line.tenant_id, self.session_id, limit)
        return [decode_item(d) for d in data]

    async def _write(self) -> str:
        """``written``, ``interrupted``, or ``gone`` (the lease is no longer the run's).

        Durable runs check first that their turn is not in the session already: a write whose
        step was not recorded (the process died right after it) is attempted again.
        """
        tenant_id, session_id, run_id, part = (
            self._line.tenant_id,
            self.session_id,
            self.run_id,
            self.part,
        )
        encoded = [encode_item(item) for item in self._added]
        async with self._db.transaction() as tx:
            state: str = await leases.holder_state(tx, run_id)
            durable = state == "holding" and self.steps is not None
            if durable and await rows.has_turn_of(tx, tenant_id, session_id, part):
                state = "written"
            if state != "holding":
                await leases.leave(tx, run_id)
                return state
            if self._cleared:
                await rows.clear(tx, tenant_id, session_id)
            await rows.append(tx, tenant_id, session_id, encoded, utcnow(), part)
            await leases.leave(tx, run_id)
        return "written"

    async def _step(self, name: str, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self.steps is None:
            return await work()
        result: T = await self.steps(name, work)
        return result
