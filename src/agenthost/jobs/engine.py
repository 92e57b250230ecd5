"""DBOS Transact for one process: configured from settings, launched at start-up, destroyed at
shutdown.

DBOS keeps one instance per process (its own global); :class:`DurableEngine` is the only code
that touches it, and registers agenthost's workflow at launch rather than at import time.
Launching inside the server's event loop makes DBOS run workflows on that loop, beside the
requests, so they share the container's database engine and HTTP clients.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from dbos import DBOS, DBOSConfig, Queue, SetEnqueueOptions, SetWorkflowID
from dbos import error as dbos_error
from sqlalchemy.engine import URL

from agenthost import __version__
from agenthost.settings import ConfigError, Settings
from agenthost.store.database import database_url

QUEUE = "agenthost-runs"
WORKFLOW = "agenthost.run"
APP_NAME = "agenthost"

Workflow = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

logger = logging.getLogger(__name__)


def system_database_url(settings: Settings) -> str:
    """DBOS's system database: the configured one, else beside (SQLite) or inside
    (PostgreSQL, schema ``dbos``) agenthost's own database."""
    if settings.dbos_database_url is not None:
        return settings.dbos_database_url.get_secret_value()
    url = database_url(settings.database_url.get_secret_value())
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        stem = url.database.removesuffix(".db")
        return URL.create("sqlite", database=f"{stem}.dbos.db").render_as_string()
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def migrate_system_database(settings: Settings) -> None:
    """Create or upgrade DBOS's tables (part of ``agenthost db upgrade``; never at start-up)."""
    DBOS.migrate(system_database_url(settings))


class DurableEngine:
    def __init__(self, settings: Settings, executor_id: str) -> None:
        self._settings = settings
        self.executor_id = executor_id
        self.app_version = settings.app_version or __version__
        self._workflow: Workflow | None = None
        self._queue: Queue | None = None
        self._launched = False

    async def launch(self, workflow: Workflow, *, listen: bool) -> None:
        """Start DBOS (in the running event loop); ``listen``: execute queued runs here."""
        settings = self._settings
        config: DBOSConfig = {
            "name": APP_NAME,
            "system_database_url": system_database_url(settings),
            "application_version": self.app_version,
            "executor_id": self.executor_id,
            "log_level": "WARNING",
            "sys_db_pool_size": max(4, settings.database_pool_size),
            # Migrations are a deploy step (`agenthost db upgrade`), not every replica's start.
            "run_migrations": False,
        }
        DBOS(config=config)
        try:

            async def run(payload: dict[str, Any]) -> None:
                await workflow(payload)

            self._workflow = DBOS.workflow(name=WORKFLOW)(run)
            if not listen:
                DBOS.listen_queues([])
            try:
                DBOS.launch()
            except dbos_error.DBOSException as exc:
                raise ConfigError(
                    f"DBOS's tables are missing or out of date ({exc}); run `agenthost db upgrade`"
                ) from None
            self._launched = True
            # Kept: looking the queue up again would read its row on every enqueue.
            self._queue = await DBOS.register_queue_async(
                QUEUE,
                worker_concurrency=settings.worker_concurrency,
                global_concurrency=settings.queue_concurrency,
                partition_concurrency=settings.tenant_concurrency,
                polling_interval_sec=settings.queue_poll_s,
                # The queue's limits are one row shared by all processes: the executing ones
                # write theirs; one that only queues runs creates the row if it is missing.
                on_conflict="always_update" if listen else "never_update",
            )
        except BaseException:
            DBOS.destroy(destroy_registry=True)
            raise

    async def enqueue(self, workflow_id: str, tenant_id: str, payload: dict[str, Any]) -> None:
        """Queue ``payload`` as the durable workflow ``workflow_id`` (idempotent per id)."""
        assert self._queue is not None and self._workflow is not None, "launched"
        partition = tenant_id if self._settings.tenant_concurrency is not None else None
        with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=partition):
            await self._queue.enqueue_async(self._workflow, payload)

    def recover(self, executor_ids: list[str]) -> int:
        """Put the unfinished runs of dead executors back on the queue; how many."""
        return len(DBOS._recover_pending_workflows(executor_ids))

    def destroy(self) -> None:
        if self._launched or self._workflow is not None:
            self._launched, self._workflow, self._queue = False, None, None
            DBOS.destroy(destroy_registry=True)
