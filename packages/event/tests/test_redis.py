"""Redis-only tests: pub/sub, configuration, outages and a server killed mid-stream.

The stream semantics RedisStream shares with the other backends are in
test_conformance.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError
from pepperpy.event import (
    RedisPubSub,
    RedisStream,
    StreamError,
    StreamMessage,
)
from pepperpy.testing import RedisServer


async def _until(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_pubsub_is_fire_and_forget(redis_client: Any, redis_namespace: str) -> None:
    bus = RedisPubSub(redis_client, namespace=redis_namespace)
    assert await bus.publish("orders.paid", {"order": 0}) == 0  # nobody listens: gone
    async with await bus.subscribe("orders.*") as sub:
        assert await bus.publish("orders.paid", {"order": 1}) == 1
        assert await bus.publish("users.new", {"user": 1}) == 0
        assert await asyncio.wait_for(sub.__anext__(), 10) == ("orders.paid", {"order": 1})


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a client or a URL"):
        RedisStream()
    with pytest.raises(ConfigurationError):
        RedisPubSub()
    with pytest.raises(InvalidArgumentError):
        RedisStream("redis://127.0.0.1:1/0", max_deliveries=0)


async def test_unreachable_redis_is_a_retryable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stream = RedisStream(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(StreamError) as info:
        await stream.publish("x", 1)
    assert info.value.retryable
    await stream.aclose()


# --------------------------------------------------------------------------- fault


async def test_redis_killed_mid_stream_loses_no_acknowledged_event(
    redis_server: RedisServer,
) -> None:
    server = redis_server  # our own, persisting every acknowledged write (not the shared one)
    url = server.url
    producer = RedisStream(url, "orders")
    consumer = RedisStream(url, "orders", consumer="c1", claim_after=0.2, block=0.1)
    handled: list[str] = []
    failed_once: set[int] = set()
    at_gate = asyncio.Event()
    gate = asyncio.Event()

    async def handler(message: StreamMessage) -> None:
        n = message.data
        if n % 4 == 0 and n not in failed_once:  # every 4th fails once: stays pending
            failed_once.add(n)
            raise RuntimeError("not yet")
        if n == 13 and not gate.is_set():  # hold the consumer mid-stream
            at_gate.set()
            await gate.wait()
        handled.append(message.id)

    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        await consumer.ensure_group()
        before = [await producer.publish("jobs", n) for n in range(20)]
        task = asyncio.ensure_future(consumer.consume(handler, stop=stop, retry_interval=0.05))
        await asyncio.wait_for(at_gate.wait(), 20)
        acked_at_kill = set(handled)  # every event before 13 was acknowledged (or failed)
        assert len(acked_at_kill) == 9  # 1-3, 5-7, 9-11; 0, 4, 8, 12 failed once
        await server.kill()  # mid-stream: some acknowledged, some pending, some unread
        with pytest.raises(StreamError):
            await producer.publish("jobs", -1)
        gate.set()  # 13 is handled now, but its acknowledgement cannot reach Redis
        await _until(lambda: before[19] in handled)  # the batch ran; no ack got through
        await server.start()  # same port and directory: the AOF is replayed
        after = [await producer.publish("jobs", n) for n in range(20, 30)]
        await _until(lambda: set(before + after) <= set(handled))
        counts = Counter(handled)
        assert all(counts[i] == 1 for i in acked_at_kill)  # acknowledged: never again
        assert set(handled) == set(before + after)  # nothing lost
        assert counts[before[13]] == 2  # handled, not acknowledged: delivered again
        assert failed_once == {0, 4, 8, 12, 16, 20, 24, 28}
        await _until(lambda: consumer.handled == 30)
        assert await consumer.pending() == 0
    finally:
        stop.set()
        if task is not None:
            await task
        await producer.aclose()
        await consumer.aclose()
