"""Value objects configuring a client: timeouts, connection limits and TLS."""

from __future__ import annotations

import functools
import math
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Limits", "TLSConfig", "Timeout"]


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidArgumentError(
            f"{type(instance).__name__}.{attribute.name} must be a positive, finite "
            f"number of seconds",
            code="pepperpy.net.invalid_timeout",
            context={"field": attribute.name, "value": value},
            hint="PepperPy never waits forever: pass a finite limit such as 30.0.",
        )


def _seconds(value: Any) -> Any:
    """A number as float for :func:`_positive` to judge; anything else is left for it to refuse.

    (``float("x")`` would raise a raw ValueError, ``float(10**400)`` an
    OverflowError, and ``float(True)`` would hide a bool.)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf


@attrs.frozen
class Timeout:
    """Time limits for one request, in seconds; every one is finite.

    ``Timeout(5)`` sets every phase to 5 s; ``Timeout(connect=2, read=10)``
    keeps the defaults for the rest. Pass one to the client (its default) or to
    a single request (an override).

    Attributes:
        connect: DNS resolution plus the TCP and TLS handshakes.
        read: The longest silence between two reads from the server, before
            the headers as well as within the body.
        total: The whole request: connecting, sending, and reading the body.
        pool: Waiting for a free connection slot (the client's limits).
        write: The longest wait for the peer to accept the next chunk of the
            request body (a peer that stops reading); as in httpx.

    Every limit is enforced on every request: the per-read timer runs even
    when ``read`` equals ``total``, and every timeout counts as a failure of
    the host for its circuit breaker.
    """

    connect: float = attrs.field(default=10.0, validator=_positive, converter=_seconds)
    read: float = attrs.field(default=30.0, validator=_positive, converter=_seconds)
    total: float = attrs.field(default=30.0, validator=_positive, converter=_seconds)
    pool: float = attrs.field(default=10.0, validator=_positive, converter=_seconds)
    write: float = attrs.field(default=30.0, validator=_positive, converter=_seconds)

    @classmethod
    def all(cls, seconds: float) -> Timeout:
        """Return a timeout with every phase set to *seconds*."""
        return cls(connect=seconds, read=seconds, total=seconds, pool=seconds, write=seconds)

    @classmethod
    def coerce(cls, value: Timeout | float) -> Timeout:
        """Accept a :class:`Timeout` or a number of seconds (every phase)."""
        if isinstance(value, Timeout):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls.all(float(value))
        raise InvalidArgumentError(
            f"timeout must be a Timeout or a number of seconds, not {type(value).__name__}",
            code="pepperpy.net.invalid_timeout",
            hint="Pass Timeout(connect=..., read=..., total=..., pool=..., write=...) or seconds.",
        )


@functools.lru_cache(maxsize=64)
def aiohttp_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """Return the :class:`aiohttp.ClientTimeout` enforcing *timeout* (cached).

    The pool phase is enforced by the client's own slots, so by the time
    aiohttp connects a slot is free: its ``connect`` limit is the connect
    phase. The per-read timer always runs (a streamed body outlives the total
    timer's start, and a silent peer must be named as such). The write phase
    is enforced by the client around the request body.
    """
    import aiohttp

    return aiohttp.ClientTimeout(
        total=timeout.total,
        connect=timeout.connect,
        sock_connect=timeout.connect,
        sock_read=timeout.read,
    )


def _count(minimum: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidArgumentError(
                f"{type(instance).__name__}.{attribute.name} must be an integer >= {minimum}",
                code="pepperpy.net.invalid_limit",
                context={"field": attribute.name, "value": value},
            )

    return check


def _seconds_or_zero(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidArgumentError(
            f"{type(instance).__name__}.{attribute.name} must be a number of seconds >= 0",
            code="pepperpy.net.invalid_limit",
            context={"field": attribute.name, "value": value},
        )


@attrs.frozen
class Limits:
    """Connection pool limits and keep-alive/DNS caching.

    Attributes:
        max_connections: Requests in flight at once across all hosts.
        max_connections_per_host: Requests in flight at once to one host
            (scheme, host and port).
        keepalive: Seconds an idle connection is kept for reuse (0 disables
            keep-alive).
        dns_cache_ttl: Seconds a DNS answer is reused (0 disables the cache).
    """

    max_connections: int = attrs.field(default=100, validator=_count(1))
    max_connections_per_host: int = attrs.field(default=100, validator=_count(1))
    keepalive: float = attrs.field(default=15.0, validator=_seconds_or_zero)
    dns_cache_ttl: float = attrs.field(default=10.0, validator=_seconds_or_zero)


@attrs.frozen
class TLSConfig:
    """TLS settings: certificates are verified unless you say otherwise.

    Attributes:
        verify: Verify the server's certificate and host name (default on).
        ca_file: A PEM bundle of extra trusted CAs (a private CA), added to
            the system's.
        ca_data: The same as PEM text.
        client_cert: A PEM file with a client certificate (mutual TLS).
        client_key: Its private key, when not inside *client_cert*.
        context: A ready :class:`ssl.SSLContext`; overrides everything else.
    """

    verify: bool = True
    ca_file: str | Path | None = None
    ca_data: str | None = None
    client_cert: str | Path | None = None
    client_key: str | Path | None = None
    context: ssl.SSLContext | None = attrs.field(default=None, eq=False)

    def build(self) -> ssl.SSLContext | bool:
        """Return what aiohttp's ``ssl=`` argument expects for these settings."""
        if self.context is not None:
            return self.context
        if not self.verify:
            return False
        if self.ca_file is None and self.ca_data is None and self.client_cert is None:
            return True
        ctx = ssl.create_default_context()
        try:
            if self.ca_file is not None or self.ca_data is not None:
                ctx.load_verify_locations(
                    cafile=None if self.ca_file is None else str(self.ca_file),
                    cadata=self.ca_data,
                )
            if self.client_cert is not None:
                ctx.load_cert_chain(
                    str(self.client_cert),
                    None if self.client_key is None else str(self.client_key),
                )
        except (OSError, ssl.SSLError) as exc:
            raise InvalidArgumentError(
                f"cannot load TLS material: {exc}",
                code="pepperpy.net.tls_config",
                context={"ca_file": str(self.ca_file), "client_cert": str(self.client_cert)},
                hint="Point ca_file/client_cert at readable PEM files.",
            ) from exc
        return ctx
