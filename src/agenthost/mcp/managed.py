"""One MCP server as agenthost runs it: one connection per process, kept up, measured.

:class:`ManagedMCPServer` takes the place of a server object in the agents' ``mcp_servers``
(see :mod:`agenthost.mcp.hub`). The SDK lists tools and calls them through it as through the
server itself; the connection is owned by one supervising task, which connects, pings, and on a
drop cleans up and reconnects with exponential backoff (full jitter). Connecting and cleaning up
in the same task is what the MCP client's cancel scopes require.

Calls of all runs share the one connection. The MCP client session matches each response to its
request, so concurrent calls are safe: over stdio they run at once (ten 500 ms calls take about
0.5 s); the SDK itself serialises the requests of a streamable HTTP server object (four 500 ms
calls take about 2 s), which we leave as the SDK decided.

While the server is down, a tool call fails at once with :class:`MCPServerUnavailable`, which the
SDK hands to the model as the tool's error (or fails the run with ``MCP_SERVER_UNAVAILABLE`` when
the server's ``failure_error_function`` is None); listing tools at the start of a turn fails the
run with that code if the server is required, and leaves its tools out if it is optional.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from agents.mcp import MCPServer
from agents.mcp._logging import get_mcp_server_log_name
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED

from agenthost.errors import MCPServerUnavailable
from agenthost.settings import Settings
from agenthost.telemetry.metrics import Metrics

if TYPE_CHECKING:
    from agents import AgentBase, RunContextWrapper
    from mcp.types import CallToolResult, GetPromptResult, ListPromptsResult
    from mcp.types import Tool as MCPTool

logger = logging.getLogger(__name__)

MAX_TOOL_LABELS = 64
"""Tool names a server may add to the ``tool`` label; calls of any further tool count as
``other``."""


class State(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    CLOSED = "closed"


class ManagedMCPServer(MCPServer):
    """``inner`` connected once for the process, reconnected when it drops, and counted."""

    def __init__(
        self, inner: MCPServer, *, required: bool, settings: Settings, metrics: Metrics
    ) -> None:
        super().__init__(
            use_structured_content=inner.use_structured_content,
            tool_meta_resolver=inner.tool_meta_resolver,
            custom_data_extractor=inner.custom_data_extractor,
            tool_input_guardrails=inner.tool_input_guardrails,
            tool_output_guardrails=inner.tool_output_guardrails,
        )
        self.inner = inner
        self.required = required
        self.label = get_mcp_server_log_name(inner.name)
        """The server's name without credentials: metrics, logs, ``/ready``."""
        self.state = State.CONNECTING
        self.last_error = ""
        self._settings = settings
        self._metrics = metrics
        self._tools: set[str] = set()
        self._check_now = asyncio.Event()
        self._closing = asyncio.Event()
        self._attempted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- what the SDK calls ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def cached_tools(self) -> list[MCPTool] | None:
        return self.inner.cached_tools

    async def connect(self) -> None:
        """Nothing: agenthost owns the connection (see :meth:`start`)."""

    async def cleanup(self) -> None:
        """Nothing: agenthost owns the connection (see :meth:`aclose`)."""

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: AgentBase | None = None
    ) -> list[MCPTool]:
        if self.state is State.UP:
            try:
                tools = await self.inner.list_tools(run_context, agent)
            except Exception as exc:
                if not _connection_lost(exc):
                    raise
                self._lost(exc)
            else:
                for tool in tools[: max(0, MAX_TOOL_LABELS - len(self._tools))]:
                    self._tools.add(tool.name)
                return tools
        if self.required:
            raise self._unavailable()
        return []

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        tool = tool_name if tool_name in self._tools else "other"
        if self.state is not State.UP:
            self._metrics.mcp_calls.labels(self.label, tool, "unavailable").inc()
            raise self._unavailable()
        outcome = "error"
        started = time.perf_counter()
        try:
            if meta is None:
                result = await self.inner.call_tool(tool_name, arguments)
            else:
                result = await self.inner.call_tool(tool_name, arguments, meta)
            outcome = "tool_error" if _is_error(result) else "ok"
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            if not _connection_lost(exc) and self.state is State.UP:
                raise
            outcome = "unavailable"
            self._lost(exc)
            raise self._unavailable() from exc
        finally:
            self._metrics.mcp_calls.labels(self.label, tool, outcome).inc()
            self._metrics.mcp_call_duration.labels(self.label).observe(
                time.perf_counter() - started
            )

    async def list_prompts(self) -> ListPromptsResult:
        self._require_up()
        return await self.inner.list_prompts()

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> GetPromptResult:
        self._require_up()
        return await self.inner.get_prompt(name, arguments)

    def _get_needs_approval_for_tool(self, tool: MCPTool, agent: AgentBase | None) -> Any:
        return self.inner._get_needs_approval_for_tool(tool, agent)

    def _get_failure_error_function(self, agent_failure_error_function: Any) -> Any:
        return self.inner._get_failure_error_function(agent_failure_error_function)

    # --- the connection ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the supervising task; return after its first connection attempt."""
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"mcp {self.label}")
        await self._attempted.wait()

    async def aclose(self) -> None:
        """Close the connection (the supervisor cleans up in its own task), within
        ``mcp_close_timeout_s``; then stop the supervisor however far it got."""
        self._closing.set()
        task, self._task = self._task, None
        if task is not None:
            _, pending = await asyncio.wait({task}, timeout=self._settings.mcp_close_timeout_s)
            if pending:
                logger.warning("MCP server %s did not close in time", self.label)
                task.cancel()
                await asyncio.wait({task})
        self.state = State.CLOSED
        self._metrics.mcp_server_up.labels(self.label).set(0)

    async def _supervise(self) -> None:
        delay = self._settings.mcp_reconnect_base_s
        while not self._closing.is_set():
            try:
                async with asyncio.timeout(self._settings.mcp_connect_timeout_s):
                    await self.inner.connect()  # type: ignore[no-untyped-call]
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and _cancelled_from_outside():
                    raise
                self._metrics.mcp_connects.labels(self.label, "error").inc()
                self._set_down(exc)
                self._attempted.set()
                await self._wait(random.uniform(0, delay))
                delay = min(delay * 2, self._settings.mcp_reconnect_max_s)
                continue
            self._metrics.mcp_connects.labels(self.label, "ok").inc()
            delay = self._settings.mcp_reconnect_base_s
            self._set_up()
            self._attempted.set()
            try:
                await self._watch()
            finally:
                if not self._closing.is_set():
                    self._set_down(None)
                await self._disconnect()

    async def _watch(self) -> None:
        """Return when the connection is found dead, or when closing."""
        while not self._closing.is_set():
            self._check_now.clear()
            await self._wait(self._settings.mcp_ping_interval_s, self._check_now)
            if self._closing.is_set() or not await self._alive():
                return
            if self.state is not State.UP:  # a call's error was a false alarm
                self._set_up()

    async def _alive(self) -> bool:
        """The server answers (any answer: a server may not implement ``ping``)."""
        session = getattr(self.inner, "session", ...)
        try:
            async with asyncio.timeout(self._settings.mcp_connect_timeout_s):
                if session is None:
                    return False
                if session is ...:  # not a client-session server: ask for its tools
                    await self.inner.list_tools()
                else:
                    await session.send_ping()
        except MCPError as exc:
            return not _connection_lost(exc)
        except Exception as exc:
            self.last_error = _message(exc)
            return False
        return True

    async def _disconnect(self) -> None:
        try:
            async with asyncio.timeout(self._settings.mcp_close_timeout_s):
                await self.inner.cleanup()  # type: ignore[no-untyped-call]
        except Exception as exc:
            logger.warning("MCP server %s: cleanup failed: %s", self.label, _message(exc))
        invalidate = getattr(self.inner, "invalidate_tools_cache", None)
        if callable(invalidate):
            invalidate()

    async def _wait(self, seconds: float, event: asyncio.Event | None = None) -> None:
        """Sleep ``seconds``, or less if closing (or ``event``) is set meanwhile."""
        waiters = [asyncio.ensure_future(self._closing.wait())]
        if event is not None:
            waiters.append(asyncio.ensure_future(event.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _set_up(self) -> None:
        if self.state is not State.UP:
            logger.info("MCP server %s connected", self.label)
        self.state, self.last_error = State.UP, ""
        self._metrics.mcp_server_up.labels(self.label).set(1)

    def _set_down(self, exc: BaseException | None) -> None:
        if exc is not None:
            self.last_error = _message(exc)
        if self.state is not State.DOWN:
            logger.warning(
                "MCP server %s is down (%s); reconnecting",
                self.label,
                self.last_error or "connection lost",
            )
        self.state = State.DOWN
        self._metrics.mcp_server_up.labels(self.label).set(0)

    def _lost(self, exc: BaseException) -> None:
        """A request found the connection broken: fail fast from now on, check it at once."""
        self.last_error = _message(exc)
        if self.state is State.UP:
            self._set_down(None)
        self._check_now.set()

    def _require_up(self) -> None:
        if self.state is not State.UP:
            raise self._unavailable()

    def _unavailable(self) -> MCPServerUnavailable:
        return MCPServerUnavailable(
            f"MCP server {self.label!r} is unavailable; agenthost is reconnecting to it",
            retry_after=self._settings.mcp_reconnect_base_s,
            details={"mcp_server": self.label},
        )


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection is gone (not that the server refused a request)."""
    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    if isinstance(exc, OSError):  # connection errors and timeouts among them
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and _connection_lost(cause)


def _cancelled_from_outside() -> bool:
    """Whether this task was cancelled (rather than the MCP client cancelling itself)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _is_error(result: Any) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def _message(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:300]
