"""The pipeline's stages with the SDK's ScriptedModel: outcomes, errors and settlement."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from agents import Agent, GuardrailFunctionOutput, OutputGuardrail, function_tool
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from agents.usage import Usage

from agenthost.container import Container, build_container
from agenthost.errors import AgentHostError, ErrorCode, ShuttingDown
from agenthost.execution.types import RunRequest
from agenthost.registry import AgentRegistry
from agenthost.settings import Settings


@function_tool
def ping() -> str:
    """Answer pong."""
    return "pong"


def container_for(agent: Agent[Any], **policy: Any) -> Container:
    registry = AgentRegistry()
    registry.register(agent, **policy)
    container = build_container(Settings(demo_model=True), registry=registry)
    container.lifecycle.ready = True
    return container


def stalling_container(**policy: Any) -> tuple[Container, asyncio.Event]:
    """Agent "a" whose model call never returns; the event is set once the call is made."""
    entered = asyncio.Event()

    async def stall(call: Any) -> Any:
        entered.set()
        await asyncio.Event().wait()

    agent = Agent(name="a", model=ScriptedModel([ModelStep.respond(stall)]))
    return container_for(agent, **policy), entered


async def test_outcome_carries_output_usage_and_last_agent() -> None:
    model = ScriptedModel([[function_call("ping", {}, call_id="c1")], [assistant_message("done")]])
    container = container_for(Agent(name="a", model=model, tools=[ping]))
    outcome = await container.pipeline.run(RunRequest(agent="a", input="go"))
    assert outcome.output == "done" and outcome.last_agent == "a"
    assert outcome.usage.requests == 2
    assert container.lifecycle.in_flight == 0


async def test_max_turns_is_classified_and_its_usage_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    looping = ScriptedModel(
        [
            ModelStep(
                output=[function_call("ping", {}, call_id=f"c{i}")],
                usage=Usage(requests=1, input_tokens=10, output_tokens=5, total_tokens=15),
            )
            for i in range(5)
        ]
    )
    container = container_for(Agent(name="a", model=looping, tools=[ping]), max_turns=2)
    with caplog.at_level(logging.INFO), pytest.raises(AgentHostError) as info:
        await container.pipeline.run(RunRequest(agent="a", input="go"))
    assert info.value.code is ErrorCode.MAX_TURNS_EXCEEDED
    assert container.lifecycle.in_flight == 0
    settled = next(r for r in caplog.records if r.getMessage() == "run failed")
    assert settled.requests == 2 and settled.input_tokens == 20  # type: ignore[attr-defined]


async def test_output_guardrail_is_classified_with_its_name() -> None:
    def reject(ctx: Any, agent: Any, output: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=True)

    agent = Agent(
        name="a",
        model=ScriptedModel([[assistant_message("secret")]]),
        output_guardrails=[OutputGuardrail(guardrail_function=reject, name="no_secrets")],
    )
    with pytest.raises(AgentHostError) as info:
        await container_for(agent).pipeline.run(RunRequest(agent="a", input="go"))
    assert info.value.code is ErrorCode.GUARDRAIL_TRIPPED
    assert info.value.details["guardrail"] == "no_secrets"


async def test_deadline_warns_then_cancels_and_settles(caplog: pytest.LogCaptureFixture) -> None:
    container, _ = stalling_container(timeout_s=0.3, warning_ratio=0.5)
    with caplog.at_level(logging.INFO), pytest.raises(AgentHostError) as info:
        await container.pipeline.run(RunRequest(agent="a", input="go"))
    assert info.value.code is ErrorCode.RUN_TIMEOUT
    messages = [r.getMessage() for r in caplog.records]
    assert "run approaching its deadline" in messages
    assert "run failed" in messages
    assert container.lifecycle.in_flight == 0


async def test_cancelled_run_is_settled_as_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    container, entered = stalling_container()
    task = asyncio.create_task(container.pipeline.run(RunRequest(agent="a", input="go")))
    await entered.wait()
    assert container.lifecycle.in_flight == 1
    task.cancel()
    with caplog.at_level(logging.INFO), pytest.raises(asyncio.CancelledError):
        await task
    assert container.lifecycle.in_flight == 0
    assert "run cancelled" in [r.getMessage() for r in caplog.records]


async def test_stream_events_in_order() -> None:
    model = ScriptedModel([[function_call("ping", {}, call_id="c1")], [assistant_message("ok")]])
    container = container_for(Agent(name="a", model=model, tools=[ping]))
    stream = container.pipeline.open_stream(RunRequest(agent="a", input="go"))
    assert container.lifecycle.in_flight == 0  # a stream nobody iterates holds nothing
    kinds = []
    async for event in stream.events():
        kinds.append(event.type)
        assert container.lifecycle.in_flight == 1
    assert kinds[0] == "run_started" and kinds[-1] == "final"
    assert kinds.index("tool_called") < kinds.index("tool_output") < kinds.index("final")
    assert container.lifecycle.in_flight == 0


async def test_abort_fails_a_sync_run_with_the_given_error() -> None:
    container, entered = stalling_container()
    task = asyncio.create_task(container.pipeline.run(RunRequest(agent="a", input="go")))
    await entered.wait()
    assert container.lifecycle.abort_all(ShuttingDown("stopping")) == 1
    with pytest.raises(ShuttingDown):
        await task
    assert container.lifecycle.in_flight == 0


async def test_abort_ends_a_stream_with_the_given_error() -> None:
    container, entered = stalling_container()
    stream = container.pipeline.open_stream(RunRequest(agent="a", input="go"))
    events = stream.events()
    assert (await anext(events)).type == "run_started"
    pending = asyncio.ensure_future(anext(events))
    await entered.wait()
    container.lifecycle.abort_all(ShuttingDown("stopping"))
    with pytest.raises(ShuttingDown):
        while True:
            await pending
            pending = asyncio.ensure_future(anext(events))
    assert container.lifecycle.in_flight == 0


async def test_refusals_happen_before_any_work() -> None:
    container = container_for(Agent(name="a", model=ScriptedModel([])))
    with pytest.raises(AgentHostError) as unknown:
        await container.pipeline.run(RunRequest(agent="b", input="go"))
    container.lifecycle.begin_drain()
    with pytest.raises(AgentHostError) as draining:
        container.pipeline.open_stream(RunRequest(agent="a", input="go"))
    assert unknown.value.code is ErrorCode.AGENT_NOT_FOUND
    assert draining.value.code is ErrorCode.SHUTTING_DOWN
    assert container.lifecycle.in_flight == 0
