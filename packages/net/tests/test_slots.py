"""Tests for pepperpy.net._slots: the FIFO limiter behind connection slots."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.net._slots import Slots


async def _take(slots: Slots, timeout: float = 5.0) -> bool:
    if slots.free > 0 and not slots.waiters:
        slots.free -= 1
        return True
    return await slots.wait(timeout)


async def test_waiters_are_served_in_order() -> None:
    slots = Slots(1)
    assert await _take(slots)
    order: list[int] = []

    async def waiter(n: int) -> None:
        assert await slots.wait(5)
        order.append(n)
        slots.release()

    tasks = [asyncio.ensure_future(waiter(n)) for n in range(5)]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert slots.free == 1


async def test_wait_times_out_and_leaves_no_waiter() -> None:
    slots = Slots(1)
    await _take(slots)
    assert not await slots.wait(0.01)
    assert not slots.waiters
    slots.release()
    assert slots.free == 1


async def test_cancelled_waiter_does_not_swallow_a_slot() -> None:
    slots = Slots(1)
    await _take(slots)
    waiter = asyncio.ensure_future(slots.wait(5))
    await asyncio.sleep(0)
    slots.release()  # hands the slot to the waiter ...
    waiter.cancel()  # ... which is cancelled before it runs
    await asyncio.gather(waiter, return_exceptions=True)
    assert slots.free == 1
    assert slots.in_use == 0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.lists(st.integers(0, 3), min_size=1, max_size=30))
def test_never_more_holders_than_capacity(capacity: int, holds: list[int]) -> None:
    async def scenario() -> None:
        slots = Slots(capacity)
        active = 0
        peak = 0

        async def user(yields: int) -> None:
            nonlocal active, peak
            await _take(slots)
            active += 1
            peak = max(peak, active)
            for _ in range(yields):
                await asyncio.sleep(0)
            active -= 1
            slots.release()

        await asyncio.gather(*(user(n) for n in holds))
        assert peak <= capacity
        assert slots.free == capacity

    asyncio.run(scenario())
