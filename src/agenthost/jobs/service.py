"""Background runs for the rest of agenthost: queue one, cancel one, read its events; and,
in processes that execute them, the workflow, the janitor and the cancel watcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from agents.models.interface import ModelProvider

from agenthost.api.errors import problem_body
from agenthost.errors import DependencyUnavailable, RunCancelled
from agenthost.execution.admission import Admission
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.pipeline import Pipeline
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunRequest, RunState
from agenthost.jobs.active import ActiveRuns
from agenthost.jobs.durable import DurableRunner
from agenthost.jobs.engine import DurableEngine
from agenthost.jobs.janitor import Janitor
from agenthost.jobs.payload import RunPayload
from agenthost.jobs.progress import END, RunEvents
from agenthost.jobs.webhook import Webhooks, check_url
from agenthost.jobs.workflow import RunWorkflow
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.tables import RunEventRow
from agenthost.telemetry.metrics import Metrics
from agenthost.telemetry.tracing import capture
from agenthost.tenancy.ledger import CANCELLED_MESSAGE, Ledger
from agenthost.tenancy.principal import Tenant
from agenthost.tenancy.principal_cache import PrincipalCache

logger = logging.getLogger(__name__)


def executor_id(settings: Settings) -> str:
    return settings.executor_id or socket.gethostname()


class BackgroundRuns:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        provider: ModelProvider,
        admission: Admission,
        pipeline: Pipeline,
        settlement: Settlement,
        lifecycle: Lifecycle,
        ledger: Ledger,
        *,
        executes: bool,
    ) -> None:
        self._settings = settings
        self._admission = admission
        self._ledger = ledger
        self.executes = executes
        # A process that only queues runs never owns one: its own identity keeps DBOS's
        # start-up recovery from taking the runs of an executing process on the same host.
        identity = executor_id(settings) if executes else f"{executor_id(settings)}.enqueue-only"
        self.engine = DurableEngine(settings, identity)
        self.events = RunEvents(db)
        self.active = ActiveRuns(ledger, settings.cancel_poll_s)
        self._webhooks = Webhooks(settings)
        self._tenants = PrincipalCache[Tenant](settings.auth_cache_ttl_s)
        self._workflow = RunWorkflow(
            db=db,
            admission=admission,
            pipeline=pipeline,
            settlement=settlement,
            lifecycle=lifecycle,
            ledger=ledger,
            runner=DurableRunner(settings, provider, self.events),
            events=self.events,
            webhooks=self._webhooks,
            active=self.active,
            tenants=self._tenants,
        )
        self.janitor = (
            Janitor(settings, db, self.engine, self.active.suspend_all) if executes else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._registered = False

    async def start(self) -> None:
        """Launch DBOS (in the running loop); when executing, also resume this executor's
        unfinished runs and start the janitor and the cancel watcher."""
        if self.janitor is not None:
            await self.janitor.register()
            self._registered = True
        await self.engine.launch(self._workflow, listen=self.executes)
        if self.janitor is not None:
            self._tasks = [
                asyncio.create_task(self.janitor.keep_watch()),
                asyncio.create_task(self.active.keep_watching()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.janitor is not None and self._registered:  # (not if start-up failed first)
            self._registered = False
            try:
                await self.janitor.retire()
            except DependencyUnavailable as exc:
                logger.warning("could not mark this executor as stopped: %s", exc.message)
        await asyncio.to_thread(self.engine.destroy)
        # DBOS made its thread pool the loop's default executor and has just shut it down.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
        await self._webhooks.aclose()

    def forget_tenants(self) -> None:
        """A tenant changed in this process: its runs here see the change at once."""
        self._tenants.clear()

    async def check_identity(self) -> None:
        """ConfigError now if a live process holds this process's executor id (so ``serve``
        says so once, before starting, instead of failing in its start-up hook)."""
        if self.janitor is not None:
            await self.janitor.check_available()

    async def submit(self, request: RunRequest, webhook_url: str | None = None) -> str:
        """Admit ``request`` and queue it; its run id. The run's month is counted now."""
        if webhook_url is not None:
            check_url(webhook_url, self._settings)
        state = await self._admission.admit(request, "background")
        return await self._enqueue(RunPayload.of(state, webhook_url, capture()))

    async def continue_run(self, state: RunState) -> str:
        """Queue a run whose approvals were all decided (admitted by
        :meth:`Admission.admit_decided`); it continues from its stored state."""
        return await self._enqueue(RunPayload.of(state, None, capture()))

    async def _enqueue(self, payload: RunPayload) -> str:
        try:
            await self.engine.enqueue(payload.workflow_id, payload.tenant_id, payload.to_dict())
        except Exception as exc:
            error = DependencyUnavailable("the run could not be queued; retry later")
            logger.exception("could not queue background run", extra={"run_id": payload.run_id})
            await self._ledger.fail_unstarted(
                payload.tenant_id, payload.run_id, payload.period, error, refund=payload.round == 0
            )
            body = problem_body(error, payload.request_id) | {"run_id": payload.run_id}
            await self.events.append(payload.run_id, END, "error", body)
            raise error from exc
        return payload.run_id

    async def cancel(self, tenant_id: str, run_id: str, request_id: str | None) -> bool | None:
        """Cancel a queued or running background run (see :meth:`Ledger.cancel`)."""
        terminal = problem_body(RunCancelled(CANCELLED_MESSAGE), request_id) | {"run_id": run_id}
        ended = await self._ledger.cancel(tenant_id, run_id, terminal)
        if ended is False:
            self.active.cancel(run_id)  # at once if it executes here; else its watcher will
        return ended

    async def events_after(self, run_id: str, last_id: int) -> Sequence[RunEventRow]:
        return await self.events.after(run_id, last_id)

    async def measure(self, metrics: Metrics) -> None:
        """Set the queue-depth and run-state gauges from the database (all processes' runs)."""
        counts = await self._ledger.background_counts()
        metrics.queue_depth.set(counts.get("queued", 0))
        for status in ("queued", "running"):
            metrics.background_runs.labels(status).set(counts.get(status, 0))
