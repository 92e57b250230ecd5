"""Probes: liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from agenthost.api.deps import LifecycleDep
from agenthost.container import Container
from agenthost.execution.lifecycle import Lifecycle

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


async def _passes(check: Awaitable[object]) -> bool:
    """The check finished in time without raising and did not answer False."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return (await check) is not False
    except Exception:
        return False


async def _dependencies(container: Container) -> tuple[bool, dict[str, str]]:
    """Whether runs can be served, and the state of each dependency."""
    database_ok = await _passes(container.db.ping())
    checks = {"database": "ok" if database_ok else "unreachable"}
    ok = database_ok
    if container.rate_limits.backend == "redis":
        redis_ok = await _passes(container.rate_limits.check_storage())
        fail_open = container.settings.redis_failure_mode == "open"
        if redis_ok:
            checks["redis"] = "ok"
        elif fail_open:
            checks["redis"] = "unreachable (failing open: no rate limits)"
        else:
            checks["redis"] = "unreachable (failing closed: refusing requests)"
        ok = ok and (redis_ok or fail_open)
    mcp_ok, mcp_checks = container.mcp.checks()
    checks.update(mcp_checks)
    checks["auth"] = "dev mode (no keys)" if container.authenticator.dev_mode else "api keys"
    return ok and mcp_ok, checks


def _status(lifecycle: Lifecycle, dependencies_ok: bool) -> str:
    if lifecycle.draining:
        return "draining"
    if not lifecycle.accepting:
        return "starting"
    return "ready" if dependencies_ok else "degraded"


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
    failing closed), every required MCP server connected (optional ones are only listed)."""
    container: Container | None = getattr(request.app.state, "container", None)
    ok, checks = (False, {}) if container is None else await _dependencies(container)
    status = _status(lifecycle, ok)
    body: dict[str, Any] = {
        "status": status,
        "in_flight_runs": lifecycle.in_flight,
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if status == "ready" else 503)
