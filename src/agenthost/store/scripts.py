"""Transaction scripts: the hot path's SQL, written once, run by a lean driver per database.

Every run opens and closes a reservation (a few statements in two transactions). Through the
ORM session and the async driver adapters each statement costs a tenth of a millisecond of
CPU or more, most of a run's bookkeeping; the same statements sent straight to the driver cost
a few microseconds. A *script* is a generator that yields :class:`Step` s (a statement and its
parameters) and receives each one's result, so its logic is written once and runs on SQLite
(one thread, one hop per transaction) and on PostgreSQL (asyncpg) alike. A script that raises
rolls its transaction back; its return value is the transaction's result.

Parameters are named (``:name``). Values are encoded the way the ORM stores them
(:func:`encode`), so rows written here read back the same through the ORM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
Dialect = Literal["sqlite", "postgresql"]

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with ``:name`` parameters; ``postgresql`` replaces ``sql`` there.
    An empty ``sql`` (or ``postgresql``) means the step is skipped on that database."""

    sql: str
    postgresql: str | None = None
    _positional: tuple[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        source = self.sql if self.postgresql is None else self.postgresql
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        object.__setattr__(self, "_positional", (_NAMED.sub(number, source), tuple(names)))

    def for_sqlite(self) -> str:
        return self.sql

    def for_postgresql(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """asyncpg's form: ``$n`` placeholders and the values in their order."""
        sql, names = self._positional
        return sql, [params[name] for name in names]


@dataclass(frozen=True, slots=True)
class Step:
    """Run ``statement``; the script receives how many rows it changed (or selected), or with
    ``fetch`` the rows it returned (tuples, values as the driver gives them: see
    :func:`decode_time` and :func:`decode_json`)."""

    statement: Statement
    params: Mapping[str, Any]
    fetch: bool = False


Script = Generator[Step, Any, T]


class ScriptRunner(Protocol):
    async def run(self, script: Script[T]) -> T:
        """Run ``script`` in one transaction: committed if it returns, rolled back if it raises.
        A database that cannot be reached (or stays locked) is DependencyUnavailable."""
        ...

    async def start(self) -> None:
        """Connect ahead of the first script where that can fail (so start-up fails)."""
        ...

    async def aclose(self) -> None: ...


def encode(value: Any, dialect: Dialect) -> Any:
    """A Python value as the ORM's column types store it: aware datetimes as naive UTC
    (text on SQLite), JSON documents (:class:`JsonValue`) as text, the rest as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else naive
    if isinstance(value, JsonValue):
        return json.dumps(value.value)
    return value


@dataclass(frozen=True, slots=True)
class JsonValue:
    """A value for a JSON column (None is stored as JSON ``null``, as the ORM stores it)."""

    value: Any


def decode_time(value: Any) -> datetime | None:
    """A UTC column's value read by a script (text on SQLite) as an aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def decode_json(value: Any) -> Any:
    """A JSON column's value read by a script (text on both databases) as a Python value."""
    return None if value is None else json.loads(value)


def encoded(params: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    return {name: encode(value, dialect) for name, value in params.items()}
