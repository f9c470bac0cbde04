"""Tests for pepperpy.net._ssrf: the SSRF guard refuses non-public addresses."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError, SecurityError
from pepperpy.net import BlockedAddressError, HttpClient, SSRFGuard, Timeout


class FixedResolver(AbstractResolver):
    """Resolves every name to one address (no real DNS involved)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=self.address,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    guard = SSRFGuard()
    assert not guard.is_allowed(address, 80)
    with pytest.raises(BlockedAddressError) as info:
        guard.check("host.test", address, 80)
    assert isinstance(info.value, SecurityError)
    assert info.value.context["address"] == address
    assert not info.value.retryable


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert SSRFGuard().is_allowed(address, 443)


@given(st.ip_addresses())
def test_guard_agrees_with_ipaddress_is_global(ip: Any) -> None:
    allowed = SSRFGuard().is_allowed(str(ip), 80)
    mapped = getattr(ip, "ipv4_mapped", None) or ip
    if allowed:
        assert mapped.is_global
        assert not mapped.is_loopback
    if mapped.is_private or mapped.is_loopback or mapped.is_link_local:
        assert not allowed


def test_allow_list_forms() -> None:
    guard = SSRFGuard(allow=["10.0.0.0/8", "127.0.0.1:8080", "[::1]:9000", "192.168.1.5"])
    assert guard.is_allowed("10.20.30.40", 1)
    assert guard.is_allowed("127.0.0.1", 8080)
    assert not guard.is_allowed("127.0.0.1", 8081)
    assert guard.is_allowed("::1", 9000)
    assert guard.is_allowed("192.168.1.5", 1)
    assert not guard.is_allowed("192.168.1.6", 1)


def test_bad_allow_entry_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="not an IP"):
        SSRFGuard(allow=["intranet.local"])


async def test_guard_off_reaches_local_servers(servers: Any) -> None:
    async with HttpClient(servers.url) as client:
        assert (await client.get("/json")).status == 200


async def test_ip_literal_is_refused_before_connecting(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(ssrf_guard=True) as client:
        with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
            await client.get(f"{servers.url}/echo?key=literal")
        assert servers.hits["literal"] == 0
        no_leaks(client)


async def test_name_resolving_to_loopback_is_refused_after_dns(servers: Any, no_leaks: Any) -> None:
    resolver = FixedResolver("127.0.0.1")
    async with HttpClient(ssrf_guard=True, resolver=resolver, timeout=Timeout(10)) as client:
        with pytest.raises(BlockedAddressError, match="resolves to the non-public"):
            await client.get(f"http://innocent.test:{servers.port}/echo?key=dns")
        assert servers.hits["dns"] == 0
        no_leaks(client)


async def test_localhost_name_is_refused(servers: Any) -> None:
    async with HttpClient(ssrf_guard=True, timeout=Timeout(10)) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(f"http://localhost:{servers.port}/json")


async def test_redirect_to_a_private_address_is_refused(servers: Any, no_leaks: Any) -> None:
    # The first hop is explicitly allowed; the redirect target is not.
    guard = SSRFGuard(allow=[f"127.0.0.1:{servers.port}"])
    async with HttpClient(servers.url, ssrf_guard=guard) as client:
        target = f"{servers.other_url}/echo?key=internal"
        with pytest.raises(BlockedAddressError) as info:
            await client.get("/redirect", params={"to": target, "key": "hop1"})
        assert info.value.context["port"] == servers.other_port
        assert servers.hits["hop1"] == 1
        assert servers.hits["internal"] == 0
        no_leaks(client)


async def test_redirect_to_a_name_resolving_private_is_refused(servers: Any) -> None:
    guard = SSRFGuard(allow=[f"127.0.0.1:{servers.port}"])
    resolver = FixedResolver("127.0.0.1")
    async with HttpClient(servers.url, ssrf_guard=guard, resolver=resolver) as client:
        target = f"http://metadata.test:{servers.other_port}/echo?key=meta"
        with pytest.raises(BlockedAddressError):
            await client.get("/redirect", params={"to": target})
        assert servers.hits["meta"] == 0


async def test_allowed_endpoint_works_with_guard_on(servers: Any) -> None:
    guard = SSRFGuard(allow=[f"127.0.0.1:{servers.port}"])
    async with HttpClient(servers.url, ssrf_guard=guard) as client:
        assert (await client.get("/json")).status == 200
