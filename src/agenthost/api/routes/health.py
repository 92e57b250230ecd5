"""Probes: liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from agenthost.api.deps import LifecycleDep
from agenthost.container import Container

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


async def _passes(check: Any) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await check
    except Exception:
        return False
    return True


async def _dependencies(container: Container) -> tuple[bool, dict[str, str]]:
    """Whether runs can be served, and the state of each dependency."""
    checks: dict[str, str] = {}
    database_ok = await _passes(container.db.ping())
    checks["database"] = "ok" if database_ok else "unreachable"
    ok = database_ok
    limits = container.rate_limits
    if limits.backend == "redis":
        redis_ok = await _passes(limits.check_storage()) and limits.healthy
        fail_open = container.settings.redis_failure_mode == "open"
        checks["redis"] = (
            "ok"
            if redis_ok
            else "unreachable (failing open: no rate limits)"
            if fail_open
            else "unreachable (failing closed: refusing requests)"
        )
        ok = ok and (redis_ok or fail_open)
    checks["auth"] = "dev mode (no keys)" if container.authenticator.dev_mode else "api keys"
    return ok, checks


@router.get(
    "/ready",
    responses={
        503: {
            "description": "Starting, draining or a dependency down",
            "content": {"application/json": {}},
        }
    },
)
async def ready(request: Request, lifecycle: LifecycleDep) -> JSONResponse:
    """Readiness: started, not draining, database reachable, Redis reachable (when used and
    failing closed)."""
    container: Container | None = getattr(request.app.state, "container", None)
    ok, checks = (False, {}) if container is None else await _dependencies(container)
    ready = lifecycle.accepting and ok
    status = (
        "ready"
        if ready
        else "draining"
        if lifecycle.draining
        else ("starting" if not lifecycle.accepting else "degraded")
    )
    body: dict[str, Any] = {
        "status": status,
        "in_flight_runs": lifecycle.in_flight,
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ready else 503)
