"""The stream's edge queue (issue 26: replaces asyncio.Queue, whose layering was most of a
stream's time). asyncio.Queue is the peer that defines every behaviour checked here."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.pipeline._channel import Channel

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_fifo_and_a_full_channel_makes_put_wait() -> None:
    channel = Channel(2)
    await channel.put(1)
    await channel.put(2)
    third = asyncio.ensure_future(channel.put(3))
    await settle()
    assert not third.done()  # bounded, like asyncio.Queue(2)
    assert await channel.get() == 1
    await third
    assert [await channel.get(), await channel.get()] == [2, 3]
    assert channel.empty()


async def test_a_woken_getter_cancelled_before_it_runs_hands_the_item_on() -> None:
    """asyncio.Queue.get: a getter woken by put and cancelled wakes the next getter."""
    channel = Channel(4)
    first = asyncio.ensure_future(channel.get())
    second = asyncio.ensure_future(channel.get())
    await settle()
    channel.put_nowait("item")  # wakes `first`...
    first.cancel()  # ...which is cancelled before it can take the item
    await settle()
    assert first.cancelled()
    assert second.done()
    assert second.result() == "item"


async def test_a_cancelled_putter_adds_nothing_and_passes_its_slot_on() -> None:
    """asyncio.Queue.put: a cancelled put adds nothing; a woken one hands the slot on."""
    channel = Channel(1)
    await channel.put("a")
    first = asyncio.ensure_future(channel.put("b"))
    second = asyncio.ensure_future(channel.put("c"))
    await settle()
    assert await channel.get() == "a"  # wakes `first`...
    first.cancel()  # ...which is cancelled before it can put
    await settle()
    assert first.cancelled()
    assert second.done()
    assert await channel.get() == "c"
    assert channel.empty()


async def test_maxsize_zero_is_unbounded_like_asyncio_queue() -> None:
    channel = Channel(0)
    for i in range(1000):
        await channel.put(i)
    assert channel.qsize() == 1000


async def test_put_nowait_passes_the_bound_for_markers() -> None:
    channel = Channel(1)
    await channel.put(1)
    channel.put_nowait("end")
    assert [channel.get_nowait(), channel.get_nowait()] == [1, "end"]


@settings(max_examples=30, deadline=None)
@given(
    maxsize=st.integers(1, 4),
    items=st.lists(st.integers(), max_size=30),
    getters=st.integers(1, 4),
)
async def test_every_item_arrives_once_in_order_per_getter(
    maxsize: int, items: list[int], getters: int
) -> None:
    """Several producers' worth of items through a small channel to several getters:
    nothing lost, nothing duplicated, FIFO overall (as asyncio.Queue)."""
    channel = Channel(maxsize)
    end = object()
    received: list[int] = []

    async def getter() -> None:
        while True:
            item = await channel.get()
            if item is end:
                return
            received.append(item)

    tasks = [asyncio.ensure_future(getter()) for _ in range(getters)]
    for item in items:
        await channel.put(item)
    for _ in range(getters):
        await channel.put(end)
    await asyncio.gather(*tasks)
    assert received == items
