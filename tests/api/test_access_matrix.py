"""Who may call what: every operation of the OpenAPI document, called as every kind of caller.

Each operation has an explicit rule below (the scope it needs, whether its path names a
tenant's resource, the status it answers when allowed); an operation without one fails the
test, so a new route is not served before someone decides who may call it. Callers: no key, a
bad, revoked or expired key, a key of a disabled tenant, each scope alone, two ordinary tenants
(one also calling with the other's resources in its paths) and an operator. Every status is
derived from the rule, and every refusal for a scope must name it.

One app (called in this process, the offline demo model, background runs on), many requests: each
request that names a resource gets a fresh one (a run, session or key made just before it),
so nothing one cell changes (a revocation, a deleted session) decides another cell's answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from agenthost.api.app import create_app
from agenthost.settings import Settings
from agenthost.store.tables import ApiKeyRow
from agenthost.tenancy.audit import Actor
from agenthost.tenancy.principal import Scope
from tests.api.agents import ToolLog, build_registry
from tests.api.tenants import IssuedKey, add_key, add_tenant, admin_of, update_tenant

PUBLIC = "public"
"""A rule's scope for the routes that need no key."""
ANY_KEY = "any key"
"""A rule's scope for the routes any valid key may call."""
UNLIMITED = "1000000/minute"
OPENAI_PATHS = {"/v1/models", "/v1/models/echo", "/v1/responses", "/v1/chat/completions"}
TENANT_SCOPES = ("runs:read", "runs:write", "keys:admin")


Expected = tuple[int, str | None]
"""A status, and the scope its refusal names (None: none)."""


@dataclass(frozen=True)
class Rule:
    scope: str
    """The scope the route needs, :data:`ANY_KEY` or :data:`PUBLIC`."""
    allowed: int
    """The status of an allowed call with a valid request."""
    owned: bool = False
    """Its path names a resource of the caller's tenant: another tenant's is 404."""
    body: Callable[[], dict[str, Any]] | None = None
    but: dict[str, Expected] = field(default_factory=dict)
    """Cells answering otherwise, by cell name (each with its reason in a comment)."""


_ids = itertools.count()
RUN = {"input": "hi"}
# Background runs are on; the runs named in paths are synchronous ones, which have no events
# and cannot be cancelled (409), once found for the caller's tenant.
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule(PUBLIC, 200),
    ("GET", "/ready"): Rule(PUBLIC, 200),
    ("GET", "/v1/agents"): Rule(ANY_KEY, 200),
    ("POST", "/v1/agents/{agent}/runs"): Rule("runs:write", 200, body=lambda: RUN),
    ("GET", "/v1/runs"): Rule("runs:read", 200),
    ("GET", "/v1/runs/{run_id}"): Rule("runs:read", 200, owned=True),
    ("GET", "/v1/usage"): Rule("runs:read", 200),
    ("POST", "/v1/runs/{run_id}/cancel"): Rule("runs:write", 409, owned=True),
    ("GET", "/v1/runs/{run_id}/events"): Rule("runs:read", 409, owned=True),
    # Not awaiting approval (409), once found for the caller's tenant.
    ("POST", "/v1/runs/{run_id}/approvals"): Rule(
        "runs:write",
        409,
        owned=True,
        body=lambda: {"decisions": [{"call_id": "call_1", "approve": True}]},
    ),
    ("GET", "/v1/sessions/{session_id}"): Rule("runs:read", 200, owned=True),
    ("DELETE", "/v1/sessions/{session_id}"): Rule("runs:write", 204, owned=True),
    ("GET", "/v1/keys"): Rule("keys:admin", 200),
    ("POST", "/v1/keys"): Rule("keys:admin", 201, body=lambda: {"scopes": ["keys:admin"]}),
    ("POST", "/v1/keys/{key_id}/revoke"): Rule("keys:admin", 200, owned=True),
    ("GET", "/v1/audit"): Rule("keys:admin", 200),
    ("GET", "/v1/admin/tenants"): Rule("operator", 200),
    ("POST", "/v1/admin/tenants"): Rule("operator", 201, body=lambda: {"id": f"made-{next(_ids)}"}),
    ("GET", "/v1/admin/tenants/{tenant_id}"): Rule("operator", 200),
    ("PATCH", "/v1/admin/tenants/{tenant_id}"): Rule(
        "operator", 200, body=lambda: {"name": "Renamed"}
    ),
    ("POST", "/v1/admin/tenants/{tenant_id}/keys"): Rule(
        "operator",
        201,
        body=lambda: {"scopes": ["runs:read"]},
        # A key of the operator scope alone cannot grant runs:read.
        but={"operator": (403, "runs:read")},
    ),
    ("GET", "/v1/admin/tenants/{tenant_id}/keys"): Rule("operator", 200),
    ("POST", "/v1/admin/keys/{key_id}/revoke"): Rule("operator", 200),
    ("GET", "/v1/admin/audit"): Rule("operator", 200),
    ("GET", "/v1/models"): Rule("runs:read", 200),
    ("GET", "/v1/models/{model}"): Rule("runs:read", 200),
    ("POST", "/v1/responses"): Rule(
        "runs:write", 200, body=lambda: {"model": "agent:echo", "input": "hi"}
    ),
    ("POST", "/v1/chat/completions"): Rule(
        "runs:write",
        200,
        body=lambda: {"model": "echo", "messages": [{"role": "user", "content": "hi"}]},
    ),
    ("POST", "/api/agents/execute"): Rule(
        "runs:write", 200, body=lambda: {"agentName": "echo", "input": "hi"}
    ),
}


@dataclass(frozen=True)
class Cell:
    name: str
    headers: dict[str, str]
    tenant: str | None = None
    """The caller's tenant (None: the call fails authentication)."""
    scopes: frozenset[str] = frozenset()
    resources_of: str = "ta"
    """Whose runs, sessions and keys the paths of tenant routes name (operator routes always
    name tenant ``tb``'s)."""
    refused: int | None = None
    """The status every route with a key answers this caller (401, or 403 when disabled)."""


@dataclass
class World:
    client: httpx2.AsyncClient
    app: Any
    writers: dict[str, IssuedKey]
    """A key with every tenant scope, per ordinary tenant, to make its runs."""

    shared: dict[tuple[str, str], str] = field(default_factory=dict)

    async def fill(self, path: str, owner: str, *, fresh: bool) -> str:
        """``path`` with each parameter a resource of ``owner``: a fresh one, or (for a call
        refused before the route runs) one shared by such calls."""
        if not fresh:
            if (path, owner) not in self.shared:
                self.shared[path, owner] = await self.fill(path, owner, fresh=True)
            return self.shared[path, owner]
        values: dict[str, str] = {"agent": "echo", "model": "echo", "tenant_id": owner}
        if "{run_id}" in path or "{session_id}" in path:
            session = f"s-{next(_ids)}"
            made = await self.client.post(
                "/v1/agents/echo/runs",
                json={"input": "hi", "session_id": session},
                headers=self.writers[owner].headers,
            )
            assert made.status_code == 200, made.text
            values |= {"run_id": made.json()["run_id"], "session_id": session}
        if "{key_id}" in path:
            values["key_id"] = (await add_key(self.app, owner, "runs:read")).id
        return path.format(**values)


def expected(rule: Rule, cell: Cell, path_owner: str) -> Expected:
    if rule.scope == PUBLIC:
        return 200, None
    if cell.refused is not None:
        return cell.refused, None
    if rule.scope != ANY_KEY and rule.scope not in cell.scopes:
        return 403, rule.scope
    if rule.owned and path_owner != cell.tenant:
        return 404, None
    return rule.but.get(cell.name, (rule.allowed, None))


@asynccontextmanager
async def world() -> AsyncIterator[tuple[World, list[Cell]]]:
    settings = Settings(
        demo_model=True,
        dev_mode=False,
        background_runs=True,
        access_log=False,
        rate_limit_per_key=UNLIMITED,
        rate_limit_per_tenant=UNLIMITED,
        rate_limit_per_ip=UNLIMITED,
        auth_failure_limit=UNLIMITED,
    )
    app = create_app(settings, registry=build_registry(ToolLog()))
    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://matrix") as client,
    ):
        for tenant in ("ta", "tb", "tc"):
            await add_tenant(app, tenant)
        await add_tenant(app, "ops", operator=True)
        writers = {t: await add_key(app, t, *TENANT_SCOPES) for t in ("ta", "tb")}
        yield World(client, app, writers), await _cells(app, writers)


async def _cells(app: Any, writers: dict[str, IssuedKey]) -> list[Cell]:
    revoked = await add_key(app, "ta", *TENANT_SCOPES)
    await admin_of(app).revoke_key(revoked.id, actor=Actor.cli())
    expired = await add_key(
        app, "ta", *TENANT_SCOPES, expires_at=datetime.now(UTC) + timedelta(days=1)
    )
    async with app.state.container.db.transaction() as tx:
        row = await tx.get(ApiKeyRow, expired.id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    disabled = await add_key(app, "tc", *TENANT_SCOPES)
    await update_tenant(app, "tc", disabled=True)
    bad = {"Authorization": "Bearer ahk_000000000000_" + "x" * 43}
    tenant_scopes = frozenset(TENANT_SCOPES)
    cells = [
        Cell("no key", {}, refused=401),
        Cell("bad key", bad, refused=401),
        Cell("revoked key", revoked.headers, refused=401),
        Cell("expired key", expired.headers, refused=401),
        Cell("disabled tenant", disabled.headers, refused=403),
    ]
    for scope in TENANT_SCOPES:
        key = await add_key(app, "ta", scope)
        cells.append(Cell(scope, key.headers, "ta", frozenset({scope})))
    operator_alone = await add_key(app, "ops", "operator")
    every = await add_key(app, "ops", *(s.value for s in Scope))
    cells += [
        Cell("operator", operator_alone.headers, "ops", frozenset({"operator"}), "tb"),
        Cell("tenant ta", writers["ta"].headers, "ta", tenant_scopes),
        Cell("tenant tb", writers["tb"].headers, "tb", tenant_scopes, "tb"),
        Cell("ta with tb's resources", writers["ta"].headers, "ta", tenant_scopes, "tb"),
        Cell("operator with every scope", every.headers, "ops", frozenset(map(str, Scope)), "tb"),
    ]
    return cells


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}


async def test_every_operation_answers_every_caller_as_its_rule_says() -> None:
    async with world() as (w, cells):
        document = (await w.client.get("/openapi.json")).json()
        operations = _operations(document)
        assert operations == set(RULES), (
            f"operations without a rule: {sorted(operations - set(RULES))}; "
            f"rules without an operation: {sorted(set(RULES) - operations)}"
        )
        wrong: list[str] = []
        for (method, template), rule in RULES.items():
            for cell in cells:
                owner = "tb" if rule.scope == "operator" else cell.resources_of
                want, scope = expected(rule, cell, owner)
                path = await w.fill(template, owner, fresh=want < 400 or want == 404)
                body = rule.body() if rule.body is not None else None
                response = await w.client.request(method, path, json=body, headers=cell.headers)
                seen = (response.status_code, _named_scope(response))
                if seen != (want, scope):
                    wrong.append(
                        f"{method} {template} as {cell.name}: {seen} (expected {(want, scope)}) "
                        f"{response.text[:200]}"
                    )
    assert not wrong, "\n".join(wrong)
    assert len(cells) == 13


def _named_scope(response: httpx2.Response) -> str | None:
    """The scope a refusal names (in its ``scope`` member and its detail); every refusal is a
    problem document, or OpenAI's error object on the OpenAI-compatible routes (whose message
    names the scope)."""
    if response.status_code < 400:
        return None
    if response.url.path in OPENAI_PATHS:
        assert response.headers["content-type"] == "application/json", response.text
        named = re.search(r"needs the scope '([^']+)'", response.json()["error"]["message"])
        return named.group(1) if named else None
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    scope: str | None = problem.get("scope")
    if scope is not None:
        assert f"'{scope}'" in problem["detail"], problem
    return scope
