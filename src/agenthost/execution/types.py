"""What goes into the pipeline and what comes out of it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agents import Agent
from agents.memory import Session
from agents.usage import Usage
from opentelemetry.trace import INVALID_SPAN, Span

from agenthost.errors import AgentHostError
from agenthost.registry import RegisteredAgent
from agenthost.tenancy.principal import Principal

RunInput = str | list[dict[str, Any]]
"""A user's message, or a conversation: messages ``{"role", "content"}`` as the Agents SDK
takes them (content a string or a list of ``input_text`` / ``input_image`` parts)."""


OnBusy = Literal["reject", "enqueue", "interrupt"]
"""What a run does when another run of its session is in flight."""


def new_run_id() -> str:
    return f"run_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A request to run an agent, from any entry point (HTTP, SSE, CLI, background)."""

    agent: str
    input: RunInput
    principal: Principal
    """Who asked: the tenant whose limits, records and sessions the run uses."""
    session_id: str | None = None
    on_busy: OnBusy = "reject"
    metadata: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    run_id: str = field(default_factory=new_run_id)


@dataclass(frozen=True, slots=True)
class RunUsage:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name (what ``dataclasses.asdict`` gives, without its deep copy)."""
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }

    @classmethod
    def from_sdk(cls, usage: Usage) -> RunUsage:
        return cls(
            requests=usage.requests,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
        )


RunStatus = Literal[
    "queued", "running", "awaiting_approval", "succeeded", "failed", "cancelled", "expired"
]
"""Every status a run record may have. ``awaiting_approval``: stopped at tool calls that need
a human's decision (not finished); ``expired``: those decisions did not come in time."""


@dataclass(frozen=True, slots=True)
class PendingCall:
    """A tool call the run stopped at: it runs only once a human approves it."""

    call_id: str
    agent: str
    tool: str
    arguments: str
    """The call's arguments as the model wrote them (JSON text)."""

    def as_dict(self) -> dict[str, str]:
        return {
            "call_id": self.call_id,
            "agent": self.agent,
            "tool": self.tool,
            "arguments": self.arguments,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """A human's decision on one pending call; ``message`` reaches the model on rejection."""

    call_id: str
    approve: bool
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    """What a run stopped for approval continues from, once every call is decided."""

    state: str
    """The SDK's serialised ``RunState`` stored when the run stopped."""
    decisions: tuple[Decision, ...]
    round: int
    """How many times the run has stopped so far (1 after its first stop)."""
    usage: RunUsage
    """Usage before the stop (the resumed run adds to it)."""
    duration_ms: float
    """Time spent running before the stop (the wait is not counted)."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: str
    agent: str
    output: Any
    """The final output: a string, or JSON-ready data for structured outputs."""
    usage: RunUsage
    duration_ms: float
    last_agent: str
    cached: bool = False
    status: Literal["succeeded", "awaiting_approval"] = "succeeded"
    pending: tuple[PendingCall, ...] = ()
    """With ``awaiting_approval``: the calls waiting for a decision."""


EventType = Literal[
    "run_started",
    "text_delta",
    "tool_called",
    "tool_output",
    "handoff",
    "agent_updated",
    "approval_required",
    "final",
    "error",
]


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One event of a streamed run, in order."""

    type: EventType
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reservation:
    """Quota taken at admission: the month the run was counted in, and whether it holds a
    concurrency slot."""

    period: str
    slot: bool


RunMode = Literal["sync", "stream", "background"]


@dataclass(slots=True, eq=False)
class RunState:
    """Mutable facts about one run as it moves through the stages."""

    request: RunRequest
    entry: RegisteredAgent
    agent: Agent[Any]
    """The agent to run: the registered one, or the tenant's override of its model."""
    input: RunInput
    """The input after the agent's input policy."""
    timeout_s: float
    warning_ratio: float
    max_turns: int
    token_limit: int | None
    """Tokens the run may use in all; it is stopped when its usage crosses this."""
    mode: RunMode = "sync"
    session: Session | None = None
    started: float = field(default_factory=time.perf_counter)
    model_called: bool = False
    """A model call was started (whether or not it completed and reported usage)."""
    sdk_usage: Usage = field(default_factory=Usage)
    """Usage of every model call that completed, also when the run fails or is cancelled."""
    status: RunStatus = "running"
    error_code: str | None = None
    error_message: str | None = None
    output: Any = None
    """The JSON-ready final output, once the run succeeded."""
    last_agent: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    """The run's tool calls and handoffs so far, in order (names only), for its record."""
    cached: bool = False
    """The run was answered from the result cache (no model call)."""
    reservation: Reservation | None = None
    """What admission reserved for the run; settlement gives it back."""
    abort: Callable[[AgentHostError], None] | None = None
    """Set by the deadline stage: stop the run now, failing it with the given error."""
    suspend: Callable[[], None] | None = None
    """Set for durable (background) runs: stop executing the run here without settling it,
    so that another process resumes it. Shutdown prefers it to ``abort``."""
    suspended: bool = False
    """The run was suspended: settlement records nothing (its outcome is still to come)."""
    span: Span = INVALID_SPAN
    """The run's OpenTelemetry span (set by the pipeline once admitted)."""
    approval_timeout_s: float = 0.0
    """How long the run waits for decisions if it stops at calls that need approval."""
    resume: Resume | None = None
    """Set when the run continues after its approvals were decided."""
    pending: tuple[PendingCall, ...] = ()
    """Set when the run stopped at calls that need approval (status ``awaiting_approval``)."""
    paused_state: str | None = None
    """The SDK's serialised state to store while the run waits for its decisions."""
    closing_events: Callable[[Mapping[str, Any]], Sequence[tuple[str, str, Any]]] | None = None
    """Set for background runs: the events (key, type, data) to store with the run's outcome
    (given its record's outcome columns), in the same transaction; not for a stop."""
    events_closed: bool = False
    """Settlement stored ``closing_events``."""

    def mark_cancelled(self) -> None:
        self.status, self.error_code = "cancelled", "RUN_CANCELLED"
        self.error_message = "the run was cancelled"

    @property
    def tenant_id(self) -> str:
        return self.request.principal.tenant.id

    @property
    def usage(self) -> RunUsage:
        return RunUsage.from_sdk(self.sdk_usage)

    def elapsed_ms(self) -> float:
        """Time spent running (before a stop for approval, too; not the wait)."""
        before = 0.0 if self.resume is None else self.resume.duration_ms
        return before + (time.perf_counter() - self.started) * 1000

    def outcome(self) -> RunOutcome:
        """The outcome of the run, once it succeeded (or stopped for approval)."""
        return RunOutcome(
            run_id=self.request.run_id,
            agent=self.entry.name,
            output=self.output,
            usage=self.usage,
            duration_ms=round(self.elapsed_ms(), 1),
            last_agent=self.last_agent or "",
            cached=self.cached,
            status="awaiting_approval" if self.status == "awaiting_approval" else "succeeded",
            pending=self.pending,
        )
