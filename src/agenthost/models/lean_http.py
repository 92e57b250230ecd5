"""The lean client's connection pool: one ``aiohttp.ClientSession`` per deployment.

aiohttp's connector hands a connection out and takes it back in constant time and parses
HTTP in C, where httpcore2's pool scans all its connections at every request start and
response close (quadratic in the calls in flight: minutes of CPU at 10,000 concurrent runs).
The session is made at the first request, inside the running loop (aiohttp binds it to that
loop), and closed by :meth:`HttpPool.close`.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from agenthost.settings import DeploymentSettings


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """Connection limits and timeouts (``DeploymentSettings`` has their meaning and defaults)."""

    max_connections: int
    keepalive_expiry_s: float
    connect_timeout_s: float
    read_timeout_s: float
    pool_timeout_s: float

    @classmethod
    def of(cls, deployment: DeploymentSettings) -> PoolLimits:
        return cls(
            max_connections=deployment.max_connections,
            keepalive_expiry_s=deployment.keepalive_expiry_s,
            connect_timeout_s=deployment.connect_timeout_s,
            read_timeout_s=deployment.read_timeout_s,
            pool_timeout_s=deployment.pool_timeout_s,
        )

    def timeout(self) -> aiohttp.ClientTimeout:
        """aiohttp's ``connect`` covers the wait for a pool slot and the connect itself."""
        return aiohttp.ClientTimeout(
            total=None,
            connect=self.pool_timeout_s + self.connect_timeout_s,
            sock_connect=self.connect_timeout_s,
            sock_read=self.read_timeout_s,
        )


def request_timeout(value: object) -> aiohttp.ClientTimeout:
    """A per-request ``timeout`` as the openai client takes it (seconds, an ``httpx2.Timeout``
    or None for none), as aiohttp's timeouts."""
    if value is None:
        return aiohttp.ClientTimeout(total=None)
    if isinstance(value, httpx2.Timeout):
        connect = value.connect
        pool = value.pool
        return aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=value.read,
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        return aiohttp.ClientTimeout(
            total=None, connect=2 * seconds, sock_connect=seconds, sock_read=seconds
        )
    raise TypeError(f"timeout must be seconds, an httpx2.Timeout or None, not {value!r}")


def env_proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for ``url`` (``HTTP(S)_PROXY``, ``NO_PROXY``, as httpx2
    reads them for the openai client), read once: aiohttp's ``trust_env`` would read them, and
    ``~/.netrc``, in a worker thread at every request."""
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


class HttpPool:
    """A deployment's pooled HTTP connections (an ``aiohttp.ClientSession``, made lazily).

    Redirects are not followed and cookies are not kept (a model API needs neither).
    aiohttp keeps every idle connection up to ``max_connections`` for ``keepalive_expiry_s``:
    it has no separate bound on idle ones.
    """

    def __init__(self, limits: PoolLimits) -> None:
        self.limits = limits
        self._timeout = self.limits.timeout()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, made on first use (call from inside the running loop)."""
        if self._closed:
            raise RuntimeError("the HTTP pool is closed")
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections,
                limit_per_host=0,
                keepalive_timeout=self.limits.keepalive_expiry_s,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return session

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close every connection; the pool takes no requests afterwards."""
        self._closed = True
        if self._session is not None:
            await self._session.close()
