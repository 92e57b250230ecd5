"""Conversation sessions in agenthost's database, through the Agents SDK's session protocol.

Sessions are namespaced by tenant: the same ``session_id`` used by two tenants is two separate
conversations. Items are only ever appended (or explicitly popped/cleared), each write in one
transaction, so concurrent runs on one session lose none of each other's items; creating the
session row on first use is an insert-if-absent, so concurrent first uses do not collide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents.items import TResponseInputItem
from agents.memory import SessionSettings

from agenthost.store.database import Database
from agenthost.store.repositories import sessions as rows
from agenthost.store.types import utcnow


def encode_item(item: TResponseInputItem) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def decode_item(data: str) -> TResponseInputItem:
    item: TResponseInputItem = json.loads(data)
    return item


class TenantSession:
    """One tenant's conversation ``session_id`` (implements the SDK's ``Session``)."""

    def __init__(self, db: Database, tenant_id: str, session_id: str, history_limit: int) -> None:
        self._db = db
        self.tenant_id = tenant_id
        self.session_id = session_id
        self.session_settings: SessionSettings | None = SessionSettings(limit=history_limit)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        if limit is None and self.session_settings is not None:
            limit = self.session_settings.limit
        async with self._db.transaction(read_only=True) as tx:
            data = await rows.items(tx, self.tenant_id, self.session_id, limit)
        return [decode_item(d) for d in data]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        encoded = [encode_item(item) for item in items]
        async with self._db.transaction() as tx:
            await rows.append(tx, self.tenant_id, self.session_id, encoded, utcnow())

    async def pop_item(self) -> TResponseInputItem | None:
        async with self._db.transaction() as tx:
            data = await rows.pop(tx, self.tenant_id, self.session_id)
        return None if data is None else decode_item(data)

    async def clear_session(self) -> None:
        async with self._db.transaction() as tx:
            await rows.clear(tx, self.tenant_id, self.session_id)


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    created_at: datetime
    updated_at: datetime
    items: list[Any]


class SessionStore:
    """Sessions for the HTTP API and the pipeline."""

    def __init__(self, db: Database, history_limit: int) -> None:
        self._db = db
        self._history_limit = history_limit

    def session(self, tenant_id: str, session_id: str) -> TenantSession:
        return TenantSession(self._db, tenant_id, session_id, self._history_limit)

    async def view(self, tenant_id: str, session_id: str) -> SessionView | None:
        """The whole conversation; None if the tenant has no such session."""
        async with self._db.transaction(read_only=True) as tx:
            row = await rows.get(tx, tenant_id, session_id)
            if row is None:
                return None
            data = await rows.items(tx, tenant_id, session_id, None)
        items = [decode_item(d) for d in data]
        return SessionView(session_id, row.created_at, row.updated_at, items)

    async def delete(self, tenant_id: str, session_id: str) -> bool:
        async with self._db.transaction() as tx:
            return await rows.remove(tx, tenant_id, session_id)
