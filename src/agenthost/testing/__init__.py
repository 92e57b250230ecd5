"""Test support for agenthost users: the OpenAI-compatible mock LLM server."""
