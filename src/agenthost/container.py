"""Everything built once at start-up, handed to requests through ``api/deps.py``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents import set_tracing_export_api_key
from pydantic import SecretStr
from redis.asyncio import ConnectionPool

from agenthost.cache.backend import CacheBackend
from agenthost.cache.memory import MemoryCache
from agenthost.cache.redis_store import RedisCache
from agenthost.errors import NotImplementedFeature
from agenthost.execution.admission import Admission
from agenthost.execution.cache import ResultCache
from agenthost.execution.decisions import Approvals
from agenthost.execution.lifecycle import Lifecycle
from agenthost.execution.pipeline import Pipeline
from agenthost.execution.runner import AgentRunner
from agenthost.execution.settlement import Settlement
from agenthost.jobs.service import BackgroundRuns
from agenthost.mcp.hub import MCPServers
from agenthost.models.provider import AgentHostModelProvider
from agenthost.registry import AgentRegistry, load_registry
from agenthost.security.secrets import SecretStore, build_secret_store
from agenthost.settings import ConfigError, Settings
from agenthost.store.database import Database
from agenthost.store.migrate import require_current
from agenthost.telemetry.metrics import Metrics
from agenthost.telemetry.runs import RunTelemetry
from agenthost.telemetry.tracing import Tracing, install_sdk_processors
from agenthost.tenancy.admin import TenantAdmin
from agenthost.tenancy.auth import Authenticator
from agenthost.tenancy.auth_failures import FailedAuthentications
from agenthost.tenancy.ledger import LEASE_MARGIN_S, Ledger
from agenthost.tenancy.principal import DEV_TENANT
from agenthost.tenancy.ratelimit import RateLimits
from agenthost.tenancy.session_lock import SessionLocks
from agenthost.tenancy.sessions import SessionStore

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Container:
    settings: Settings
    secrets: SecretStore
    registry: AgentRegistry
    lifecycle: Lifecycle
    provider: AgentHostModelProvider
    db: Database
    redis_pool: ConnectionPool | None
    authenticator: Authenticator
    rate_limits: RateLimits
    failed_auth: FailedAuthentications
    sessions: SessionStore
    ledger: Ledger
    admin: TenantAdmin
    pipeline: Pipeline
    approvals: Approvals
    """Decisions on tool calls awaiting approval (the route and the CLI)."""
    background: BackgroundRuns | None
    """Durable background runs; None when the ``background_runs`` setting is off."""
    tracing: Tracing
    metrics: Metrics
    mcp: MCPServers
    """The agents' MCP servers, one connection each per process."""

    def background_runs(self) -> BackgroundRuns:
        """The background-run service; 501 when the ``background_runs`` setting is off."""
        if self.background is None:
            raise NotImplementedFeature(
                "background runs are turned off on this server (the background_runs setting)"
            )
        return self.background

    async def start(self, *, background: bool = True, mcp: bool = True) -> None:
        """Check what needs the network: the schema is current; dev mode's tenant exists;
        a Redis that cannot be reached is logged (how requests fare is a setting). Then connect
        the MCP servers (unless ``mcp`` is false) and start background runs (DBOS), unless
        ``background`` is false (a configuration check)."""
        await require_current(self.db)
        await self.db.scripts.start()
        await self.authenticator.start()
        if self.rate_limits.backend == "redis":
            await self.rate_limits.check_storage()
        if mcp:
            await self.mcp.start()
        if background and self.background is not None:
            await self.background.start()
        else:
            self.background = None

    async def aclose(self) -> None:
        if self.background is not None:
            await self.background.stop()
        await self.mcp.aclose()
        await self.provider.aclose()
        await self.db.aclose()
        if self.redis_pool is not None:
            await self.redis_pool.aclose()
        # Flushing to an unreachable collector blocks up to the exporter's timeout.
        await asyncio.to_thread(self.tracing.shutdown)
        self.secrets.close()


def build_container(
    settings: Settings,
    *,
    registry: AgentRegistry | None = None,
    lifecycle: Lifecycle | None = None,
    executes_background: bool = False,
    metrics_dir: Path | None = None,
) -> Container:
    """Build the process's objects; raises ConfigError when they cannot work together
    (or when a referenced secret cannot be resolved).

    ``metrics_dir``: the metrics directory shared with sibling server processes (set by the
    supervisor of ``serve --workers N``; see :mod:`agenthost.telemetry.metrics`).
    """
    registry = registry if registry is not None else load_registry(settings.agents)
    metrics = Metrics(metrics_dir)
    lifecycle = lifecycle or Lifecycle()
    lifecycle.track(metrics.runs_in_flight)
    secrets = build_secret_store(settings)
    try:
        return _build(settings, secrets, registry, lifecycle, metrics, executes_background)
    except BaseException:
        secrets.close()
        raise


def open_database(settings: Settings, secrets: SecretStore) -> Database:
    """The database of ``settings``, its URL and password resolved from ``secrets``."""
    return Database(
        secrets.reveal(settings.database_url) or "",
        password=secrets.reveal(settings.database_password),
        pool_size=settings.database_pool_size,
        log_parameters=settings.log_sensitive_data,
    )


def read_at_startup(settings: Settings, secrets: SecretStore, db: Database) -> Settings:
    """``settings`` with the secrets that are read once (database URLs, the webhook signing
    key) resolved, for the background runs, which read them from their settings."""
    update: dict[str, Any] = {"database_url": SecretStr(db.url.render_as_string(False))}
    for name in ("dbos_database_url", "webhook_signing_key"):
        value = secrets.reveal(getattr(settings, name))
        if value is not None:
            update[name] = SecretStr(value)
    return settings.model_copy(update=update)


def _build(
    settings: Settings,
    secrets: SecretStore,
    registry: AgentRegistry,
    lifecycle: Lifecycle,
    metrics: Metrics,
    executes_background: bool,
) -> Container:
    provider = AgentHostModelProvider(settings, secrets, metrics)
    missing = provider.missing(_model_names(registry))
    if missing:
        raise ConfigError(
            f"no model deployment serves {missing}; add deployments whose 'serves' lists them"
        )
    openai_key = secrets.reveal(settings.openai_api_key)
    if settings.sdk_trace_export and openai_key is not None:
        # The SDK's exporter otherwise reads OPENAI_API_KEY from the environment itself.
        set_tracing_export_api_key(openai_key)
    db = open_database(settings, secrets)
    redis_url = secrets.reveal(settings.redis_url)
    redis_pool = (
        ConnectionPool.from_url(
            redis_url,
            socket_connect_timeout=settings.redis_timeout_s,
            socket_timeout=settings.redis_timeout_s,
        )
        if redis_url is not None
        else None
    )
    ledger = Ledger(db, settings, metrics)
    sessions = SessionStore(db, settings.session_history_limit)
    tracing = Tracing(settings)
    install_sdk_processors(settings)
    telemetry = RunTelemetry(tracing, metrics)
    locks = SessionLocks(db, settings, LEASE_MARGIN_S)
    admission = Admission(settings, registry, lifecycle, ledger, locks)
    settlement = Settlement(lifecycle, ledger, telemetry)
    cache = ResultCache(_cache_backend(settings, redis_pool, metrics), metrics)
    pipeline = Pipeline(admission, cache, AgentRunner(settings, provider), settlement, telemetry)
    background = (
        BackgroundRuns(
            read_at_startup(settings, secrets, db),
            db,
            provider,
            admission,
            pipeline,
            settlement,
            lifecycle,
            ledger,
            executes=executes_background or settings.execute_background_runs,
        )
        if settings.background_runs
        else None
    )
    authenticator = Authenticator(
        db, dev_mode=settings.dev_mode, cache_ttl_s=settings.auth_cache_ttl_s
    )
    rate_limits = RateLimits(settings, redis_pool, metrics)

    def forget_tenants() -> None:
        """A key or tenant changed here: cached principals and tenants are read again."""
        authenticator.forget()
        if background is not None:
            background.forget_tenants()

    return Container(
        settings=settings,
        secrets=secrets,
        registry=registry,
        lifecycle=lifecycle,
        provider=provider,
        db=db,
        redis_pool=redis_pool,
        authenticator=authenticator,
        rate_limits=rate_limits,
        failed_auth=FailedAuthentications(rate_limits),
        sessions=sessions,
        ledger=ledger,
        admin=TenantAdmin(db, lambda: registry, provider.serves, on_change=forget_tenants),
        pipeline=pipeline,
        approvals=Approvals(db, admission),
        background=background,
        tracing=tracing,
        metrics=metrics,
        mcp=MCPServers(registry, settings, metrics),
    )


def _cache_backend(
    settings: Settings, redis_pool: ConnectionPool | None, metrics: Metrics
) -> CacheBackend | None:
    if settings.cache_backend == "off":
        return None
    if settings.cache_backend == "redis" and redis_pool is not None:
        return RedisCache(redis_pool, ttl_s=settings.cache_ttl_s)
    return MemoryCache(
        policy=settings.cache_policy,
        ttl_s=settings.cache_ttl_s,
        max_entries=settings.cache_max_entries,
        max_bytes=settings.cache_max_bytes,
        on_evict=metrics.cache_evictions.inc,
    )


def startup_warnings(settings: Settings) -> list[str]:
    """What the operator must know about this configuration; entry points log each once."""
    warnings = []
    if settings.uses_demo_model:
        warnings.append(
            "no OPENAI_API_KEY and no deployments configured: agents run on the offline demo "
            "model (canned answers). Set OPENAI_API_KEY or AGENTHOST_DEPLOYMENTS for real models."
        )
    if settings.workers > 1 and settings.redis_url is None:
        warnings.append(
            f"{settings.workers} workers without redis_url: each process keeps its own rate "
            "limit counters, so clients get up to that many times the configured limits"
        )
    if settings.metrics_on_api_port and settings.metrics_token is None:
        warnings.append(
            "metrics_public without metrics_token: anyone who reaches the API port reads "
            "/metrics, whose labels name every tenant and agent; use the metrics port "
            "(metrics_port), or set metrics_token"
        )
    if settings.dev_mode:
        warnings.append(
            f"DEV MODE: API keys are not required; requests without a key act as tenant "
            f"{DEV_TENANT!r} (an operator tenant) with every scope, including operator. "
            "Never expose this server."
        )
    return warnings


def _model_names(registry: AgentRegistry) -> Iterator[str | None]:
    """Model names of every registered agent and every agent reachable by handoff."""
    for agent in registry.reachable_agents():
        if agent.model is None or isinstance(agent.model, str):
            yield agent.model
