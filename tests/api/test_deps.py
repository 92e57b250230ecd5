"""The routes' dependencies: none of them costs a thread-pool hop per request."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from agenthost.api.app import create_app
from agenthost.settings import Settings
from tests.api.agents import ToolLog, build_registry


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            yield from _api_routes(included.routes)


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - security schemes are callable objects
    )


def test_every_route_and_dependency_is_async() -> None:
    """FastAPI runs plain ``def`` endpoints and dependencies in its thread pool."""
    app = create_app(Settings(access_log=False), registry=build_registry(ToolLog()))
    routes = list(_api_routes(app.routes))
    assert any(route.path == "/v1/agents/{agent}/runs" for route in routes)
    sync = {
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in (route.endpoint, *_calls(route.dependant))
        if not _is_async(call)
    }
    assert sync == set()
