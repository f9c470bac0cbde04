"""Tests for pepperpy.net._ratelimit: token buckets per host."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError, ManualClock
from pepperpy.net import HttpClient, RateLimit, RateLimitExceededError, TokenBucket


def test_burst_then_refill() -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimit(rate=2, burst=3), clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance_sync(0.5)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


@given(st.floats(0.5, 50), st.integers(1, 10), st.integers(0, 40))
def test_never_more_than_burst_plus_rate_times_elapsed(rate: float, burst: int, steps: int) -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimit(rate=rate, burst=burst), clock=clock)
    granted = 0
    for _ in range(steps):
        while bucket.try_acquire():
            granted += 1
        clock.advance_sync(0.1)
    assert granted <= burst + rate * 0.1 * steps + 1e-6


async def test_acquire_waits_on_the_clock_in_order() -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimit(rate=1, burst=1), clock=clock)
    assert await bucket.acquire() == 0.0
    waiter = asyncio.ensure_future(bucket.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    await clock.advance(1)
    assert await waiter == pytest.approx(1.0)


async def test_cancelled_wait_returns_the_token() -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimit(rate=1, burst=1), clock=clock)
    await bucket.acquire()
    waiter = asyncio.ensure_future(bucket.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert bucket.tokens == pytest.approx(0.0)


async def test_wait_beyond_max_wait_raises() -> None:
    bucket = TokenBucket(RateLimit(rate=0.5, burst=1, max_wait=1), clock=ManualClock())
    await bucket.acquire()
    with pytest.raises(RateLimitExceededError, match="max_wait"):
        await bucket.acquire(host="api.test")


def test_rate_limit_is_validated() -> None:
    with pytest.raises(InvalidArgumentError):
        RateLimit(rate=0)
    assert RateLimit(rate=0.2).burst == 1.0


async def test_client_rate_limits_each_host(servers: Any, no_leaks: Any) -> None:
    clock = ManualClock()
    limit = RateLimit(rate=1, burst=2, max_wait=60)
    async with HttpClient(servers.url, rate_limit=limit, clock=clock) as client:
        await client.get("/json")
        await client.get("/json")
        third = asyncio.ensure_future(client.get("/json"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not third.done()
        assert (await client.get(f"{servers.other_url}/json")).status == 200  # own bucket
        await clock.advance(1)
        assert (await third).status == 200
        host = client.stats().hosts[f"http://127.0.0.1:{servers.port}"]
        assert host.rate_limited == 1
        no_leaks(client)
