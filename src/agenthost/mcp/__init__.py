"""MCP servers of the agents: connected once per process, kept up, reported and measured."""
