"""How the database's failures reach callers: DependencyUnavailable (503) with a retry hint,
the same for the engine's transactions and for the hot path's scripts."""

from __future__ import annotations

from agenthost.errors import DependencyUnavailable

RETRY_AFTER_S = 1.0
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock: the transaction may succeed if retried."""


def unreachable() -> DependencyUnavailable:
    """Connection refused or lost, no free connection in time, SQLite locked too long."""
    return DependencyUnavailable("the database is unavailable", retry_after=RETRY_AFTER_S)


def transient() -> DependencyUnavailable:
    return DependencyUnavailable(
        "the database could not complete the transaction; retry", retry_after=RETRY_AFTER_S
    )


def closed() -> DependencyUnavailable:
    return DependencyUnavailable(
        "the database is closed (the process is stopping)", retry_after=RETRY_AFTER_S
    )
