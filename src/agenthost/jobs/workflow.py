"""The durable workflow of one background run, executed by whichever process dequeues it.

It resumes the admitted run (checking the agent and the tenant again), marks it running,
executes it through the pipeline with the durable runner, writes its last event, and
delivers its webhook. If the process dies, another resumes the workflow: completed model and
tool calls, and a delivered webhook, are replayed from DBOS instead of being repeated.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from dbos import DBOS

from agenthost.api.errors import problem_body
from agenthost.errors import AgentHostError, ErrorCode, Forbidden, RunCancelled, TenantNotFound
from agenthost.execution.admission import Admission
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.pipeline import Pipeline, final_data
from agenthost.execution.settlement import Settlement
from agenthost.execution.types import RunOutcome, RunRequest, RunState
from agenthost.jobs.active import ActiveRuns
from agenthost.jobs.durable import DurableRunner
from agenthost.jobs.payload import RunPayload
from agenthost.jobs.progress import END, RunEvents
from agenthost.jobs.webhook import Webhooks
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.repositories import tenants
from agenthost.tenancy.ledger import CANCELLED_MESSAGE, Ledger
from agenthost.tenancy.principal import Principal, tenant_from_row

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class RunWorkflow:
    settings: Settings
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

    async def __call__(self, data: dict[str, Any]) -> None:
        payload = RunPayload.from_dict(data)
        if not self.lifecycle.accepting:
            # Draining: leave the run pending, for another process (or this one's restart).
            raise asyncio.CancelledError
        try:
            state = self.admission.resume(await self._request(payload), payload.period)
        except AgentHostError as refused:
            await self.ledger.fail_unstarted(
                payload.tenant_id, payload.run_id, payload.period, refused
            )
            await self._end(payload, None, refused, "failed")
            return
        outcome, error = await self._execute(state)
        await self._end(payload, outcome, error, state.status)

    async def _request(self, payload: RunPayload) -> RunRequest:
        async with self.db.transaction() as tx:
            row = await tenants.get(tx, payload.tenant_id)
        if row is None:
            raise TenantNotFound(f"tenant {payload.tenant_id!r} no longer exists")
        tenant = tenant_from_row(row)
        if tenant.disabled:
            raise Forbidden("the tenant is disabled")
        return payload.request(Principal(tenant, payload.key_id, frozenset()))

    async def _execute(self, state: RunState) -> tuple[RunOutcome | None, AgentHostError | None]:
        verdict = await self.ledger.start(state)
        if verdict == "ended":  # cancelled while queued: already settled
            self.lifecycle.run_finished(state)
            state.mark_cancelled()
            return None, None
        if verdict == "cancel":  # asked to cancel before it (re)started: no refund
            state.model_called = True
            await self.settlement.abandon(state)
            return None, None
        run_id = state.request.run_id
        await self.events.append(
            run_id, "started", "run_started", {"run_id": run_id, "agent": state.entry.name}
        )
        with self.active.running(state):
            try:
                return await self.pipeline.execute(state, self.runner), None
            except AgentHostError as error:
                return None, error

    async def _end(
        self,
        payload: RunPayload,
        outcome: RunOutcome | None,
        error: AgentHostError | None,
        status: str,
    ) -> None:
        run_id = payload.run_id
        if outcome is not None:
            await self.events.append(run_id, END, "final", final_data(outcome))
        else:
            failure = error or RunCancelled(CANCELLED_MESSAGE)
            body = problem_body(failure, payload.request_id) | {"run_id": run_id}
            await self.events.append(run_id, END, "error", body)
        if payload.webhook_url is not None:
            await self._notify(payload, outcome, error, status)

    async def _notify(
        self,
        payload: RunPayload,
        outcome: RunOutcome | None,
        error: AgentHostError | None,
        status: str,
    ) -> None:
        body: dict[str, Any] = {
            "run_id": payload.run_id,
            "agent": payload.agent,
            "status": status,
            "metadata": payload.metadata,
            "output": None if outcome is None else outcome.output,
            "usage": None if outcome is None else dataclasses.asdict(outcome.usage),
            "error": None
            if error is None
            else {"code": error.code.value, "message": error.message},
        }
        if status == "cancelled":
            body["error"] = {"code": ErrorCode.RUN_CANCELLED.value, "message": CANCELLED_MESSAGE}
        options = self.runner.step_options | {"name": "webhook"}
        try:
            await DBOS.run_step_async(
                options, self.webhooks.deliver, payload.webhook_url or "", body
            )
        except Exception as exc:  # the run's outcome stands; the receiver missed it
            logger.warning("webhook not delivered: %s", exc, extra={"run_id": payload.run_id})
