"""Opening and closing a run's reservation: the two transactions every run makes.

Written as transaction scripts (``store/scripts.py``), so they run straight on the driver.
Each reservation is still decided by one conditional write (``UPDATE ... WHERE runs < limit``,
``INSERT ... SELECT ... WHERE count < limit`` behind a lock of the tenant row on PostgreSQL;
SQLite has one writer at a time), so concurrent transactions — in one process or many — can
never take more than the limit between them. The lock is ``FOR NO KEY UPDATE``: unlike
``FOR UPDATE`` it does not block the foreign-key checks of inserts that reference the tenant
(quota counters, run records), which would deadlock with a concurrent admission that already
holds the month's counter and is about to insert its run record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agenthost.store.repositories import events, pauses
from agenthost.store.scripts import JsonValue, Script, Statement, Step

Quota = Literal["max_concurrent_runs", "runs_per_month"]

LOCK_TENANT = Statement(
    "", postgresql="SELECT id FROM tenants WHERE id = :tenant_id FOR NO KEY UPDATE"
)
_HELD = "(SELECT count(*) FROM run_slots WHERE tenant_id = :tenant_id) < :limit"
INSERT_SLOT = Statement(
    "INSERT INTO run_slots (run_id, tenant_id, expires_at) "
    f"SELECT :run_id, :tenant_id, :expires_at WHERE {_HELD}",
    postgresql="INSERT INTO run_slots (run_id, tenant_id, expires_at) "
    "SELECT CAST(:run_id AS VARCHAR), CAST(:tenant_id AS VARCHAR), "
    f"CAST(:expires_at AS TIMESTAMP WITHOUT TIME ZONE) WHERE {_HELD}",
)
FREE_EXPIRED_SLOTS = Statement(
    "DELETE FROM run_slots WHERE tenant_id = :tenant_id AND expires_at <= :now"
)
FREE_SLOT = Statement("DELETE FROM run_slots WHERE run_id = :run_id AND tenant_id = :tenant_id")
_COUNT = (
    "UPDATE quota_counters SET runs = runs + 1 WHERE tenant_id = :tenant_id AND period = :period"
)
COUNT_RUN = Statement(_COUNT)
# Re-evaluated on the latest row version after a lock wait (PostgreSQL read committed).
COUNT_RUN_UNDER_LIMIT = Statement(f"{_COUNT} AND runs < :limit")
ADD_COUNTER = Statement(
    "INSERT INTO quota_counters (tenant_id, period, runs) VALUES (:tenant_id, :period, 0) "
    "ON CONFLICT DO NOTHING"
)
UNCOUNT_RUN = Statement(
    "UPDATE quota_counters SET runs = runs - 1 "
    "WHERE tenant_id = :tenant_id AND period = :period AND runs > 0"
)
RUN_COLUMNS = (
    "id", "tenant_id", "api_key_id", "agent", "mode", "status", "session_id", "request_id",
    "metadata", "day", "created_at", "expires_at", "requests", "input_tokens",
    "output_tokens", "total_tokens", "cached", "input",
)  # fmt: skip
INSERT_RUN = Statement(
    f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "  # noqa: S608 - constant column names
    f"VALUES ({', '.join(':' + column for column in RUN_COLUMNS)})"
)
OUTCOME_COLUMNS = (
    "status", "finished_at", "duration_ms", "requests", "input_tokens", "output_tokens",
    "total_tokens", "last_agent", "cached", "error_code", "error_message", "output", "steps",
    "trace_id",
)  # fmt: skip
_FINISH = (
    f"UPDATE runs SET {', '.join(f'{column} = :{column}' for column in OUTCOME_COLUMNS)} "  # noqa: S608
    "WHERE id = :run_id AND tenant_id = :tenant_id"
)
FINISH_RUN = Statement(_FINISH)
FINISH_OPEN_RUN = Statement(f"{_FINISH} AND status IN ('queued', 'running')")


class QuotaRefused(Exception):
    """Raised inside :func:`open_run` (rolling it back) when a quota refuses the run."""

    def __init__(self, quota: Quota) -> None:
        super().__init__(quota)
        self.quota = quota


@dataclass(frozen=True, slots=True)
class Opening:
    """What :func:`open_run` reserves and records."""

    run: dict[str, Any]
    """The run record's columns (``RUN_COLUMNS``); ``metadata`` is a dict."""
    period: str
    runs_limit: int | None
    slot_limit: int | None
    """The tenant's concurrency limit when the run takes a slot, else None."""
    now: datetime


def open_run(opening: Opening) -> Script[None]:
    """Take a slot (if asked), count the run in its month, insert its record; QuotaRefused if
    a quota refuses it (nothing is kept then)."""
    run = opening.run
    tenant = {"tenant_id": run["tenant_id"]}
    if opening.slot_limit is not None:
        yield from take_slot(
            run["tenant_id"], run["id"], run["expires_at"], opening.slot_limit, opening.now
        )
    month = {**tenant, "period": opening.period, "limit": opening.runs_limit}
    count = COUNT_RUN if opening.runs_limit is None else COUNT_RUN_UNDER_LIMIT
    if not (yield Step(count, month)):
        # The month's first run creates its counter (one statement more, that once).
        yield Step(ADD_COUNTER, month)
        if not (yield Step(count, month)):
            raise QuotaRefused("runs_per_month")
    yield Step(INSERT_RUN, {**run, "metadata": JsonValue(run["metadata"])})


def take_slot(
    tenant_id: str, run_id: str, expires_at: datetime, limit: int, now: datetime
) -> Script[None]:
    """Take one of the tenant's ``limit`` concurrency slots; QuotaRefused if all are held."""
    tenant = {"tenant_id": tenant_id}
    yield Step(LOCK_TENANT, tenant)
    slot = {**tenant, "run_id": run_id, "expires_at": expires_at, "limit": limit}
    if not (yield Step(INSERT_SLOT, slot)):
        # All taken: free the leases of runs whose process died, then try once more.
        freed = yield Step(FREE_EXPIRED_SLOTS, {**tenant, "now": now})
        if not freed or not (yield Step(INSERT_SLOT, slot)):
            raise QuotaRefused("max_concurrent_runs")


@dataclass(frozen=True, slots=True)
class Continuing:
    """Decisions on a run awaiting approval, and how it continues once all are made."""

    decisions: pauses.Decisions
    status: Literal["running", "queued"]
    mode: str
    expires_at: datetime
    slot_limit: int | None
    """The tenant's concurrency limit when the continued run takes a slot, else None."""


def decide_run(continuing: Continuing) -> Script[bool]:
    """Record the decisions; once none is left, mark the run continuing and take its slot
    (QuotaRefused rolls the decisions back too). Whether this transaction continues it."""
    decisions = continuing.decisions
    yield from pauses.decide(decisions)
    tenant_id, run_id = decisions.tenant_id, decisions.run_id
    status, mode = continuing.status, continuing.mode
    if not (yield from pauses.continue_run(tenant_id, run_id, status, mode, continuing.expires_at)):
        return False
    if continuing.slot_limit is not None:
        yield from take_slot(
            tenant_id, run_id, continuing.expires_at, continuing.slot_limit, decisions.now
        )
    return True


@dataclass(frozen=True, slots=True)
class Closing:
    """How a run ended, for :func:`close_run`."""

    tenant_id: str
    run_id: str
    period: str
    outcome: dict[str, Any]
    """The outcome's columns (``OUTCOME_COLUMNS``); ``output`` and ``steps`` are JSON
    documents or None."""
    free_slot: bool
    only_if_open: bool
    """Write the outcome only while the record is still queued or running."""
    refund: bool
    """Give the run back to its month if the outcome was written (no model call started)."""
    resumed: bool = False
    """The run continued from a stop for approval: its stored state goes."""
    stop: pauses.Stop | None = None
    """The run stopped (again) for approval: the state and calls to keep."""
    events: Sequence[events.Event] = ()
    """Events of the (background) run to add if the outcome was written."""
    now: datetime | None = None
    """When the events were made (required with ``events``)."""


def close_run(closing: Closing) -> Script[bool]:
    """Free the slot (if held), write the outcome, refund the month if asked; whether the
    outcome was written."""
    run = {"tenant_id": closing.tenant_id, "run_id": closing.run_id}
    if closing.free_slot:
        yield Step(FREE_SLOT, run)
    finish = FINISH_OPEN_RUN if closing.only_if_open else FINISH_RUN
    outcome = {
        **closing.outcome,
        "output": JsonValue(closing.outcome["output"]),
        # No steps (most runs): SQL NULL, without encoding a JSON null.
        "steps": None if closing.outcome["steps"] is None else JsonValue(closing.outcome["steps"]),
    }
    written = bool((yield Step(finish, {**run, **outcome})))
    if written and closing.refund:
        yield Step(UNCOUNT_RUN, {"tenant_id": closing.tenant_id, "period": closing.period})
    if written and closing.resumed:
        yield Step(pauses.DELETE_PAUSE, run)
    if written and closing.stop is not None:
        yield from pauses.stop(closing.tenant_id, closing.run_id, closing.stop)
    if written and closing.events:
        assert closing.now is not None
        yield from events.add(closing.run_id, closing.events, closing.now)
    return written
