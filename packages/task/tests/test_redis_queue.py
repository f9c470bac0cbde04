"""Tests for pepperpy.task._redis: the durable queue's own suite, rerun on a real Redis.

Every scenario of test_durable.py that does not open the SQLite file itself runs
here unchanged with ``DurableQueue(path, ...)`` meaning "a RedisQueue in a
namespace of its own for that path", so both backends share one suite. Then
what only Redis needs: a killed worker process, a lost last attempt, priorities
across functions, several workers on one queue.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError
from pepperpy.task import DurableQueue, DurableQueueBase, RedisQueue, TaskManager

from . import test_durable as suite

SHARED = [
    "test_enqueue_run_and_result",
    "test_task_survives_a_restart",
    "test_graceful_shutdown_releases_without_using_an_attempt",
    "test_failures_retry_then_fail_for_good",
    "test_workers_only_claim_registered_names",
    "test_long_task_keeps_its_lease",
    "test_results_expire",
    "test_dedup_ids_delay_and_validation",
    "test_delayed_task_waits_for_its_time",
    "test_cancel_queued_and_running_tasks",
    "test_sync_durable_task_runs_off_the_loop",
]


@pytest.fixture
def redis_queues(redis_client: Any, redis_namespace: str) -> Callable[..., RedisQueue]:
    """``factory(path, **options)``: one namespace per path, so producers and workers meet."""

    def factory(path: str | os.PathLike[str], **options: Any) -> RedisQueue:
        return RedisQueue(redis_client, namespace=f"{redis_namespace}:{Path(path).name}", **options)

    return factory


@pytest.mark.parametrize("scenario", SHARED)
async def test_durable_suite_on_redis(
    scenario: str,
    tmp_path: Path,
    redis_queues: Callable[..., RedisQueue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suite, "DurableQueue", redis_queues)
    await getattr(suite, scenario)(tmp_path / "tasks.db")
    assert not (tmp_path / "tasks.db").exists()  # it ran on Redis, not on SQLite


def test_is_a_durable_queue(redis_url: str) -> None:
    queue = RedisQueue(redis_url, namespace="x")
    assert isinstance(queue, DurableQueueBase)  # the shared worker loop, its own storage
    assert not isinstance(queue, DurableQueue)  # DurableQueue is the SQLite one
    assert repr(queue) == "<RedisQueue x new>"


async def test_priorities_across_functions_then_age(
    redis_queues: Callable[..., RedisQueue],
) -> None:
    producer = redis_queues("prio")
    async with producer:
        ids = {
            "low-old": await producer.enqueue("a", priority=-1),
            "mid-b": await producer.enqueue("b", priority=0),
            "high": await producer.enqueue("b", priority=5),
            "mid-a": await producer.enqueue("a", priority=0),
        }
    worker = redis_queues("prio", concurrency=1, poll_interval=0.02)
    order: list[str] = []
    worker.register(lambda: order.append("a"), name="a")
    worker.register(lambda: order.append("b"), name="b")
    async with TaskManager(durable=worker):
        for task_id in ids.values():
            await worker.result(task_id, timeout=30)
        finished = [await worker.get(task_id) for task_id in ids.values()]
    assert order == ["b", "b", "a", "a"]  # priority 5, then the priority-0 ones by age
    by_finish = sorted(zip(ids, finished, strict=True), key=lambda p: p[1].finished_at or 0)
    assert [name for name, _ in by_finish] == ["high", "mid-b", "mid-a", "low-old"]


async def test_several_workers_share_the_queue_each_task_once(
    redis_queues: Callable[..., RedisQueue],
) -> None:
    runs: dict[int, list[str]] = {}
    workers = []
    for label in ("w1", "w2", "w3"):
        worker = redis_queues("shared", poll_interval=0.02, concurrency=4)

        def record(n: int, label: str = label) -> int:
            runs.setdefault(n, []).append(label)
            return n

        worker.register(record, name="record")
        workers.append(worker)
    managers = [TaskManager(durable=w) for w in workers]
    for manager in managers:
        await manager.start()
    try:
        ids = [await workers[0].enqueue("record", n) for n in range(60)]
        results = [await workers[1].result(task_id, timeout=60) for task_id in ids]
    finally:
        for manager in managers:
            await manager.stop()
    assert results == list(range(60))
    assert all(len(labels) == 1 for labels in runs.values())
    assert sorted(runs) == list(range(60))


async def test_worker_process_killed_mid_task_is_redelivered(
    redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    namespace = f"{redis_namespace}:killed"
    script = textwrap.dedent(
        f"""
        import asyncio, pathlib
        from pepperpy.task import RedisQueue, TaskManager

        queue = RedisQueue({redis_url!r}, namespace={namespace!r},
                           visibility_timeout=1.0, poll_interval=0.05)

        @queue.register
        async def charge(order: int) -> str:
            pathlib.Path({str(marker)!r}).write_text(str(order))
            await asyncio.sleep(3600)  # killed in here

        async def main():
            async with TaskManager(durable=queue):
                await asyncio.sleep(3600)

        asyncio.run(main())
        """
    )
    producer = RedisQueue(redis_url, namespace=namespace)
    async with producer:
        task_id = await producer.enqueue("charge", 42)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.returncode is None, "worker exited early"
            assert time.monotonic() < deadline, "worker never started the task"
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup: the lease stays until it runs out
        await proc.wait()
    queue = RedisQueue(redis_url, namespace=namespace, visibility_timeout=1.0, poll_interval=0.05)
    async with queue:
        assert (await queue.get(task_id)).state == "running"

    @queue.register
    async def charge(order: int) -> str:
        return f"charged {order}"

    async with TaskManager(durable=queue):
        assert await queue.result(task_id, timeout=60) == "charged 42"
        record = await queue.get(task_id)
    assert record.attempts == 2  # the killed delivery counted


async def test_a_task_lost_on_its_last_attempt_is_failed(
    redis_queues: Callable[..., RedisQueue], redis_client: Any
) -> None:
    producer = redis_queues("lost")
    async with producer:
        task_id = await producer.enqueue("fragile", max_attempts=1)
        # What a worker that died during the only allowed delivery leaves behind.
        ns = producer.namespace
        await redis_client.zrem(f"{ns}:q:fragile:0", task_id)
        await redis_client.hset(
            f"{ns}:t:{task_id}", mapping={"state": "running", "attempts": 1, "lease_until": 0}
        )
        await redis_client.zadd(f"{ns}:running", {task_id: 0})
    worker = redis_queues("lost", poll_interval=0.05)
    worker.register(lambda: "never", name="fragile")
    async with TaskManager(durable=worker):
        record = await suite.wait_done(worker, task_id)
    assert record.state == "failed"
    assert "lost" in (record.error or "")


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a client or a URL"):
        RedisQueue()
    with pytest.raises(InvalidArgumentError):
        RedisQueue("redis://127.0.0.1:1/0", namespace="")
    with pytest.raises(InvalidArgumentError):
        RedisQueue("redis://127.0.0.1:1/0", visibility_timeout=0)
