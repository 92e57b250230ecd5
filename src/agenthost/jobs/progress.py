"""The progress of background runs as events in the database, written by the process that
executes the run and read by ``GET /v1/runs/{id}/events`` in any process.

Events have the shapes of a streamed run's events (``tool_called``, ``tool_output``,
``handoff``, ``agent_updated``, ``text_delta`` with a whole message, then ``final`` or
``error``). Each is stored under a key naming its place in the run — the model call it
follows, or its tool call id — so the hooks of a resumed run, which fire again for the steps
replayed from DBOS, add nothing twice.

A run's events are written in few transactions, as scripts: ``run_started`` and the entry
agent's ``agent_updated`` with the start of the run (:meth:`ProgressHooks.opening`); the
events since then before each durable step begins (a model or tool call may take long, and
followers should see what led to it); the last ones with the run's last event
(:meth:`RunEvents.end`). A crash loses no event for good: the resumed run's hooks make again
those it had not written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agents import Agent, RunContextWrapper, Tool
from agents.items import ModelResponse, TResponseInputItem
from agents.tool_context import ToolContext

from agenthost.execution.runner import UsageHooks
from agenthost.execution.types import RunState
from agenthost.jobs.outcome import last_event, stop_events
from agenthost.store.database import Database
from agenthost.store.repositories import events, pauses, runs
from agenthost.store.scripts import Script
from agenthost.store.tables import RunEventRow, RunRow
from agenthost.store.types import utcnow

END = events.END
PAGE = 200


class RunEvents:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, run_id: str, new: Sequence[events.Event]) -> None:
        if new:
            await self._db.scripts.run(events.add(run_id, new, utcnow()))

    async def append(self, run_id: str, key: str, type_: str, data: Any) -> None:
        await self.add(run_id, [(key, type_, data)])

    async def end(
        self, tenant_id: str, run_id: str, pending: Sequence[events.Event] = ()
    ) -> RunRow:
        """Store ``pending`` events and the run's last event, from its (settled) record; the
        record. A run that stopped for approval gets ``approval_required`` and a ``final``
        ending that stop."""
        row = await self._db.scripts.run(_ending(tenant_id, run_id, pending, utcnow()))
        if row.status == "awaiting_approval":
            async with self._db.transaction() as tx:
                pause = await pauses.get_pause(tx, run_id)
                calls = await pauses.calls(tx, [run_id])
                stop = 0 if pause is None else pause.round
                for key, kind, data in stop_events(row, stop, calls):
                    await events.append(tx, run_id, key, kind, data)
        return row

    async def record(self, tenant_id: str, run_id: str) -> RunRow:
        """The run's record (as far as its outcome goes)."""
        row = await self._db.scripts.run(runs.find_outcome(tenant_id, run_id))
        assert row is not None, "a queued run has a record"
        return row

    async def ended(self, run_id: str) -> bool:
        """Whether the run's last event so far (``final`` or ``error``, maybe ending a stop
        for approval) is stored."""
        async with self._db.transaction(read_only=True) as tx:
            return await events.latest_ends(tx, run_id)

    async def after(self, run_id: str, last_id: int) -> Sequence[RunEventRow]:
        async with self._db.transaction(read_only=True) as tx:
            return await events.after(tx, run_id, last_id, PAGE)


def _ending(
    tenant_id: str, run_id: str, pending: Sequence[events.Event], now: datetime
) -> Script[RunRow]:
    row = yield from runs.find_outcome(tenant_id, run_id)
    assert row is not None, "a queued run has a record"
    last = [] if row.status == "awaiting_approval" else [(END, *last_event(row))]
    yield from events.add(run_id, [*pending, *last], now)
    return row


def _message_text(response: ModelResponse) -> str:
    parts: list[str] = []
    for item in response.output:
        if item.type == "message":
            parts.extend(
                part.text for part in getattr(item, "content", []) if part.type == "output_text"
            )
    return "".join(parts)


class ProgressHooks(UsageHooks):
    """Usage accounting (as for every run) plus the run's events."""

    def __init__(self, state: RunState, run_events: RunEvents) -> None:
        super().__init__(state)
        self._events = run_events
        self._run_id = state.request.run_id
        # A run continued after a stop for approval starts counting again: its keys differ.
        self._prefix = "" if state.resume is None else f"r{state.resume.round}:"
        self._calls = 0
        self._unwritten: list[events.Event] = []
        self._keys: set[str] = set()
        # Concurrent tool calls flush at once; one writer at a time keeps ids in order.
        self._lock = asyncio.Lock()

    def opening(self) -> list[events.Event]:
        """The entry agent's ``agent_updated``, to write with the start of a new run (the hook
        that would make it adds nothing then)."""
        if self._state.resume is not None:  # it continues with the agent it stopped at
            return []
        event = (f"agent:{self._calls}", "agent_updated", {"agent": self._state.agent.name})
        self._keys.add(event[0])
        return [event]

    async def flush(self) -> None:
        """Write the events made since the last write (before a durable step begins)."""
        async with self._lock:
            unwritten, self._unwritten = self._unwritten, []
            try:
                await self._events.add(self._run_id, unwritten)
            except BaseException:
                self._unwritten[:0] = unwritten  # for the next write
                raise

    def unwritten(self) -> list[events.Event]:
        """The events made and not written yet (to write with the run's last event)."""
        return list(self._unwritten)

    def _emit(self, key: str, type_: str, data: dict[str, Any]) -> None:
        key = self._prefix + key
        if key not in self._keys:
            self._keys.add(key)
            self._unwritten.append((key, type_, data))

    async def on_agent_start(self, context: RunContextWrapper[Any], agent: Agent[Any]) -> None:
        self._emit(f"agent:{self._calls}", "agent_updated", {"agent": agent.name})

    async def on_llm_start(
        self,
        context: RunContextWrapper[Any],
        agent: Agent[Any],
        system_prompt: str | None,
        input_items: list[TResponseInputItem],
    ) -> None:
        self._calls += 1
        await super().on_llm_start(context, agent, system_prompt, input_items)

    async def on_llm_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse
    ) -> None:
        text = _message_text(response)
        if text:
            self._emit(f"text:{self._calls}", "text_delta", {"delta": text})
        await super().on_llm_end(context, agent, response)

    async def on_tool_start(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool
    ) -> None:
        await super().on_tool_start(context, agent, tool)
        if isinstance(context, ToolContext):
            self._emit(
                f"tool_called:{context.tool_call_id}",
                "tool_called",
                {
                    "agent": agent.name,
                    "tool": tool.name,
                    "call_id": context.tool_call_id,
                    "arguments": context.tool_arguments,
                },
            )

    async def on_tool_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool, result: object
    ) -> None:
        if isinstance(context, ToolContext):
            self._emit(
                f"tool_output:{context.tool_call_id}",
                "tool_output",
                {
                    "agent": agent.name,
                    "call_id": context.tool_call_id,
                    "output": result if isinstance(result, str) else str(result),
                },
            )

    async def on_handoff(
        self, context: RunContextWrapper[Any], from_agent: Agent[Any], to_agent: Agent[Any]
    ) -> None:
        await super().on_handoff(context, from_agent, to_agent)
        self._emit(
            f"handoff:{self._calls}",
            "handoff",
            {"from_agent": from_agent.name, "to_agent": to_agent.name},
        )
