"""The runner helpers: CLI flags round-trip, app state, admin validation (in process)."""

from __future__ import annotations

import httpx2
import pytest

from agenthost.testing.mock_llm import MockLLMConfig, MockLLMState, create_mock_llm_app
from agenthost.testing.mock_llm.__main__ import config_from_args, parse_args
from agenthost.testing.mock_llm.server import config_to_args


def test_config_survives_the_cli_flags() -> None:
    config = MockLLMConfig(
        latency_ms=5,
        chunk_delay_ms=7,
        fault_rate=0.25,
        fault_kinds=("429", "drop"),
        seed=42,
        retry_after_s=2.5,
        reply_prefix="Echo: ",
        models=("a", "b"),
    )
    rebuilt = config_from_args(parse_args(config_to_args(config)))
    assert rebuilt == config


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        MockLLMConfig(fault_rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        MockLLMConfig(fault_kinds=("404",))


async def test_each_app_owns_its_state_and_admin_validates() -> None:
    app = create_mock_llm_app(MockLLMConfig(latency_ms=3))
    other = create_mock_llm_app()
    assert isinstance(app.state.mock_llm, MockLLMState)
    assert app.state.mock_llm is not other.state.mock_llm
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://mock") as client:
        bad = await client.post("/_mock/latency", json={"latency_ms": -1})
        assert bad.status_code == 400
        assert bad.json()["error"]["type"] == "invalid_request_error"
        ok = await client.post("/_mock/latency", json={"chunk_delay_ms": 9})
        assert ok.json() == {"latency_ms": 3, "chunk_delay_ms": 9}
        queued = await client.post("/_mock/faults", json={"faults": [{"kind": "500", "times": 2}]})
        assert queued.json() == {"queued": 2, "pending": 2}
        stats = (await client.post("/_mock/reset")).json()
        assert (stats["queued_faults"], stats["chunk_delay_ms"]) == (0, 0)
        not_json = await client.post("/v1/responses", content=b"{")
        assert not_json.status_code == 400
