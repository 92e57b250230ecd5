"""A small real MCP server for tests and demos: tools that count their calls.

``python -m agenthost.testing.mcp_counter`` serves over stdio;
``--transport http --port N`` over streamable HTTP on 127.0.0.1 (``/mcp``). Every call of a tool
appends a JSON line to the file named by ``--calls`` (or ``MCP_COUNTER_CALLS``) when it starts
and one when it is done, so a test can count calls across restarts of the server and of
agenthost.

Tools:

- ``count_visitors(door)``: adds one to the door's counter and returns the new total.
- ``slow_count(door, delay_ms)``: the same after sleeping ``delay_ms`` (to be killed midway).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

CALLS_ENV = "MCP_COUNTER_CALLS"


def build_server(calls: Path | None) -> MCPServer:
    """The server, recording calls to ``calls`` (a JSON line per call) when given."""
    server = MCPServer("counter")
    totals: Counter[str] = Counter()

    def record(tool: str, door: str, phase: str) -> None:
        if calls is not None:
            with calls.open("a") as log:
                line = {"tool": tool, "door": door, "phase": phase, "pid": os.getpid()}
                log.write(json.dumps({**line, "at": time.time()}) + "\n")

    @server.tool()
    async def count_visitors(door: str) -> str:
        """Count one more visitor at a door and tell the door's total."""
        record("count_visitors", door, "start")
        totals[door] += 1
        record("count_visitors", door, "done")
        return f"door {door}: {totals[door]} visitors"

    @server.tool()
    async def slow_count(door: str, delay_ms: int) -> str:
        """Count one more visitor at a door, slowly (after delay_ms milliseconds)."""
        record("slow_count", door, "start")
        await asyncio.sleep(delay_ms / 1000)
        totals[door] += 1
        record("slow_count", door, "done")
        return f"door {door}: {totals[door]} visitors (slowly)"

    return server


def recorded_calls(path: Path, phase: str = "done") -> list[dict[str, Any]]:
    """The calls recorded in ``path`` so far that reached ``phase`` (``start`` or ``done``)."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line["phase"] == phase]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--calls", default=os.environ.get(CALLS_ENV))
    args = parser.parse_args(argv)
    server = build_server(Path(args.calls) if args.calls else None)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
