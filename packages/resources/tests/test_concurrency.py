"""Issue 18, "close the class": ``Pool.acquire``/``release`` cancelled at every await point.

Each sweep starts an operation, lets the event loop run k rounds (k = 0, 1,
2, ... until the operation finishes by itself), cancels it, and then checks
the pool's invariants (asyncpg's pool is the bar): every item the factory made
is idle, handed out or closed; the counts add up; nobody is left waiting; the
capacity is free again (a max_size=1 pool still lends its item).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pepperpy.resources import Pool


class Item:
    ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(Item.ids)
        self.closed = False

    async def aclose(self) -> None:
        await asyncio.sleep(0)  # closing has an await point too
        self.closed = True


class Factory:
    def __init__(self) -> None:
        self.made: list[Item] = []

    async def __call__(self) -> Item:
        for _ in range(3):
            await asyncio.sleep(0)
        item = Item()
        self.made.append(item)
        return item


async def check(item: Item) -> bool:
    for _ in range(3):
        await asyncio.sleep(0)
    return True


async def reset(item: Item) -> None:
    for _ in range(2):
        await asyncio.sleep(0)


async def _settle(pool: Pool[Any]) -> None:
    for _ in range(200):
        busy = (getattr(pool, name, 0) for name in ("_background", "_limbo", "_creating"))
        if not any(busy):
            mine = (asyncio.current_task(), getattr(pool, "_reaper", None))
            others = [t for t in asyncio.all_tasks() if t not in mine]
            if not others:
                return
        await asyncio.sleep(0)
    raise AssertionError(f"the pool did not settle: {pool.stats()}")


async def _check_invariants(pool: Pool[Item], factory: Factory, *, in_use: int = 0) -> None:
    await _settle(pool)
    stats = pool.stats()
    alive = [i for i in factory.made if not i.closed]
    assert len(alive) == stats.idle + stats.in_use, (stats, alive)
    assert stats.size == stats.idle + stats.in_use <= pool.max_size, stats
    assert stats.in_use == in_use, stats
    assert stats.waiting == 0 and not pool._waiters, stats  # type: ignore[attr-defined]


async def _sweep(
    operation: Callable[[], Awaitable[Any]],
    after: Callable[[Any, bool], Awaitable[None]],
) -> int:
    """Cancel *operation* after k loop rounds for every k; call ``after(result, cancelled)``."""
    rounds = 0
    while True:
        task = asyncio.ensure_future(operation())
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        try:
            result = await task
            cancelled = False
        except asyncio.CancelledError:
            result, cancelled = None, True
        await after(result, cancelled)
        if finished:
            return rounds
        rounds += 1


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["no-deadline", "deadline"])
@pytest.mark.parametrize("with_check", [False, True], ids=["no-check", "check"])
async def test_cancel_acquire_while_creating_and_checking(
    timeout: float | None, with_check: bool
) -> None:
    """issue 18 #11: cancelled while creating or health-checking, nothing leaks."""
    factory = Factory()
    async with Pool(factory, max_size=1, check=check if with_check else None) as pool:

        async def after(item: Item | None, cancelled: bool) -> None:
            if item is not None:
                await _check_invariants(pool, factory, in_use=1)
                await pool.release(item)
            await _check_invariants(pool, factory)
            again = await pool.acquire(timeout=None)  # the capacity is not stuck
            await pool.release(again)
            # Start the next round from an empty pool, so creation is swept again.
            await pool.release(await pool.acquire(), discard=True)
            await _check_invariants(pool, factory)

        rounds = await _sweep(lambda: pool.acquire(timeout=timeout), after)
    assert rounds >= (6 if with_check else 3)
    assert all(i.closed for i in factory.made)


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["no-deadline", "deadline"])
async def test_cancel_acquire_while_waiting_for_a_release(timeout: float | None) -> None:
    """issue 18 #11: a waiter cancelled as the item is handed to it passes the item on."""
    factory = Factory()
    async with Pool(factory, max_size=1, check=check, reset=reset) as pool:
        rounds = 0
        while True:
            held = await pool.acquire()
            waiter = asyncio.ensure_future(pool.acquire(timeout=timeout))
            await asyncio.sleep(0)  # the waiter is queued
            releaser = asyncio.ensure_future(pool.release(held))  # hands the item over
            for _ in range(rounds):
                await asyncio.sleep(0)
            finished = waiter.done()
            waiter.cancel()
            outcome = (await asyncio.gather(waiter, return_exceptions=True))[0]
            await releaser
            if finished:
                assert isinstance(outcome, Item)
            if isinstance(outcome, Item):
                await _check_invariants(pool, factory, in_use=1)
                await pool.release(outcome)
            else:
                assert isinstance(outcome, asyncio.CancelledError), outcome
            await _check_invariants(pool, factory)
            if finished:
                break
            rounds += 1
    assert rounds >= 5
    assert all(i.closed for i in factory.made)


async def test_cancel_release_while_resetting_and_checking() -> None:
    """issue 18 #11: release() cancelled at each await point: the item is kept or closed."""
    factory = Factory()
    async with Pool(factory, max_size=1, check=check, check_on_release=True, reset=reset) as pool:
        box: list[Item] = [await pool.acquire()]

        async def after(result: Any, cancelled: bool) -> None:
            if pool.stats().in_use:  # cancelled before release() ran at all
                assert cancelled
                await _check_invariants(pool, factory, in_use=1)
                return
            await _check_invariants(pool, factory)
            box[0] = await pool.acquire(timeout=None)

        rounds = await _sweep(lambda: pool.release(box[0]), after)
        await pool.release(box[0])
    assert rounds >= 4
    assert all(i.closed for i in factory.made)


async def test_cancel_start_while_filling_min_size() -> None:
    """issue 18 #11: start() cancelled while creating min_size items closes what it made."""
    rounds = 0
    while True:
        factory = Factory()
        pool = Pool(factory, min_size=3, max_size=3)
        task = asyncio.ensure_future(pool.start())
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        outcome = await asyncio.gather(task, return_exceptions=True)
        if finished:
            assert outcome == [None]
        else:
            assert isinstance(outcome[0], asyncio.CancelledError), outcome
        await pool.stop()
        await _settle(pool)
        assert all(i.closed for i in factory.made), rounds
        if finished:
            break
        rounds += 1
    assert rounds >= 3


async def test_cancel_a_sweep_at_every_await_point() -> None:
    """issue 18 #11: reap() cancelled while closing expired items or refilling leaks nothing."""
    from pepperpy.core import ManualClock

    rounds = 0
    while True:
        factory = Factory()
        clock = ManualClock()
        pool = Pool(factory, min_size=2, max_size=4, max_idle=10, reap_interval=1e9, clock=clock)
        await pool.start()
        items = [await pool.acquire() for _ in range(4)]
        for item in items:
            await pool.release(item)
        await clock.advance(11)  # every idle item is past max_idle: 2 close, 2 stay (min_size)
        task = asyncio.ensure_future(pool.reap())
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await _check_invariants(pool, factory)
        await pool.stop()
        await _settle(pool)
        assert all(i.closed for i in factory.made), rounds
        if finished:
            break
        rounds += 1
    assert rounds >= 2
