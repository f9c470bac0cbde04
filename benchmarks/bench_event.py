"""pepperpy.event: publish to 1 and 10 async handlers vs pyee, blinker and a bare asyncio.Queue."""

from __future__ import annotations

import asyncio

from harness import acompare
from pepperpy.event import EventManager

REQUIRES = ["pyee", "blinker"]


async def _publish(handlers: int):
    import blinker
    from pyee.asyncio import AsyncIOEventEmitter

    hits = 0

    async def handler(_: object) -> None:
        nonlocal hits
        hits += 1

    async def blinker_receiver(sender: object, **kwargs: object) -> None:
        nonlocal hits
        hits += 1

    events = EventManager()
    await events.start()
    emitter = AsyncIOEventEmitter()
    signal = blinker.Signal()
    receivers = []
    for _ in range(handlers):
        events.subscribe("orders.created", handler)
        emitter.on("orders.created", handler)

        # Distinct function objects: blinker keys receivers by identity.
        async def receiver(sender: object, **kwargs: object) -> None:
            await blinker_receiver(sender, **kwargs)

        receivers.append(receiver)
        signal.connect(receiver, weak=False)

    # The limit: one consumer task draining a queue, the publisher waiting for it.
    queue: asyncio.Queue[tuple[object, asyncio.Future[None]]] = asyncio.Queue()
    handler_list = [handler] * handlers

    async def consume() -> None:
        while True:
            item, done = await queue.get()
            for h in handler_list:
                await h(item)
            done.set_result(None)

    consumer = asyncio.ensure_future(consume())
    loop = asyncio.get_running_loop()

    async def ours() -> None:
        await events.publish("orders.created", 1)

    async def pyee() -> None:
        emitter.emit("orders.created", 1)
        await asyncio.sleep(0)  # pyee runs each coroutine handler as a task

    async def blinker_send() -> None:
        await signal.send_async(None, _sync_wrapper=None)  # type: ignore[arg-type]

    async def bare_queue() -> None:
        done = loop.create_future()
        queue.put_nowait((1, done))
        await done

    try:
        return await acompare(
            f"event: publish to {handlers} async handler{'s' if handlers > 1 else ''}",
            {"pepperpy": ours, "pyee": pyee, "blinker": blinker_send, "asyncio.Queue": bare_queue},
            inner=500,
        )
    finally:
        consumer.cancel()
        await events.stop()


async def bench_publish_1_handler():
    return await _publish(1)


async def bench_publish_10_handlers():
    return await _publish(10)


async def bench_queued_round_trip():
    """Queued delivery (one worker task) against the bare asyncio.Queue round trip.

    "asyncio.Queue + join()" is the same shape as publish + drain() with the
    standard library alone: put, then wait until the worker marked the item
    done. It does none of what ours does per event (routing, counters, the
    publisher's context values, failure isolation, the worker's cancellation
    check), so it bounds what a queued round trip can cost from below.
    """
    hits = 0

    async def handler(_: object) -> None:
        nonlocal hits
        hits += 1

    events = EventManager()
    events.subscribe("orders.created", handler, delivery="queued")
    await events.start()
    queue: asyncio.Queue[tuple[object, asyncio.Future[None]]] = asyncio.Queue()

    async def consume() -> None:
        while True:
            item, done = await queue.get()
            await handler(item)
            done.set_result(None)

    joined: asyncio.Queue[object] = asyncio.Queue()

    async def work() -> None:
        while True:
            item = await joined.get()
            try:
                await handler(item)
            finally:
                joined.task_done()

    consumer = asyncio.ensure_future(consume())
    worker = asyncio.ensure_future(work())
    loop = asyncio.get_running_loop()

    async def ours() -> None:
        await events.publish("orders.created", 1)
        await events.drain()

    async def queue_join() -> None:
        joined.put_nowait(1)
        await joined.join()

    async def bare_queue() -> None:
        done = loop.create_future()
        queue.put_nowait((1, done))
        await done

    try:
        return await acompare(
            "event: queued delivery round trip (publish + drain)",
            {"pepperpy": ours, "asyncio.Queue": bare_queue, "asyncio.Queue + join()": queue_join},
            inner=500,
        )
    finally:
        consumer.cancel()
        worker.cancel()
        await events.stop()
