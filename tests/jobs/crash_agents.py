"""The agent of the crash tests: it calls the model, a slow tool, then the model again.

The tool writes one line per call it starts and per call it finishes to the file named by
``CRASH_TOOL_LOG``, so a test can tell which calls a crash interrupted and which completed.
"""

import asyncio
import os

from agents import Agent, function_tool

from agenthost import AgentRegistry

SLOW_TOOL_S = 3.0


def _log(line: str) -> None:
    path = os.environ.get("CRASH_TOOL_LOG")
    if path:
        with open(path, "a") as log:
            log.write(line + "\n")


@function_tool
async def slow_lookup(order_id: str) -> str:
    """Look up the shipping status of an order (slowly)."""
    _log(f"start {order_id}")
    await asyncio.sleep(SLOW_TOOL_S)
    _log(f"done {order_id}")
    return f"order {order_id} shipped"


registry = AgentRegistry()
registry.register(
    Agent(name="orders", instructions="Answer order questions.", tools=[slow_lookup]),
    timeout_s=60,
)
