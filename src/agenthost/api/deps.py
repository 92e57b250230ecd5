"""Request-scoped access to the container (``Annotated`` aliases for route signatures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agenthost.api.errors import request_id_of
from agenthost.container import Container
from agenthost.errors import ShuttingDown
from agenthost.execution.lifecycle import Lifecycle


def get_container(request: Request) -> Container:
    container: Container | None = getattr(request.app.state, "container", None)
    if container is None:  # lifespan not run yet, or already torn down
        raise ShuttingDown("the server is not ready", retry_after=1.0)
    return container


def get_lifecycle(request: Request) -> Lifecycle:
    """Available from before start-up completes, so readiness can say "starting"."""
    lifecycle: Lifecycle = request.app.state.lifecycle
    return lifecycle


ContainerDep = Annotated[Container, Depends(get_container)]
LifecycleDep = Annotated[Lifecycle, Depends(get_lifecycle)]
RequestIdDep = Annotated[str | None, Depends(request_id_of)]
