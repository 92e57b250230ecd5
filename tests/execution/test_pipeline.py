"""The pipeline's stages with the SDK's ScriptedModel: outcomes, errors and settlement."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from agents import Agent, GuardrailFunctionOutput, OutputGuardrail, function_tool
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from agents.usage import Usage

from agenthost.container import Container
from agenthost.errors import AgentHostError, ErrorCode, ShuttingDown
from agenthost.execution.types import RunRequest
from agenthost.store.repositories import runs
from agenthost.tenancy.principal import DEV_TENANT, Principal, Scope, Tenant


@function_tool
def ping() -> str:
    """Answer pong."""
    return "pong"


Build = Callable[..., Awaitable[Container]]
Stall = Callable[..., Awaitable[tuple[Container, asyncio.Event]]]
DEV = Principal(Tenant(DEV_TENANT), None, frozenset(Scope))


def req(agent: str = "a") -> RunRequest:
    return RunRequest(agent=agent, input="go", principal=DEV)


@pytest.fixture
def stalling_container(
    container_for: Callable[..., Awaitable[Container]],
) -> Callable[..., Awaitable[tuple[Container, asyncio.Event]]]:
    """Agent "a" whose model call never returns; the event is set once the call is made."""

    async def build(**policy: Any) -> tuple[Container, asyncio.Event]:
        entered = asyncio.Event()

        async def stall(call: Any) -> Any:
            entered.set()
            await asyncio.Event().wait()

        agent = Agent(name="a", model=ScriptedModel([ModelStep.respond(stall)]))
        return await container_for(agent, **policy), entered

    return build


async def test_outcome_carries_output_usage_and_last_agent(container_for: Build) -> None:
    model = ScriptedModel([[function_call("ping", {}, call_id="c1")], [assistant_message("done")]])
    container = await container_for(Agent(name="a", model=model, tools=[ping]))
    outcome = await container.pipeline.run(req())
    assert outcome.output == "done" and outcome.last_agent == "a"
    assert outcome.usage.requests == 2
    assert container.lifecycle.in_flight == 0


async def test_max_turns_is_classified_and_its_usage_kept(
    caplog: pytest.LogCaptureFixture, container_for: Build
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
    container = await container_for(Agent(name="a", model=looping, tools=[ping]), max_turns=2)
    with caplog.at_level(logging.INFO), pytest.raises(AgentHostError) as info:
        await container.pipeline.run(req())
    assert info.value.code is ErrorCode.MAX_TURNS_EXCEEDED
    assert container.lifecycle.in_flight == 0
    settled = next(r for r in caplog.records if r.getMessage() == "run failed")
    assert settled.requests == 2 and settled.input_tokens == 20  # type: ignore[attr-defined]


async def test_output_guardrail_is_classified_with_its_name(container_for: Build) -> None:
    def reject(ctx: Any, agent: Any, output: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=True)

    agent = Agent(
        name="a",
        model=ScriptedModel([[assistant_message("secret")]]),
        output_guardrails=[OutputGuardrail(guardrail_function=reject, name="no_secrets")],
    )
    with pytest.raises(AgentHostError) as info:
        await (await container_for(agent)).pipeline.run(req())
    assert info.value.code is ErrorCode.GUARDRAIL_TRIPPED
    assert info.value.details["guardrail"] == "no_secrets"


async def test_deadline_warns_then_cancels_and_settles(
    caplog: pytest.LogCaptureFixture, stalling_container: Stall
) -> None:
    container, _ = await stalling_container(timeout_s=0.3, warning_ratio=0.5)
    with caplog.at_level(logging.INFO), pytest.raises(AgentHostError) as info:
        await container.pipeline.run(req())
    assert info.value.code is ErrorCode.RUN_TIMEOUT
    messages = [r.getMessage() for r in caplog.records]
    assert "run approaching its deadline" in messages
    assert "run failed" in messages
    assert container.lifecycle.in_flight == 0


async def test_cancelled_run_is_settled_as_cancelled(
    caplog: pytest.LogCaptureFixture, stalling_container: Stall
) -> None:
    container, entered = await stalling_container()
    task = asyncio.create_task(container.pipeline.run(req()))
    await entered.wait()
    assert container.lifecycle.in_flight == 1
    task.cancel()
    with caplog.at_level(logging.INFO), pytest.raises(asyncio.CancelledError):
        await task
    assert container.lifecycle.in_flight == 0
    assert "run cancelled" in [r.getMessage() for r in caplog.records]


async def test_stream_events_in_order(container_for: Build) -> None:
    model = ScriptedModel([[function_call("ping", {}, call_id="c1")], [assistant_message("ok")]])
    container = await container_for(Agent(name="a", model=model, tools=[ping]))
    stream = await container.pipeline.open_stream(req())
    assert container.lifecycle.in_flight == 1  # admitted: a drain waits for it
    kinds = []
    async for event in stream.events():
        kinds.append(event.type)
        assert container.lifecycle.in_flight == 1
    assert kinds[0] == "run_started" and kinds[-1] == "final"
    assert kinds.index("tool_called") < kinds.index("tool_output") < kinds.index("final")
    assert container.lifecycle.in_flight == 0


async def test_a_stream_never_read_is_settled_as_cancelled(container_for: Build) -> None:
    container = await container_for(Agent(name="a", model=ScriptedModel([])))
    stream = await container.pipeline.open_stream(req())
    await stream.discard()
    await stream.discard()  # once is enough
    async with container.db.transaction() as tx:
        record = await runs.get(tx, DEV_TENANT, stream.run_id)
    assert record is not None and record.status == "cancelled"
    assert record.error_code == "RUN_CANCELLED"
    assert container.lifecycle.in_flight == 0


async def test_abort_fails_a_sync_run_with_the_given_error(stalling_container: Stall) -> None:
    container, entered = await stalling_container()
    task = asyncio.create_task(container.pipeline.run(req()))
    await entered.wait()
    assert container.lifecycle.abort_all(ShuttingDown("stopping")) == 1
    with pytest.raises(ShuttingDown):
        await task
    assert container.lifecycle.in_flight == 0


async def test_abort_ends_a_stream_with_the_given_error(stalling_container: Stall) -> None:
    container, entered = await stalling_container()
    stream = await container.pipeline.open_stream(req())
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


async def test_refusals_happen_before_any_work(container_for: Build) -> None:
    container = await container_for(Agent(name="a", model=ScriptedModel([])))
    with pytest.raises(AgentHostError) as unknown:
        await container.pipeline.run(req("b"))
    container.lifecycle.begin_drain()
    with pytest.raises(AgentHostError) as draining:
        await container.pipeline.open_stream(req())
    assert unknown.value.code is ErrorCode.AGENT_NOT_FOUND
    assert draining.value.code is ErrorCode.SHUTTING_DOWN
    assert container.lifecycle.in_flight == 0
