"""Probes: liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from agenthost.api.deps import LifecycleDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "Starting or draining", "content": {"application/json": {}}}},
)
async def ready(lifecycle: LifecycleDep) -> JSONResponse:
    """Readiness: started and not draining."""
    body: dict[str, Any] = {
        "status": "ready"
        if lifecycle.accepting
        else "draining"
        if lifecycle.draining
        else "starting",
        "in_flight_runs": lifecycle.in_flight,
    }
    return JSONResponse(body, status_code=200 if lifecycle.accepting else 503)
