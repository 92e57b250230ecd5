"""What the result cache stage needs from a store of cached results."""

from __future__ import annotations

from typing import Protocol


class CacheBackend(Protocol):
    """A store of encoded results by key. Failures are the backend's to absorb: a store that
    cannot answer behaves as empty (a miss), never failing the run."""

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, if present and not expired."""
        ...

    async def set(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` for the backend's time to live."""
        ...
