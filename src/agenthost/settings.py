"""THE settings of agenthost: the only module that reads the environment.

Sources, highest priority first: keyword arguments, environment variables ``AGENTHOST_*``
(nested values as JSON, e.g. ``AGENTHOST_DEPLOYMENTS='[{...}]'``), the TOML file named by
``AGENTHOST_CONFIG_FILE`` (default ``agenthost.toml`` in the working directory, if present),
then the defaults below. ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are read as well, because
that is where users already keep them.

Every secret setting (``SecretStr``: keys, URLs with passwords, tokens) may hold a reference
instead of the secret: ``env:NAME``, ``file:/path``, ``vault:path#key`` or ``aws:secret-id[#key]``
(see :mod:`agenthost.security.secrets`).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from limits import parse_many
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "AGENTHOST_"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
CONFIG_FILE_ENV = "AGENTHOST_CONFIG_FILE"
DEFAULT_CONFIG_FILE = "agenthost.toml"
PRODUCTION_METRICS_PORT = 9100


class ConfigError(Exception):
    """Configuration is invalid; the message names every bad key and why."""


class DeploymentSettings(BaseModel):
    """One OpenAI-compatible model endpoint (OpenAI, Azure OpenAI, vLLM, a proxy, ...)."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    """Unique deployment name, used in logs, metrics and breaker state."""
    model: str = Field(min_length=1)
    """Model name sent upstream. ``*`` forwards whatever model name the agent asked for."""
    serves: list[str] = Field(default_factory=list)
    """Model names agents use that this deployment serves; empty means ``[model]``;
    ``["*"]`` serves every name that no other deployment claims."""
    base_url: str | None = None
    """Endpoint base URL (ending in ``/v1`` for most servers); None means OpenAI's default."""
    api_key: SecretStr | None = None
    """API key for this endpoint (or a secret reference, re-read as it rotates); None falls
    back to ``OPENAI_API_KEY``."""
    api: Literal["chat_completions", "responses"] = "chat_completions"
    """Which OpenAI API the endpoint speaks."""
    client: Literal["lean", "openai"] | None = None
    """How requests are sent. ``lean``: agenthost's own Chat Completions client (the request
    as JSON over a pooled aiohttp session, a fraction of the openai client's CPU per call, same
    requests, results and errors); ``openai``: the openai package's ``AsyncOpenAI`` (over
    httpx2). None:
    ``lean`` for ``chat_completions``, ``openai`` for ``responses`` (which ``lean`` does not
    speak)."""
    weight: int = Field(default=1, ge=1, le=1000)
    """Share of traffic relative to other deployments serving the same model."""
    max_connections: int = Field(default=100, ge=1)
    """Upper bound of open HTTP connections to this endpoint."""
    max_keepalive_connections: int = Field(default=20, ge=0)
    """Idle connections kept open for reuse by the ``openai`` client. The ``lean`` client's
    aiohttp pool has no such bound: it keeps any idle connection (up to ``max_connections``
    in all) for ``keepalive_expiry_s``."""
    keepalive_expiry_s: float = Field(default=4.0, gt=0)
    """Idle connections are closed after this long. Keep it below the endpoint's own idle
    timeout (5 s for many servers), or a request may be sent on a connection the endpoint is
    closing at that moment (a retried connection error)."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    """TCP/TLS connect timeout (for the ``lean`` client: aiohttp's ``sock_connect``)."""
    read_timeout_s: float = Field(default=120.0, gt=0)
    """Maximum wait for bytes from the endpoint (the run deadline usually fires first; for the
    ``lean`` client: aiohttp's ``sock_read``)."""
    pool_timeout_s: float = Field(default=10.0, gt=0)
    """Maximum wait for a free connection from the pool (for the ``lean`` client, aiohttp's
    ``connect`` timeout is this plus ``connect_timeout_s``: it counts both waits together)."""
    call_timeout_s: float = Field(default=60.0, gt=0)
    """Longest one model call may take (for streams: until its first event) before it is
    abandoned, counted against this deployment's breaker and retried, on another deployment
    when there is one. The run's own deadline still applies."""

    @model_validator(mode="after")
    def _client_speaks_api(self) -> DeploymentSettings:
        if self.client == "lean" and self.api == "responses":
            raise ValueError(
                'client "lean" speaks only api "chat_completions"; '
                'use client "openai" (or leave it unset) for api "responses"'
            )
        return self

    @property
    def served_names(self) -> list[str]:
        return self.serves or [self.model]

    @property
    def lean_client(self) -> bool:
        """Whether requests go through the lean client (see ``client``)."""
        return self.api == "chat_completions" and self.client != "openai"


class Settings(BaseSettings):
    """Every knob of agenthost, with its type, default and meaning."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
        env_ignore_empty=True,
        populate_by_name=True,
    )

    # --- process -------------------------------------------------------------------------
    environment: Literal["development", "production", "test"] = "development"
    """Deployment environment; ``production`` turns on JSON logs and stricter defaults."""
    host: str = "127.0.0.1"
    """Interface ``agenthost serve`` binds to (use 0.0.0.0 in containers)."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Port ``agenthost serve`` listens on."""
    workers: int = Field(default=1, ge=1, le=64)
    """Server processes; each has its own event loop and model clients."""
    agents: str = "examples.registry:registry"
    """``module:attribute`` of the :class:`AgentRegistry` to serve."""
    shutdown_grace_s: float = Field(default=30.0, ge=0)
    """On SIGTERM, how long in-flight runs may take to finish before they are cancelled."""

    # --- logging -------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Root log level."""
    log_format: Literal["auto", "json", "console"] = "auto"
    """``auto``: JSON unless stderr is a terminal."""
    log_sensitive_data: bool = False
    """Log prompts, outputs and raw inputs. Off: they are redacted."""
    access_log: bool = True
    """One JSON line per HTTP request."""

    # --- tracing and metrics -------------------------------------------------------------
    tracing_enabled: bool = True
    """Make OpenTelemetry spans for requests, runs and the SDK's agent/model/tool spans, and
    put the trace id in logs and the ``X-Trace-ID`` header. Off: no spans at all."""
    trace_exporter: Literal["none", "console", "otlp"] = "none"
    """Where spans go: nowhere (ids only), stdout (development), or an OTLP collector."""
    otlp_endpoint: str | None = None
    """OTLP endpoint, e.g. ``http://collector:4318/v1/traces`` (HTTP) or
    ``http://collector:4317`` (gRPC); None: the exporter's default on localhost."""
    otlp_protocol: Literal["http", "grpc"] = "http"
    """OTLP transport; ``grpc`` needs the ``otlp-grpc`` extra installed."""
    otlp_headers: dict[str, SecretStr] = Field(default_factory=dict)
    """Headers sent with every export (e.g. an API key of the tracing backend)."""
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    """Share of new traces recorded; an inbound ``traceparent``'s sampled flag is followed."""
    trace_content: bool = False
    """Put prompts, model outputs and tool arguments/results on spans. Off: never."""
    trust_trace_context: bool = True
    """Continue the trace of an inbound W3C ``traceparent`` header (off: always a new trace)."""
    service_name: str = Field(default="agenthost", min_length=1)
    """``service.name`` of the spans' resource."""
    metrics_enabled: bool = True
    """Export Prometheus metrics at ``GET /metrics`` (where, see ``metrics_port``; off: 404
    everywhere and no metrics listener)."""

    # --- HTTP ----------------------------------------------------------------------------
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Largest accepted request body; larger bodies get 413."""
    max_input_chars: int = Field(default=50_000, ge=1)
    """Longest accepted run input, in characters; longer inputs get 422."""
    trust_request_id: bool = True
    """Echo a valid inbound ``X-Request-ID`` instead of minting a new one."""
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    """Idle seconds after which a streamed run sends a keep-alive comment (for proxies)."""
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed by CORS (``https://app.example.com``); empty: no CORS headers, so
    browsers on other origins cannot call the API."""
    console_enabled: bool | None = None
    """Serve the web console at ``/console`` (static pages that call the public API with the
    user's key). None: on unless ``environment`` is production, where it is opt-in."""
    max_header_bytes: int = Field(default=32_768, ge=1024, le=1_048_576)
    """Largest accepted request line plus headers; larger requests get 431."""
    body_timeout_s: float = Field(default=30.0, gt=0)
    """Longest time a request body may take to arrive once the server reads it (slow or
    stalled uploads get 408)."""
    max_connections: int = Field(default=1000, ge=1)
    """Concurrent connections (and requests) one server process serves; beyond, requests are
    answered 503 ``OVERLOADED`` at once."""
    keepalive_timeout_s: float = Field(default=5.0, gt=0, le=300)
    """Idle seconds before a keep-alive connection is closed."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (``10.0.0.0/8``) of reverse proxies whose ``X-Forwarded-For``
    and ``X-Forwarded-Proto`` are believed: the client IP (rate limits, logs) is then the
    nearest address they did not add. Empty: the connecting address, forwarded headers
    ignored."""

    # --- database ------------------------------------------------------------------------
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///agenthost.db")
    """Where tenants, keys, run records, usage and sessions live: a SQLite file by default,
    ``postgresql://user:pass@host/db`` when scaled out. Apply migrations with
    ``agenthost db upgrade``; the server refuses to start on an unmigrated database."""
    database_password: SecretStr | None = None
    """Password that replaces the one in ``database_url`` (typically a secret reference such as
    ``file:/run/secrets/db-password``, so the URL itself holds no secret). Read at start-up."""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL connections per process: the engine keeps this many open (and opens as many
    more under load), and the hot path (a run's quota reservation and record, straight on
    asyncpg) has a pool of its own of up to this many. Budget three times this per process."""
    store_run_content: bool = False
    """Store run inputs and outputs in run records (``GET /v1/runs/{id}``). Off: only
    status, usage, timings and errors are kept."""
    session_history_limit: int = Field(default=200, ge=1, le=10_000)
    """Most recent session items a run sends to the model."""
    session_poll_s: float = Field(default=0.1, gt=0, le=5)
    """How often a run waiting for its session (``on_busy: enqueue`` or ``interrupt``) checks
    whether its turn has come, and how often a run holding a session checks whether a newer
    run interrupted it."""
    session_queue_s: float = Field(default=3600.0, gt=0, le=7 * 86_400)
    """How long a queued background run keeps its place in its session's line before it
    starts executing; one that starts later takes a new place at the end."""

    # --- tenants, keys and limits -------------------------------------------------------
    dev_mode: bool = False
    """No API keys needed: requests without one act as the built-in ``dev`` tenant (no limits,
    every scope). For the local demo only; refused when ``environment`` is production."""
    auth_cache_ttl_s: float = Field(default=2.0, ge=0, le=300)
    """How long an authenticated API key (with its tenant's limits and scopes) is trusted
    without reading the database again. Revoking a key or changing a tenant takes effect at
    once on the replica that made the change, and within this long on the others. Processes
    executing background runs keep each tenant (its limits and whether it is disabled) as long
    before a run starts. 0 reads the database on every request and every run."""
    redis_url: SecretStr | None = None
    """Redis for shared rate limits across replicas (``redis://host:6379/0``). Unset: limits
    are kept in each process's memory."""
    redis_failure_mode: Literal["open", "closed"] = "open"
    """When Redis cannot be reached: ``open`` lets requests through unlimited (logged, and
    shown in ``/ready``); ``closed`` refuses them with 503."""
    redis_timeout_s: float = Field(default=0.5, gt=0, le=30)
    """Connect and command timeout for Redis."""
    rate_limit_strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = (
        "moving-window"
    )
    """Algorithm of the ``limits`` library used for every rate limit."""
    rate_limit_per_key: str = "120/minute"
    """Default requests allowed per API key (``limits`` notation, e.g. ``10/second;500/hour``)."""
    rate_limit_per_tenant: str = "600/minute"
    """Default requests allowed per tenant, over all its keys (tenants may have their own)."""
    rate_limit_per_ip: str = "300/minute"
    """Requests per client IP to the open routes that need no key (the API document, and
    ``/metrics`` where the API port serves it); the probes are never limited."""

    # --- the public surface: metrics exposure and failed authentication -----------------
    auth_failure_limit: str = "20/minute"
    """Failed authentications (a missing, malformed, unknown, expired or revoked key) per client IP
    (``limits`` notation; shared through Redis when ``redis_url`` is set). It is checked
    before a key is looked up in the database: once spent, every request from that IP whose
    key is not already cached gets 429 ``RATE_LIMITED`` until the window passes, valid keys
    included."""
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """Port of a separate listener (on ``host``) serving only ``GET /metrics``: one per
    ``serve`` (for all its worker processes) and one per ``agenthost worker``. None: 9100
    when ``environment`` is production, no listener otherwise; 0: no listener."""
    metrics_token: SecretStr | None = None
    """Bearer token (``Authorization: Bearer <token>``) every ``/metrics`` request must
    present, on either port; a secret reference like any secret. Unset: none is asked."""
    metrics_public: bool = False
    """Also serve ``/metrics`` on the API port: for development, or a platform with one port
    (then set ``metrics_token`` too). Off: the API port answers 404 for ``/metrics``."""

    @field_validator("auth_failure_limit")
    @classmethod
    def _check_auth_failure_limit(cls, value: str) -> str:
        return check_rate_limit(value)

    @model_validator(mode="after")
    def _check_metrics_port(self) -> Settings:
        if self.metrics_listener_port == self.port:
            raise ValueError(f"metrics_port must differ from port ({self.port})")
        return self

    @property
    def metrics_listener_port(self) -> int | None:
        """The port of the metrics listener; None when there is none."""
        if not self.metrics_enabled:
            return None
        port = self.metrics_port
        if port is None:
            port = PRODUCTION_METRICS_PORT if self.environment == "production" else 0
        return port or None

    @property
    def metrics_on_api_port(self) -> bool:
        """Whether the API port serves ``/metrics`` (token required when one is set)."""
        return self.metrics_enabled and self.metrics_public

    # --- runs ----------------------------------------------------------------------------
    run_timeout_s: float = Field(default=120.0, gt=0)
    """Default deadline of a run (agents may set their own)."""
    run_warning_ratio: float = Field(default=0.8, gt=0, lt=1)
    """Log a warning when a run has used this fraction of its deadline."""
    max_turns: int = Field(default=10, ge=1, le=1000)
    """Default maximum agent turns per run (agents may set their own)."""
    approval_timeout_s: float = Field(default=86_400.0, gt=0)
    """How long a run stopped at tool calls that need approval waits for its decisions
    (agents may set their own); then it is ``expired`` and its stored state deleted."""
    approval_state_max_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest serialised run state kept while a run awaits approval; a run whose state is
    larger fails with PAYLOAD_TOO_LARGE instead of waiting."""

    # --- result cache --------------------------------------------------------------------
    cache_backend: Literal["memory", "redis", "off"] = "memory"
    """Where results of agents registered ``cacheable=True`` are kept: ``memory`` (each
    process its own), ``redis`` (shared by every replica; needs ``redis_url``) or ``off``."""
    cache_policy: Literal["lru", "lfu", "fifo"] = "lru"
    """Which entry the memory cache evicts at a bound: least recently used, least frequently
    used, or oldest written. (With Redis, its ``maxmemory-policy`` decides.)"""
    cache_ttl_s: float = Field(default=300.0, gt=0)
    """How long a cached result is served after it was produced."""
    cache_max_entries: int = Field(default=10_000, ge=1)
    """Most results the memory cache holds (per process)."""
    cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest total size of the memory cache's encoded results (per process); a result
    larger than this is not cached."""

    # --- background runs (DBOS Transact) -------------------------------------------------
    background_runs: bool = True
    """Accept ``background: true`` runs. Off: they are refused with 501 and DBOS is not
    started."""
    execute_background_runs: bool = True
    """This ``serve`` process executes queued background runs itself (the embedded shape). Set
    false on API replicas when ``agenthost worker`` processes execute them."""
    dbos_database_url: SecretStr | None = None
    """DBOS's system database. Default: for a SQLite ``database_url``, a file beside it named
    ``<name>.dbos.db``; for PostgreSQL, the same database (schema ``dbos``)."""
    executor_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    """This process's stable identity for durable runs (default: the host name). A restarted
    process with the same id resumes its unfinished runs at once; two live processes must never
    share one (start-up refuses it)."""
    app_version: str | None = Field(default=None, min_length=1, max_length=64)
    """The version durable runs are pinned to; only processes of the same version resume each
    other's runs. Default: agenthost's package version."""
    queue_concurrency: int | None = Field(default=None, ge=1)
    """Background runs executing at once across all processes (None: no global cap)."""
    worker_concurrency: int = Field(default=64, ge=1, le=10_000)
    """Background runs one process executes at once."""
    tenant_concurrency: int | None = Field(default=None, ge=1)
    """Background runs one tenant has executing at once across all processes (None: no cap)."""
    queue_poll_s: float = Field(default=0.05, gt=0, le=10)
    """How often an idle process looks for queued background runs."""
    step_max_attempts: int = Field(default=3, ge=1, le=20)
    """Attempts of a background run's tool step or webhook delivery that raised (model calls
    have their own retries: ``retry_*``)."""
    step_retry_delay_s: float = Field(default=1.0, gt=0)
    """Wait before the second attempt of a failed step; multiplied by ``step_backoff`` after."""
    step_backoff: float = Field(default=2.0, ge=1)
    """Backoff multiplier between attempts of a failed step."""
    heartbeat_s: float = Field(default=5.0, gt=0)
    """How often a process executing background runs records that it is alive."""
    executor_dead_after_s: float = Field(default=30.0, gt=0)
    """A process silent for this long is dead: its unfinished runs are resumed elsewhere."""
    cancel_poll_s: float = Field(default=0.25, gt=0, le=5)
    """How often a process checks whether its running background runs were cancelled."""
    events_poll_s: float = Field(default=0.25, gt=0, le=5)
    """How often ``GET /v1/runs/{id}/events`` looks for new events of a live run."""
    webhook_signing_key: SecretStr | None = None
    """HMAC-SHA256 key signing completion webhooks; runs asking for a webhook are refused
    (422) without it."""
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    """Time allowed for one webhook delivery attempt."""
    webhook_allow_private: bool = False
    """Deliver webhooks to loopback, private and link-local addresses (off: refused, so that
    tenants cannot reach the internal network through the server)."""

    # --- MCP servers (agenthost.mcp) ----------------------------------------------------
    mcp_connect_timeout_s: float = Field(default=10.0, gt=0)
    """Longest wait for one connection attempt to an MCP server (start-up waits for the first)."""
    mcp_reconnect_base_s: float = Field(default=0.5, gt=0)
    """Wait before reconnecting to an MCP server that dropped; doubled after each failure."""
    mcp_reconnect_max_s: float = Field(default=30.0, gt=0)
    """Longest wait between two attempts to reconnect to an MCP server."""
    mcp_ping_interval_s: float = Field(default=5.0, gt=0)
    """How often a connected MCP server is pinged, to notice that it dropped (a call that
    loses its connection checks at once)."""
    mcp_close_timeout_s: float = Field(default=5.0, gt=0)
    """Longest wait for the MCP connections to close on shutdown."""

    # --- models --------------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AGENTHOST_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    """Key for OpenAI (and the default for deployments without their own)."""
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("AGENTHOST_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    """Base URL of the implicit OpenAI deployment used when ``deployments`` is empty."""
    deployments: list[DeploymentSettings] = Field(default_factory=list)
    """Model deployments. Empty: OpenAI when a key is set, else the offline demo model."""
    default_model: str = "gpt-4o-mini"
    """Model name for agents that do not name one."""
    demo_model: bool = False
    """Force the offline demo model even when a key is set."""
    sdk_trace_export: bool = False
    """Let the Agents SDK export its traces to OpenAI (off: no such network calls)."""

    # --- secrets -------------------------------------------------------------------------
    secrets_refresh_s: float = Field(default=300.0, gt=0)
    """How often referenced secrets are fetched again; a rotated model key is used from the
    next model call after that. (Database and Redis URLs are read once, at start-up.)"""
    secrets_timeout_s: float = Field(default=5.0, gt=0, le=60)
    """Connect and read timeout of one call to Vault or AWS Secrets Manager."""
    vault_url: str | None = None
    """HashiCorp Vault address (``https://vault:8200``) for ``vault:`` references (needs the
    ``vault`` extra). Unset: ``vault:`` references are refused."""
    vault_auth: Literal["token", "kubernetes"] = "token"
    """How agenthost logs in to Vault: ``vault_token``, or the pod's service account token."""
    vault_token: SecretStr | None = None
    """Vault token for ``vault_auth = "token"`` (may itself be an ``env:`` or ``file:``
    reference)."""
    vault_kv_mount: str = Field(default="secret", min_length=1)
    """Mount point of the KV version 2 secrets engine ``vault:`` paths are read from."""
    vault_kubernetes_role: str | None = None
    """Vault role to log in as with ``vault_auth = "kubernetes"``."""
    vault_kubernetes_mount: str = Field(default="kubernetes", min_length=1)
    """Mount point of Vault's Kubernetes auth method."""
    vault_kubernetes_token_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105
    """The service account token (JWT) presented to Vault's Kubernetes auth."""
    aws_region: str | None = None
    """AWS region of Secrets Manager for ``aws:`` references (needs the ``aws`` extra);
    unset: boto3's own configuration. Credentials come from boto3's usual chain."""
    aws_endpoint_url: str | None = None
    """Secrets Manager endpoint override (a VPC endpoint or a local emulator)."""

    # --- resilience ----------------------------------------------------------------------
    retry_max_attempts: int = Field(default=3, ge=1, le=20)
    """Attempts per model call, including the first."""
    retry_base_delay_s: float = Field(default=0.5, gt=0)
    """Backoff base: attempt n waits up to base * 2**(n-1) (full jitter)."""
    retry_max_delay_s: float = Field(default=20.0, gt=0)
    """Cap of one backoff wait (a longer ``Retry-After`` from the server still wins)."""
    routing_strategy: Literal["round_robin", "least_in_flight", "lowest_latency"] = "round_robin"
    """How calls for a model are spread over its deployments (each by its ``weight``):
    smooth weighted round-robin, fewest calls in progress, or lowest average latency (EWMA).
    A retriable failure fails over to another deployment at once either way."""
    breaker_failure_threshold: int = Field(default=5, ge=1)
    """Failures within the window that open a deployment's circuit."""
    breaker_failure_ratio: float = Field(default=0.5, ge=0, le=1)
    """Least share of failed calls among those ending within the window for the circuit to
    open (0: the failure count alone decides)."""
    breaker_window_s: float = Field(default=30.0, gt=0)
    """Sliding window over which failures are counted."""
    breaker_cooldown_s: float = Field(default=15.0, gt=0)
    """How long an open circuit fails fast before letting a probe through."""

    @field_validator("rate_limit_per_key", "rate_limit_per_tenant", "rate_limit_per_ip")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        return check_rate_limit(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _check_deployments(self) -> Settings:
        names = [d.name for d in self.deployments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"deployment names must be unique; repeated: {duplicates}")
        if self.cache_backend == "redis" and self.redis_url is None:
            raise ValueError("cache_backend 'redis' needs redis_url")
        if self.dev_mode and self.environment == "production":
            raise ValueError("dev_mode (no API keys) is refused when environment is production")
        if self.dev_mode and self.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"dev_mode (no API keys) serves only on loopback ({', '.join(LOOPBACK_HOSTS)}), "
                f"not on host {self.host!r}"
            )
        return self

    @property
    def serves_console(self) -> bool:
        """Whether ``/console`` is served (``console_enabled``, or its default)."""
        if self.console_enabled is None:
            return self.environment != "production"
        return self.console_enabled

    @property
    def uses_demo_model(self) -> bool:
        """True when runs go to the offline demo model."""
        return self.demo_model or (not self.deployments and self.openai_api_key is None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file_path()),
        )


def check_rate_limit(value: str) -> str:
    """Validate ``limits`` notation such as ``100/minute`` or ``10/second;1000/day``."""
    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed or any(item.amount < 1 for item in parsed):
        raise ValueError(f"{value!r} is not a rate limit such as '100/minute' or '5/second'")
    return value


def process_environment() -> Mapping[str, str]:
    """The process environment, for ``env:`` secret references."""
    return os.environ


def config_file_path() -> Path:
    """The TOML settings file: ``AGENTHOST_CONFIG_FILE``, else ``agenthost.toml`` here."""
    return Path(os.environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings`, turning validation errors into one readable ConfigError."""
    unknown = sorted(
        name
        for name in os.environ
        if name.startswith(ENV_PREFIX)
        and name != CONFIG_FILE_ENV
        and name[len(ENV_PREFIX) :].lower() not in Settings.model_fields
    )
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit and not Path(explicit).is_file():
        raise ConfigError(f"{CONFIG_FILE_ENV}={explicit}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except SettingsError as exc:  # e.g. an env var holding invalid JSON: name it, not its value
        raise ConfigError(f"invalid configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid configuration file {config_file_path()}: {exc}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """Name each bad key as the user wrote it, without echoing the (maybe secret) value."""
    lines = ["invalid configuration:"]
    for error in exc.errors():
        error["msg"] = error["msg"].removeprefix("Value error, ")
        path = [str(p) for p in error["loc"]]
        if not path:
            lines.append(f"  {error['msg']}")
            continue
        env_key = ENV_PREFIX + path[0].upper()
        env_key += "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path[1:])
        lines.append(f"  {env_key} (toml: {'.'.join(path)}): {error['msg']}")
    return "\n".join(lines)
