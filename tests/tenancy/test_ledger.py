"""The ledger: opening a run reserves quota atomically; closing it settles and records it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agenthost.errors import QuotaExceeded
from agenthost.execution.types import Reservation, RunState
from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.repositories import quotas, runs
from agenthost.store.tables import RunRow
from agenthost.tenancy.auth import ensure_tenant
from agenthost.tenancy.ledger import Ledger, month_of, next_month
from agenthost.tenancy.principal import Principal
from tests.tenancy.states import finish, principal, run_state


def _first_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


@pytest.fixture
async def acme(db: Database) -> str:
    await ensure_tenant(db, "acme", "Acme")
    return "acme"


def _ledger(db: Database, **settings: object) -> Ledger:
    return Ledger(db, Settings(**settings))  # type: ignore[arg-type]


async def _counted(db: Database, tenant: str) -> int:
    async with db.transaction() as tx:
        return await quotas.runs_counted(tx, tenant, month_of(datetime.now(UTC)))


async def _held(db: Database, tenant: str) -> int:
    async with db.transaction() as tx:
        return await quotas.slots_held(tx, tenant, datetime.now(UTC))


async def _run(db: Database, state: RunState) -> RunRow | None:
    async with db.transaction() as tx:
        return await runs.get(tx, state.tenant_id, state.request.run_id)


async def _opened(ledger: Ledger, who: Principal, **request: object) -> RunState:
    state = run_state(who, **request)
    await ledger.open(state)
    return state


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2031, 1, 31, 23, 59, tzinfo=UTC), datetime(2031, 2, 1, tzinfo=UTC)),
        (datetime(2031, 2, 28, 12, tzinfo=UTC), datetime(2031, 3, 1, tzinfo=UTC)),
        (datetime(2031, 12, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC)),
    ],
)
def test_next_month_is_the_first_of_the_next_month(moment: datetime, expected: datetime) -> None:
    assert next_month(moment) == expected
    assert month_of(moment) == moment.strftime("%Y-%m")


async def test_open_records_the_run_as_running(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    who = principal(acme, key_id="key_1")
    state = await _opened(
        ledger, who, session_id="s1", request_id="req_1", metadata={"team": "blue"}
    )
    assert state.reservation == Reservation(period=month_of(datetime.now(UTC)), slot=False)
    row = await _run(db, state)
    assert row is not None
    assert (row.status, row.agent, row.mode, row.api_key_id) == ("running", "a", "sync", "key_1")
    assert (row.session_id, row.request_id, row.run_metadata) == ("s1", "req_1", {"team": "blue"})
    assert row.day == datetime.now(UTC).strftime("%Y-%m-%d")
    assert row.input is None  # content is not stored by default
    assert row.finished_at is None
    assert await _counted(db, acme) == 1


async def test_the_monthly_quota_refuses_with_when_it_resets(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    who = principal(acme, runs_per_month=1, max_concurrent_runs=5)
    await _opened(ledger, who)
    before = datetime.now(UTC)
    refused = run_state(who)
    with pytest.raises(QuotaExceeded) as info:
        await ledger.open(refused)
    after = datetime.now(UTC)
    error = info.value
    assert error.status == 429
    assert error.details["quota"] == "runs_per_month"
    assert error.details["limit"] == 1
    resets = datetime.fromisoformat(error.details["resets_at"])
    assert resets in {_first_of_next_month(before), _first_of_next_month(after)}
    assert error.retry_after is not None
    assert (resets - after).total_seconds() - 1 <= error.retry_after
    assert error.retry_after <= (resets - before).total_seconds() + 1
    # The refusal rolled back everything the open had taken: its slot and its record.
    assert refused.reservation is None
    assert await _run(db, refused) is None
    assert await _held(db, acme) == 1
    assert await _counted(db, acme) == 1


async def test_the_concurrency_limit_refuses_and_frees_on_close(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    who = principal(acme, max_concurrent_runs=1)
    first = await _opened(ledger, who)
    assert first.reservation is not None
    assert first.reservation.slot
    with pytest.raises(QuotaExceeded) as info:
        await ledger.open(run_state(who))
    assert info.value.details == {"quota": "max_concurrent_runs", "limit": 1}
    assert info.value.retry_after is not None
    assert info.value.retry_after > 0
    assert await _counted(db, acme) == 1  # the refused run was not counted
    await ledger.close(finish(first, "succeeded", requests=1))
    assert first.reservation is None
    assert await _held(db, acme) == 0
    await _opened(ledger, who)
    assert await _held(db, acme) == 1


async def test_concurrent_opens_admit_exactly_the_quota(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    who = principal(acme, runs_per_month=5)
    results = await asyncio.gather(
        *(ledger.open(run_state(who)) for _ in range(20)), return_exceptions=True
    )
    assert results.count(None) == 5
    assert all(isinstance(r, QuotaExceeded) for r in results if r is not None)
    async with db.transaction() as tx:
        recorded = await tx.scalar(select(func.count()).select_from(RunRow))
    assert recorded == 5
    assert await _counted(db, acme) == 5


async def test_a_failed_run_without_model_requests_is_refunded(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    who = principal(acme, runs_per_month=1)
    state = await _opened(ledger, who)
    await ledger.close(finish(state, "failed", error_code="UPSTREAM_UNAVAILABLE"))
    assert await _counted(db, acme) == 0
    row = await _run(db, state)
    assert row is not None
    assert (row.status, row.requests, row.error_code) == ("failed", 0, "UPSTREAM_UNAVAILABLE")
    assert row.error_message == "UPSTREAM_UNAVAILABLE happened"
    await _opened(ledger, who)  # the refunded run left room for another


@pytest.mark.parametrize("status", ["failed", "cancelled"])
async def test_a_run_that_reached_a_model_is_not_refunded(
    db: Database, acme: str, status: str
) -> None:
    ledger = _ledger(db)
    state = await _opened(ledger, principal(acme, runs_per_month=1))
    await ledger.close(finish(state, status, requests=1, input_tokens=3, error_code="RUN_TIMEOUT"))
    assert await _counted(db, acme) == 1


async def test_a_succeeded_run_counts_even_without_model_requests(db: Database, acme: str) -> None:
    ledger = _ledger(db)
    state = await _opened(ledger, principal(acme, runs_per_month=1))
    await ledger.close(finish(state, "succeeded"))
    assert await _counted(db, acme) == 1


async def test_close_writes_the_outcome_and_usage(db: Database, acme: str) -> None:
    ledger = _ledger(db, store_run_content=True)
    state = await _opened(ledger, principal(acme))
    await ledger.close(
        finish(state, "succeeded", requests=2, input_tokens=10, output_tokens=5, output={"x": 1})
    )
    row = await _run(db, state)
    assert row is not None
    assert row.status == "succeeded"
    assert (row.requests, row.input_tokens, row.output_tokens, row.total_tokens) == (2, 10, 5, 15)
    assert row.last_agent == "a"
    assert (row.error_code, row.error_message) == (None, None)
    assert (row.input, row.output) == ("hello", {"x": 1})
    assert row.finished_at is not None
    assert row.finished_at - row.created_at < timedelta(minutes=1)
    assert row.duration_ms is not None
    assert row.duration_ms >= 0
    assert await _counted(db, acme) == 1
    # Closing again changes nothing: the reservation was released once.
    await ledger.close(finish(state, "failed"))
    assert await _counted(db, acme) == 1
    row = await _run(db, state)
    assert row is not None
    assert row.status == "succeeded"


async def test_runs_are_visible_only_to_their_tenant(db: Database, acme: str) -> None:
    await ensure_tenant(db, "other", "Other")
    state = await _opened(_ledger(db), principal(acme))
    async with db.transaction() as tx:
        assert await runs.get(tx, "other", state.request.run_id) is None
        assert await runs.get(tx, acme, state.request.run_id) is not None


async def test_a_run_whose_first_model_call_was_interrupted_still_counts(
    db: Database, acme: str
) -> None:
    ledger = _ledger(db)
    state = await _opened(ledger, principal(acme, runs_per_month=1))
    finish(state, "cancelled")
    state.model_called = True  # started, then cancelled before it reported any usage
    await ledger.close(state)
    assert await _counted(db, acme) == 1


async def test_the_sweep_fails_only_running_records_past_their_lease(
    db: Database, acme: str
) -> None:
    ledger = _ledger(db)
    who = principal(acme)
    crashed, alive = await _opened(ledger, who), await _opened(ledger, who)
    done = await _opened(ledger, who)
    await ledger.close(finish(done, "succeeded", requests=1))
    async with db.transaction() as tx:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await runs.finish(tx, acme, crashed.request.run_id, expires_at=past)
        await runs.finish(tx, acme, done.request.run_id, expires_at=past)
    assert await ledger.sweep() == 1
    assert await ledger.sweep() == 0
    swept, running, finished = [await _run(db, s) for s in (crashed, alive, done)]
    assert swept is not None and running is not None and finished is not None
    assert (swept.status, swept.error_code) == ("failed", "RUN_ABANDONED")
    assert swept.finished_at is not None
    assert running.status == "running" and finished.status == "succeeded"
