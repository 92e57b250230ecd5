"""The lean client's connection pool as a deployment configures it, for tests."""

from __future__ import annotations

from typing import Any

from agenthost.models.lean_http import HttpPool, PoolLimits
from agenthost.settings import DeploymentSettings


def pool(**limits: Any) -> HttpPool:
    """A pool with a deployment's defaults, ``limits`` (its settings) overriding them."""
    return HttpPool(PoolLimits.of(DeploymentSettings(name="test", model="mock-gpt", **limits)))
