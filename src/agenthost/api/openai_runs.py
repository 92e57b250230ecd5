"""What the OpenAI-compatible routes share: runs named by ``model``, a response continued by
``previous_response_id``, a run's output as text, and OpenAI's server-sent event framing."""

from __future__ import annotations

import json
from typing import Any

from agenthost.api.schemas.openai import agent_of
from agenthost.container import Container
from agenthost.errors import RunNotFound, ValidationFailed
from agenthost.execution.types import RunInput, RunRequest
from agenthost.store.repositories import runs
from agenthost.tenancy.principal import Principal


def run_request(
    model: str,
    conversation: RunInput,
    principal: Principal,
    request_id: str | None,
    *,
    run_id: str,
    metadata: dict[str, str] | None,
    session_id: str | None = None,
) -> RunRequest:
    """The run of the agent ``model`` names (an unknown agent is 404 at admission); its id
    is the response's or the completion's."""
    return RunRequest(
        agent=agent_of(model),
        input=conversation,
        principal=principal,
        session_id=session_id,
        metadata=metadata or {},
        request_id=request_id,
        run_id=run_id,
    )


async def session_of_response(container: Container, tenant_id: str, response_id: str) -> str:
    """The session a response of this tenant wrote to: what ``previous_response_id``
    continues. Another tenant's response is not found, like a missing one."""
    async with container.db.transaction(read_only=True) as tx:
        row = await runs.get(tx, tenant_id, response_id)
    if row is None:
        raise RunNotFound(
            f"Previous response with id '{response_id}' not found.",
            details={"param": "previous_response_id"},
        )
    if row.session_id is None:
        raise ValidationFailed.for_field(
            "previous_response_id",
            "that response was not stored (store: false, or a run without a session), so it "
            "cannot be continued",
            "unsupported_value",
        )
    return row.session_id


def output_text(output: Any) -> str:
    """A run's final output as the text of an assistant message (structured output: JSON)."""
    if isinstance(output, str):
        return output
    return json.dumps(output, ensure_ascii=False, separators=(",", ":"))


def sse_data(data: object, event: str | None = None) -> bytes:
    """One server-sent event as OpenAI writes them (``event:`` only on the Responses API)."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    head = "" if event is None else f"event: {event}\n"
    return f"{head}data: {payload}\n\n".encode()
