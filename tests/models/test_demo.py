"""The offline demo model drives real Agents SDK runs: tools, handoffs, structured output."""

from __future__ import annotations

from typing import Literal

from agents import Agent, FunctionTool, RunConfig, Runner, function_tool
from agents.items import ToolCallItem
from pydantic import BaseModel

from agenthost.models.demo import DEMO_REPLY_PREFIX, DemoModel

RUN_CONFIG = RunConfig(tracing_disabled=True)


def invoice_tool(calls: list[int]) -> FunctionTool:
    @function_tool
    def lookup_invoice(invoice_id: int) -> str:
        """Look up an invoice by its number."""
        calls.append(invoice_id)
        return f"Invoice {invoice_id} is paid"

    return lookup_invoice


async def test_plain_reply_has_the_demo_prefix() -> None:
    agent = Agent(name="plain", instructions="Be helpful.", model=DemoModel())
    result = await Runner.run(agent, "hello there", run_config=RUN_CONFIG)
    assert result.final_output == f"{DEMO_REPLY_PREFIX}hello there"
    usage = result.context_wrapper.usage
    assert (usage.requests, usage.total_tokens) == (1, usage.input_tokens + usage.output_tokens)
    assert usage.input_tokens >= 1


async def test_tool_is_called_and_its_output_is_the_answer() -> None:
    calls: list[int] = []
    agent = Agent(name="billing", tools=[invoice_tool(calls)], model=DemoModel())
    result = await Runner.run(agent, "Please look up invoice 42", run_config=RUN_CONFIG)
    assert calls == [42]
    assert result.final_output == "Result: Invoice 42 is paid"
    assert result.context_wrapper.usage.requests == 2


async def test_handoff_then_the_specialist_uses_its_own_tool() -> None:
    calls: list[int] = []
    model = DemoModel()
    billing = Agent(
        name="Billing",
        handoff_description="Billing questions about invoices and payments.",
        tools=[invoice_tool(calls)],
        model=model,
    )
    triage = Agent(name="Triage", instructions="Route the user.", handoffs=[billing], model=model)
    result = await Runner.run(
        triage, "I have a billing question about invoice 7", run_config=RUN_CONFIG
    )
    assert result.last_agent is billing
    assert calls == [7]
    assert result.final_output == "Result: Invoice 7 is paid"
    tool_names = [
        getattr(item.raw_item, "name", None)
        for item in result.new_items
        if isinstance(item, ToolCallItem)
    ]
    assert tool_names == ["lookup_invoice"]


class Ticket(BaseModel):
    summary: str
    priority: Literal["low", "high"]
    count: int
    tags: list[str]


async def test_structured_output_type() -> None:
    agent = Agent(name="triage", output_type=Ticket, model=DemoModel())
    result = await Runner.run(agent, "printer on fire", run_config=RUN_CONFIG)
    assert result.final_output == Ticket(
        summary="printer on fire", priority="low", count=0, tags=[]
    )


async def test_streamed_run_emits_several_deltas_then_the_final_output() -> None:
    agent = Agent(name="plain", model=DemoModel())
    result = Runner.run_streamed(agent, "stream me some words", run_config=RUN_CONFIG)
    event_types: list[str] = []
    deltas: list[str] = []
    async for event in result.stream_events():
        if event.type == "raw_response_event":
            event_types.append(event.data.type)
            if event.data.type == "response.output_text.delta":
                deltas.append(event.data.delta)
    expected = f"{DEMO_REPLY_PREFIX}stream me some words"
    assert len(deltas) >= 4
    assert "".join(deltas) == expected
    assert event_types[0] == "response.created"
    assert event_types[-1] == "response.completed"
    assert result.final_output == expected
    assert result.context_wrapper.usage.output_tokens > 0


async def test_streamed_run_with_a_tool() -> None:
    calls: list[int] = []
    agent = Agent(name="billing", tools=[invoice_tool(calls)], model=DemoModel())
    result = Runner.run_streamed(
        agent, '[[tool:lookup_invoice {"invoice_id": 9}]]', run_config=RUN_CONFIG
    )
    async for _ in result.stream_events():
        pass
    assert calls == [9]
    assert result.final_output == "Result: Invoice 9 is paid"
