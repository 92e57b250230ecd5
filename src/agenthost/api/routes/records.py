"""Run records (``GET /v1/runs``, ``GET /v1/runs/{id}``) and usage (``GET /v1/usage``) of the
caller's tenant."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from agenthost.api.deps import ContainerDep, RunsReader
from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.records import (
    ApprovalOut,
    MonthlyQuotaOut,
    RunError,
    RunList,
    RunMode,
    RunRecord,
    RunStep,
    UsageLineOut,
    UsageOutReport,
)
from agenthost.api.schemas.runs import UsageOut
from agenthost.errors import RunNotFound, ValidationFailed
from agenthost.execution.types import RunStatus
from agenthost.registry import NAME_PATTERN
from agenthost.store.repositories import pauses, runs
from agenthost.store.tables import RunApprovalRow, RunRow
from agenthost.tenancy.ledger import recorded_usage
from agenthost.tenancy.usage import usage_report

router = APIRouter(prefix="/v1", tags=["records"])

MAX_USAGE_DAYS = 366
MAX_PAGE = 200
RunId = Annotated[
    str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The run's `run_id`.")
]


def _approval(call: RunApprovalRow, expired: bool) -> ApprovalOut:
    status: Literal["pending", "approved", "rejected", "expired"]
    if call.decided_at is not None:
        status = "approved" if call.approved else "rejected"
    else:
        status = "expired" if expired else "pending"
    return ApprovalOut(
        call_id=call.call_id,
        agent=call.agent,
        tool=call.tool,
        arguments=call.arguments,
        status=status,
        requested_at=call.requested_at,
        decided_at=call.decided_at,
        decided_by=call.decided_by,
        message=call.message,
    )


@dataclass(frozen=True, slots=True)
class Approvals:
    """The approval side of some run records, read in one go."""

    calls: dict[str, list[RunApprovalRow]]
    expiries: dict[str, datetime]

    @classmethod
    async def of(cls, tx: AsyncSession, rows: Sequence[RunRow]) -> Approvals:
        ids = [row.id for row in rows]
        calls: dict[str, list[RunApprovalRow]] = {}
        if ids:
            for call in await pauses.calls(tx, ids):
                calls.setdefault(call.run_id, []).append(call)
        waiting = [row.id for row in rows if row.status == "awaiting_approval"]
        expiries = dict(await pauses.expiries(tx, waiting)) if waiting else {}
        return cls(calls, expiries)


def run_record(row: RunRow, approvals: Approvals | None = None) -> RunRecord:
    expired = row.status == "expired"
    calls = [] if approvals is None else approvals.calls.get(row.id, [])
    return RunRecord(
        run_id=row.id,
        agent=row.agent,
        status=row.status,
        mode=row.mode,
        session_id=row.session_id,
        request_id=row.request_id,
        metadata=row.run_metadata,
        created_at=row.created_at,
        finished_at=row.finished_at,
        duration_ms=row.duration_ms,
        usage=UsageOut(**recorded_usage(row).as_dict()),
        last_agent=row.last_agent,
        cached=row.cached,
        error=(
            None
            if row.error_code is None
            else RunError(code=row.error_code, message=row.error_message)
        ),
        input=row.input,
        output=row.output,
        cancel_requested=row.cancel_requested_at is not None,
        steps=[RunStep.model_validate(step) for step in row.steps or ()],
        trace_id=row.trace_id,
        approvals=[_approval(call, expired) for call in calls],
        approval_expires_at=None if approvals is None else approvals.expiries.get(row.id),
    )


def _cursor(row: RunRow) -> str:
    """Opaque and URL-safe: the (created_at, id) the next page continues after."""
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}~{row.id}".encode()).decode()


def _after(cursor: str) -> tuple[datetime, str]:
    try:
        created, _, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("~")
        moment: datetime | None = datetime.fromisoformat(created).astimezone(UTC)
    except (ValueError, OverflowError):  # also binascii.Error and UnicodeDecodeError
        moment, run_id = None, ""
    if moment is None or moment.tzinfo is None or not run_id:
        raise ValidationFailed.for_field("cursor", "not a cursor from a previous page", "cursor")
    return moment, run_id


@router.get("/runs", response_model=RunList, responses=problem_responses(401, 403, 422, 429))
async def list_runs(
    container: ContainerDep,
    principal: RunsReader,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    agent: Annotated[str | None, Query(pattern=NAME_PATTERN.pattern)] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    mode: Annotated[RunMode | None, Query()] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Only runs created at or after this moment.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Only runs created before this moment.")
    ] = None,
) -> RunList:
    """The caller's tenant's runs, newest first (needs `runs:read`)."""
    async with container.db.transaction(read_only=True) as tx:
        rows = await runs.page(
            tx,
            principal.tenant.id,
            limit=limit,
            after=None if cursor is None else _after(cursor),
            agent=agent,
            status=status,
            mode=mode,
            since=since,
            until=until,
        )
        approvals = await Approvals.of(tx, rows)
    return RunList(
        runs=[run_record(row, approvals) for row in rows],
        next_cursor=_cursor(rows[-1]) if len(rows) == limit else None,
    )


@router.get(
    "/runs/{run_id}", response_model=RunRecord, responses=problem_responses(401, 403, 404, 429)
)
async def get_run(run_id: RunId, container: ContainerDep, principal: RunsReader) -> RunRecord:
    """A run of the caller's tenant: status, usage, timings, error (needs `runs:read`)."""
    async with container.db.transaction(read_only=True) as tx:
        row = await runs.get(tx, principal.tenant.id, run_id)
        if row is None:
            raise RunNotFound(f"no run {run_id!r}")
        approvals = await Approvals.of(tx, [row])
    return run_record(row, approvals)


@router.get(
    "/usage", response_model=UsageOutReport, responses=problem_responses(401, 403, 422, 429)
)
async def get_usage(
    container: ContainerDep,
    principal: RunsReader,
    granularity: Annotated[Literal["day", "month"], Query()] = "month",
    since: Annotated[
        date | None, Query(description="First UTC day; default: the 1st of `until`'s month.")
    ] = None,
    until: Annotated[date | None, Query(description="Last UTC day; default: today.")] = None,
) -> UsageOutReport:
    """The tenant's finished runs and tokens by period and agent (needs `runs:read`)."""
    until = until or datetime.now(UTC).date()
    since = since or until.replace(day=1)
    if since > until:
        raise ValidationFailed.for_field("since", "must not be after until", "range")
    if (until - since).days >= MAX_USAGE_DAYS:
        raise ValidationFailed.for_field(
            "since", f"at most {MAX_USAGE_DAYS} days per report", "range"
        )
    report = await usage_report(container.db, principal.tenant, granularity, since, until)
    return UsageOutReport(
        tenant=report.tenant,
        granularity=report.granularity,
        since=report.since,
        until=report.until,
        totals=UsageLineOut(**dataclasses.asdict(report.totals)),
        periods=[UsageLineOut(**dataclasses.asdict(line)) for line in report.lines],
        quota=MonthlyQuotaOut(**dataclasses.asdict(report.quota)),
    )
