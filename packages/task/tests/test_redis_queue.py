"""What only the Redis durable queue has: configuration, and a Redis server killed mid-run.

Every queue scenario (leases, retries, priorities, a killed worker process, ...)
runs on Redis in the shared conformance suite, test_durable.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable

import pytest

from pepperpy.core import ConfigurationError, ExternalError, InvalidArgumentError, StartupError
from pepperpy.task import DurableQueue, DurableQueueBase, RedisQueue, TaskManager
from pepperpy.testing import RedisServer


def test_is_a_durable_queue(redis_url: str) -> None:
    queue = RedisQueue(redis_url, namespace="x")
    assert isinstance(queue, DurableQueueBase)  # the shared worker loop, its own storage
    assert not isinstance(queue, DurableQueue)  # DurableQueue is the SQLite one
    assert repr(queue) == "<RedisQueue x new>"


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a client or a URL"):
        RedisQueue()
    with pytest.raises(InvalidArgumentError):
        RedisQueue("redis://127.0.0.1:1/0", namespace="")
    with pytest.raises(InvalidArgumentError):
        RedisQueue("redis://127.0.0.1:1/0", visibility_timeout=0)
    monkeypatch.setenv("PEPPERPY_REDIS_URL", "redis://127.0.0.1:1/0")
    assert RedisQueue().url == "redis://127.0.0.1:1/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_redis_is_a_retryable_error() -> None:
    queue = RedisQueue(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(StartupError) as info:
        await queue.start()
    cause = info.value.__cause__
    assert isinstance(cause, ExternalError) and cause.retryable


# --------------------------------------------------------------------------- fault


async def _until(check: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_redis_killed_mid_run_loses_no_acknowledged_task(
    caplog: pytest.LogCaptureFixture, redis_server: RedisServer
) -> None:
    caplog.set_level(logging.WARNING, logger="pepperpy.task")
    server = redis_server  # our own, persisting every acknowledged write (not the shared one)
    url = server.url
    producer = RedisQueue(url, namespace="jobs", poll_interval=0.05)
    worker = RedisQueue(
        url, namespace="jobs", visibility_timeout=1.0, poll_interval=0.05, concurrency=2
    )
    runs: Counter[int] = Counter()
    at_gate = asyncio.Event()
    gate = asyncio.Event()

    @worker.register
    async def work(n: int) -> int:
        runs[n] += 1
        if n == 10 and not gate.is_set():  # hold the worker mid-run
            at_gate.set()
            await gate.wait()
        return n * 10

    manager = TaskManager(durable=worker)
    try:
        await producer.start()
        ids = [await producer.enqueue("work", n) for n in range(30)]  # acknowledged
        await manager.start()
        await asyncio.wait_for(at_gate.wait(), 20)
        finished_before = {}
        for n, task_id in enumerate(ids):
            record = await producer.get(task_id)
            if record.state == "done":
                finished_before[n] = record.result
        assert finished_before  # some finished, 10 is running, the rest wait
        await server.kill()
        with pytest.raises(ExternalError) as info:
            await producer.enqueue("work", -1)
        assert info.value.retryable
        gate.set()  # 10 finishes now, but its result cannot reach Redis
        await _until(lambda: runs[10] == 1 and not worker._running)
        await asyncio.sleep(0.3)  # the worker keeps polling a dead server meanwhile
        assert worker.is_running and manager.is_running
        await server.start()  # same port and directory: the AOF is replayed
        more = [await producer.enqueue("work", n) for n in range(30, 35)]
        results = [await producer.result(task_id, timeout=30) for task_id in ids + more]
        assert results == [n * 10 for n in range(35)]  # nothing lost, the worker survived
        assert set(runs) == set(range(35))
        for n, result in finished_before.items():  # finished: kept, never run again
            assert runs[n] == 1
            assert (await producer.get(ids[n])).result == result
        assert runs[10] == 2  # ran, result lost with the server: delivered again
        assert (await producer.get(ids[10])).attempts == 2
        messages = [r.getMessage() for r in caplog.records]
        assert any("durable queue poll failed" in m for m in messages)
        assert "durable queue polls again after a failure" in messages
    finally:
        await manager.stop()
        await producer.stop()
