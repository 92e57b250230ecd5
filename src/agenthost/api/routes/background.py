"""Control of background runs: ``POST /v1/runs/{id}/cancel`` and the resumable event stream
``GET /v1/runs/{id}/events``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.responses import StreamingResponse

from agenthost.api.deps import ContainerDep, RequestIdDep, RunsReader, RunsWriter
from agenthost.api.routes.records import RunId
from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.runs import CancelOut
from agenthost.api.sse import KEEPALIVE, encode
from agenthost.container import Container
from agenthost.errors import Conflict, RunNotFound, ValidationFailed
from agenthost.jobs.progress import PAGE
from agenthost.jobs.service import BackgroundRuns
from agenthost.store.repositories import runs
from agenthost.store.repositories.events import END, is_end
from agenthost.store.tables import RunRow

router = APIRouter(prefix="/v1", tags=["background runs"])

MAX_EVENT_ID = 2**63 - 1
EVENT_ID = re.compile(r"[0-9]{1,18}")

EVENTS_DESCRIPTION = (
    "Server-sent events of a background run, from the start or after the event id in "
    "`Last-Event-ID` (or `after`): `run_started`, `agent_updated`, `tool_called`, "
    "`tool_output`, `handoff`, `text_delta` (a whole message), then `final` or `error`; a run "
    "that stops for approval ends the stream with `approval_required` and `final` (its "
    "continuation's events follow them, from `run_started`)."
)


async def _run(container: Container, tenant_id: str, run_id: str) -> RunRow:
    async with container.db.transaction(read_only=True) as tx:
        row = await runs.get(tx, tenant_id, run_id)
    if row is None:
        raise RunNotFound(f"no run {run_id!r}")
    return row


@router.post(
    "/runs/{run_id}/cancel",
    response_model=CancelOut,
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 429, 501, 503),
)
async def cancel_run(
    run_id: RunId, container: ContainerDep, principal: RunsWriter, request_id: RequestIdDep
) -> CancelOut:
    """Cancel a queued or running background run (needs `runs:write`). A queued run ends at
    once; a running one is stopped where it is, its in-flight model call aborted."""
    ended = await container.background_runs().cancel(principal.tenant.id, run_id, request_id)
    if ended is None:
        row = await _run(container, principal.tenant.id, run_id)
        raise Conflict(
            f"the run is {row.status} ({row.mode}); only queued or running background runs "
            "can be cancelled"
        )
    return CancelOut(run_id=run_id, status="cancelled" if ended else "running")


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"description": EVENTS_DESCRIPTION, "content": {"text/event-stream": {}}},
        **problem_responses(401, 403, 404, 409, 422, 429, 501),
    },
)
async def run_events(
    run_id: RunId,
    container: ContainerDep,
    principal: RunsReader,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="Resume after this event id.")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Follow a background run of the caller's tenant (needs `runs:read`)."""
    background = container.background_runs()
    row = await _run(container, principal.tenant.id, run_id)
    if row.mode != "background":
        raise Conflict("events are kept for background runs only")
    start = after if after is not None else _resume_point(last_event_id)
    return StreamingResponse(
        _follow(container, background, row, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", "X-Run-ID": run_id},
    )


def _resume_point(last_event_id: str | None) -> int:
    if last_event_id is None:
        return 0
    if EVENT_ID.fullmatch(last_event_id) is None:
        raise ValidationFailed.for_field(
            "Last-Event-ID", "must be an event id from this stream", "event_id"
        )
    return int(last_event_id)


async def _follow(
    container: Container, background: BackgroundRuns, run: RunRow, last_id: int
) -> AsyncIterator[bytes]:
    """The run's events after ``last_id`` until its last one (``final`` or ``error``)."""
    settings = container.settings
    idle_s = 0.0
    while True:
        # Asked first: if the last event was stored already, this read returns all the rest.
        ended = await background.events.ended(run.id)
        rows = await background.events_after(run.id, last_id)
        for index, event in enumerate(rows):
            last_id = event.id
            yield encode(event.type, event.data, event.id)
            if event.key == END:
                return
            if is_end(event.key) and index == len(rows) - 1 and len(rows) < PAGE:
                return  # the run's latest stop for approval (nothing came after it yet)
        if ended:  # the client resumed after the last event
            return
        if rows:
            idle_s = 0.0
            continue
        if idle_s >= settings.sse_keepalive_s:
            yield KEEPALIVE
            idle_s = 0.0
        await asyncio.sleep(settings.events_poll_s)
        idle_s += settings.events_poll_s
