"""An MCP server for the ``library`` example agent: a small catalogue, served over stdio.

agenthost starts it as a child process (``python -m examples.library_server``) once per
process and talks MCP to it; run it by hand with any MCP client to see its tools.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

# Deterministic stand-in data: an example must run offline. A real server would query a service.
_BOOKS = {
    "dune": "Dune (Frank Herbert, 1965): shelf S-12, 2 copies available",
    "emma": "Emma (Jane Austen, 1815): shelf A-03, on loan until Friday",
    "ubik": "Ubik (Philip K. Dick, 1969): shelf S-40, 1 copy available",
}


def build_server() -> MCPServer:
    server = MCPServer("library")

    @server.tool()
    async def find_book(title: str) -> str:
        """Find a book in the library catalogue by its title: shelf and availability."""
        found = _BOOKS.get(title.strip().lower())
        return found or f"No book titled {title!r} in the catalogue."

    return server


if __name__ == "__main__":
    build_server().run("stdio")
