"""SSRF protection: refuse private, loopback and link-local addresses after DNS."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

import attrs
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.net._errors import BlockedAddressError

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["SSRFGuard"]

_IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_INET_ATON = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}")


def parse_ip(host: str) -> _IPAddress | None:
    """Return the address an IP-literal *host* denotes, in any spelling; ``None`` for names.

    Besides the canonical forms this reads what ``inet_aton`` (and so the
    system resolver) reads: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
    ``127.1``, and a trailing dot, so no spelling of an address passes as a name.
    """
    candidate = host.strip("[]").split("%", 1)[0]
    if candidate.endswith(".") and ":" not in candidate:
        candidate = candidate[:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _INET_ATON.fullmatch(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except (OSError, ValueError):
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside a 6to4 or Teredo address, if any."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _parse_allow(
    entries: Iterable[str],
) -> tuple[tuple[_IPNetwork, ...], frozenset[tuple[str, int]]]:
    networks: list[_IPNetwork] = []
    endpoints: set[tuple[str, int]] = set()
    for raw in entries:
        entry = str(raw).strip()
        try:
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            if entry.startswith("["):  # [v6]:port
                host, _, port = entry[1:].partition("]:")
                endpoints.add((str(ipaddress.ip_address(host)), int(port)))
                continue
            if entry.count(":") == 1:
                host, port = entry.split(":")
                endpoints.add((str(ipaddress.ip_address(host)), int(port)))
                continue
            networks.append(ipaddress.ip_network(entry))
        except ValueError as exc:
            raise InvalidArgumentError(
                f"SSRFGuard allow entry {entry!r} is not an IP, a CIDR network or ip:port",
                code="pepperpy.net.invalid_ssrf_allow",
                context={"entry": entry},
                hint="Use forms like '10.1.2.3', '10.0.0.0/8', '127.0.0.1:8080' or '[::1]:8080'.",
            ) from exc
    return tuple(networks), frozenset(endpoints)


@attrs.frozen
class SSRFGuard:
    """Refuses connections to non-public addresses; for fetching user-supplied URLs.

    The check sits in the client's connector, where every connection is
    made: it runs on the addresses a host name resolves to (so DNS tricks
    such as a public name resolving to ``127.0.0.1`` are caught) and on
    IP-literal hosts in every spelling (``2130706433``, ``0x7f.1``,
    ``[::ffff:127.0.0.1]`` ...), for every request, every redirect hop (HTTP
    and WebSocket handshakes alike) and any use of ``client.session``.

    Refused: private (RFC 1918, ULA), loopback, link-local (cloud metadata
    endpoints such as ``169.254.169.254`` included), multicast, reserved,
    unspecified, shared (CGNAT), the name ``localhost`` (RFC 6761), and
    IPv4-mapped, 6to4, Teredo and NAT64 forms of those.

    Attributes:
        allow: Exceptions: IP addresses, CIDR networks or ``ip:port`` endpoints
            that may be contacted even though they are not public.
    """

    allow: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    _networks: tuple[_IPNetwork, ...] = attrs.field(init=False, eq=False, repr=False)
    _endpoints: frozenset[tuple[str, int]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        networks, endpoints = _parse_allow(self.allow)
        object.__setattr__(self, "_networks", networks)
        object.__setattr__(self, "_endpoints", endpoints)

    def is_allowed(self, address: str, port: int) -> bool:
        """Whether *address* (an IP literal, in any spelling) on *port* may be contacted."""
        ip = parse_ip(address)
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            elif any(ip in net for net in _NAT64):  # a DNS64 answer: judge what it carries
                return self._permits(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), port)
            else:
                embedded = _embedded_ipv4(ip)
                if embedded is not None and not self._permits(embedded, port):
                    return False
        return self._permits(ip, port)

    def _permits(self, ip: _IPAddress, port: int) -> bool:
        if (str(ip), port) in self._endpoints:
            return True
        if any(ip in net for net in self._networks):
            return True
        return bool(ip.is_global) and not (
            ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback
        )

    def check(self, host: str, address: str, port: int) -> None:
        """Raise :class:`~pepperpy.net.BlockedAddressError` unless the address is allowed."""
        if not self.is_allowed(address, port):
            raise BlockedAddressError(
                f"refusing to connect to {host!r}: it resolves to the non-public address {address}",
                context={"host": host, "address": address, "port": port},
            )

    def check_literal(self, host: str, port: int) -> None:
        """Check a URL host without DNS: IP literals in any spelling and ``localhost``.

        Other names pass here; their addresses are checked when they resolve.

        Raises:
            BlockedAddressError: The host is a non-public address or ``localhost``.
        """
        ip = parse_ip(host)
        if ip is not None:
            self.check(host, str(ip), port)
            return
        name = host.rstrip(".").lower()
        local = name == "localhost" or name.endswith(".localhost")
        if local and not self.is_allowed("127.0.0.1", port):
            raise BlockedAddressError(
                f"refusing to connect to {host!r}: localhost is not a public host",
                context={"host": host, "port": port},
            )

    def check_url(self, url: str | URL) -> None:
        """Check the host of *url* without DNS (see :meth:`check_literal`).

        Raises:
            BlockedAddressError: The URL's host is a non-public address.
        """
        target = url if isinstance(url, URL) else URL(str(url))
        self.check_literal(target.host or "", target.port or 0)

    def resolver(self, inner: AbstractResolver | None = None) -> AbstractResolver:
        """Return an aiohttp resolver that checks every answer of *inner*."""
        return _make_resolver(self, inner)

    def connector(self, **kwargs: Any) -> aiohttp.TCPConnector:
        """Return an aiohttp connector that checks every connection it makes.

        IP-literal hosts are checked before connecting and names through the
        guarded resolver (*kwargs* go to :class:`aiohttp.TCPConnector`; a
        ``resolver`` given there is wrapped). Every request on a session with
        this connector is checked, redirect hops and WebSocket handshakes
        included.
        """
        from pepperpy.net._connector import Connector

        return Connector(self, **kwargs)


def _make_resolver(guard: SSRFGuard, inner: AbstractResolver | None) -> AbstractResolver:
    from aiohttp.abc import AbstractResolver
    from aiohttp.resolver import DefaultResolver

    class _GuardedResolver(AbstractResolver):
        def __init__(self) -> None:
            self._inner = inner if inner is not None else DefaultResolver()

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            results = await self._inner.resolve(host, port, family)
            for result in results:
                guard.check(host, result["host"], port)
            return results

        async def close(self) -> None:
            await self._inner.close()

        def __repr__(self) -> str:
            return f"GuardedResolver({guard!r})"

    return _GuardedResolver()
