"""The web console in a real browser: Debian's Chromium, headless, driven by ``playwright-core``
(the scripts in ``browser/``), against a real ``agenthost serve`` on loopback whose deployment
is the mock LLM.

The scripts print what they saw as JSON; the assertions are here. Screenshots of every page go
to ``build/console-screenshots/`` (printed). Without node, Chromium or ``npm ci`` in
``tests/console/browser`` the tests skip, saying which is missing; with ``CI=true`` they fail
instead (``.ci/run`` installs them).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.processes import ROOT, Servers, wait_ready

pytestmark = [pytest.mark.integration, pytest.mark.browser]

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "console-screenshots"
SCRIPT_TIMEOUT_S = 60
XSS = "<img src=x onerror=alert(1)>"


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not CHROMIUM.is_file():
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return f"playwright-core is not installed (npm ci in {BROWSER_DIR.relative_to(ROOT)})"
    return None


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    missing = _missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI, but {missing}")
    pytest.skip(f"browser tests skipped: {missing}")


@dataclass
class Console:
    url: str
    key: str
    """A key of tenant ``acme`` with every self-service scope."""
    client: httpx2.AsyncClient
    """The API with that key."""


@pytest.fixture
async def console(servers: Servers, tmp_path: Path) -> AsyncIterator[Console]:
    """A dev-mode server of the example agents (background runs on), and a tenant ``acme``
    with a key."""
    with (tmp_path / "serve.log").open("wb") as log:
        # Background runs on: the console sends its approval decisions with "background": true.
        process, url = servers.start(
            agents="examples.registry:registry",
            dev_mode="true",
            background_runs="true",
            log_level="WARNING",
            log=log,
        )
        async with httpx2.AsyncClient(base_url=url, timeout=30) as keyless:
            await wait_ready(keyless, process)
            tenant = await keyless.post("/v1/admin/tenants", json={"id": "acme", "name": "Acme"})
            assert tenant.status_code == 201, tenant.text
            scopes = ["runs:read", "runs:write", "keys:admin"]
            created = await keyless.post(
                "/v1/admin/tenants/acme/keys", json={"name": "console", "scopes": scopes}
            )
            assert created.status_code == 201, created.text
        key = created.json()["key"]
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx2.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            yield Console(url, key, client)


async def _drive(script: str, console: Console, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``browser/<script>`` against the console; what it saw."""
    folder = SHOTS / script.removesuffix(".mjs")
    env = {
        **os.environ,
        "BASE_URL": console.url,
        "API_KEY": console.key,
        "SHOTS": str(folder),
        "CHROMIUM": str(CHROMIUM),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        ["node", script],
        cwd=BROWSER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    with capsys.disabled():
        print(f"\nconsole screenshots ({script}): {folder}")
    assert done.returncode == 0, f"{script} failed:\n{done.stderr[-4000:]}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["seen"] == {"dialogs": [], "pageErrors": [], "csp": []}, seen["seen"]
    return seen


async def test_console_end_to_end(console: Console, capsys: pytest.CaptureFixture[str]) -> None:
    seen = await _drive("console.mjs", console, capsys)

    refused = (await console.client.get("/v1/agents", headers={"Authorization": "Bearer x"})).json()
    assert seen["refusal"] == f"{refused['title']}{refused['detail']}{refused['code']}"

    weather_row = next(row for row in seen["agents"] if row[0] == "weather")
    assert weather_row[4] == "get_weather" and weather_row[6] == "no"
    triage_row = next(row for row in seen["agents"] if row[0] == "triage")
    assert triage_row[5] == "billing, weather"

    weather = seen["weather"]
    assert weather["output"] == "Result: The weather in Paris today: light rain, 14 °C."
    assert weather["deltas"] > 1, "the answer arrived in one piece, not streamed"
    assert any("get_weather" in line and "Paris" in line for line in weather["events"])
    run = (await console.client.get(f"/v1/runs/{weather['runId']}")).json()
    assert run["mode"] == "stream" and run["status"] == "succeeded"
    assert f"{run['usage']['total_tokens']} tokens" in weather["usage"]

    assert len(seen["timeline"]) == 1 and "weather → get_weather" in seen["timeline"][0]
    assert run["trace_id"] and run["trace_id"] in seen["runFacts"]

    assert XSS in seen["xss"]["output"]
    assert seen["imagesAfterRun"] == 0 and seen["imagesInSession"] == 0
    assert any(XSS in item for item in seen["history"])
    assert set(seen["streamRuns"]) == {"stream"} and len(seen["streamRuns"]) == 2
    await _assert_approved_in_browser(console, seen["refund"])

    chart = seen["chart"]
    usage = await console.client.get(
        "/v1/usage", params={"granularity": "day", "since": chart["since"], "until": chart["until"]}
    )
    totals = usage.json()["totals"]
    assert date.fromisoformat(chart["until"]) == date.fromisoformat(usage.json()["until"])
    assert totals["runs"] == 3
    assert chart["totalRuns"] == chart["runBars"] == totals["runs"]
    assert chart["totalTokens"] == chart["tokenBars"] == totals["total_tokens"] > 0

    assert seen["keyAfterSignOut"] is None and seen["devAgents"] == len(seen["agents"])
    assert seen["cookies"] == 0 and seen["keyInUrl"] is False


async def _assert_approved_in_browser(console: Console, refund: dict[str, Any]) -> None:
    """The refund of 500 stopped for approval, was shown pending, approved, and ran."""
    run_id = refund["stopped"]["runId"]
    assert refund["stopped"]["output"] == "", "a run awaiting approval has no answer yet"
    assert len(refund["pending"]) == 1
    _, agent, tool, arguments = refund["pending"][0]
    assert (agent, tool, json.loads(arguments)) == (
        "refunds",
        "refund",
        {"order_id": "A0", "amount": 500},
    )
    assert refund["link"] == f"#/runs/{run_id}"
    assert {"awaiting_approval", "expired"} <= set(refund["statuses"])
    assert refund["awaitingRuns"] == [run_id]
    [before] = refund["before"]
    assert before[:4] == ["refund", "refunds", arguments, "pending"] and "Approve" in before[5]

    run = (await console.client.get(f"/v1/runs/{run_id}")).json()
    assert run["status"] == "succeeded" and "succeeded" in refund["decidedFacts"]
    assert run["output"] == refund["output"] == "Result: refunded 500 EUR on order A0"
    [approval] = run["approvals"]
    assert approval["status"] == "approved" and approval["message"] == "checked by the browser"
    [after] = refund["after"]
    assert after[3] == "approved" and after[4].startswith(approval["decided_by"])
    assert after[5] == "checked by the browser"


async def test_keys_page_creates_and_revokes(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = await _drive("keys.mjs", console, capsys)

    prefix = seen["key"].split("_")[1]
    assert prefix in seen["listed"] and "Revoke" in seen["listed"]
    assert "revoked" in seen["revoked"]
    keys = (await console.client.get("/v1/keys")).json()["keys"]
    made = next(key for key in keys if key["name"] == "made-in-browser")
    assert made["revoked_at"] is not None and made["scopes"] == ["runs:read", "runs:write"]
    refused = await console.client.get(
        "/v1/agents", headers={"Authorization": f"Bearer {seen['key']}"}
    )
    assert refused.status_code == 401
