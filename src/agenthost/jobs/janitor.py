"""Heartbeats of the processes executing background runs, and recovery of dead ones.

DBOS resumes a process's unfinished runs when a process with the same executor id starts
again; a process that never comes back would strand them. So every executing process records
a heartbeat, and each looks for processes of its own version silent for
``executor_dead_after_s``: the one that claims a dead process's row puts that process's
unfinished runs back on the queue, for any live process to resume. A process that finds itself
taken for dead (a pause longer than that) suspends the runs it still executes. A process that
exits cleanly marks itself silent, so the runs it could not finish are resumed at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from agenthost.errors import DependencyUnavailable
from agenthost.jobs.engine import DurableEngine
from agenthost.settings import ConfigError, Settings
from agenthost.store.database import Database
from agenthost.store.repositories import executors
from agenthost.store.tables import ExecutorRow
from agenthost.store.types import utcnow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

logger = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Janitor:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        engine: DurableEngine,
        on_taken_for_dead: Callable[[], None],
    ) -> None:
        self._db = db
        self._engine = engine
        self._on_taken_for_dead = on_taken_for_dead
        self._beat_s = settings.heartbeat_s
        self._dead_after = timedelta(seconds=settings.executor_dead_after_s)
        self.instance = uuid.uuid4().hex
        self._host = socket.gethostname()

    @property
    def executor_id(self) -> str:
        return self._engine.executor_id

    async def check_available(self) -> None:
        """ConfigError if a live process holds this process's executor id."""
        async with self._db.transaction() as tx:
            self._refuse_if_held(await executors.get(tx, self.executor_id), utcnow())

    def _refuse_if_held(self, row: ExecutorRow | None, now: datetime) -> None:
        if row is not None and self._held_by_other(row, now):
            raise ConfigError(
                f"executor id {self.executor_id!r} is in use by a live process (pid "
                f"{row.pid} on {row.host}); give each process its own executor_id "
                "(AGENTHOST_EXECUTOR_ID)"
            )

    async def register(self) -> None:
        """Record this process under its executor id; ConfigError if a live process has it."""
        now = utcnow()
        async with self._db.transaction() as tx:
            self._refuse_if_held(await executors.get(tx, self.executor_id), now)
            await executors.register(
                tx,
                ExecutorRow(
                    id=self.executor_id,
                    instance=self.instance,
                    host=self._host,
                    pid=os.getpid(),
                    app_version=self._engine.app_version,
                    started_at=now,
                    heartbeat_at=now,
                ),
            )

    def _held_by_other(self, row: ExecutorRow, now: datetime) -> bool:
        if row.heartbeat_at < now - self._dead_after:
            return False
        if row.host != self._host:
            return True
        # The same host: a restart (the old process is gone, or we are it, as PID 1 is).
        return row.pid != os.getpid() and _alive(row.pid)

    async def keep_watch(self) -> None:
        """Beat, and resume the runs of dead processes, every ``heartbeat_s``."""
        while True:
            try:
                await self.tick()
            except DependencyUnavailable as exc:
                logger.warning("janitor could not reach the database: %s", exc.message)
            except Exception:  # the heartbeat must go on whatever one round ran into
                logger.exception("janitor round failed")
            await asyncio.sleep(self._beat_s)

    async def tick(self) -> int:
        """One round: heartbeat, then recovery; how many runs were put back on the queue."""
        now = utcnow()
        async with self._db.transaction() as tx:
            alive = await executors.beat(tx, self.executor_id, self.instance, now)
            silent = await executors.silent_since(
                tx, now - self._dead_after, self._engine.app_version
            )
        if not alive:  # claimed as dead (a long pause?): its runs were queued again
            logger.error("this process was taken for dead; leaving its runs to the others")
            self._on_taken_for_dead()
            await self.register()
        resumed = 0
        for row in silent:
            if row.id == self.executor_id:
                continue
            async with self._db.transaction() as tx:
                claimed = await executors.claim(tx, row.id, row.instance)
            if claimed:
                count = await asyncio.to_thread(self._engine.recover, [row.id])
                logger.warning(
                    "executor %s stopped heart-beating; %d of its run(s) queued again",
                    row.id,
                    count,
                )
                resumed += count
        return resumed

    async def retire(self) -> None:
        """Mark this process silent, so that others resume what it leaves unfinished."""
        async with self._db.transaction() as tx:
            await executors.mark_silent(tx, self.executor_id, self.instance, LONG_AGO)
