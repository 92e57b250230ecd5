"""Tool calls that need a human's approval: stopping a run at them, and continuing it.

A tool may declare ``needs_approval`` (a bool or an async predicate). A run that reaches such
a call ends its turn with ``result.interruptions``: the run is then ``awaiting_approval``, its
pending calls are listed in its record and the SDK's serialised ``RunState`` is stored with it.
Once every pending call is decided, the run continues from that state (approved calls run,
rejected ones answer the model with the decision's message) through the same pipeline.
"""

from __future__ import annotations

from typing import Any

from agents import Agent
from agents.exceptions import UserError
from agents.items import ToolApprovalItem
from agents.result import RunResult, RunResultStreaming
from agents.run_state import RunState as SdkRunState
from agents.usage import Usage

from agenthost.errors import Conflict, PayloadTooLarge
from agenthost.execution import session_gate
from agenthost.execution.types import PendingCall, Resume, RunState


def _field(raw: Any, name: str) -> Any:
    value = raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)
    return value if value is None or isinstance(value, str) else str(value)


def pending_call(item: ToolApprovalItem) -> PendingCall:
    raw = item.raw_item
    return PendingCall(
        call_id=_field(raw, "call_id") or _field(raw, "id") or "",
        agent=item.agent.name,
        tool=item.tool_name or _field(raw, "name") or "",
        arguments=_field(raw, "arguments") or "",
    )


def pause(state: RunState, result: RunResult | RunResultStreaming, max_bytes: int) -> None:
    """Mark ``state`` as stopped at ``result``'s interruptions, with its serialised state.

    PayloadTooLarge (the run then fails) if that state is larger than ``max_bytes``.
    """
    serialised = result.to_state().to_string()
    size = len(serialised.encode())
    if size > max_bytes:
        raise PayloadTooLarge(
            f"the run stopped for approval, but its state ({size} bytes) is larger than the "
            f"{max_bytes} bytes a waiting run may keep (approval_state_max_bytes)",
            details={"limit": max_bytes, "size": size},
        )
    state.pending = tuple(pending_call(item) for item in result.interruptions)
    state.paused_state = serialised
    state.status = "awaiting_approval"


def continue_from(state: RunState, resume: Resume) -> None:
    """Make ``state`` continue a run from its stop for approval: its usage so far counts
    (against its token limit too), and so does its month (a model was called); what it adds
    to its session is written as a part of its own."""
    state.resume = resume
    session_gate.continued(state, resume.round)
    usage = resume.usage
    state.sdk_usage = Usage(
        requests=usage.requests,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )
    state.model_called = True


async def restored(agent: Agent[Any], resume: Resume) -> SdkRunState[Any, Agent[Any]]:
    """The SDK state ``resume`` continues from, every decision applied to it."""
    try:
        sdk_state = await SdkRunState.from_string(agent, resume.state)
    except UserError:
        raise Conflict(
            "the run's stored state no longer fits its agent (its tools or handoffs changed "
            "since the run stopped for approval); start a new run"
        ) from None
    decisions = {decision.call_id: decision for decision in resume.decisions}
    for item in sdk_state.get_interruptions():
        decision = decisions.get(pending_call(item).call_id)
        if decision is None:
            continue  # decided calls only: the run stops at the others again
        if decision.approve:
            sdk_state.approve(item)
        else:
            sdk_state.reject(item, rejection_message=decision.message)
    return sdk_state
