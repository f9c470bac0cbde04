"""issue 24: behaviours of the request path's parts (building, hosts, retry loop, redirects).

Each test drives a real aiohttp server on 127.0.0.1 (tests/conftest.py) and
asserts what a caller relies on at the seams the client was split along.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from pepperpy.core.exceptions import ClosedError, InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.net import (
    BearerAuth,
    BlockedAddressError,
    ConnectionClosedError,
    HttpClient,
    InvalidURLError,
    Limits,
    PoolTimeoutError,
    Retry,
    SSRFGuard,
    Timeout,
)


class _InstantClock(ManualClock):
    """Records every backoff sleep and returns at once."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


# ----------------------------------------------------------------- building


async def test_relative_urls_join_the_base_url(servers: Any) -> None:
    """issue 24: "" is the base URL itself and "?q" adds a query to it (as httpx joins)."""
    async with HttpClient(f"{servers.url}/echo", timeout=10) as client:
        same = await client.get("")
        query = await client.get("?a=1")
    assert (await same.json())["path"] == "/echo"
    body = await query.json()
    assert (body["path"], body["query"]) == ("/echo", {"a": "1"})


@pytest.mark.parametrize(
    ("url", "words"),
    [(123, "str or yarl.URL"), ("http://[::1", "invalid URL"), ("/json", "needs a base_url")],
    ids=["not-a-url", "malformed", "relative-without-base"],
)
async def test_urls_a_client_cannot_request(url: Any, words: str) -> None:
    """issue 24: each unusable URL is an InvalidURLError that says what is wrong."""
    async with HttpClient() as client:
        with pytest.raises(InvalidURLError, match=words.replace(".", r"\.")) as info:
            await client.get(url)
    assert info.value.code == "pepperpy.net.invalid_url"


class _LoopbackResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1 (a name that points into the private network)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


async def test_the_ssrf_guard_checks_the_addresses_a_name_resolves_to(servers: Any) -> None:
    """issue 24: a host *name* that resolves into the private network is refused at the
    connection (the guard wraps the client's resolver), and nothing reaches the server.
    """
    async with HttpClient(
        ssrf_guard=True, retry=None, timeout=10, resolver=_LoopbackResolver()
    ) as client:
        with pytest.raises(BlockedAddressError) as info:
            await client.get(f"http://internal.test:{servers.port}/echo?key=ssrf-by-name")
    assert "127.0.0.1" in str(info.value)
    assert servers.hits["ssrf-by-name"] == 0


async def test_an_allowed_endpoint_is_reached_by_name_through_the_guard(servers: Any) -> None:
    """issue 24: SSRFGuard(allow=[ip:port]) lets a name resolving to that endpoint through."""
    guard = SSRFGuard(allow=[f"127.0.0.1:{servers.port}"])
    async with HttpClient(
        ssrf_guard=guard, retry=None, timeout=10, resolver=_LoopbackResolver()
    ) as client:
        response = await client.get(f"http://internal.test:{servers.port}/json")
    assert response.status == 200


@pytest.mark.parametrize(
    ("change", "words"),
    [("header", "control character"), ("method", "non-token")],
)
async def test_what_aiohttp_refuses_is_an_invalid_argument_error(
    servers: Any, change: str, words: str
) -> None:
    """issue 24: a middleware that makes the request unsendable (a CR/LF header, a method
    with a space) gets InvalidArgumentError ``invalid_request``, never a raw ValueError.
    """

    async def spoil(request: Any, call_next: Any) -> Any:
        if change == "header":
            request.headers["X-Spoilt"] = "a\r\nb"
        else:
            request.method = "G ET"
        return await call_next(request)

    async with HttpClient(servers.url, retry=None, timeout=10, middleware=[spoil]) as client:
        with pytest.raises(InvalidArgumentError, match=words) as info:
            await client.get("/json")
    assert info.value.code == "pepperpy.net.invalid_request"
    assert isinstance(info.value.__cause__, ValueError)


# ----------------------------------------------------------------- hosts


async def test_total_pool_limit_times_out_and_gives_the_host_slot_back(servers: Any) -> None:
    """issue 24: a request holding its host's slot but finding the pool full times out on
    the total limit, and hands its host slot back (the host's next request is not refused).
    """
    limits = Limits(max_connections=2, max_connections_per_host=1)
    async with HttpClient(limits=limits, retry=None, timeout=Timeout(pool=0.05)) as client:
        async with client.stream("GET", f"{servers.url}/json"):
            async with client.stream("GET", f"{servers.other_url}/json"):
                with pytest.raises(PoolTimeoutError) as info:
                    await client.get(f"{servers.raw_url}/close")
            # one slot of the pool is free again: the raw host's own slot must be too
            with pytest.raises(ConnectionClosedError):
                await client.get(f"{servers.raw_url}/close")
    assert info.value.context["limit"] == 2  # the total limit, not the per-host one


# ----------------------------------------------------------------- retry loop


@pytest.mark.parametrize(
    ("method", "retry"),
    [("POST", True), ("GET", Retry(attempts=2, delay=0, max_delay=0, jitter=0))],
    ids=["POST-True", "GET-Retry"],
)
async def test_a_call_retries_even_when_the_client_has_no_policy(
    servers: Any, method: str, retry: Any
) -> None:
    """issue 24 (found while covering _options): retry=True or retry=Retry(...) on one call
    retries on a client built with retry=None; its retry budget used to be zero, so the
    documented per-call retry silently never happened.
    """
    clock = _InstantClock()
    key = f"path-retry-{type(retry).__name__}"
    async with HttpClient(servers.url, retry=None, clock=clock, timeout=10) as client:
        response = await client.request(method, f"/flaky/{key}", params={"fail": "1"}, retry=retry)
        assert client.stats().retries_denied == 0
    assert response.status == 200
    assert response.attempts == 2
    assert servers.hits[key] == 2
    assert len(clock.sleeps) == 1


async def test_auth_applies_without_a_retry_policy(servers: Any) -> None:
    """issue 24: the auth hook runs on the one attempt of a client with retry=None."""
    async with HttpClient(servers.url, retry=None, auth=BearerAuth("t0k"), timeout=10) as client:
        response = await client.get("/echo")
    assert (await response.json())["headers"]["Authorization"] == "Bearer t0k"


# ----------------------------------------------------------------- redirects


async def test_a_redirect_without_location_is_the_answer(client: HttpClient) -> None:
    """issue 24: a 3xx with no Location is returned as it is (httpx and urllib3 agree)."""
    response = await client.get("/status/302")
    assert response.status == 302
    assert response.history == ()


@pytest.mark.parametrize(
    ("location", "words"),
    [("ftp://127.0.0.1/file", "non-http"), ("http://[::1", "invalid URL")],
    ids=["ftp", "malformed"],
)
async def test_a_redirect_to_an_unusable_location_is_refused(
    client: HttpClient, location: str, words: str
) -> None:
    """issue 24: the client never follows a hop it could not check."""
    with pytest.raises(InvalidURLError, match=words) as info:
        await client.get("/redirect", params={"to": location})
    assert info.value.context["location"] == location


async def test_a_websocket_that_was_never_opened_says_so(client: HttpClient) -> None:
    """issue 24: receive() before the socket is opened is a ClosedError, not a hang."""
    ws = client.websocket("/ws")
    with pytest.raises(ClosedError):
        await ws.receive(timeout=1)
