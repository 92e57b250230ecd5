"""Stage 1 — admission: may this run start now? Refusals happen before any work is done.

Checks, in order: the server is accepting runs, the agent exists, the tenant may use it, the
input passes the input policy; then the tenant's quota is reserved (concurrency slot, monthly
runs) together with the run record, in one transaction. A refusal holds nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agenthost.errors import (
    ErrorCode,
    Forbidden,
    InternalError,
    SessionBusy,
    ShuttingDown,
)
from agenthost.execution import session_gate
from agenthost.execution.approvals import continue_from
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.shielded import to_completion
from agenthost.execution.types import (
    Decision,
    Reservation,
    Resume,
    RunMode,
    RunRequest,
    RunState,
)
from agenthost.registry import AgentRegistry, RegisteredAgent
from agenthost.security.input import clean_input
from agenthost.settings import Settings
from agenthost.store.types import utcnow
from agenthost.tenancy.ledger import Ledger
from agenthost.tenancy.principal import AgentOverride, Tenant
from agenthost.tenancy.session_lock import SessionLocks


@dataclass(frozen=True, slots=True)
class RunLimits:
    timeout_s: float
    warning_ratio: float
    max_turns: int
    token_limit: int | None


def run_limits(entry: RegisteredAgent, tenant: Tenant, settings: Settings) -> RunLimits:
    """What a run of ``entry`` for ``tenant`` may use: the tenant's override of the agent,
    else the agent's policy, else the settings' defaults."""
    override = tenant.overrides.get(entry.name) or AgentOverride()
    policy = entry.policy
    return RunLimits(
        timeout_s=override.timeout_s or policy.timeout_s or settings.run_timeout_s,
        warning_ratio=policy.warning_ratio or settings.run_warning_ratio,
        max_turns=override.max_turns or policy.max_turns or settings.max_turns,
        token_limit=override.tokens_per_run or tenant.tokens_per_run,
    )


class Admission:
    def __init__(
        self,
        settings: Settings,
        registry: AgentRegistry,
        lifecycle: Lifecycle,
        ledger: Ledger,
        sessions: SessionLocks,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._lifecycle = lifecycle
        self._ledger = ledger
        self._sessions = sessions

    async def admit(self, request: RunRequest, mode: RunMode) -> RunState:
        """Admit ``request`` and reserve its quota; the caller must then settle the state.

        A background run is only recorded as queued (and counted in its month) here; the
        process that executes it later resumes it with :meth:`resume`. A run of a session first
        takes its place in the session's line (SESSION_BUSY before anything is reserved).
        """
        state = self._check(request, mode)
        try:
            await session_gate.enter(state)
            return await self._open(state, mode)
        except SessionBusy:
            raise
        except BaseException:  # also cancelled right after taking its place
            await session_gate.release(state)
            raise

    async def _open(self, state: RunState, mode: RunMode) -> RunState:
        if mode == "background":
            await to_completion(self._ledger.open(state))
            return state
        self._lifecycle.run_started(state)  # from here on, a drain waits for it
        try:
            await to_completion(self._ledger.open(state))
        except asyncio.CancelledError:
            # Cancelled while reserving: give back whatever was reserved, then stop.
            state.mark_cancelled()
            await to_completion(self._ledger.close(state))
            self._lifecycle.run_finished(state)
            raise
        except BaseException:
            self._lifecycle.run_finished(state)
            raise
        return state

    async def admit_decided(
        self,
        request: RunRequest,
        mode: RunMode,
        decisions: tuple[Decision, ...],
        period: str,
        decided_by: str,
    ) -> RunState | None:
        """Record ``decisions`` on the run ``request`` names (awaiting approval). Once none
        of its calls is left undecided, the run continues: the returned state (admitted like a
        new run, its concurrency slot taken unless it runs in the background; the caller
        settles it). None: calls are still undecided."""
        state = self._check(request, mode, clean=False)
        foreground = mode != "background"
        if foreground:
            self._lifecycle.run_started(state)
        try:
            resume = await to_completion(self._decide(state, decisions, period, decided_by))
        except BaseException:
            self._lifecycle.run_finished(state)
            raise
        if resume is None:
            self._lifecycle.run_finished(state)
            return None
        continue_from(state, resume)
        if not foreground:
            self._lifecycle.run_finished(state)  # its executing process takes it from here
        return state

    async def _decide(
        self, state: RunState, decisions: tuple[Decision, ...], period: str, decided_by: str
    ) -> Resume | None:
        if not await self._ledger.decide(state, decisions, utcnow(), period, decided_by):
            return None
        try:
            resume = await self._ledger.resume_point(state.tenant_id, state.request.run_id)
            if resume is None:  # (it holds the run: nothing else deletes the state meanwhile)
                raise InternalError("a run continuing after its approvals has no stored state")
            return resume
        except BaseException:
            # Continued, but its state could not be read: settle it (failed) now.
            state.status, state.error_code = "failed", ErrorCode.DEPENDENCY_UNAVAILABLE.value
            state.error_message = "the run's stored state could not be read"
            state.model_called = True
            await self._ledger.close(state)
            raise

    def resume(self, request: RunRequest, period: str, *, continued: bool = False) -> RunState:
        """A queued background run about to execute in this process, checked again (the agent
        or the tenant's rights may have changed since it was queued). The caller settles it.
        ``continued``: it continues after a stop for approval (its input is in its state)."""
        state = self._check(request, "background", clean=not continued)
        state.reservation = Reservation(period=period, slot=False)
        self._lifecycle.run_started(state)
        return state

    def _check(self, request: RunRequest, mode: RunMode, *, clean: bool = True) -> RunState:
        """``request``'s state, if it may run (``clean``: its input through the agent's
        input policy; a run that continues has its input in its stored state)."""
        if not self._lifecycle.accepting:
            raise ShuttingDown(retry_after=1.0)
        entry = self._registry.get(request.agent)
        tenant = request.principal.tenant
        if not tenant.may_use(entry.name):
            raise Forbidden(f"this tenant may not use agent {entry.name!r}")
        override = tenant.overrides.get(entry.name)
        agent = entry.agent
        if override is not None and override.model is not None:
            agent = agent.clone(model=override.model)
        limits = run_limits(entry, tenant, self._settings)
        state = RunState(
            request=request,
            entry=entry,
            agent=agent,
            input=clean_input(
                request.input, entry.policy.input, max_chars=self._settings.max_input_chars
            )
            if clean
            else request.input,
            timeout_s=limits.timeout_s,
            warning_ratio=limits.warning_ratio,
            max_turns=limits.max_turns,
            token_limit=limits.token_limit,
            mode=mode,
            approval_timeout_s=entry.policy.approval_timeout_s or self._settings.approval_timeout_s,
            session=(
                None
                if request.session_id is None
                else self._sessions.turn(
                    tenant.id, request.session_id, request.run_id, limits.timeout_s, mode
                )
            ),
        )
        session_gate.bind(state)
        return state
