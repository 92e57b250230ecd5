"""Stage 4 — runner: ``Runner.run`` / ``Runner.run_streamed`` with the process's RunConfig."""

from __future__ import annotations

from typing import Any, cast

from agents import Agent, RunConfig, RunContextWrapper, RunHooks, Runner, Tool
from agents.items import ModelResponse, TResponseInputItem
from agents.models.interface import ModelProvider
from agents.result import RunResult, RunResultStreaming
from agents.run_state import RunState as SdkRunState
from agents.tool_context import ToolContext
from pydantic_core import to_jsonable_python

from agenthost.errors import TokenLimitExceeded
from agenthost.execution.approvals import restored
from agenthost.execution.types import RunState
from agenthost.models.budget import token_budget
from agenthost.settings import Settings


class AgentRunner:
    """Built once per process: one provider, one RunConfig shared by every run."""

    def __init__(self, settings: Settings, provider: ModelProvider) -> None:
        self.max_state_bytes = settings.approval_state_max_bytes
        self.run_config = RunConfig(
            model_provider=provider,
            # No model settings here (the SDK would merge them into the agent's on every
            # turn): the model layer asks for usage itself (models/budget.py).
            # The SDK's spans go to OpenTelemetry (and to OpenAI only with sdk_trace_export):
            # see agenthost.telemetry.tracing.install_sdk_processors.
            tracing_disabled=not (settings.tracing_enabled or settings.sdk_trace_export),
            trace_include_sensitive_data=settings.trace_content,
            workflow_name="agenthost",
        )

    async def run(self, state: RunState) -> RunResult:
        with token_budget(state.token_limit, state.sdk_usage):
            agent = self._own_agent(state)
            run_input = await self._input(state, agent)
            return await Runner.run(agent, run_input, **self._options(state))

    async def run_streamed(self, state: RunState) -> RunResultStreaming:
        agent = self._own_agent(state)
        run_input = await self._input(state, agent)
        # The run's task is created here and copies the budget with the rest of the context.
        with token_budget(state.token_limit, state.sdk_usage):
            return Runner.run_streamed(agent, run_input, **self._options(state))

    async def _input(
        self, state: RunState, agent: Agent[Any]
    ) -> str | list[TResponseInputItem] | SdkRunState[Any, Agent[Any]]:
        """The run's input, or the stored state (with its decisions) of a resumed run."""
        if state.resume is None:
            return sdk_input(state)
        return await restored(agent, state.resume)

    def agent(self, state: RunState) -> Agent[Any]:
        """The agent to give the SDK (a subclass may wrap it)."""
        return state.agent

    def _own_agent(self, state: RunState) -> Agent[Any]:
        """A shallow copy of the run's agent for this run alone. On every turn the SDK checks
        every run in flight that shares the Agent object (whether its tools changed): with
        thousands of runs sharing one, each turn costs O(runs in flight), all runs O(n²).
        Only the entry agent is copied: agents it hands off to (or uses as tools) are still
        shared, so turns on them still pay that scan. The copy shares the tools list, so a hook
        that changes ``agent.tools`` in place changes it for every run."""
        return self.agent(state).clone()

    def hooks(self, state: RunState) -> RunHooks[Any]:
        """The run's hooks (a subclass may add to them)."""
        return UsageHooks(state)

    def _options(self, state: RunState) -> dict[str, Any]:
        """What ``Runner.run`` and ``Runner.run_streamed`` both take besides agent and input."""
        return {
            "max_turns": state.max_turns,
            "run_config": self.run_config,
            "hooks": self.hooks(state),
            "session": state.session,
        }


def sdk_input(state: RunState) -> str | list[TResponseInputItem]:
    """The run's input as the SDK types it (a conversation's messages are its input items)."""
    return state.input if isinstance(state.input, str) else cast(Any, state.input)


class UsageHooks(RunHooks[Any]):
    """Count each completed model call's usage on the run state as it happens, and note its
    tool calls and handoffs (names only) for its record.

    The SDK's own total is lost when a run fails or is cancelled; this one is not, so usage
    records keep the tokens of every call that completed (a call interrupted midway reports
    none, and is only known to have started). A run whose usage crosses its token limit is
    stopped here, before its tools run or its next model call is made.
    """

    def __init__(self, state: RunState) -> None:
        self._state = state

    async def on_llm_start(
        self,
        context: RunContextWrapper[Any],
        agent: Agent[Any],
        system_prompt: str | None,
        input_items: list[TResponseInputItem],
    ) -> None:
        self._state.model_called = True

    async def on_llm_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse
    ) -> None:
        state = self._state
        state.sdk_usage.add(response.usage)
        limit = state.token_limit
        if limit is not None and state.sdk_usage.total_tokens > limit and state.abort:
            state.abort(
                TokenLimitExceeded(
                    f"the run used {state.sdk_usage.total_tokens} tokens, over its limit of "
                    f"{limit}, and was stopped",
                    details={"quota": "tokens_per_run", "limit": limit},
                )
            )

    async def on_tool_start(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool
    ) -> None:
        call_id = context.tool_call_id if isinstance(context, ToolContext) else None
        step = {"type": "tool_called", "agent": agent.name, "tool": tool.name, "call_id": call_id}
        self._step(step)

    async def on_handoff(
        self, context: RunContextWrapper[Any], from_agent: Agent[Any], to_agent: Agent[Any]
    ) -> None:
        self._step({"type": "handoff", "from_agent": from_agent.name, "to_agent": to_agent.name})

    def _step(self, step: dict[str, Any]) -> None:
        state = self._state
        step["at_ms"] = round(state.elapsed_ms(), 1)
        state.steps.append(step)


def jsonable_output(output: Any) -> Any:
    """Final outputs (str, pydantic models, dataclasses, ...) as JSON-ready data."""
    return to_jsonable_python(output)


def agent_name(agent: Agent[Any] | None) -> str:
    return agent.name if agent is not None else ""
