"""``/console``: its files, served without a key under their own strict CSP; on by default
outside production; and the files themselves never build HTML from strings."""

from __future__ import annotations

import posixpath
import re
from importlib import resources
from typing import Any

import pytest

from agenthost.api.middleware.security_headers import API_POLICY, CONSOLE_POLICY
from agenthost.settings import Settings
from tests.api.agents import ToolLog, build_registry

STATIC = resources.files("agenthost.console").joinpath("static")


def _static_files() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(folder: Any, under: str) -> None:
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, f"{under}{item.name}/")
            else:
                found[f"{under}{item.name}"] = item.read_text(encoding="utf-8")

    walk(STATIC, "")
    return found


async def test_the_console_is_served_without_a_key_under_its_own_policy(
    agenthost_client: Any,
) -> None:
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False) as (client, _):
        page = await client.get("/console")
        script = await client.get("/console/static/pages/playground.js")
        missing = await client.get("/console/static/nothing.js")
        escape = await client.get("/console/static/../__init__.py")
        api = await client.get("/v1/agents")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONSOLE_POLICY
    assert '<script type="module" src="/console/static/app.js">' in page.text
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-security-policy"] == CONSOLE_POLICY
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert missing.headers["content-type"] == "application/problem+json"
    assert escape.status_code == 404
    assert api.status_code == 401 and api.headers["content-security-policy"] == API_POLICY


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({}, True),
        ({"environment": "production"}, False),
        ({"environment": "production", "console_enabled": True}, True),
        ({"console_enabled": False}, False),
    ],
)
async def test_the_console_is_on_by_default_outside_production(
    agenthost_client: Any, settings: dict[str, Any], served: bool
) -> None:
    assert Settings(dev_mode=False, **settings).serves_console is served
    async with agenthost_client(build_registry(ToolLog()), dev_mode=False, **settings) as (c, _):
        response = await c.get("/console")
    assert response.status_code == (200 if served else 404)


def test_pages_have_no_inline_script_or_style_and_build_no_html() -> None:
    files = _static_files()
    page = files["index.html"]
    assert re.findall(r"<script[^>]*>", page) == [
        '<script type="module" src="/console/static/app.js">'
    ]
    assert "<style" not in page and " style=" not in page and " on" not in page.lower()
    scripts = {name: text for name, text in files.items() if name.endswith(".js")}
    for name, text in scripts.items():
        for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert unsafe not in text, f"{name} uses {unsafe}"
        assert "localStorage" not in text and "document.cookie" not in text, name
        for imported in re.findall(r'from "(\.[^"]+)"', text):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), imported))
            assert target in files, f"{name} imports missing {imported}"
