"""A tenant's usage: runs and tokens by period and agent, and where its monthly quota stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from agenthost.store.database import Database
from agenthost.store.repositories import quotas, runs
from agenthost.tenancy.ledger import month_of, next_month
from agenthost.tenancy.principal import Tenant

Granularity = Literal["day", "month"]
TOTALS = (
    "runs",
    "succeeded",
    "failed",
    "requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
)


@dataclass(slots=True)
class UsageLine:
    period: str
    agent: str
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    """Runs that did not succeed (failed or cancelled)."""
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: UsageLine) -> None:
        for name in TOTALS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class MonthlyQuota:
    runs_per_month: int | None
    runs_counted: int
    resets_at: datetime


@dataclass(slots=True)
class UsageReport:
    tenant: str
    granularity: Granularity
    since: date
    until: date
    totals: UsageLine
    quota: MonthlyQuota
    lines: list[UsageLine] = field(default_factory=list)


def _line(row: Any, granularity: Granularity) -> UsageLine:
    day: str = row.day
    return UsageLine(
        period=day if granularity == "day" else day[:7],
        agent=row.agent,
        runs=row.runs,
        succeeded=row.succeeded or 0,
        failed=row.runs - (row.succeeded or 0),
        requests=row.requests or 0,
        input_tokens=row.input_tokens or 0,
        output_tokens=row.output_tokens or 0,
        total_tokens=row.total_tokens or 0,
    )


async def usage_report(
    db: Database, tenant: Tenant, granularity: Granularity, since: date, until: date
) -> UsageReport:
    """Finished runs between ``since`` and ``until`` (UTC days, inclusive)."""
    now = datetime.now(UTC)
    async with db.transaction(read_only=True) as tx:
        rows = await runs.usage_by_day(tx, tenant.id, since.isoformat(), until.isoformat())
        counted = await quotas.runs_counted(tx, tenant.id, month_of(now))
    lines: dict[tuple[str, str], UsageLine] = {}
    totals = UsageLine(period="total", agent="*")
    for row in rows:
        line = _line(row, granularity)
        lines.setdefault((line.period, line.agent), UsageLine(line.period, line.agent)).add(line)
        totals.add(line)
    return UsageReport(
        tenant=tenant.id,
        granularity=granularity,
        since=since,
        until=until,
        totals=totals,
        quota=MonthlyQuota(tenant.runs_per_month, counted, next_month(now)),
        lines=list(lines.values()),
    )
