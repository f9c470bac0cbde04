"""issue 24: behaviours of the request path's parts (building, hosts, retry loop, redirects).

Each test drives a real aiohttp server on 127.0.0.1 (tests/conftest.py) and
asserts what a caller relies on at the seams the client was split along.
"""

from __future__ import annotations

from typing import Any

import pytest

from pepperpy.core.types import ManualClock
from pepperpy.net import (
    ConnectionClosedError,
    HttpClient,
    InvalidURLError,
    Limits,
    PoolTimeoutError,
    Retry,
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
