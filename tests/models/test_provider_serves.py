"""Which model names the settings serve, answered without building a client (the admin CLI)."""

from __future__ import annotations

import pytest

from agenthost.models.provider import settings_serve
from agenthost.settings import DeploymentSettings, Settings


def deployment(name: str, *serves: str) -> DeploymentSettings:
    return DeploymentSettings(
        name=name, model="m", serves=list(serves), base_url="http://127.0.0.1:1/v1"
    )


@pytest.mark.parametrize(
    ("deployments", "name", "served"),
    [
        ([deployment("a", "gpt-a")], "gpt-a", True),
        ([deployment("a", "gpt-a")], "gpt-b", False),
        ([deployment("a", "gpt-a"), deployment("any", "*")], "gpt-b", True),
    ],
)
def test_deployments_serve_their_names_or_every_name(
    deployments: list[DeploymentSettings], name: str, served: bool
) -> None:
    assert settings_serve(Settings(deployments=deployments), name) is served


def test_the_demo_model_serves_every_name() -> None:
    assert settings_serve(Settings(demo_model=True), "anything")
    assert settings_serve(Settings(), "anything")  # no deployments and no key: the demo model
