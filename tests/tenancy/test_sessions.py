"""Tenant sessions: the SDK's Session protocol over the database, namespaced by tenant."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from agents.memory import Session

from agenthost.store.database import Database
from agenthost.tenancy.auth import ensure_tenant
from agenthost.tenancy.sessions import SessionStore, TenantSession


def _message(text: str, role: str = "user") -> Any:
    return {"role": role, "content": text}


@pytest.fixture
async def store(db: Database) -> SessionStore:
    await ensure_tenant(db, "acme", "Acme")
    await ensure_tenant(db, "other", "Other")
    return SessionStore(db, history_limit=1000)


def test_a_tenant_session_is_an_sdk_session(sqlite_db: Database) -> None:
    session = TenantSession(sqlite_db, "acme", "s1", history_limit=5)
    assert isinstance(session, Session)
    assert session.session_id == "s1"
    assert session.session_settings is not None
    assert session.session_settings.limit == 5


async def test_items_come_back_in_order_and_survive_json(store: SessionStore) -> None:
    session = store.session("acme", "s1")
    assert await session.get_items() == []
    first = [_message("héllo ✓"), _message("hi", role="assistant")]
    second = [{"type": "function_call_output", "call_id": "c1", "output": '{"a": [1, null]}'}]
    await session.add_items(first)
    await session.add_items(second)
    assert await session.get_items() == first + second
    assert await session.get_items(limit=2) == [first[1], second[0]]
    assert await session.get_items(limit=10) == first + second


async def test_the_history_limit_applies_when_no_limit_is_given(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    session = SessionStore(db, history_limit=3).session("acme", "s1")
    items = [_message(str(i)) for i in range(5)]
    await session.add_items(items)
    assert await session.get_items() == items[-3:]
    assert await session.get_items(limit=4) == items[-4:]


async def test_pop_and_clear(store: SessionStore) -> None:
    session = store.session("acme", "s1")
    assert await session.pop_item() is None
    await session.add_items([_message("1"), _message("2"), _message("3")])
    assert await session.pop_item() == _message("3")
    assert await session.get_items() == [_message("1"), _message("2")]
    await session.clear_session()
    assert await session.get_items() == []
    assert await session.pop_item() is None
    # Clearing empties the conversation but keeps the session.
    view = await store.view("acme", "s1")
    assert view is not None
    assert view.items == []


async def test_tenants_have_separate_sessions_with_the_same_id(store: SessionStore) -> None:
    await store.session("acme", "s1").add_items([_message("acme's")])
    await store.session("other", "s1").add_items([_message("other's")])
    assert await store.session("acme", "s1").get_items() == [_message("acme's")]
    assert await store.session("other", "s1").get_items() == [_message("other's")]

    assert await store.session("other", "s1").pop_item() == _message("other's")
    assert await store.session("acme", "s1").get_items() == [_message("acme's")]
    await store.session("acme", "s1").clear_session()
    await store.session("other", "s1").add_items([_message("again")])
    assert await store.session("other", "s1").get_items() == [_message("again")]

    assert await store.delete("other", "s1")
    assert await store.view("other", "s1") is None
    assert await store.view("acme", "s1") is not None


async def test_concurrent_first_use_loses_no_items(store: SessionStore) -> None:
    batches = [[_message(f"{writer}.{i}") for i in range(writer % 3 + 1)] for writer in range(20)]
    await asyncio.gather(*(store.session("acme", "new").add_items(b) for b in batches))
    items = await store.session("acme", "new").get_items()
    assert len(items) == sum(len(batch) for batch in batches)
    assert sorted(i["content"] for i in items) == sorted(i["content"] for b in batches for i in b)
    for batch in batches:  # each batch keeps its own order
        positions = [items.index(item) for item in batch]
        assert positions == sorted(positions)


async def test_concurrent_pops_each_take_a_different_item(store: SessionStore) -> None:
    session = store.session("acme", "s1")
    items = [_message(str(i)) for i in range(6)]
    await session.add_items(items)
    popped = await asyncio.gather(*(store.session("acme", "s1").pop_item() for _ in range(4)))
    assert sorted(p["content"] for p in popped if p is not None) == ["2", "3", "4", "5"]
    assert await session.get_items() == items[:2]


async def test_view_shows_the_whole_conversation(db: Database, store: SessionStore) -> None:
    session = SessionStore(db, history_limit=1).session("acme", "s1")
    assert await store.view("acme", "s1") is None
    await session.add_items([_message("1")])
    created = await store.view("acme", "s1")
    assert created is not None
    await session.add_items([_message("2")])
    view = await store.view("acme", "s1")
    assert view is not None
    assert view.session_id == "s1"
    assert view.items == [_message("1"), _message("2")]  # not cut to the history limit
    assert view.created_at == created.created_at
    assert view.updated_at >= created.updated_at
    assert view.updated_at - view.created_at < timedelta(minutes=1)
    assert view.created_at.tzinfo is not None


async def test_delete_removes_the_session_once(store: SessionStore) -> None:
    assert not await store.delete("acme", "s1")
    await store.session("acme", "s1").add_items([_message("1")])
    assert not await store.delete("other", "s1")
    assert await store.delete("acme", "s1")
    assert await store.view("acme", "s1") is None
    assert await store.session("acme", "s1").get_items() == []
    assert not await store.delete("acme", "s1")
