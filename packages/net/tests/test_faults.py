"""Fault tests: real servers on 127.0.0.1 that stall, drop, refuse, fail and oversize.

After every fault the client must hold no connection, no slot and no task.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from pepperpy.core import ManualClock, OperationTimeoutError
from pepperpy.net import (
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    HttpClient,
    Limits,
    NetworkError,
    NetworkTimeoutError,
    PoolTimeoutError,
    ReadTimeoutError,
    ResponseTooLargeError,
    Retry,
    Timeout,
    TotalTimeoutError,
)

FAST = Timeout(connect=2, read=3, total=5, pool=2)  # generous: only faults may time out
STALL = Timeout(connect=2, read=0.2, total=5, pool=2)  # for servers that go silent


class InstantClock(ManualClock):
    """Records every requested sleep and returns at once (time does not move)."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


class StallingResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1, except ``stall.test``, which hangs."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host == "stall.test":
            await asyncio.sleep(5)
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


async def until(predicate: Any) -> None:
    """Wait (a few seconds at most) until *predicate()* is true."""
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


@pytest.fixture
async def fast(servers: Any) -> Any:
    async with HttpClient(servers.url, timeout=STALL, retry=None) as client:
        yield client


# ----------------------------------------------------------------- timeouts


async def test_stall_before_headers_is_a_read_timeout(fast: HttpClient, no_leaks: Any) -> None:
    with pytest.raises(ReadTimeoutError) as info:
        await fast.get("/stall-headers")
    error = info.value
    assert error.phase == "read"
    assert isinstance(error, NetworkTimeoutError)
    assert isinstance(error, OperationTimeoutError)
    assert isinstance(error, TimeoutError)
    assert error.context["timeout"] == 0.2
    assert "read timeout" in str(error)
    no_leaks(fast)


async def test_stall_mid_body_is_a_read_timeout(fast: HttpClient, no_leaks: Any) -> None:
    with pytest.raises(ReadTimeoutError):
        await fast.get("/stall-body")
    no_leaks(fast)


async def test_stall_mid_body_while_streaming(fast: HttpClient, no_leaks: Any) -> None:
    received = 0
    with pytest.raises(ReadTimeoutError):
        async with fast.stream("GET", "/stall-body") as response:
            assert response.status == 200
            async for chunk in response.iter_bytes():
                received += len(chunk)
    assert received == 100
    no_leaks(fast)


async def test_slow_drip_hits_the_total_timeout(fast: HttpClient, no_leaks: Any) -> None:
    with pytest.raises(TotalTimeoutError) as info:
        await fast.get("/drip", timeout=Timeout(read=1, total=0.3))
    assert info.value.phase == "total"
    assert info.value.context["timeout"] == 0.3
    no_leaks(fast)


async def test_read_at_or_above_total_is_covered_by_total(fast: HttpClient, no_leaks: Any) -> None:
    with pytest.raises(TotalTimeoutError):
        await fast.get("/stall-headers", timeout=Timeout(read=0.3, total=0.2))
    no_leaks(fast)


async def test_slow_dns_is_a_connect_timeout(no_leaks: Any, servers: Any) -> None:
    async with HttpClient(
        timeout=Timeout(connect=0.3, read=3, total=5),
        retry=None,
        resolver=StallingResolver(),
        limits=Limits(dns_cache_ttl=0),
    ) as client:
        with pytest.raises(ConnectTimeoutError) as info:
            await client.get(f"http://stall.test:{servers.port}/json")
        assert info.value.phase == "connect"
        no_leaks(client)


async def test_pool_timeout_when_every_slot_is_taken(servers: Any, no_leaks: Any) -> None:
    limits = Limits(max_connections=10, max_connections_per_host=1)
    async with HttpClient(servers.url, limits=limits, retry=None) as client:
        slow = asyncio.ensure_future(
            client.get("/stall-headers", params={"delay": "0.3"}, timeout=Timeout(read=2))
        )
        await until(lambda: client.stats().in_flight == 1)
        with pytest.raises(PoolTimeoutError) as info:
            await client.get("/json", timeout=Timeout(pool=0.05))
        assert info.value.phase == "pool"
        assert info.value.context["limit"] == 1
        assert (await slow).status == 200
        no_leaks(client)


# ----------------------------------------------------------------- broken connections


async def test_connection_closed_without_response(
    fast: HttpClient, servers: Any, no_leaks: Any
) -> None:
    with pytest.raises(ConnectionClosedError) as info:
        await fast.get(f"{servers.raw_url}/close")
    assert info.value.retryable
    no_leaks(fast)


async def test_connection_closed_mid_body(fast: HttpClient, servers: Any, no_leaks: Any) -> None:
    with pytest.raises(ConnectionClosedError):
        await fast.get(f"{servers.raw_url}/close-mid-body")
    no_leaks(fast)


async def test_garbage_response_is_a_network_error(
    fast: HttpClient, servers: Any, no_leaks: Any
) -> None:
    with pytest.raises(NetworkError):
        await fast.get(f"{servers.raw_url}/garbage")
    no_leaks(fast)


async def test_connection_refused(fast: HttpClient, no_leaks: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ConnectError) as info:
        await fast.get(f"http://127.0.0.1:{port}/")
    assert info.value.context["host"] == "127.0.0.1"
    no_leaks(fast)


# ----------------------------------------------------------------- statuses and retries


async def test_500_is_returned_and_not_retried(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.get("/status/500", params={"key": "s500"})
        assert response.status == 500
        assert response.attempts == 1
        assert servers.hits["s500"] == 1
        assert clock.sleeps == []
        no_leaks(client)


async def test_503_without_retry_after_uses_backoff(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    retry = Retry(attempts=3, delay=0.5, jitter=0, backoff=2)
    async with HttpClient(servers.url, timeout=FAST, retry=retry, clock=clock) as client:
        response = await client.get("/status/503", params={"key": "s503"})
        assert response.status == 503
        assert response.attempts == 3
        assert servers.hits["s503"] == 3
        assert clock.sleeps == [0.5, 1.0]
        assert client.stats().retries == 2
        no_leaks(client)


async def test_503_with_retry_after_waits_as_told(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    retry = Retry(attempts=3, delay=0.01, jitter=0)
    async with HttpClient(servers.url, timeout=FAST, retry=retry, clock=clock) as client:
        response = await client.get("/flaky/ra503", params={"fail": "1", "retry_after": "2"})
        assert response.status == 200
        assert response.attempts == 2
        assert clock.sleeps == [2.0]
        assert servers.hits["ra503"] == 2  # sends counted at the server (issue 17)
        no_leaks(client)


async def test_retry_after_http_date_is_honoured(servers: Any) -> None:
    clock = InstantClock()
    when = "Tue, 14 Nov 2023 22:13:30 GMT"  # 10 s after the ManualClock's epoch start
    async with HttpClient(servers.url, retry=Retry(jitter=0), clock=clock) as client:
        response = await client.get("/flaky/radate", params={"retry_after": when})
        assert response.status == 200
    assert clock.sleeps == [pytest.approx(10.0)]
    assert servers.hits["radate"] == 2


async def test_retry_after_beyond_the_cap_returns_the_response(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    retry = Retry(max_retry_after=5)
    async with HttpClient(servers.url, timeout=FAST, retry=retry, clock=clock) as client:
        response = await client.get("/status/503", params={"key": "long", "retry_after": "120"})
        assert response.status == 503
        assert servers.hits["long"] == 1
        assert clock.sleeps == []
        no_leaks(client)


async def test_429_is_retried(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.get("/flaky/r429", params={"status": "429", "retry_after": "1"})
        assert response.status == 200
        assert await response.json() == {"ok": True, "hits": 2}
        assert clock.sleeps == [1.0]
        assert servers.hits["r429"] == 2
        no_leaks(client)


async def test_dropped_connection_is_retried_for_get(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.get("/flaky/drop", params={"status": "0", "fail": "2"})
        assert response.status == 200
        # two drops, two retries of ours, no hidden resend by aiohttp (issue 17 #5)
        assert (response.attempts, servers.hits["drop"]) == (3, 3)
        no_leaks(client)


async def test_dropped_connection_is_retried_with_idempotency_key(
    servers: Any, no_leaks: Any
) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.post(
            "/flaky/drop-post", params={"status": "0"}, idempotency_key="once"
        )
        assert response.status == 200
        assert response.attempts == 2
        assert servers.hits["drop-post"] == 2
        no_leaks(client)


async def test_dropped_connection_fails_post_without_key(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        with pytest.raises(ConnectionClosedError) as info:
            await client.post("/flaky/drop-post-nokey", params={"status": "0"})
        assert info.value.context["attempts"] == 1
        no_leaks(client)


async def test_read_timeout_is_retried_then_raised(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    retry = Retry(attempts=2, delay=0.01)
    async with HttpClient(servers.url, timeout=FAST, retry=retry, clock=clock) as client:
        with pytest.raises(ReadTimeoutError) as info:
            await client.get("/stall-headers", params={"key": "stall-retry"}, timeout=STALL)
        assert info.value.context["attempts"] == 2
        assert servers.hits["stall-retry"] == 2
        no_leaks(client)


async def test_post_is_not_retried_by_default(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.post("/flaky/post-once", json={"a": 1})
        assert response.status == 503
        assert servers.hits["post-once"] == 1
        no_leaks(client)


async def test_post_with_idempotency_key_is_retried(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.post("/flaky/post-key", json={"a": 1}, idempotency_key="k1")
        assert response.status == 200
        assert servers.hits["post-key"] == 2


async def test_post_with_retry_true_is_retried(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.post("/flaky/post-forced", retry=True)
        assert response.status == 200
        assert servers.hits["post-forced"] == 2


async def test_retry_false_disables_retries(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.get("/flaky/no-retry", retry=False)
        assert response.status == 503
        assert servers.hits["no-retry"] == 1


async def test_streamed_body_is_never_replayed(servers: Any) -> None:
    async def body() -> Any:
        yield b"once"

    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.put("/flaky/stream-body", content=body())
        assert response.status == 503
        assert servers.hits["stream-body"] == 1


async def test_retry_budget_caps_retries_during_an_outage(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()  # time stands still: the reserve never refills
    retry = Retry(attempts=5, delay=0.01, budget_ratio=0.0, budget_min_per_second=2)
    async with HttpClient(servers.url, timeout=FAST, retry=retry, clock=clock) as client:
        for _ in range(3):
            response = await client.get("/status/503", params={"key": "outage"})
            assert response.status == 503
        stats = client.stats()
        assert stats.retries == 2
        assert stats.retries_denied == 3
        assert servers.hits["outage"] == 5  # 3 requests + 2 retries, not 3 * 5
        no_leaks(client)


# ----------------------------------------------------------------- size limits


async def test_oversize_body_announced_by_content_length(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST, max_response_size=1000) as client:
        with pytest.raises(ResponseTooLargeError) as info:
            await client.get("/bytes/5000")
        assert info.value.context == {
            "url": f"{servers.url}/bytes/5000",
            "limit": 1000,
            "size": 5000,
            "attempts": 1,
        }
        no_leaks(client)
        assert (await client.get("/bytes/10")).status == 200


async def test_oversize_chunked_body_is_cut_off(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST, max_response_size="16KiB") as client:
        with pytest.raises(ResponseTooLargeError, match="exceeded"):
            await client.get("/bytes/100000", params={"chunked": "1"})
        no_leaks(client)
        response = await client.get("/bytes/100", params={"chunked": "1"})
        assert len(await response.read()) == 100


async def test_size_limit_can_be_lifted_per_request(servers: Any, payload: Any) -> None:
    async with HttpClient(servers.url, max_response_size=10) as client:
        response = await client.get("/bytes/5000", max_response_size=None)
        assert await response.read() == payload(5000)


async def test_oversize_streamed_download(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST, max_response_size=1000) as client:
        with pytest.raises(ResponseTooLargeError):
            async with client.stream("GET", "/bytes/50000", params={"chunked": "1"}) as r:
                async for _ in r.iter_bytes(512):
                    pass
        no_leaks(client)


async def test_cancelled_request_leaks_nothing(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST) as client:
        task = asyncio.ensure_future(client.get("/stall-headers"))
        await until(lambda: client.stats().in_flight == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        no_leaks(client)


# ----------------------------------------------------------------- the one-frame fast path
# Plain calls (no per-call options) on a client without hooks take a shortcut;
# these check that it hands every unusual outcome to the general machinery.


async def test_plain_call_retries_a_503(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, timeout=FAST, clock=clock) as client:
        response = await client.get("/flaky/fast503")
        assert response.status == 200
        assert response.attempts == 2
        assert servers.hits["fast503"] == 2
        no_leaks(client)


async def test_plain_call_retries_a_dropped_connection(servers: Any, no_leaks: Any) -> None:
    clock = InstantClock()
    async with HttpClient(timeout=FAST, clock=clock) as client:
        with pytest.raises(ConnectionClosedError) as info:
            await client.get(f"{servers.raw_url}/close")
        assert info.value.context["attempts"] == 3
        assert client.stats().retries == 2
        no_leaks(client)


async def test_plain_call_follows_redirects(servers: Any, no_leaks: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST) as client:
        response = await client.get("/redirect?to=/json")
        assert response.status == 200
        assert [r.status for r in response.history] == [302]
        no_leaks(client)


async def test_plain_call_returns_a_503_when_retries_are_off(servers: Any) -> None:
    async with HttpClient(servers.url, timeout=FAST, retry=None) as client:
        response = await client.get("/status/503")
        assert response.status == 503
        assert response.attempts == 1


async def test_plain_call_falls_back_when_the_pool_is_full(servers: Any, no_leaks: Any) -> None:
    limits = Limits(max_connections=1)
    async with HttpClient(servers.url, limits=limits, retry=None) as client:
        slow = asyncio.ensure_future(client.get("/stall-headers?delay=0.2"))
        await until(lambda: client.stats().in_flight == 1)
        assert (await client.get("/json")).status == 200  # waited for the slot
        assert (await slow).status == 200
        no_leaks(client)


async def test_size_limit_ignores_the_length_a_head_response_announces(servers: Any) -> None:
    async with HttpClient(servers.url, max_response_size=1000) as client:
        response = await client.head("/bytes/5000")
        assert response.status == 200
        assert response.content_length == 5000
        assert await response.read() == b""
        response = await client.head("/bytes/5000", headers={"X-General-Path": "1"})
        assert await response.read() == b""
