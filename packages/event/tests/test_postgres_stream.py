"""PostgresStream beyond the conformance suite: dropped connections, DSNs, outages."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.event import PostgresStream, StreamError, StreamMessage, connect_stream


@pytest.fixture
async def namespace(postgres_dsn: str) -> AsyncIterator[str]:
    """A stream namespace of this test's own; its rows are deleted afterwards."""
    import asyncpg

    prefix = f"test:{uuid.uuid4().hex[:12]}"
    yield prefix
    conn = await asyncpg.connect(postgres_dsn)
    for table in ("streams", "stream_entries", "stream_groups", "stream_pending"):
        if await conn.fetchval("SELECT to_regclass($1)", f"pepperpy_{table}"):
            await conn.execute(f"DELETE FROM pepperpy_{table} WHERE stream LIKE $1", f"{prefix}:%")
    await conn.close()


async def _until(predicate: Any, seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_dropped_connections_lose_no_acknowledged_event(
    postgres_dsn: str, namespace: str
) -> None:
    import asyncpg

    producer = PostgresStream(postgres_dsn, "orders", namespace=namespace)
    consumer = PostgresStream(
        postgres_dsn, "orders", namespace=namespace, consumer="c1", block=0.1, claim_after=0.5
    )
    handled: list[str] = []
    at_gate, gate = asyncio.Event(), asyncio.Event()

    async def handler(message: StreamMessage) -> None:
        if message.data == 13 and not gate.is_set():  # hold the consumer mid-stream
            at_gate.set()
            await gate.wait()
        handled.append(message.id)

    stop = asyncio.Event()
    await consumer.ensure_group()
    before = [await producer.publish("jobs", n) for n in range(20)]
    task = asyncio.ensure_future(consumer.consume(handler, stop=stop, retry_interval=0.05))
    try:
        await asyncio.wait_for(at_gate.wait(), 20)
        acked = set(handled)
        assert len(acked) == 13
        admin = await asyncpg.connect(postgres_dsn)
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            consumer.application_name,
        )
        await admin.close()
        assert killed >= 1  # every connection of the consumer, mid-stream
        gate.set()  # 13 is handled now; its acknowledgement fails on the dead connection
        after = [await producer.publish("jobs", n) for n in range(20, 30)]
        await _until(lambda: set(before + after) <= set(handled) and consumer.handled >= 29)
        await _until(lambda: consumer.handled == 30)
        counts = Counter(handled)
        assert all(counts[entry] == 1 for entry in acked)  # acknowledged: never again
        assert set(handled) == set(before + after)  # nothing lost (13 may come twice)
        assert await consumer.pending() == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await producer.aclose()
        await consumer.aclose()


async def test_dsns_and_outages(postgres_dsn: str) -> None:
    with pytest.raises(InvalidArgumentError, match="postgresql://"):
        PostgresStream("mysql://localhost/db")
    with pytest.raises(InvalidArgumentError, match="poll_interval"):
        PostgresStream(postgres_dsn, poll_interval=-1)
    secret = PostgresStream("postgresql://app:hunter2@127.0.0.1:5432/db", "orders")
    assert "hunter2" not in repr(secret)
    assert isinstance(connect_stream("postgres://127.0.0.1/db"), PostgresStream)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = PostgresStream(f"postgresql://postgres@127.0.0.1:{port}/postgres", "orders")
    with pytest.raises(StreamError) as info:
        await down.publish("jobs", 1)
    assert info.value.retryable
    assert "hunter2" not in str(info.value)
    await down.aclose()
