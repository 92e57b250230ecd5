"""A caller that goes away stops its run: no tokens spent for nobody, no slot held."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.agents import ToolLog, build_registry
from tests.waiting import eventually


@pytest.mark.parametrize("stream", [False, True])
async def test_disconnect_cancels_the_run_and_its_model_call(
    agenthost_client: Any, mock_llm: MockLLMServer, stream: bool
) -> None:
    async with agenthost_client(build_registry(ToolLog())) as (client, app):
        lifecycle = app.state.lifecycle
        with pytest.raises(httpx2.ReadTimeout):
            await client.post(
                "/v1/agents/echo/runs",
                json={"input": "[[sleep:5000]] are you there?", "stream": stream},
                timeout=httpx2.Timeout(30, read=0.5) if not stream else httpx2.Timeout(0.5),
            )
        # Gone well before the model would answer (5 s) or the echo agent's deadline (2 s).
        await eventually(lambda: lifecycle.in_flight == 0, timeout_s=1.2)
        await eventually(lambda: mock_llm.stats()["disconnects"] == 1, timeout_s=1.2)
