"""Request-scoped access to the container (``Annotated`` aliases for route signatures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agenthost.container import Container
from agenthost.errors import ShuttingDown


def get_container(request: Request) -> Container:
    container: Container | None = getattr(request.app.state, "container", None)
    if container is None:  # lifespan not run yet, or already torn down
        raise ShuttingDown("the server is not ready", retry_after=1.0)
    return container


def get_request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


ContainerDep = Annotated[Container, Depends(get_container)]
RequestIdDep = Annotated[str | None, Depends(get_request_id)]
