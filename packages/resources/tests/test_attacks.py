"""Attacks from issue 18 (resources: #10, #11, #12) that the old main failed.

The sweeps that cancel ``Pool.acquire`` at every await point are in
test_concurrency.py. Nothing here measures time: a test that used to hang is
bounded by a generous ``asyncio.wait_for`` so it fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from pepperpy.core import StartupError
from pepperpy.resources import (
    CleanupError,
    Pool,
    PoolCheckError,
    PoolTimeoutError,
    ResourceManager,
)

HANG_GUARD = 60.0  # seconds: only reached when the code under test hangs


class Item:
    ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(Item.ids)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


class Tracker:
    """A factory that remembers every item it made, to check none leaked."""

    def __init__(self) -> None:
        self.made: list[Item] = []

    async def __call__(self) -> Item:
        item = Item()
        self.made.append(item)
        return item

    def assert_accounted(self, pool: Pool[Item], *, in_use: int = 0) -> None:
        """Every created item is idle in the pool, handed out, or closed."""
        stats = pool.stats()
        alive = [i for i in self.made if not i.closed]
        assert len(alive) == stats.idle + stats.in_use, (stats, alive)
        assert stats.in_use == in_use
        assert stats.size == stats.idle + stats.in_use, stats
        assert stats.waiting == 0


# --------------------------------------------------------------------------- #10


async def test_timeout_bounds_a_slow_factory() -> None:
    """issue 18 #10: acquire(timeout=) is a deadline over creating too (as asyncpg's acquire)."""
    never = asyncio.Event()
    started = 0

    async def slow() -> Item:
        nonlocal started
        started += 1
        await never.wait()
        return Item()  # pragma: no cover - never reached

    async with Pool(slow, max_size=2) as pool:
        with pytest.raises(PoolTimeoutError) as info:
            await asyncio.wait_for(pool.acquire(timeout=0.05), HANG_GUARD)
        assert "creating" in str(info.value)
        assert started == 1
        await asyncio.sleep(0)  # the abandoned creation unwinds
        assert pool.stats().size == 0
        assert pool.stats().timeouts == 1


async def test_timeout_bounds_a_hanging_health_check() -> None:
    """issue 18 #10: the deadline covers the health check; the checked item is closed."""
    never = asyncio.Event()
    factory = Tracker()

    async def check(item: Item) -> bool:
        await never.wait()
        return True  # pragma: no cover - never reached

    async with Pool(factory, max_size=2, check=check) as pool:
        with pytest.raises(PoolTimeoutError) as info:
            await asyncio.wait_for(pool.acquire(timeout=0.05), HANG_GUARD)
        assert "health" in str(info.value)
        for _ in range(10):
            await asyncio.sleep(0)
        factory.assert_accounted(pool)
        assert [i.closed for i in factory.made] == [True]


async def test_a_check_that_always_fails_gives_up_and_says_why() -> None:
    """issue 18 #10: the retry loop is bounded (it used to spin: 2,542 items in 3 s)."""
    factory = Tracker()

    async def check(item: Item) -> bool:
        await asyncio.sleep(0)
        return False

    async with Pool(factory, max_size=2, check=check) as pool:
        with pytest.raises(PoolCheckError) as info:
            await asyncio.wait_for(pool.acquire(timeout=None), HANG_GUARD)
        error = info.value
        assert "health check" in str(error)
        assert error.context["rejected"] == len(factory.made) <= 5
        factory.assert_accounted(pool)
        assert all(i.closed for i in factory.made)
        assert pool.stats().discarded == len(factory.made)


async def test_stale_idle_items_are_all_replaced_without_giving_up() -> None:
    """issue 18 #10: the bound counts fresh items only; any number of stale idle ones is fine."""
    factory = Tracker()
    stale: set[int] = set()

    async def check(item: Item) -> bool:
        return item.id not in stale

    async with Pool(factory, min_size=8, max_size=8, check=check) as pool:
        stale.update(i.id for i in factory.made)  # every idle item went bad
        item = await asyncio.wait_for(pool.acquire(), HANG_GUARD)
        assert item.id not in stale
        await pool.release(item)


# --------------------------------------------------------------------------- #11


async def test_cancel_during_an_async_health_check_leaks_nothing() -> None:
    """issue 18 #11: a task cancelled in the check leaves the item counted or closed."""
    factory = Tracker()
    entered = asyncio.Event()
    never = asyncio.Event()

    async def check(item: Item) -> bool:
        entered.set()
        await never.wait()
        return True  # pragma: no cover

    async with Pool(factory, max_size=1, check=check) as pool:
        task = asyncio.ensure_future(pool.acquire(timeout=None))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(10):
            await asyncio.sleep(0)
        factory.assert_accounted(pool)
        assert pool.stats().size == 0  # the slot is free again: max_size=1 still works
        never.set()
        item = await asyncio.wait_for(pool.acquire(), HANG_GUARD)
        factory.assert_accounted(pool, in_use=1)
        await pool.release(item)
    assert all(i.closed for i in factory.made)


async def test_a_failed_start_closes_the_items_already_made() -> None:
    """issue 18 #11: with min_size=3, when the second creation fails the others are closed."""
    made: list[Item] = []
    calls = 0

    async def factory() -> Item:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("database down")
        await asyncio.sleep(0)
        item = Item()
        made.append(item)
        return item

    pool = Pool(factory, min_size=3, max_size=3)
    with pytest.raises(StartupError):
        await pool.start()
    assert len(made) == 2
    assert all(i.closed for i in made), [i.closed for i in made]
    assert pool.stats().size == 0


async def test_cancel_during_reset_on_release_leaks_nothing() -> None:
    """issue 18 #11: release() cancelled while resetting the item still disposes of it."""
    factory = Tracker()
    entered = asyncio.Event()
    never = asyncio.Event()

    async def reset(item: Item) -> None:
        entered.set()
        await never.wait()

    async with Pool(factory, max_size=1, reset=reset) as pool:
        item = await pool.acquire()
        task = asyncio.ensure_future(pool.release(item))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(10):
            await asyncio.sleep(0)
        factory.assert_accounted(pool)


# --------------------------------------------------------------------------- #12


async def test_keyboard_interrupt_in_a_closer_propagates() -> None:
    """issue 18 #12: BaseExceptions other than CancelledError propagate, as AsyncExitStack's.

    ``contextlib.AsyncExitStack`` lets a KeyboardInterrupt raised by a callback
    propagate (after running the remaining callbacks); it is not wrapped.
    """
    closed: list[str] = []

    @contextlib.contextmanager
    def resource(name: str, exc: BaseException | None = None) -> Iterator[str]:
        try:
            yield name
        finally:
            closed.append(name)
            if exc is not None:
                raise exc

    manager = ResourceManager()
    manager.register(resource("first"), name="first")
    manager.register(resource("interrupting", KeyboardInterrupt()), name="interrupting")
    manager.register(resource("failing", RuntimeError("boom")), name="failing")
    await manager.start()
    with pytest.raises(KeyboardInterrupt) as info:
        await manager.stop()
    assert closed == ["failing", "interrupting", "first"]  # the others were still closed
    assert any("boom" in note for note in getattr(info.value, "__notes__", []))

    # The AsyncExitStack reference behaviour:
    stack = contextlib.AsyncExitStack()
    stack.callback(lambda: None)
    stack.callback(_raise, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        await stack.aclose()


def _raise(exc: BaseException) -> None:
    raise exc


async def test_cancelled_error_in_a_closer_is_still_collected() -> None:
    """issue 18 #12: a closer's CancelledError is still collected into CleanupError."""

    @contextlib.contextmanager
    def cancelling() -> Iterator[None]:
        yield
        raise asyncio.CancelledError

    manager = ResourceManager()
    manager.register(cancelling(), name="c")
    await manager.start()
    with pytest.raises(CleanupError):
        await manager.stop()


async def test_keyboard_interrupt_from_a_pool_item_closer_propagates() -> None:
    """issue 18 #12: the pool closes the other items, then lets the interrupt through."""
    items: list[Any] = []

    class Bad(Item):
        async def aclose(self) -> None:
            self.closed = True
            raise KeyboardInterrupt

    async def factory() -> Item:
        item = Bad() if not items else Item()
        items.append(item)
        return item

    pool = Pool(factory, min_size=3, max_size=3)
    await pool.start()
    with pytest.raises(KeyboardInterrupt):
        await pool.stop()
    assert all(i.closed for i in items)
