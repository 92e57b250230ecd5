"""Durable steps: each model call and each tool call of a background run is a DBOS step.

A step's result is stored when it completes. When a crashed run is resumed, its workflow runs
again from the start, and every step that had completed returns its stored result instead of
calling the model or the tool again: only the step in flight at the crash is repeated.

DBOS numbers steps in the order they start, and replay must see the same order. Model calls
of one run are sequential; the tool calls a model response asks for run concurrently, so their
step numbers are reserved, in the response's order, as soon as the response arrives.

Tools of MCP servers are steps too: the SDK makes them anew from the servers' tool lists on
every turn, so the durable copy of an agent wraps them as it gets them (``get_mcp_tools``).
Listing tools is not a step (it has no side effects; a resumed run lists them afresh).

The wrappers here are ours rather than the ``dbos-openai-agents`` package's: that package
replaces the run's model provider (ours routes, retries and breaks circuits per deployment)
and leaves tool calls outside steps, so a resumed run would call its tools again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agents import Agent, FunctionTool, Handoff, RunContextWrapper, RunHooks, Tool
from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model, ModelProvider
from agents.tool_context import ToolContext
from dbos import DBOS, StepOptions, StepReservation
from dbos import error as dbos_error

from agenthost.execution import session_gate
from agenthost.execution.runner import AgentRunner
from agenthost.execution.types import RunState
from agenthost.jobs.progress import ProgressHooks, RunEvents
from agenthost.settings import Settings

T = TypeVar("T")


@dataclass(slots=True)
class _DurableRun:
    state: RunState
    options: StepOptions
    progress: ProgressHooks
    tool_steps: dict[str, StepReservation] = field(default_factory=dict)
    """Step numbers reserved for the tool calls of the latest model response, by call id."""


_current: ContextVar[_DurableRun | None] = ContextVar("agenthost_durable_run", default=None)


@contextmanager
def _durable_run(state: RunState, options: StepOptions, progress: ProgressHooks) -> Iterator[None]:
    run = _DurableRun(state, options, progress)
    if state.resume is not None:  # the approved calls of its stop run first, in their order
        for decision in state.resume.decisions:
            if decision.approve:
                run.tool_steps[decision.call_id] = DBOS.reserve_step()
    token = _current.set(run)
    try:
        yield
    finally:
        _current.reset(token)


async def _step(
    options: StepOptions,
    call: Callable[[], Coroutine[Any, Any, T]],
    at: StepReservation | None = None,
) -> T:
    """``call()`` as a step (at a reserved number if given). If another process has taken
    the run over (this one was taken for dead), this execution stops without settling.
    The run's events so far are written first."""
    run = _current.get()
    if run is not None:
        await run.progress.flush()
    try:
        if at is not None:
            return await at.run_async(options, call)
        return await DBOS.run_step_async(options, call)
    except dbos_error.DBOSWorkflowConflictIDError:
        if run is not None:
            run.state.suspended = True
        raise


class DurableModel(Model):
    """Runs each call of ``inner`` as a step, and reserves the steps of the tool calls it
    asks for."""

    def __init__(self, inner: Model) -> None:
        self._inner = inner

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        async def call() -> ModelResponse:
            return await self._inner.get_response(*args, **kwargs)

        response = await _step({"name": "model"}, call)
        run = _current.get()
        if run is not None:
            for item in response.output:
                if item.type == "function_call":
                    run.tool_steps[item.call_id] = DBOS.reserve_step()
        return response

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("background runs call models without streaming")

    async def close(self) -> None:
        await self._inner.close()


class DurableProvider(ModelProvider):
    def __init__(self, inner: ModelProvider) -> None:
        self._inner = inner

    def get_model(self, model_name: str | None) -> Model:
        return DurableModel(self._inner.get_model(model_name))


def _durable_tool(tool: FunctionTool, options: StepOptions) -> FunctionTool:
    invoke = tool.on_invoke_tool
    step_options: StepOptions = {**options, "name": f"tool:{tool.name}"}

    async def durable_invoke(context: ToolContext[Any], arguments: str) -> Any:
        async def call() -> Any:  # the SDK's invoker is an object whose call is awaitable
            return await invoke(context, arguments)

        run = _current.get()
        reserved = None if run is None else run.tool_steps.pop(context.tool_call_id, None)
        return await _step(step_options, call, reserved)

    return dataclasses.replace(tool, on_invoke_tool=durable_invoke)


class _DurableMCPAgent(Agent[Any]):
    """An agent whose MCP tools run as steps (inside a durable run)."""

    async def get_mcp_tools(self, run_context: RunContextWrapper[Any]) -> list[Tool]:
        tools = await super().get_mcp_tools(run_context)
        run = _current.get()
        if run is None:
            return tools
        return [
            _durable_tool(tool, run.options) if isinstance(tool, FunctionTool) else tool
            for tool in tools
        ]


def _with_durable_mcp_tools(agent: Agent[Any]) -> None:
    """Make ``agent`` (a fresh copy) wrap its MCP tools: its class becomes a subclass of its
    own with :class:`_DurableMCPAgent` first (copies made by ``clone`` keep the class)."""
    kind = type(agent)
    if issubclass(kind, _DurableMCPAgent):
        return
    agent.__class__ = (
        _DurableMCPAgent
        if kind is Agent
        else type(f"Durable{kind.__name__}", (_DurableMCPAgent, kind), {})
    )


def durable_agent(
    agent: Agent[Any], options: StepOptions, done: dict[int, Agent[Any]] | None = None
) -> Agent[Any]:
    """A copy of ``agent`` (and of the agents it hands off to, cycles included) whose function
    tools, MCP tools and own model instance (if it has one) run as steps."""
    done = {} if done is None else done
    if id(agent) in done:
        return done[id(agent)]
    changes: dict[str, Any] = {
        "tools": [
            _durable_tool(tool, options) if isinstance(tool, FunctionTool) else tool
            for tool in agent.tools
        ]
    }
    if isinstance(agent.model, Model):
        changes["model"] = DurableModel(agent.model)
    copy = done[id(agent)] = agent.clone(**changes)
    if agent.mcp_servers:
        _with_durable_mcp_tools(copy)
    copy.handoffs = [_durable_handoff(handoff, options, done) for handoff in agent.handoffs]
    return copy


def _durable_handoff(
    handoff: Agent[Any] | Handoff[Any, Any], options: StepOptions, done: dict[int, Agent[Any]]
) -> Agent[Any] | Handoff[Any, Any]:
    if isinstance(handoff, Agent):
        return durable_agent(handoff, options, done)
    invoke = handoff.on_invoke_handoff

    async def durable_invoke(*args: Any, **kwargs: Any) -> Agent[Any]:
        return durable_agent(await invoke(*args, **kwargs), options, done)

    return dataclasses.replace(handoff, on_invoke_handoff=durable_invoke)


class DurableRunner(AgentRunner):
    """The runner of background runs: durable model and tool steps, progress events."""

    def __init__(self, settings: Settings, provider: ModelProvider, events: RunEvents) -> None:
        super().__init__(settings, DurableProvider(provider))
        self._events = events
        self.step_options: StepOptions = {
            "retries_allowed": settings.step_max_attempts > 1,
            "max_attempts": settings.step_max_attempts,
            "interval_seconds": settings.step_retry_delay_s,
            "backoff_rate": settings.step_backoff,
        }
        self._agents: dict[str, Agent[Any]] = {}

    @contextmanager
    def durable(self, state: RunState) -> Iterator[ProgressHooks]:
        """The scope of one execution of a background run: its steps, and its progress
        events (those not yet written when it ends are the caller's to write)."""
        progress = ProgressHooks(state, self._events)
        with _durable_run(state, self.step_options, progress):
            yield progress

    async def run(self, state: RunState) -> Any:
        """Run ``state`` (inside :meth:`durable`)."""
        turn = session_gate.turn_of(state)
        if turn is not None:  # its history read and its write are steps too
            turn.steps = lambda name, call: _step({"name": name}, call)
        return await super().run(state)

    def agent(self, state: RunState) -> Agent[Any]:
        if state.agent is not state.entry.agent:  # a tenant's override: a fresh clone
            return durable_agent(state.agent, self.step_options)
        agent = self._agents.get(state.entry.name)
        if agent is None:
            agent = self._agents[state.entry.name] = durable_agent(state.agent, self.step_options)
        return agent

    def hooks(self, state: RunState) -> RunHooks[Any]:
        run = _current.get()
        assert run is not None and run.state is state, "a durable run is run inside durable()"
        return run.progress
