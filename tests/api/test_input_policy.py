"""Input policies over real HTTP: text reaches the model as sent, conversations are checked
per agent, and markup in an input never reaches an HTML page unescaped."""

from __future__ import annotations

from typing import Any

from agents import Agent
from agents.testing import ScriptedModel, assistant_message

from agenthost.registry import AgentRegistry
from agenthost.security.input import InputPolicy

CODE = "if a < b && c > d:\n    print('<b>&amp;</b>')\n```html\n<div class=\"x\">\u00e9</div>\n```"
SCRIPT = "<script>alert('pwned')</script>Hello"


def _registry() -> AgentRegistry:
    registry = AgentRegistry()
    registry.register(Agent(name="echo", instructions="Repeat the user."))
    registry.register(
        Agent(name="html", instructions="Repeat the user."),
        input_policy=InputPolicy(strip_html=True, max_items=2),
    )
    registry.register(
        Agent(name="vision", instructions="Describe."),
        input_policy=InputPolicy(content_types=frozenset({"input_text", "input_image"})),
    )
    return registry


async def test_text_and_code_reach_the_model_unmodified(agenthost_client: Any) -> None:
    texts = ["a < b && c > d", CODE]
    model = ScriptedModel([[assistant_message(text)] for text in texts])
    registry = AgentRegistry()
    registry.register(Agent(name="exact", instructions="Answer.", model=model))
    async with agenthost_client(registry, store_run_content=True) as (client, _):
        for text in texts:
            response = await client.post("/v1/agents/exact/runs", json={"input": text})
            assert response.status_code == 200, response.text
            assert response.json()["output"] == text
            record = await client.get(f"/v1/runs/{response.json()['run_id']}")
            assert record.json()["input"] == text
    # What the model was given:
    assert [call.input for call in model.calls] == [[{"content": t, "role": "user"}] for t in texts]


async def test_markup_never_reaches_an_html_page_unescaped(agenthost_client: Any) -> None:
    async with agenthost_client(_registry(), store_run_content=True) as (client, _):
        echoed = await client.post("/v1/agents/echo/runs", json={"input": SCRIPT})
        stripped = await client.post("/v1/agents/html/runs", json={"input": SCRIPT})
        record = await client.get(f"/v1/runs/{echoed.json()['run_id']}")
        docs = await client.get("/docs")
    # The API answers JSON that browsers may not render or sniff as HTML.
    for response in (echoed, record):
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert echoed.json()["output"].endswith(SCRIPT)  # text is text: kept, not mangled
    assert stripped.json()["output"].endswith("Hello") and "<script" not in stripped.text
    # The one HTML page the server serves shows no input, and its CSP forbids inline scripts
    # other than its own.
    assert docs.status_code == 200 and "alert(" not in docs.text
    csp = docs.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'sha256-" in script_src and "'unsafe-inline'" not in script_src


async def test_conversations_follow_the_agents_policy(agenthost_client: Any) -> None:
    conversation = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]},
    ]
    image = {"type": "input_image", "image_url": "https://example.invalid/cat.png"}
    with_image = [{"role": "user", "content": [{"type": "input_text", "text": "What?"}, image]}]
    async with agenthost_client(_registry()) as (client, _):
        ok = await client.post("/v1/agents/echo/runs", json={"input": conversation})
        too_many = await client.post("/v1/agents/html/runs", json={"input": conversation})
        refused = await client.post("/v1/agents/echo/runs", json={"input": with_image})
        accepted_shape = await client.post(
            "/v1/agents/vision/runs", json={"input": [{"role": "user", "content": [image]}]}
        )
        malformed = await client.post(
            "/v1/agents/echo/runs", json={"input": [{"role": "user", "content": []}]}
        )
    assert ok.status_code == 200, ok.text
    assert ok.json()["output"].endswith("What is my name?")
    assert too_many.status_code == 422 and "at most 2 messages" in too_many.json()["detail"]
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "input.0.content.1.type"
    assert accepted_shape.status_code == 422  # image only: no text to answer
    assert accepted_shape.json()["errors"][0]["type"] == "empty"
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "input"
