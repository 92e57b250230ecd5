"""Containers for pipeline tests, closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from agents import Agent

from agenthost.container import Container, build_container
from agenthost.registry import AgentRegistry
from agenthost.settings import Settings


@pytest.fixture
async def containers() -> AsyncIterator[list[Container]]:
    """Containers built by the test, closed after it."""
    built: list[Container] = []
    yield built
    for container in built:
        await container.aclose()


@pytest.fixture
def container_for(containers: list[Container]) -> Callable[..., Awaitable[Container]]:
    """Start a container (dev mode: its dev tenant exists) serving one agent."""

    async def build(
        agent: Agent[Any], settings: Settings | None = None, **policy: Any
    ) -> Container:
        registry = AgentRegistry()
        registry.register(agent, **policy)
        settings = settings or Settings(demo_model=True)
        container = build_container(settings, registry=registry)
        containers.append(container)
        await container.start()
        container.lifecycle.ready = True
        return container

    return build
