"""What a queued background run carries: everything needed to execute it anywhere.

Stored by DBOS with the workflow (it holds the run's input, so the input is kept in the
DBOS system database until the workflow is deleted, whatever ``store_run_content`` says).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agenthost.execution.types import RunInput, RunRequest, RunState
from agenthost.tenancy.principal import Principal


@dataclass(frozen=True, slots=True)
class RunPayload:
    run_id: str
    agent: str
    input: RunInput
    tenant_id: str
    key_id: str | None
    period: str
    """The month the run was counted in (refunded there if it never calls a model)."""
    request_id: str | None = None
    session_id: str | None = None
    """The session the run continues (its place in the session's line was taken when it
    was queued)."""
    metadata: dict[str, str] = field(default_factory=dict)
    webhook_url: str | None = None
    trace: dict[str, str] = field(default_factory=dict)
    """The trace context of the request that queued the run: its run continues that trace."""
    round: int = 0
    """0 for a new run; n when it continues after its n-th stop for approval."""

    @property
    def workflow_id(self) -> str:
        """The durable workflow's id: one per run and continuation."""
        return self.run_id if self.round == 0 else f"{self.run_id}.{self.round}"

    @classmethod
    def of(cls, state: RunState, webhook_url: str | None, trace: dict[str, str]) -> RunPayload:
        request = state.request
        assert state.reservation is not None
        resume = state.resume
        return cls(
            run_id=request.run_id,
            agent=request.agent,
            input=state.input,
            tenant_id=state.tenant_id,
            key_id=request.principal.key_id,
            period=state.reservation.period,
            request_id=request.request_id,
            session_id=request.session_id,
            metadata=dict(request.metadata),
            webhook_url=webhook_url,
            trace=trace,
            round=0 if resume is None else resume.round,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPayload:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def request(self, principal: Principal) -> RunRequest:
        return RunRequest(
            agent=self.agent,
            input=self.input,
            principal=principal,
            session_id=self.session_id,
            metadata=self.metadata,
            request_id=self.request_id,
            run_id=self.run_id,
        )
