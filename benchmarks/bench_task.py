"""pepperpy.task: 10,000 trivial coroutines (concurrency 100) vs aiojobs and semaphore+gather;
durable queue enqueue+run throughput vs huey's SqliteHuey."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from pathlib import Path

from harness import acompare
from pepperpy.task import DurableQueue, TaskManager

REQUIRES = ["aiojobs", "huey"]

N = 10_000
LIMIT = 100


async def _noop() -> None:
    return None


async def bench_10k_coroutines():
    import aiojobs

    tasks = TaskManager(concurrency=LIMIT)
    await tasks.start()

    async def ours() -> None:
        submit = tasks.submit
        for _ in range(N):
            submit(_noop)
        await tasks.drain()

    async def ours_handles() -> None:
        submit = tasks.submit
        handles = [submit(_noop) for _ in range(N)]
        for handle in handles:
            await handle

    async def aiojobs_scheduler() -> None:
        scheduler = aiojobs.Scheduler(limit=LIMIT, pending_limit=N)
        for _ in range(N):
            await scheduler.spawn(_noop())
        await scheduler.wait_and_close()

    async def semaphore_gather() -> None:
        semaphore = asyncio.Semaphore(LIMIT)

        async def limited() -> None:
            async with semaphore:
                await _noop()

        await asyncio.gather(*(limited() for _ in range(N)))

    try:
        return await acompare(
            "task: 10,000 trivial coroutines, concurrency 100",
            {
                "pepperpy (drain)": ours,
                "pepperpy (await handles)": ours_handles,
                "aiojobs": aiojobs_scheduler,
                "semaphore+gather": semaphore_gather,
            },
            inner=1,
            samples=12,
        )
    finally:
        await tasks.stop()


BATCH = 200


async def bench_durable_throughput():
    from huey import SqliteHuey

    root = Path(tempfile.mkdtemp(prefix="pepperpy-bench-"))
    queue = DurableQueue(root / "ours.db", concurrency=10, poll_interval=0.01)

    @queue.register
    async def add(a: int, b: int) -> int:
        return a + b

    tasks = TaskManager(durable=queue)
    await tasks.start()

    huey = SqliteHuey(filename=str(root / "huey.db"))

    @huey.task()
    def huey_add(a: int, b: int) -> int:
        return a + b

    consumer = huey.create_consumer(workers=4, worker_type="thread", periodic=False)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()  # worker threads; it installs signal handlers, put back below
    for sig, handler in saved.items():
        signal.signal(sig, handler)

    async def ours() -> None:
        ids = [await queue.enqueue("add", i, 1) for i in range(BATCH)]
        for task_id in ids:
            await queue.result(task_id, timeout=60)

    def huey_batch() -> None:
        results = [huey_add(i, 1) for i in range(BATCH)]
        for result in results:
            result.get(blocking=True, timeout=60)

    async def peer() -> None:
        await asyncio.to_thread(huey_batch)

    try:
        return await acompare(
            f"task: durable enqueue+run, {BATCH} tasks (SQLite)",
            {"pepperpy DurableQueue": ours, "huey SqliteHuey": peer},
            inner=1,
            samples=6,
        )
    finally:
        consumer.stop(graceful=True)
        await tasks.stop()
