"""Tests for pepperpy.resources._pool."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import ClosedError, InvalidArgumentError, ManualClock
from pepperpy.resources import Pool, PoolTimeoutError


class Conn:
    ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(Conn.ids)
        self.closed = False
        self.healthy = True

    async def aclose(self) -> None:
        self.closed = True


async def test_acquire_release_reuses_items() -> None:
    async with Pool(Conn, max_size=2) as pool:
        async with pool.acquire() as first:
            assert isinstance(first, Conn)
        async with pool.acquire() as second:
            assert second is first
        stats = pool.stats()
        assert stats.created == 1
        assert stats.acquired == 2
        assert stats.in_use == 0
        assert stats.idle == 1
    assert first.closed


async def test_min_size_is_created_on_start() -> None:
    created: list[Conn] = []

    async def factory() -> Conn:
        conn = Conn()
        created.append(conn)
        return conn

    async with Pool(factory, min_size=3, max_size=5) as pool:
        assert pool.stats().idle == 3
        assert len(created) == 3
    assert all(c.closed for c in created)


async def test_acquire_timeout_raises_pool_timeout() -> None:
    async with Pool(Conn, max_size=1, acquire_timeout=0.05) as pool:
        held = await pool.acquire()
        with pytest.raises(PoolTimeoutError) as info:
            await pool.acquire()
        assert info.value.context["max_size"] == 1
        assert pool.stats().timeouts == 1
        assert pool.stats().waiting == 0
        await pool.release(held)
        again = await pool.acquire(timeout=0.05)
        assert again is held
        await pool.release(again)


async def test_waiters_are_served_fifo() -> None:
    async with Pool(Conn, max_size=1, acquire_timeout=None) as pool:
        held = await pool.acquire()
        order: list[int] = []

        async def worker(n: int) -> None:
            async with pool.acquire():
                order.append(n)
                await asyncio.sleep(0)

        tasks = []
        for n in range(5):
            tasks.append(asyncio.ensure_future(worker(n)))
            await asyncio.sleep(0)
        assert pool.stats().waiting == 5
        await pool.release(held)
        await asyncio.gather(*tasks)
        assert order == [0, 1, 2, 3, 4]


async def test_failed_health_check_discards_item() -> None:
    async with Pool(Conn, max_size=2, check=lambda c: c.healthy) as pool:
        conn = await pool.acquire()
        conn.healthy = False
        await pool.release(conn)
        fresh = await pool.acquire()
        assert fresh is not conn
        assert conn.closed
        assert pool.stats().discarded == 1
        await pool.release(fresh)


async def test_check_on_release_and_reset() -> None:
    resets: list[int] = []

    async def check(c: Conn) -> bool:
        return c.healthy

    async with Pool(
        Conn, check=check, check_on_release=True, reset=lambda c: resets.append(c.id)
    ) as pool:
        conn = await pool.acquire()
        await pool.release(conn)
        assert resets == [conn.id]
        conn = await pool.acquire()
        conn.healthy = False
        await pool.release(conn)
        assert conn.closed
        assert pool.stats().idle == 0


async def test_discard_on_release_frees_capacity_for_waiter() -> None:
    async with Pool(Conn, max_size=1, acquire_timeout=None) as pool:
        held = await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        await pool.release(held, discard=True)
        new = await waiter
        assert new is not held
        assert held.closed
        await pool.release(new)


async def test_factory_failure_propagates_and_frees_slot() -> None:
    calls = itertools.count()

    def flaky() -> Conn:
        if next(calls) == 0:
            raise OSError("refused")
        return Conn()

    async with Pool(flaky, max_size=1) as pool:
        with pytest.raises(OSError, match="refused"):
            await pool.acquire()
        assert pool.size == 0
        async with pool.acquire() as conn:
            assert isinstance(conn, Conn)


async def test_max_idle_and_lifetime_with_manual_clock() -> None:
    clock = ManualClock()
    pool = Pool(
        Conn,
        min_size=1,
        max_size=3,
        max_idle=10,
        max_lifetime=100,
        clock=clock,
        reap_interval=10_000,
    )
    async with pool:
        a = await pool.acquire()
        b = await pool.acquire()
        await pool.release(a)
        await pool.release(b)
        assert pool.stats().idle == 2
        clock.advance_sync(11)
        await pool.reap()
        assert pool.stats().idle == 1  # reaped down to min_size
        survivor = await pool.acquire()
        await pool.release(survivor)
        clock.advance_sync(100)
        await pool.reap()
        assert survivor.closed
        assert pool.stats().idle == 1  # replaced to keep min_size
        replacement = await pool.acquire()
        assert replacement is not survivor
        await pool.release(replacement)


async def test_background_reaper_closes_idle_items() -> None:
    clock = ManualClock()
    async with Pool(Conn, max_size=2, max_idle=10, clock=clock) as pool:
        conn = await pool.acquire()
        await pool.release(conn)
        await clock.advance(12)
        for _ in range(10):
            await asyncio.sleep(0)
        assert conn.closed
        assert pool.stats().idle == 0


async def test_expired_idle_item_is_not_handed_out() -> None:
    clock = ManualClock()
    async with Pool(Conn, max_lifetime=5, reap_interval=10_000, clock=clock) as pool:
        conn = await pool.acquire()
        await pool.release(conn)
        clock.advance_sync(6)
        fresh = await pool.acquire()
        assert fresh is not conn
        assert conn.closed
        await pool.release(fresh)


async def test_drain_waits_for_borrowed_items() -> None:
    pool = Pool(Conn, max_size=2)
    await pool.start()
    conn = await pool.acquire()
    assert await pool.drain(timeout=0.01) is False
    with pytest.raises(ClosedError):
        await pool.acquire()

    async def give_back() -> None:
        await asyncio.sleep(0.01)
        await pool.release(conn)

    task = asyncio.ensure_future(give_back())
    assert await pool.drain(timeout=5) is True
    await task
    await pool.close()
    assert conn.closed


async def test_close_fails_waiters_and_release_after_close_closes_item() -> None:
    pool = Pool(Conn, max_size=1, acquire_timeout=None)
    await pool.start()
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    await pool.close()
    with pytest.raises(ClosedError):
        await waiter
    await pool.release(held)
    assert held.closed
    with pytest.raises(ClosedError):
        await pool.acquire()


async def test_release_of_foreign_item_is_rejected() -> None:
    async with Pool(Conn) as pool:
        with pytest.raises(InvalidArgumentError):
            await pool.release(Conn())


def test_bad_configuration() -> None:
    with pytest.raises(InvalidArgumentError):
        Pool(Conn, min_size=3, max_size=2)
    with pytest.raises(InvalidArgumentError):
        Pool(Conn, max_size=0)
    with pytest.raises(InvalidArgumentError):
        Pool(Conn, acquire_timeout=-1)
    with pytest.raises(InvalidArgumentError):
        Pool(42)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(max_size=st.integers(1, 4), workers=st.integers(1, 12))
def test_never_exceeds_max_size(max_size: int, workers: int) -> None:
    async def scenario() -> None:
        peak = 0
        live = 0
        async with Pool(Conn, max_size=max_size, acquire_timeout=None) as pool:

            async def worker() -> None:
                nonlocal peak, live
                async with pool.acquire():
                    live += 1
                    peak = max(peak, live)
                    await asyncio.sleep(0)
                    live -= 1
                    assert pool.size <= max_size

            await asyncio.gather(*(worker() for _ in range(workers)))
            assert pool.stats().in_use == 0
        assert peak <= max_size

    asyncio.run(scenario())


async def test_negative_acquire_timeout_is_rejected() -> None:
    async with Pool(Conn) as pool:
        with pytest.raises(InvalidArgumentError):
            pool.acquire(timeout=-1)
