"""The durable workflow of one background run, executed by whichever process dequeues it.

It resumes the admitted run (checking the agent and the tenant again), marks it running,
executes it through the pipeline with the durable runner, writes its last event, and
delivers its webhook. If the process dies, another resumes the workflow: completed model and
tool calls, and a delivered webhook, are replayed from DBOS instead of being repeated.

A process that is starting waits until it is ready; one that is draining, or that cannot
reach the database for long, parks the run: it keeps it, unstarted, until the process exits,
and another process (or this one's restart) resumes it. Parking is the only way to leave a
DBOS workflow pending on purpose: an asyncio cancellation is never recorded as its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dbos import DBOS, StepReservation

from agenthost.errors import (
    AgentHostError,
    DependencyUnavailable,
    Forbidden,
    ShuttingDown,
    TenantNotFound,
)
from agenthost.execution.admission import Admission
from agenthost.execution.approvals import continue_from
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.pipeline import Pipeline
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunRequest, RunState
from agenthost.jobs.active import ActiveRuns
from agenthost.jobs.durable import DurableRunner
from agenthost.jobs.outcome import settled_event, webhook_body
from agenthost.jobs.payload import RunPayload
from agenthost.jobs.progress import END, RunEvents
from agenthost.jobs.webhook import Webhooks
from agenthost.store.database import Database
from agenthost.store.repositories import tenants
from agenthost.store.repositories.events import Event
from agenthost.store.tables import RunRow
from agenthost.telemetry.tracing import continued
from agenthost.tenancy.ledger import Ledger
from agenthost.tenancy.principal import Principal, Tenant, tenant_from_row
from agenthost.tenancy.principal_cache import PrincipalCache

logger = logging.getLogger(__name__)

T = TypeVar("T")
READY_POLL_S = 0.05
RETRY_DELAYS_S = (0.5, 1, 2, 4, 8, 15, 30, 30, 30, 30, 30, 30, 30, 30)
"""Waits between attempts of the workflow's own database work (about five minutes in all);
a database still unreachable after that parks the run."""


async def park() -> None:
    """Hold the run, unstarted, until this process exits (see the module's docstring)."""
    await asyncio.Event().wait()


async def persistently(work: Callable[[], Awaitable[T]]) -> T:
    """``work()``, retried while the database is unreachable; parks the run if it stays so."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            return await work()
        except DependencyUnavailable as exc:
            if delay is None:
                logger.error("database unreachable; leaving the run to be resumed later")
                await park()
            logger.warning("background run waits for the database: %s", exc.message)
            await asyncio.sleep(delay or 0)
    raise AssertionError("unreachable")


@dataclasses.dataclass(frozen=True, slots=True)
class RunWorkflow:
    db: Database
    admission: Admission
    pipeline: Pipeline
    settlement: Settlement
    lifecycle: Lifecycle
    ledger: Ledger
    runner: DurableRunner
    events: RunEvents
    webhooks: Webhooks
    active: ActiveRuns
    tenants: PrincipalCache[Tenant]
    """Tenants read in the last ``auth_cache_ttl_s``: a tenant disabled or changed elsewhere
    stops or changes its runs here within that long, as its keys do on the API."""

    async def __call__(self, data: dict[str, Any]) -> None:
        payload = RunPayload.from_dict(data)
        # Dequeued while this process is still starting (a once-per-process moment).
        while not self.lifecycle.ready and not self.lifecycle.draining:  # noqa: ASYNC110
            await asyncio.sleep(READY_POLL_S)
        if self.lifecycle.draining:
            await park()
        with continued(payload.trace):
            await self._run(payload)

    async def _run(self, payload: RunPayload) -> None:
        # The webhook's step number is fixed first, whatever path the run takes below.
        webhook = DBOS.reserve_step() if payload.webhook_url is not None else None
        unwritten: list[Event] | None = []
        try:
            request = await persistently(lambda: self._request(payload))
            state = self.admission.resume(request, payload.period, continued=payload.round > 0)
        except ShuttingDown:
            await park()
        except AgentHostError as refused:
            await self._refuse(payload, refused)
        else:
            if await self._continues(payload, state):
                unwritten = await self._execute(state)
        tenant_id, run_id = payload.tenant_id, payload.run_id
        if unwritten is not None:
            row = await persistently(lambda: self.events.end(tenant_id, run_id, unwritten))
        elif webhook is None:  # its settlement wrote its last event
            return
        else:
            row = await persistently(lambda: self.events.record(tenant_id, run_id))
        if webhook is not None:
            await self._notify(webhook, payload.webhook_url or "", row)

    async def _continues(self, payload: RunPayload, state: RunState) -> bool:
        """Whether to execute ``state``: a new run, or a continuation after a stop for approval
        (from its stored state) that has not settled yet (before a crash)."""
        if not payload.round:
            return True
        try:
            resume = await persistently(
                lambda: self.ledger.resume_point(payload.tenant_id, payload.run_id)
            )
        except BaseException:
            self.lifecycle.run_finished(state)
            raise
        if resume is None or resume.round != payload.round:  # settled, maybe stopped again
            self.lifecycle.run_finished(state)
            return False
        continue_from(state, resume)
        return True

    async def _refuse(self, payload: RunPayload, error: AgentHostError) -> None:
        """End a run that may no longer run (its agent or the tenant's rights are gone)."""
        await persistently(
            lambda: self.ledger.fail_unstarted(
                payload.tenant_id, payload.run_id, payload.period, error, refund=not payload.round
            )
        )

    async def _request(self, payload: RunPayload) -> RunRequest:
        tenant_id = payload.tenant_id
        tenant = await self.tenants.get(tenant_id, lambda: self._tenant(tenant_id))
        return payload.request(Principal(tenant, payload.key_id, frozenset()))

    async def _tenant(self, tenant_id: str) -> Tenant:
        """The tenant whose run this is, if it may still run (read again: a queued run may
        be older than any cached principal)."""
        row = await self.db.scripts.run(tenants.find(tenant_id))
        if row is None:
            raise TenantNotFound(f"tenant {tenant_id!r} no longer exists")
        tenant = tenant_from_row(row)
        if tenant.disabled:
            raise Forbidden("the tenant is disabled")
        return tenant

    async def _execute(self, state: RunState) -> list[Event] | None:
        """Run ``state`` to its settlement (its record then says how it ended); the events it
        made that are not written yet, or None if its settlement wrote them and its last."""
        with self.runner.durable(state) as progress:
            try:
                verdict = await persistently(lambda: self.ledger.start(state, progress.opening()))
            except BaseException:
                self.lifecycle.run_finished(state)
                raise
            if verdict == "ended":  # cancelled while queued, or settled before a crash
                self.lifecycle.run_finished(state)
            elif verdict == "cancel":  # asked to cancel before it (re)started: no refund
                state.model_called = True
                await self.settlement.abandon(state)
            else:
                state.closing_events = lambda outcome: [
                    *progress.unwritten(),
                    (END, *settled_event(state, outcome)),
                ]
                with self.active.running(state), contextlib.suppress(AgentHostError):
                    await self.pipeline.execute(state, self.runner)
            return None if state.events_closed else progress.unwritten()

    async def _notify(self, step: StepReservation, url: str, row: RunRow) -> None:
        options = self.runner.step_options | {"name": "webhook"}
        try:
            await step.run_async(options, self.webhooks.deliver, url, webhook_body(row))
        except Exception as exc:  # the run's outcome stands; the receiver missed it
            logger.warning("webhook not delivered: %s", exc, extra={"run_id": row.id})
