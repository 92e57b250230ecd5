"""Probes: liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "Starting or draining", "content": {"application/json": {}}}},
)
async def ready(request: Request) -> JSONResponse:
    """Readiness: started and not draining."""
    lifecycle = request.app.state.lifecycle
    body: dict[str, Any] = {
        "status": "ready"
        if lifecycle.accepting
        else "draining"
        if lifecycle.draining
        else "starting",
        "in_flight_runs": lifecycle.in_flight,
    }
    return JSONResponse(body, status_code=200 if lifecycle.accepting else 503)
