"""Conversation sessions of the caller's tenant: ``GET``/``DELETE /v1/sessions/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from agenthost.api.deps import ContainerDep, RunsReader, RunsWriter
from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.records import SessionOut
from agenthost.api.schemas.runs import SESSION_ID_PATTERN
from agenthost.errors import SessionNotFound

router = APIRouter(prefix="/v1", tags=["sessions"])

SessionId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=SESSION_ID_PATTERN, description="Session id.")
]


@router.get(
    "/sessions/{session_id}",
    response_model=SessionOut,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_session(
    session_id: SessionId, container: ContainerDep, principal: RunsReader
) -> SessionOut:
    """The conversation so far (needs `runs:read`)."""
    view = await container.sessions.view(principal.tenant.id, session_id)
    if view is None:
        raise SessionNotFound(f"no session {session_id!r}")
    return SessionOut(
        session_id=view.session_id,
        created_at=view.created_at,
        updated_at=view.updated_at,
        items=view.items,
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def delete_session(
    session_id: SessionId, container: ContainerDep, principal: RunsWriter
) -> Response:
    """Forget the conversation (needs `runs:write`)."""
    if not await container.sessions.delete(principal.tenant.id, session_id):
        raise SessionNotFound(f"no session {session_id!r}")
    return Response(status_code=204)
