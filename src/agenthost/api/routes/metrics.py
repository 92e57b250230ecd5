"""``GET /metrics``: Prometheus text exposition (every server process's, when there are several)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from agenthost.api.deps import ContainerDep
from agenthost.errors import RouteNotFound

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics (404 when ``metrics_enabled`` is off)."""
    if not container.settings.metrics_enabled:
        raise RouteNotFound()
    if container.background is not None:
        await container.background.measure(container.metrics)
    body, content_type = container.metrics.exposition()
    return Response(body, media_type=content_type)
