"""``GET /metrics``: Prometheus text exposition (every server process's, when there are several).

Its labels name every tenant, agent and deployment, so it is not part of the public surface:
the metrics listener (``metrics_port``, :mod:`agenthost.api.metrics_listener`) serves it, and
the API port only when ``metrics_public`` is on (the route is not there otherwise: 404). When
``metrics_token`` is set, either port asks for it.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import Response

from agenthost.api.deps import ContainerDep
from agenthost.container import Container
from agenthost.errors import Unauthenticated

router = APIRouter(tags=["health"])

METRICS_TOKEN_REQUIRED = "The metrics token is required (Authorization: Bearer <metrics_token>)"  # noqa: S105


def presents_token(headers: Headers, token: str) -> bool:
    """``Authorization: Bearer <token>`` names ``token`` (compared in constant time)."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    )


async def scrape(container: Container, headers: Headers) -> Response:
    """The exposition, once the caller presented the metrics token (when one is set)."""
    token = container.secrets.reveal(container.settings.metrics_token)
    if token is not None and not presents_token(headers, token):
        raise Unauthenticated(METRICS_TOKEN_REQUIRED)
    if container.background is not None:
        await container.background.measure(container.metrics)
    body, content_type = container.metrics.exposition()
    return Response(body, media_type=content_type)


@router.get(
    "/metrics",
    response_class=Response,
    responses={401: {"description": "metrics_token is set and was not presented"}},
)
async def metrics(request: Request, container: ContainerDep) -> Response:
    """Prometheus metrics (on the API port only with ``metrics_public``; the bearer token, if
    asked, is ``metrics_token``, not an API key)."""
    return await scrape(container, request.headers)
