"""Usage reports: a tenant's own finished runs, totalled by day or month and agent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

import pytest

from agenthost.settings import Settings
from agenthost.store.database import Database
from agenthost.store.repositories import runs
from agenthost.store.tables import RunRow
from agenthost.tenancy.auth import ensure_tenant
from agenthost.tenancy.ledger import Ledger, next_month
from agenthost.tenancy.principal import Tenant
from agenthost.tenancy.usage import UsageLine, usage_report
from tests.tenancy.states import finish, principal, run_state

_ids = count()


async def _insert(
    db: Database,
    tenant: str,
    day: str,
    agent: str = "a",
    status: str = "succeeded",
    requests: int = 1,
    tokens: tuple[int, int] = (10, 5),
) -> None:
    row = RunRow(
        id=f"run_{next(_ids)}",
        tenant_id=tenant,
        agent=agent,
        mode="sync",
        status=status,
        day=day,
        created_at=datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
        expires_at=datetime.fromisoformat(day).replace(hour=13, tzinfo=UTC),
        requests=requests,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        total_tokens=sum(tokens),
    )
    async with db.transaction() as tx:
        await runs.insert(tx, row)


@pytest.fixture
async def history(db: Database) -> Database:
    """Runs of acme over a month boundary, and of another tenant on the same days."""
    await ensure_tenant(db, "acme", "Acme")
    await ensure_tenant(db, "other", "Other")
    await _insert(db, "acme", "2031-01-30", "a")
    await _insert(db, "acme", "2031-01-30", "a", status="failed", requests=2, tokens=(7, 0))
    await _insert(db, "acme", "2031-01-30", "b", tokens=(1, 1))
    await _insert(db, "acme", "2031-01-31", "a", status="cancelled", requests=0, tokens=(0, 0))
    await _insert(db, "acme", "2031-01-31", "a", status="running", requests=9, tokens=(90, 9))
    await _insert(db, "acme", "2031-02-01", "a", tokens=(100, 50))
    await _insert(db, "acme", "2031-03-01", "a", tokens=(1000, 1000))  # after the range
    await _insert(db, "acme", "2030-12-31", "a", tokens=(1000, 1000))  # before the range
    await _insert(db, "other", "2031-01-30", "a", tokens=(5000, 5000))
    return db


def _line(period: str, agent: str, *values: int) -> UsageLine:
    return UsageLine(period, agent, *values)


async def test_usage_by_day(history: Database) -> None:
    report = await usage_report(history, Tenant("acme"), "day", date(2031, 1, 1), date(2031, 2, 28))
    assert (report.tenant, report.granularity) == ("acme", "day")
    assert report.lines == [
        # period, agent, runs, succeeded, failed, requests, input, output, total
        _line("2031-01-30", "a", 2, 1, 1, 3, 17, 5, 22),
        _line("2031-01-30", "b", 1, 1, 0, 1, 1, 1, 2),
        _line("2031-01-31", "a", 1, 0, 1, 0, 0, 0, 0),
        _line("2031-02-01", "a", 1, 1, 0, 1, 100, 50, 150),
    ]
    assert report.totals == _line("total", "*", 5, 3, 2, 5, 118, 56, 174)


async def test_usage_by_month(history: Database) -> None:
    report = await usage_report(
        history, Tenant("acme"), "month", date(2031, 1, 1), date(2031, 2, 28)
    )
    assert report.lines == [
        _line("2031-01", "a", 3, 1, 2, 3, 17, 5, 22),
        _line("2031-01", "b", 1, 1, 0, 1, 1, 1, 2),
        _line("2031-02", "a", 1, 1, 0, 1, 100, 50, 150),
    ]
    assert report.totals == _line("total", "*", 5, 3, 2, 5, 118, 56, 174)


async def test_the_range_is_inclusive_of_both_days(history: Database) -> None:
    report = await usage_report(history, Tenant("acme"), "day", date(2031, 1, 31), date(2031, 2, 1))
    assert [(line.period, line.runs) for line in report.lines] == [
        ("2031-01-31", 1),
        ("2031-02-01", 1),
    ]
    empty = await usage_report(
        history, Tenant("nobody"), "day", date(2031, 1, 1), date(2031, 12, 31)
    )
    assert empty.lines == []
    assert empty.totals == UsageLine("total", "*")


async def test_runs_through_the_ledger_and_the_monthly_quota(db: Database) -> None:
    await ensure_tenant(db, "acme", "Acme")
    await ensure_tenant(db, "other", "Other")
    ledger = Ledger(db, Settings())
    acme = principal("acme", runs_per_month=10)
    states = [run_state(acme, "a"), run_state(acme, "b"), run_state(acme, "a")]
    for state in [*states, run_state(principal("other"))]:
        await ledger.open(state)
    await ledger.close(finish(states[0], "succeeded", requests=2, input_tokens=8, output_tokens=4))
    await ledger.close(finish(states[1], "failed", error_code="UPSTREAM_ERROR"))  # refunded
    # states[2] is still running: counted against the quota, not yet in the usage.

    before = datetime.now(UTC)
    today = before.date()
    report = await usage_report(db, acme.tenant, "day", today, today)
    assert report.totals == _line("total", "*", 2, 1, 1, 2, 8, 4, 12)
    assert {line.agent for line in report.lines} == {"a", "b"}
    assert report.quota is not None
    assert report.quota.runs_per_month == 10
    assert report.quota.runs_counted == 2
    assert report.quota.resets_at in {next_month(before), next_month(datetime.now(UTC))}
