"""Request-scoped access to the container and the caller (``Annotated`` aliases for routes).

Every dependency here is ``async def`` although none awaits anything: FastAPI runs a plain
``def`` dependency in its thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agenthost.api.errors import request_id_of
from agenthost.api.middleware.auth import scope_principal
from agenthost.container import Container
from agenthost.errors import ShuttingDown, Unauthenticated
from agenthost.execution.lifecycle import Lifecycle
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.auth import UNAUTHENTICATED
from agenthost.tenancy.principal import Principal, Scope


async def get_container(request: Request) -> Container:
    container: Container | None = getattr(request.app.state, "container", None)
    if container is None:  # lifespan not run yet, or already torn down
        raise ShuttingDown("the server is not ready", retry_after=1.0)
    return container


async def get_lifecycle(request: Request) -> Lifecycle:
    """Available from before start-up completes, so readiness can say "starting"."""
    lifecycle: Lifecycle = request.app.state.lifecycle
    return lifecycle


# Declared for the OpenAPI document; the key itself is checked by AuthMiddleware.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer ahk_…`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: ahk_…`")


async def get_principal(
    request: Request,
    _bearer_key: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    _header_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    principal = scope_principal(request.scope)
    if principal is None:
        raise Unauthenticated(UNAUTHENTICATED)
    return principal


def requires(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(scope)
        return principal

    return check


async def get_request_id(request: Request) -> str | None:
    """The id :class:`~agenthost.api.middleware.request_id.RequestIdMiddleware` gave the
    request."""
    return request_id_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]
LifecycleDep = Annotated[Lifecycle, Depends(get_lifecycle)]
RequestIdDep = Annotated[str | None, Depends(get_request_id)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
RunsWriter = Annotated[Principal, Depends(requires(Scope.RUNS_WRITE))]
RunsReader = Annotated[Principal, Depends(requires(Scope.RUNS_READ))]
OperatorDep = Annotated[Principal, Depends(requires(Scope.OPERATOR))]
KeysAdminDep = Annotated[Principal, Depends(requires(Scope.KEYS_ADMIN))]


async def get_operator_actor(principal: OperatorDep, request_id: RequestIdDep) -> Actor:
    """The operator making this request, as its changes are audited."""
    return Actor.of(principal, request_id)


async def get_keys_admin_actor(principal: KeysAdminDep, request_id: RequestIdDep) -> Actor:
    """The tenant's key administrator making this request, as its changes are audited."""
    return Actor.of(principal, request_id)


OperatorActorDep = Annotated[Actor, Depends(get_operator_actor)]
KeysAdminActorDep = Annotated[Actor, Depends(get_keys_admin_actor)]
