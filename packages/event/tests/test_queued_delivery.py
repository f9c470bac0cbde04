"""Queued delivery on the manager's own work queue and drain() on its unfinished count (issue 26).

The queue is no longer an ``asyncio.Queue`` subclass (the round trip's hot
path), so these pin the rules it must keep from ``asyncio.Queue``: room freed
for a publisher that is cancelled before it runs goes to the next one, and
``join``/``drain`` waits can be cancelled without leaving anything behind.
``asyncio.wait_for(..., 10)`` only stops a hang; nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from pepperpy.event import EventManager


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="on 3.10 a queued handler runs in a child task, a loop step after its worker took "
    "the event, so it cannot cancel the publisher that taking woke before that one runs",
)
async def test_issue26_room_given_to_a_cancelled_publisher_goes_to_the_next(
    events: EventManager,
) -> None:
    """issue 26: as asyncio.Queue.put, a woken putter that is cancelled wakes the next one.

    Publisher 3 is woken when the worker takes event 2 and is cancelled (by
    handler 2) before it runs; publisher 4 must still get the room, else it
    would wait forever beside an empty queue.
    """
    gate = asyncio.Event()
    took_first = asyncio.Event()
    seen: list[int] = []
    publishers: dict[int, asyncio.Task[int]] = {}

    async def handler(n: int) -> None:
        seen.append(n)
        if n == 1:
            took_first.set()
            await gate.wait()
        elif n == 2:  # the worker took 2 in this step, waking publisher 3
            publishers[3].cancel()

    events.subscribe("t", handler, delivery="queued", queue_size=1, backpressure="block")
    await events.publish("t", 1)
    await asyncio.wait_for(took_first.wait(), 10)  # the worker holds event 1 at the gate
    await events.publish("t", 2)  # fills the queue
    for n in (3, 4):
        publishers[n] = asyncio.ensure_future(events.publish("t", n))
        await asyncio.sleep(0)
    assert not publishers[3].done() and not publishers[4].done()  # both wait for room
    gate.set()
    assert await asyncio.wait_for(publishers[4], 10) == 1
    assert publishers[3].cancelled()
    await asyncio.wait_for(events.drain(), 10)
    assert seen == [1, 2, 4]
    stats = events.stats()["t"]
    assert (stats.routed, stats.delivered, stats.dropped) == (4, 3, 1)


async def test_issue26_cancelled_drains_leave_later_drains_working(events: EventManager) -> None:
    """issue 26: a drain() cancelled while it waits is forgotten; the next one still returns."""
    gate = asyncio.Event()
    seen: list[int] = []

    async def handler(n: int) -> None:
        await gate.wait()
        seen.append(n)

    events.subscribe("t", handler, delivery="queued")
    await events.publish("t", 1)
    drains = [asyncio.ensure_future(events.drain()) for _ in range(100)]
    await asyncio.sleep(0)  # each drain runs once and waits for the queue
    assert not any(d.done() for d in drains)
    for d in drains:
        d.cancel()
    await asyncio.gather(*drains, return_exceptions=True)
    assert all(d.cancelled() for d in drains)
    waiting = asyncio.ensure_future(events.drain())
    await asyncio.sleep(0)
    assert not waiting.done()  # the event is still being handled
    gate.set()
    await asyncio.wait_for(waiting, 10)
    assert seen == [1]
    assert events.pending == 0


async def test_issue26_drain_waits_for_a_subscription_unsubscribed_with_events_queued(
    events: EventManager,
) -> None:
    """issue 26: events accepted before unsubscribe() are handled, and drain() waits for them."""
    gate = asyncio.Event()
    seen: list[int] = []

    async def handler(n: int) -> None:
        await gate.wait()
        seen.append(n)

    sub = events.subscribe("t", handler, delivery="queued")
    for n in range(3):
        await events.publish("t", n)
    sub.unsubscribe()
    waiting = asyncio.ensure_future(events.drain())
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.set()
    await asyncio.wait_for(waiting, 10)
    assert seen == [0, 1, 2]
    assert events.pending == 0


async def test_issue26_drain_waits_for_work_handlers_start_while_it_waits(
    events: EventManager,
) -> None:
    """issue 26: queued -> concurrent -> queued chains are all done when drain() returns."""
    seen: list[str] = []

    async def first(n: int) -> None:
        await asyncio.sleep(0)
        seen.append(f"queued {n}")
        await events.publish("b", n)

    async def second(n: int) -> None:
        await asyncio.sleep(0)
        seen.append(f"concurrent {n}")
        await events.publish("c", n)

    async def third(n: int) -> None:
        await asyncio.sleep(0)
        seen.append(f"last {n}")

    events.subscribe("a", first, delivery="queued")
    events.subscribe("b", second, delivery="concurrent")
    events.subscribe("c", third, delivery="queued")
    for n in range(5):
        await events.publish("a", n)
    await asyncio.wait_for(events.drain(), 10)
    assert sorted(seen) == sorted(
        f"{kind} {n}" for n in range(5) for kind in ("queued", "concurrent", "last")
    )
    assert events.pending == 0
    totals = events.totals()
    assert totals.delivered == totals.routed == 15


async def test_issue26_events_put_while_the_worker_waits_keep_their_order(
    events: EventManager,
) -> None:
    """issue 26: the work queue is FIFO, also for events put while the worker is busy."""
    seen: list[int] = []
    gate = asyncio.Event()
    took_first = asyncio.Event()

    async def handler(n: int) -> None:
        if n == 0:
            took_first.set()
            await gate.wait()
        seen.append(n)

    events.subscribe("t", handler, delivery="queued", queue_size=3, backpressure="drop_oldest")
    await events.publish("t", 0)
    await asyncio.wait_for(took_first.wait(), 10)  # the worker holds event 0 at the gate
    for n in range(1, 6):  # 1 and 2 are dropped: the queue keeps the newest 3
        await events.publish("t", n)
    gate.set()
    await asyncio.wait_for(events.drain(), 10)
    assert seen == [0, 3, 4, 5]
    assert events.stats()["t"].dropped == 2
