"""The client's connector: the SSRF guard on every connection, and pool counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp

from pepperpy.net._config import Limits
from pepperpy.net._errors import BlockedAddressError
from pepperpy.net._translate import no_hidden_resend

if TYPE_CHECKING:
    import asyncio
    from ssl import SSLContext

    from aiohttp.abc import AbstractResolver
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

    from pepperpy.net._ssrf import SSRFGuard

__all__ = ["Connector", "open_session"]


class Connector(aiohttp.TCPConnector):
    """A :class:`aiohttp.TCPConnector` that checks every connection it hands out.

    With a guard, the host of every connection (each request, each redirect
    hop, each WebSocket handshake, and any request a user sends through the
    client's session) is checked before connecting: IP literals here, names
    through the guarded resolver. It also remembers the transports it handed
    out, so the client can count open connections without aiohttp internals.
    """

    def __init__(self, guard: SSRFGuard | None = None, **kwargs: Any) -> None:
        if guard is not None:
            kwargs["resolver"] = guard.resolver(kwargs.get("resolver"))
        super().__init__(**kwargs)
        self.ssrf_guard = guard
        # A plain set (a WeakSet makes a weakref per lookup, on every request);
        # closed transports are pruned when it grows past what the pool can hold.
        self._transports: set[asyncio.BaseTransport] = set()
        self._prune_at = 2 * max(self.limit or 100, 100)

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        """Check the request's host, then connect (or reuse a pooled connection)."""
        guard = self.ssrf_guard
        if guard is not None:
            url = req.url
            if req.proxy is not None:
                # a proxy resolves the target's name itself, out of the guard's sight
                raise BlockedAddressError(
                    f"refusing to send {url.host!r} through the proxy {req.proxy.host!r}: "
                    "the SSRF guard cannot check the address a proxy connects to",
                    code="pepperpy.net.ssrf_proxy",
                    context={"host": url.host or "", "proxy": str(req.proxy.origin())},
                    hint="Send guarded requests without proxy=, or use a client without "
                    "ssrf_guard for proxied traffic.",
                )
            guard.check_literal(url.host or "", url.port or 0)
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            if len(self._transports) > self._prune_at:
                self._prune()
        return connection

    def _prune(self) -> None:
        self._transports = {t for t in self._transports if not t.is_closing()}

    @property
    def open_connections(self) -> int:
        """Connections handed out so far that are still open (idle or in use)."""
        self._prune()
        return len(self._transports)


def open_session(
    limits: Limits,
    guard: SSRFGuard | None,
    *,
    ssl: SSLContext | bool,
    resolver: AbstractResolver | None,
    cookies: bool,
    timeout: aiohttp.ClientTimeout,
) -> aiohttp.ClientSession:
    """The client's aiohttp session: pooled per *limits*, guarded, no hidden state or resend."""
    connector = Connector(
        guard,
        limit=limits.max_connections,
        limit_per_host=limits.max_connections_per_host,
        use_dns_cache=limits.dns_cache_ttl > 0,
        ttl_dns_cache=max(1, round(limits.dns_cache_ttl)) if limits.dns_cache_ttl else None,
        keepalive_timeout=limits.keepalive if limits.keepalive > 0 else None,
        force_close=limits.keepalive == 0,
        ssl=ssl,
        resolver=resolver,
    )
    # The guard sits in the connector, where every connection is made: each
    # request, redirect hop, WebSocket handshake and use of .session.
    return aiohttp.ClientSession(
        connector=connector,
        # every send goes through the client's Retry policy and budget, none
        # through aiohttp's own resend of a dropped idempotent request
        middlewares=(no_hidden_resend,),
        # cookies are opt-in: without them no hidden state links two requests
        cookie_jar=aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar(),
        timeout=timeout,
        trust_env=False,
        raise_for_status=False,
        auto_decompress=True,
    )
