"""Deciding a run's tool calls awaiting approval: one service for the HTTP route and the CLI.

A decision request names calls of one run; it is checked (the run exists for the tenant, is
awaiting approval, each call is one of its own and still undecided), then recorded all at
once. The request that decides the run's last calls continues it, admitted like a new run
(see :meth:`~agenthost.execution.admission.Admission.admit_decided`); the caller executes
the returned state the way the run asks: synchronously, streamed or in the background.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from agenthost.errors import (
    ApprovalExpired,
    Conflict,
    NotImplementedFeature,
    RunNotFound,
    ValidationFailed,
)
from agenthost.execution.admission import Admission
from agenthost.execution.types import Decision, PendingCall, RunMode, RunRequest, RunState
from agenthost.security.input import strip_control
from agenthost.store.database import Database
from agenthost.store.repositories import pauses, runs
from agenthost.store.tables import RunApprovalRow, RunRow
from agenthost.tenancy.ledger import EXPIRED_MESSAGE, month_of
from agenthost.tenancy.principal import Principal


@dataclass(frozen=True, slots=True)
class Decided:
    """What a decision request did: the run continues (``state``, to execute), or it still
    waits for the calls in ``pending``."""

    row: RunRow
    state: RunState | None
    pending: tuple[PendingCall, ...]


def pending_of(calls: Sequence[RunApprovalRow]) -> tuple[PendingCall, ...]:
    """The calls of ``calls`` still undecided."""
    return tuple(
        PendingCall(call.call_id, call.agent, call.tool, call.arguments)
        for call in calls
        if call.decided_at is None
    )


class Approvals:
    def __init__(self, db: Database, admission: Admission) -> None:
        self._db = db
        self._admission = admission

    async def decide(
        self,
        principal: Principal,
        run_id: str,
        decisions: Sequence[Decision],
        *,
        decided_by: str,
        can_queue: bool,
        background: bool = False,
        request_id: str | None = None,
    ) -> Decided:
        """Record ``decisions`` (by ``decided_by``: a key id, ``cli`` or ``dev``) on the
        tenant's run ``run_id``; RunNotFound (another tenant's run too), Conflict (not awaiting
        approval, or a call decided already), ApprovalExpired, ValidationFailed (a call that
        is not the run's, or named twice). ``can_queue``: background runs can be queued here
        (else a run that would continue in the background is refused before any decision)."""
        row, calls = await self._awaiting(principal.tenant.id, run_id)
        # The message reaches the model: no control characters (as for a run's input).
        chosen = tuple(
            dataclasses.replace(d, message=strip_control(d.message)) if d.message else d
            for d in decisions
        )
        _check(chosen, calls)
        mode = _continues_as(row.mode, background)
        if mode == "background" and not can_queue:
            raise NotImplementedFeature(
                "background runs are turned off on this server (the background_runs setting)"
            )
        request = RunRequest(
            agent=row.agent,
            input="",
            principal=principal,
            session_id=row.session_id,
            metadata=row.run_metadata,
            request_id=request_id,
            run_id=row.id,
        )
        try:
            state = await self._admission.admit_decided(
                request, mode, chosen, month_of(row.created_at), decided_by
            )
        except pauses.AlreadyDecided as exc:
            raise Conflict(f"call {exc.call_id!r} was decided already") from None
        except pauses.NotAwaiting:  # continued by a concurrent request, or expired
            await self._awaiting(principal.tenant.id, run_id)  # raises if it continued
            raise ApprovalExpired(EXPIRED_MESSAGE) from None
        if state is not None:
            return Decided(row, state, ())
        # (Another request may have decided the last calls meanwhile, and continued the run.)
        async with self._db.transaction(read_only=True) as tx:
            calls = await pauses.calls(tx, [run_id])
        return Decided(row, None, pending_of(calls))

    async def _awaiting(
        self, tenant_id: str, run_id: str
    ) -> tuple[RunRow, Sequence[RunApprovalRow]]:
        """The run and its calls, if it is awaiting approval."""
        async with self._db.transaction(read_only=True) as tx:
            row = await runs.get(tx, tenant_id, run_id)
            if row is None:
                raise RunNotFound(f"no run {run_id!r}")
            if row.status == "expired":
                raise ApprovalExpired(EXPIRED_MESSAGE)
            if row.status != "awaiting_approval":
                raise Conflict(f"the run is {row.status}, not awaiting approval")
            return row, await pauses.calls(tx, [run_id])


def _continues_as(started: str, background: bool) -> RunMode:
    """How a run that started in mode ``started`` continues: the same way, or in the
    background if asked (a background run always does)."""
    if background or started == "background":
        return "background"
    return "stream" if started == "stream" else "sync"


def _check(decisions: tuple[Decision, ...], calls: Sequence[RunApprovalRow]) -> None:
    if not decisions:
        raise ValidationFailed.for_field("decisions", "decide at least one call", "too_short")
    known = {call.call_id: call for call in calls}
    seen: set[str] = set()
    for index, decision in enumerate(decisions):
        field = f"decisions.{index}.call_id"
        if decision.call_id in seen:
            raise ValidationFailed.for_field(field, "this call is decided twice", "duplicate")
        seen.add(decision.call_id)
        call = known.get(decision.call_id)
        if call is None:
            raise ValidationFailed.for_field(
                field, "not a call this run is awaiting approval for", "unknown_call"
            )
        if call.decided_at is not None:
            raise Conflict(f"call {decision.call_id!r} was decided already")
