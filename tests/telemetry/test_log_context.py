from __future__ import annotations

import asyncio

from agenthost.telemetry.context import (
    bind_log_fields,
    current_log_fields,
    current_request_id,
    request_id_bound,
)


def test_request_id_set_and_reset() -> None:
    assert current_request_id() is None
    with request_id_bound("req-1"):
        assert current_request_id() == "req-1"
        assert current_log_fields() == {"request_id": "req-1"}
    assert current_request_id() is None


def test_bindings_nest_and_unwind() -> None:
    with bind_log_fields(agent="a", run_id="r1"):
        with bind_log_fields(run_id="r2", tool="search"), request_id_bound("req-2"):
            assert current_log_fields() == {
                "agent": "a",
                "run_id": "r2",
                "tool": "search",
                "request_id": "req-2",
            }
        assert current_log_fields() == {"agent": "a", "run_id": "r1"}
    assert current_log_fields() == {}


async def test_tasks_see_a_copy_of_the_context() -> None:
    async def inner() -> dict[str, object]:
        with bind_log_fields(step="inner"):
            return current_log_fields()

    with request_id_bound("req-3"):
        seen = await asyncio.create_task(inner())
        assert current_log_fields() == {"request_id": "req-3"}
    assert seen == {"step": "inner", "request_id": "req-3"}
