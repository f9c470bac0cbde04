"""SSRF protection: refuse private, loopback and link-local addresses after DNS."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Union

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.net._errors import BlockedAddressError

if TYPE_CHECKING:
    from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["SSRFGuard"]

_IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


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

    The check runs on the addresses a host name resolves to, right before
    connecting (so DNS tricks such as a public name resolving to ``127.0.0.1``
    are caught), on IP-literal URLs, and on every redirect hop.

    Refused: private (RFC 1918, ULA), loopback, link-local (cloud metadata
    endpoints such as ``169.254.169.254`` included), multicast, reserved,
    unspecified, shared (CGNAT) and IPv4-mapped forms of those.

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
        """Whether *address* (an IP literal) on *port* may be contacted."""
        try:
            ip: _IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
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
        """Check a URL host that is an IP literal (no DNS involved); names pass."""
        candidate = host.strip("[]")
        try:
            ipaddress.ip_address(candidate.split("%", 1)[0])
        except ValueError:
            return
        self.check(host, candidate, port)

    def resolver(self, inner: AbstractResolver | None = None) -> AbstractResolver:
        """Return an aiohttp resolver that checks every answer of *inner*."""
        return _make_resolver(self, inner)


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
