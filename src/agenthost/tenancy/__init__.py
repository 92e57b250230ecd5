"""Tenants, API keys, scopes, quotas, rate limits, usage and conversation sessions."""
