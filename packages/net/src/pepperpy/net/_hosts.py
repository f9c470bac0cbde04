"""Per-host admission: the circuit breaker, rate limiter and connection slots of each host.

Every attempt :class:`~pepperpy.net.HttpClient` sends is admitted here first
(:meth:`HostTable.admit`): the host's breaker must allow it, its rate limiter
may make it wait, and it must get a connection slot (per host and in total)
within the pool timeout. The host's counters feed ``client.stats()``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from yarl import URL

from pepperpy.core.types import Clock
from pepperpy.net._breaker import CircuitBreaker, CircuitBreakerConfig, CircuitState
from pepperpy.net._config import Limits
from pepperpy.net._errors import (
    CircuitOpenError,
    ConnectError,
    ConnectionClosedError,
    NetworkError,
    NetworkTimeoutError,
    PoolTimeoutError,
    TLSError,
)
from pepperpy.net._metrics import ClientMetrics
from pepperpy.net._models import Request
from pepperpy.net._ratelimit import RateLimit, TokenBucket
from pepperpy.net._slots import Slots
from pepperpy.net._stats import HostStats

__all__ = ["HOST_FAILURES", "Host", "HostTable"]

# Failures of the host, for its circuit breaker: every timeout counts (a hanging
# host must open the circuit), except waiting for a local connection slot.
HOST_FAILURES = (ConnectError, ConnectionClosedError, TLSError, NetworkTimeoutError)


class Host:
    """Per-host state: slots, rate limiter, circuit breaker and counters."""

    __slots__ = (
        "breaker",
        "bucket",
        "errors",
        "in_flight",
        "metrics",
        "name",
        "rate_limited",
        "rejected_by_breaker",
        "requests",
        "responses",
        "retries",
        "retries_denied",
        "shared",
        "slots",
        "statuses",
    )

    def __init__(
        self,
        name: str,
        slots: Slots | None,
        shared: Slots,
        bucket: TokenBucket | None,
        breaker: CircuitBreaker | None,
        metrics: ClientMetrics | None,
    ) -> None:
        self.name = name
        self.slots = slots
        self.shared = shared
        self.bucket = bucket
        self.breaker = breaker
        self.metrics = metrics
        self.requests = self.responses = self.errors = 0
        self.retries = self.retries_denied = self.rejected_by_breaker = 0
        self.rate_limited = self.in_flight = 0
        self.statuses: Counter[int] = Counter()

    def finish(self, status: int, error: BaseException | None) -> None:
        """Record one response's outcome and give back its slots (``Response`` calls it).

        The outcome is recorded once the body is read (or abandoned), so a
        body that stalls or drops counts as the host failure it is, whether
        ``request()`` read it or the caller streamed it; *error* is what ended
        the read, ``None`` when it completed or the caller closed it early. A
        cancelled read is no verdict: a half-open trial slot is handed back.
        """
        breaker = self.breaker
        if isinstance(error, NetworkError):
            self.errors += 1
        if breaker is not None:
            if isinstance(error, HOST_FAILURES):
                breaker.record(False)
            elif isinstance(error, asyncio.CancelledError):
                breaker.release()  # the caller gave up: no verdict on the host
            else:
                breaker.record(status not in breaker.config.failure_statuses)
        self.release()

    def failed(self, error: BaseException) -> None:
        """Record an attempt that got no response (*error* is already translated)."""
        self.release()
        if isinstance(error, NetworkError):
            self.errors += 1
        breaker = self.breaker
        if breaker is not None:
            if isinstance(error, HOST_FAILURES):
                breaker.record(False)
            else:
                breaker.release()

    def release(self) -> None:
        """Give back the connection slots of one finished request."""
        self.in_flight -= 1
        if self.slots is not None:
            self.slots.release()
        self.shared.release()
        if self.metrics is not None:
            self.metrics.slots(self.name, self.in_flight)

    def snapshot(self) -> HostStats:
        return HostStats(
            requests=self.requests,
            responses=self.responses,
            errors=self.errors,
            retries=self.retries,
            retries_denied=self.retries_denied,
            rejected_by_breaker=self.rejected_by_breaker,
            rate_limited=self.rate_limited,
            in_flight=self.in_flight,
            circuit=self.breaker.state if self.breaker is not None else CircuitState.CLOSED,
            statuses=dict(self.statuses),
        )


class HostTable:
    """The client's hosts, keyed by (scheme, host, port), and the shared slot pool."""

    __slots__ = ("_breaker", "_clock", "_hosts", "_limits", "_metrics", "_rate_limit", "slots")

    def __init__(
        self,
        limits: Limits,
        rate_limit: RateLimit | None,
        breaker: CircuitBreakerConfig | None,
        metrics: ClientMetrics | None,
        clock: Clock,
    ) -> None:
        self._limits = limits
        self._rate_limit = rate_limit
        self._breaker = breaker
        self._metrics = metrics
        self._clock = clock
        self._hosts: dict[tuple[str, str, int | None], Host] = {}
        self.slots = Slots(limits.max_connections)

    def reset(self) -> None:
        """Forget every host and start a fresh slot pool (the client (re)starts)."""
        self.slots = Slots(self._limits.max_connections)
        self._hosts.clear()

    def snapshots(self) -> dict[str, HostStats]:
        """Each host's counters, by host name."""
        return {host.name: host.snapshot() for host in self._hosts.values()}

    def get(self, url: URL) -> Host:
        """The state of *url*'s host, created on first use."""
        key = (url.scheme, url.host or "", url.port)
        host = self._hosts.get(key)
        if host is None:
            limits = self._limits
            slots = (
                Slots(limits.max_connections_per_host)
                if limits.max_connections_per_host < limits.max_connections
                else None
            )
            bucket = TokenBucket(self._rate_limit, clock=self._clock) if self._rate_limit else None
            breaker = CircuitBreaker(self._breaker, clock=self._clock) if self._breaker else None
            host = Host(
                f"{key[0]}://{key[1]}:{key[2]}", slots, self.slots, bucket, breaker, self._metrics
            )
            self._hosts[key] = host
        return host

    async def admit(self, request: Request) -> Host:
        """Let one attempt at *request* through: breaker, rate limit, then a slot.

        Raises:
            CircuitOpenError: The host's breaker is open.
            RateLimitExceededError: The rate limit would wait too long.
            PoolTimeoutError: No connection slot within the pool timeout.
        """
        url = request.url
        host = self._hosts.get((url.scheme, url.host or "", url.port))
        if host is None:
            host = self.get(url)
        breaker = host.breaker
        if breaker is not None and not breaker.allow():
            host.rejected_by_breaker += 1
            raise CircuitOpenError(
                f"{request.method} {url}: the circuit for {host.name} is open after "
                f"repeated failures; retry in {breaker.retry_in:.1f}s",
                context={"host": host.name, "retry_in": round(breaker.retry_in, 3)},
            )
        slots = self.slots
        if host.bucket is None and host.slots is None and slots.free > 0 and not slots.waiters:
            slots.free -= 1  # the uncontended path: no await, no call
        else:
            try:
                if host.bucket is not None and await host.bucket.acquire(host=host.name):
                    host.rate_limited += 1
                await self._wait_slots(host, request)
            except BaseException:
                if breaker is not None:
                    breaker.release()
                raise
        host.in_flight += 1
        host.requests += 1
        if self._metrics is not None:
            self._metrics.slots(host.name, host.in_flight)
        return host

    async def _wait_slots(self, host: Host, request: Request) -> None:
        """The slow path of slot acquisition: a limiter is full, wait up to the pool timeout."""
        limit = request.timeout.pool
        started = time.monotonic()
        per_host = host.slots
        if per_host is not None:
            if per_host.free > 0 and not per_host.waiters:
                per_host.free -= 1
            elif not await per_host.wait(limit):
                raise self._pool_timeout(host, request, "per-host")
        slots = self.slots
        try:
            if slots.free > 0 and not slots.waiters:
                slots.free -= 1
                return
            remaining = max(0.0, limit - (time.monotonic() - started))
            acquired = await slots.wait(remaining)
        except BaseException:
            if per_host is not None:
                per_host.release()
            raise
        if not acquired:
            if per_host is not None:
                per_host.release()
            raise self._pool_timeout(host, request, "total")

    def _pool_timeout(self, host: Host, request: Request, which: str) -> PoolTimeoutError:
        limit = (
            self._limits.max_connections_per_host
            if which == "per-host"
            else self._limits.max_connections
        )
        return PoolTimeoutError(
            f"{request.method} {request.url}: no free connection slot ({which} limit "
            f"{limit}) within the pool timeout ({request.timeout.pool}s)",
            context={
                "method": request.method,
                "url": str(request.url),
                "host": host.name,
                "limit": limit,
                "timeout": request.timeout.pool,
            },
        )
