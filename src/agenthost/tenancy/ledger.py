"""The database side of a run: what admission reserves and settlement records.

Opening a run is one transaction: take a concurrency slot (if the tenant has a limit), count
the run in its month (refused at the monthly quota) and insert the run record as ``running``.
Any refusal rolls all of it back. Closing is one transaction too: free the slot, give the run
back to the month if it ended before starting a model call, and write the record's outcome.
Runs whose outcome was never written (a crash) are swept to failed once their lease is over.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agenthost.api.errors import problem_body
from agenthost.errors import (
    AgentHostError,
    ApprovalExpired,
    DependencyUnavailable,
    ErrorCode,
    QuotaExceeded,
)
from agenthost.execution.types import (
    Decision,
    Reservation,
    Resume,
    RunInput,
    RunState,
    RunUsage,
)
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.repositories import events, pauses, quotas, reservations, runs
from agenthost.store.scripts import Script
from agenthost.store.tables import RunRow
from agenthost.store.types import utcnow
from agenthost.telemetry.metrics import Metrics
from agenthost.telemetry.tracing import trace_id_of

LEASE_MARGIN_S = 60.0
"""A run's slot and ``running`` record outlive its deadline by this much before they count as
abandoned (a crashed process, or an outcome that could not be written)."""
SWEEP_INTERVAL_S = 60.0
CONCURRENCY_RETRY_AFTER_S = 1.0
ABANDONED_MESSAGE = "the run's process stopped, or its outcome could not be recorded"
CANCELLED_MESSAGE = "the run was cancelled"
EXPIRED_MESSAGE = "the run's tool calls awaiting approval were not all decided in time"

logger = logging.getLogger(__name__)


def _no_slot(limit: int | None) -> QuotaExceeded:
    return QuotaExceeded(
        f"the tenant already has {limit} run(s) in flight",
        retry_after=CONCURRENCY_RETRY_AFTER_S,
        details={"quota": "max_concurrent_runs", "limit": limit},
    )


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def next_month(moment: datetime) -> datetime:
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class Ledger:
    def __init__(self, db: Database, settings: Settings, metrics: Metrics | None = None) -> None:
        self._refusals = metrics.quota_refusals if metrics is not None else None
        self._runs = metrics.runs if metrics is not None else None
        self._db = db
        self._store_content = settings.store_run_content

    async def open(self, state: RunState) -> None:
        """Reserve quota for ``state`` and record it as running; QuotaExceeded if refused."""
        try:
            await self._open(state)
        except QuotaExceeded as refusal:
            if self._refusals is not None:
                quota = str(refusal.details.get("quota", "unknown"))
                self._refusals.labels(state.tenant_id, quota).inc()
            raise

    async def _open(self, state: RunState) -> None:
        tenant = state.request.principal.tenant
        now = utcnow()
        period = month_of(now)
        # Background runs wait in the queue instead: its concurrency limits are theirs.
        slot = tenant.max_concurrent_runs is not None and state.mode != "background"
        opening = reservations.Opening(
            run=self._started_row(state, now),
            period=period,
            runs_limit=tenant.runs_per_month,
            slot_limit=tenant.max_concurrent_runs if slot else None,
            now=now,
        )
        try:
            await self._db.scripts.run(reservations.open_run(opening))
        except reservations.QuotaRefused as refused:
            if refused.quota == "max_concurrent_runs":
                raise _no_slot(tenant.max_concurrent_runs) from None
            resets = next_month(now)
            raise QuotaExceeded(
                f"the tenant's quota of {tenant.runs_per_month} runs per month is used up",
                retry_after=(resets - now).total_seconds(),
                details={
                    "quota": "runs_per_month",
                    "limit": tenant.runs_per_month,
                    "resets_at": resets.isoformat(),
                },
            ) from None
        state.reservation = Reservation(period=period, slot=slot)

    async def start(
        self, state: RunState, also: Sequence[events.Event] = ()
    ) -> Literal["run", "cancel", "ended"]:
        """Mark a resumed background run running (``run``), with its ``run_started`` event and
        the events ``also``. ``cancel``: a client asked to cancel it, settle it as cancelled;
        ``ended``: it ended already (cancelled while queued, or settled before its process
        died)."""
        now = utcnow()
        expires = now + timedelta(seconds=state.timeout_s + LEASE_MARGIN_S)
        run_id = state.request.run_id
        key = "started" if state.resume is None else f"started:{state.resume.round}"
        started = (key, "run_started", {"run_id": run_id, "agent": state.entry.name})
        script = _started(state.tenant_id, run_id, expires, [started, *also], now)
        return await self._db.scripts.run(script)

    async def fail_unstarted(
        self,
        tenant_id: str,
        run_id: str,
        period: str,
        error: AgentHostError,
        *,
        refund: bool = True,
    ) -> None:
        """End a queued background run that could not even start (its agent or the tenant's
        rights are gone), refunding its month (unless it called a model before a stop for
        approval)."""
        async with self._db.transaction() as tx:
            ended = await runs.finish_open(
                tx,
                tenant_id,
                run_id,
                status="failed",
                finished_at=utcnow(),
                error_code=error.code.value,
                error_message=error.message,
            )
            if ended and refund:
                await quotas.uncount_run(tx, tenant_id, period)

    async def cancel(self, tenant_id: str, run_id: str, terminal: dict[str, Any]) -> bool | None:
        """Ask to cancel a background run. None: it is not a queued or running background
        run. True: it was still queued and is now cancelled (its month refunded, ``terminal``
        its last event). False: it is running, and its process will stop it."""
        now = utcnow()
        async with self._db.transaction() as tx:
            if not await runs.request_cancel(tx, tenant_id, run_id, now):
                return None
            if not await runs.cancel_queued(tx, tenant_id, run_id, now, CANCELLED_MESSAGE):
                return False
            row = await runs.get(tx, tenant_id, run_id)
            if row is not None:
                await quotas.uncount_run(tx, tenant_id, month_of(row.created_at))
            await events.append(tx, run_id, events.END, "error", terminal)
            return True

    async def background_counts(self) -> dict[str, int]:
        """Background runs queued and running, of all tenants."""
        async with self._db.transaction(read_only=True) as tx:
            return await runs.background_counts(tx)

    async def cancel_requested(self, run_ids: list[str]) -> Sequence[str]:
        async with self._db.transaction(read_only=True) as tx:
            return await runs.cancel_requested(tx, run_ids)

    async def close(self, state: RunState) -> None:
        """Release the reservation and write how the run ended.

        A background run's record is only written while it is still open: another execution
        of the same run (after this process was taken for dead) may have ended it already.
        """
        reservation = state.reservation
        if reservation is None:
            return
        usage = state.usage
        background = state.mode == "background"
        now = utcnow()
        stopped = state.status == "awaiting_approval"
        outcome = {
            "status": state.status,
            "finished_at": None if stopped else now,
            "duration_ms": round(state.elapsed_ms(), 1),
            "requests": usage.requests,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "last_agent": state.last_agent,
            "cached": state.cached,
            "error_code": state.error_code,
            "error_message": state.error_message,
            # A background run's output is read from its record: it is always kept.
            "output": state.output if self._store_content or background else None,
            "steps": state.steps or None,
            "trace_id": trace_id_of(state.span),
        }
        closing = reservations.Closing(
            tenant_id=state.tenant_id,
            run_id=state.request.run_id,
            period=reservation.period,
            outcome=outcome,
            free_slot=reservation.slot,
            # Another execution of a background run (after this process was taken for dead)
            # may have ended it already.
            only_if_open=background,
            # No model call was even started: the run does not count against the month.
            refund=state.status != "succeeded" and not state.model_called,
            resumed=state.resume is not None,
            stop=self._stop(state, now) if stopped else None,
            events=() if stopped or not state.closing_events else state.closing_events(outcome),
            now=now,
        )
        written = await self._db.scripts.run(reservations.close_run(closing))
        state.events_closed = written and bool(closing.events)
        state.reservation = None

    def _stop(self, state: RunState, now: datetime) -> pauses.Stop:
        """What a run stopping for approval keeps: its state and its pending calls."""
        assert state.paused_state is not None
        return pauses.Stop(
            round=1 if state.resume is None else state.resume.round + 1,
            state=state.paused_state,
            calls=tuple(call.as_dict() for call in state.pending),
            stopped_at=now,
            expires_at=now + timedelta(seconds=state.approval_timeout_s),
        )

    async def decide(
        self,
        state: RunState,
        decisions: tuple[Decision, ...],
        now: datetime,
        period: str,
        decided_by: str,
    ) -> bool:
        """Record ``decisions`` on the run ``state`` continues; once none is left undecided,
        mark it continuing (taking a concurrency slot unless it runs in the background).
        Whether this call continues it. QuotaExceeded (nothing recorded) if no slot is free;
        AlreadyDecided or NotAwaiting from :mod:`~agenthost.store.repositories.pauses`."""
        tenant = state.request.principal.tenant
        slot = tenant.max_concurrent_runs is not None and state.mode != "background"
        continuing = reservations.Continuing(
            decisions=pauses.Decisions(
                tenant_id=state.tenant_id,
                run_id=state.request.run_id,
                decisions=tuple((d.call_id, d.approve, d.message) for d in decisions),
                decided_by=decided_by,
                now=now,
            ),
            status="queued" if state.mode == "background" else "running",
            mode=state.mode,
            expires_at=now + timedelta(seconds=state.timeout_s + LEASE_MARGIN_S),
            slot_limit=tenant.max_concurrent_runs if slot else None,
        )
        try:
            continued = await self._db.scripts.run(reservations.decide_run(continuing))
        except reservations.QuotaRefused:
            raise _no_slot(tenant.max_concurrent_runs) from None
        if continued:
            state.reservation = Reservation(period=period, slot=slot)
        return continued

    async def resume_point(self, tenant_id: str, run_id: str) -> Resume | None:
        """What a run whose calls are all decided continues from: its stored state, the
        decisions on the calls it stopped at, its usage and running time so far. None: it has
        no stored state (its continuation settled already)."""
        async with self._db.transaction(read_only=True) as tx:
            row = await runs.get(tx, tenant_id, run_id)
            pause = await pauses.get_pause(tx, run_id)
            if row is None or pause is None:
                return None
            calls = await pauses.calls(tx, [run_id])
        return Resume(
            state=pause.state,
            decisions=tuple(
                Decision(call.call_id, bool(call.approved), call.message)
                for call in calls
                if call.round == pause.round and call.decided_at is not None
            ),
            round=pause.round,
            usage=recorded_usage(row),
            duration_ms=row.duration_ms or 0.0,
        )

    async def sweep(self, now: datetime | None = None) -> int:
        """Mark runs still ``running`` past their lease as failed RUN_ABANDONED, and runs
        awaiting approval past their expiry as ``expired``; how many."""
        now = now or utcnow()
        async with self._db.transaction() as tx:
            swept = await runs.abandon_expired(
                tx, now, ErrorCode.RUN_ABANDONED.value, ABANDONED_MESSAGE
            )
            await pauses.forget_ended(tx)
        return swept + await self._expire_approvals(now)

    async def _expire_approvals(self, now: datetime) -> int:
        async with self._db.transaction(read_only=True) as tx:
            candidates = await pauses.expirable(tx, now)
        expired = 0
        for run_id, tenant_id, agent, mode in candidates:
            error = ApprovalExpired(EXPIRED_MESSAGE)
            async with self._db.transaction() as tx:
                if not await pauses.expire(tx, run_id, now, error.code.value, error.message):
                    continue
                if mode == "background":  # its followers wait for a last event
                    body = problem_body(error, None) | {"run_id": run_id}
                    await events.append(tx, run_id, events.END, "error", body)
            expired += 1
            if self._runs is not None:
                self._runs.labels(agent, tenant_id, "expired").inc()
        return expired

    async def keep_sweeping(self) -> None:
        """Sweep every ``SWEEP_INTERVAL_S`` until cancelled (each replica may; it is idempotent)."""
        while True:
            try:
                swept = await self.sweep()
            except DependencyUnavailable as exc:
                logger.warning("could not sweep abandoned runs: %s", exc.message)
            else:
                if swept:
                    logger.warning("marked %d abandoned run(s) as failed", swept)
            await asyncio.sleep(SWEEP_INTERVAL_S)

    def _started_row(self, state: RunState, now: datetime) -> dict[str, Any]:
        """The run record's columns as admission writes them."""
        request = state.request
        return {
            "id": request.run_id,
            "tenant_id": state.tenant_id,
            "api_key_id": request.principal.key_id,
            "agent": state.entry.name,
            "mode": state.mode,
            "status": "queued" if state.mode == "background" else "running",
            "session_id": request.session_id,
            "request_id": request.request_id,
            "metadata": dict(request.metadata),
            "day": now.astimezone(UTC).strftime("%Y-%m-%d"),
            "created_at": now,
            "expires_at": now + timedelta(seconds=state.timeout_s + LEASE_MARGIN_S),
            "requests": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
            "cached": False,
            "input": stored_input(state.input) if self._store_content else None,
        }


def _started(
    tenant_id: str, run_id: str, expires: datetime, new: list[events.Event], now: datetime
) -> Script[Literal["run", "cancel", "ended"]]:
    verdict = yield from runs.start(tenant_id, run_id, expires)
    if verdict == "run":
        yield from events.add(run_id, new, now)
    return verdict


def recorded_usage(row: RunRow) -> RunUsage:
    """The usage a run record holds."""
    return RunUsage(
        requests=row.requests,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        total_tokens=row.total_tokens,
    )


def stored_input(value: RunInput) -> str:
    """A run's input as its record keeps it: the text, or a conversation as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
