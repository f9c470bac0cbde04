"""Tests for pepperpy.event._redis against real Redis servers (Streams and pub/sub)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError
from pepperpy.event import (
    EventManager,
    RedisPubSub,
    RedisStream,
    StreamError,
    StreamMessage,
)


@attrs.define
class Paid:
    order: int
    amount: float


def _stream(client: Any, namespace: str, **options: Any) -> RedisStream:
    return RedisStream(client, "orders", namespace=namespace, **options)


async def _until(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def consumers() -> AsyncIterator[Callable[..., asyncio.Event]]:
    """Start ``stream.consume(handler)`` tasks; all are stopped after the test."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(stream: RedisStream, handler: Callable[[StreamMessage], Any]) -> asyncio.Event:
        stop = asyncio.Event()
        running.append((stop, asyncio.ensure_future(stream.consume(handler, stop=stop))))
        return stop

    yield start
    for stop, _ in running:
        stop.set()
    await asyncio.gather(*(task for _, task in running))


async def test_a_group_shares_the_work_and_every_group_gets_everything(
    redis_client: Any, redis_namespace: str, consumers: Callable[..., asyncio.Event]
) -> None:
    one = _stream(redis_client, redis_namespace, group="billing", consumer="one", block=0.1)
    two = _stream(redis_client, redis_namespace, group="billing", consumer="two", block=0.1)
    audit = _stream(redis_client, redis_namespace, group="audit", block=0.1)
    for stream in (one, two, audit):
        await stream.ensure_group()
    seen: dict[str, list[str]] = {"one": [], "two": [], "audit": []}
    consumers(one, lambda m: seen["one"].append(m.id))
    consumers(two, lambda m: seen["two"].append(m.id))
    consumers(audit, lambda m: seen["audit"].append(m.id))
    ids = [await one.publish("orders.paid", {"order": i}) for i in range(40)]
    await _until(lambda: len(seen["one"]) + len(seen["two"]) == 40 and len(seen["audit"]) == 40)
    assert sorted(seen["one"] + seen["two"]) == sorted(ids)  # each handled once
    assert seen["audit"] == ids  # in append order
    await _until(lambda: one.handled + two.handled == 40)
    assert await one.pending() == 0


async def test_payloads_round_trip(redis_client: Any, redis_namespace: str) -> None:
    stream = _stream(redis_client, redis_namespace)
    await stream.ensure_group()
    await stream.publish("orders.paid", Paid(7, 9.5))
    await stream.publish("orders.note", None)
    messages = await stream.read(block=0.1)
    assert [(m.topic, m.data, m.deliveries) for m in messages] == [
        ("orders.paid", {"order": 7, "amount": 9.5}, 1),
        ("orders.note", None, 1),
    ]
    assert await stream.ack(*messages) == 2
    assert await stream.ack(*messages) == 0
    assert await stream.ack() == 0
    with pytest.raises(InvalidArgumentError, match="cannot send"):
        await stream.publish("x", float("nan"))
    with pytest.raises(InvalidArgumentError, match="topic"):
        await stream.publish("", 1)


async def test_failed_events_come_back_then_go_to_dead_letters(
    redis_client: Any, redis_namespace: str, consumers: Callable[..., asyncio.Event]
) -> None:
    stream = _stream(redis_client, redis_namespace, claim_after=0.05, max_deliveries=3, block=0.1)
    attempts: Counter[Any] = Counter()

    def handler(message: StreamMessage) -> None:
        attempts[message.data["n"]] += 1
        if message.data["n"] == 1 and message.deliveries < 2:
            raise RuntimeError("transient")
        if message.data["n"] == 2:
            raise RuntimeError("always")

    await stream.ensure_group()
    for n in range(3):
        await stream.publish("jobs", {"n": n})
    consumers(stream, handler)
    await _until(lambda: stream.dead_lettered == 1 and stream.handled == 2)
    assert attempts == {0: 1, 1: 2, 2: 3}
    assert await stream.pending() == 0
    dead = await redis_client.xrange(stream.dead_key)
    assert len(dead) == 1
    fields = {k.decode(): v.decode() for k, v in dead[0][1].items()}
    assert fields["t"] == "jobs"
    assert "always" in fields["error"]
    assert fields["deliveries"] == "3"


async def test_a_dead_consumers_events_are_claimed_by_another(
    redis_client: Any, redis_namespace: str, consumers: Callable[..., asyncio.Event]
) -> None:
    crashed = _stream(redis_client, redis_namespace, consumer="crashed")
    await crashed.ensure_group()
    for n in range(5):
        await crashed.publish("jobs", n)
    taken = await crashed.read(block=0.1)  # read, then "killed" before acknowledging
    assert len(taken) == 5
    survivor = _stream(
        redis_client, redis_namespace, consumer="survivor", claim_after=0.1, block=0.1
    )
    got: list[StreamMessage] = []
    consumers(survivor, got.append)
    await _until(lambda: survivor.handled == 5)
    assert [m.data for m in got] == [0, 1, 2, 3, 4]
    assert all(m.deliveries == 2 for m in got)
    assert await survivor.pending() == 0


async def test_a_restarted_consumer_reads_its_own_pending_first(
    redis_client: Any, redis_namespace: str
) -> None:
    first = _stream(redis_client, redis_namespace, consumer="worker-1", batch=2)
    await first.ensure_group()
    for n in range(3):
        await first.publish("jobs", n)
    assert len(await first.read(block=0.1)) == 2  # then the process restarts
    again = _stream(redis_client, redis_namespace, consumer="worker-1", batch=2)
    pending = await again.read(block=0.1)
    assert [(m.data, m.deliveries) for m in pending] == [(0, 2), (1, 2)]
    assert [m.data for m in await again.read(block=0.1)] == [2]  # then new ones
    assert await again.read(block=0.05) == []


async def test_forward_into_a_local_event_manager(redis_client: Any, redis_namespace: str) -> None:
    stream = _stream(redis_client, redis_namespace, block=0.1)
    await stream.ensure_group()
    received: list[Any] = []
    async with EventManager() as manager:
        manager.subscribe("orders.*", received.append)
        stop = asyncio.Event()
        task = asyncio.ensure_future(stream.forward(manager, stop=stop))
        await stream.publish("orders.paid", {"order": 1})
        await stream.publish("users.new", {"user": 2})
        await _until(lambda: stream.handled == 2)
        stop.set()
        await task
    assert received == [{"order": 1}]
    assert await stream.pending() == 0


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


class _Server:
    """A redis-server of this test's own, persisting every write (AOF, fsync always)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("PEPPERPY_REQUIRE_SERVICES") == "1":
                pytest.fail("redis-server is not installed (PEPPERPY_REQUIRE_SERVICES=1)")
            pytest.skip("redis-server is not installed; run `python tools/services.py start`")
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="pepperpy-redis-fault-"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
            *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            await asyncio.sleep(0.01)
        raise AssertionError("redis-server did not start")

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def cleanup(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


async def test_redis_killed_mid_stream_loses_no_acknowledged_event() -> None:
    server = _Server()
    await server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
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
        await server.cleanup()
