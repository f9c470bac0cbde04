"""A task-queue worker process for bench_scale's multi-process Redis benchmark.

python benchmarks/_scale_workers.py ours|arq|taskiq REDIS_URL NAMESPACE [CONCURRENCY POLL]

Starts one worker of the given library on the namespace's queue, registers the
task ``work(counter, target, pause)``, prints ``ready`` once it listens, and runs
until its stdin closes (the benchmark process holds the other end, so a dead
benchmark never leaves workers behind) or it gets SIGTERM.

``work`` sleeps *pause* seconds (0: none), then INCRs the Redis key *counter*; the
task that brings it to *target* RPUSHes ``{counter}:done``, which the producer
BLPOPs: completion costs every library the same two commands, and the
producer does not poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

FUNCTION = "work"

_redis: Any = None  # this process's client for the completion counter


async def work(counter: str, target: int, pause: float) -> int:
    """The benchmark task: optional I/O wait, then count; the last one signals."""
    if pause:
        await asyncio.sleep(pause)
    count = int(await _redis.incr(counter))
    if count == target:
        await _redis.rpush(f"{counter}:done", 1)
    return count


def queue_names(namespace: str) -> dict[str, str]:
    """Where each library's queue lives for *namespace* (producer and workers agree)."""
    return {
        "ours": f"{namespace}:ours",
        "arq": f"{namespace}:arq",
        "taskiq": f"{namespace}:taskiq",
    }


def taskiq_broker(url: str, namespace: str, concurrency: int) -> Any:
    """taskiq's Redis Streams broker (acknowledged, redelivered: like ours) for *namespace*."""
    from taskiq_redis import RedisStreamBroker

    broker = RedisStreamBroker(
        url,
        queue_name=queue_names(namespace)["taskiq"],
        consumer_group_name=f"{namespace}:taskiq-group",
        xread_count=concurrency,  # fetch at most a worker's slots at once, like the others
    )
    broker.register_task(work, task_name=FUNCTION)
    return broker


async def _until_stopped() -> None:
    """Return when stdin reaches EOF (the benchmark died or closed it) or on SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)

    def watch_stdin() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    loop.run_in_executor(None, watch_stdin)
    await stop.wait()


def _ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()


async def run_ours(url: str, namespace: str, concurrency: int, poll: float) -> None:
    from pepperpy.task import RedisQueue, TaskManager

    queue = RedisQueue(
        url,
        namespace=queue_names(namespace)["ours"],
        concurrency=concurrency,
        poll_interval=poll,
        result_ttl=60,
    )
    queue.register(work, name=FUNCTION)
    manager = TaskManager(durable=queue)
    await manager.start()
    try:
        _ready()
        await _until_stopped()
    finally:
        await manager.stop()


async def run_arq(url: str, namespace: str, concurrency: int, poll: float) -> None:
    from urllib.parse import urlsplit

    import arq.connections
    import arq.worker

    async def arq_work(ctx: dict[str, Any], counter: str, target: int, pause: float) -> int:
        return await work(counter, target, pause)

    async def on_startup(ctx: dict[str, Any]) -> None:
        _ready()

    parts = urlsplit(url)
    db = int(parts.path.lstrip("/") or 0)
    worker = arq.worker.Worker(
        functions=[arq.worker.func(arq_work, name=FUNCTION)],
        redis_settings=arq.connections.RedisSettings(
            host=parts.hostname or "127.0.0.1", port=parts.port or 6379, database=db
        ),
        queue_name=queue_names(namespace)["arq"],
        poll_delay=poll,
        max_jobs=concurrency,
        keep_result=60,
        handle_signals=False,
        on_startup=on_startup,
    )
    running = asyncio.ensure_future(worker.async_run())
    stopped = asyncio.ensure_future(_until_stopped())
    try:
        await asyncio.wait((running, stopped), return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # a worker that died says why
    finally:
        running.cancel()
        stopped.cancel()
        await asyncio.gather(running, stopped, return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):  # jobs cut short by the stop
            await worker.close()


async def run_taskiq(url: str, namespace: str, concurrency: int, poll: float) -> None:
    from taskiq.api import run_receiver_task

    logging.getLogger("taskiq").setLevel(logging.ERROR)  # no warning at every shutdown

    broker = taskiq_broker(url, namespace, concurrency)
    broker.is_worker_process = True
    await broker.startup()  # creates the consumer group: ready once it exists
    receiving = asyncio.ensure_future(
        run_receiver_task(broker, max_async_tasks=concurrency, run_startup=False)
    )
    _ready()
    stopped = asyncio.ensure_future(_until_stopped())
    try:
        await asyncio.wait((receiving, stopped), return_when=asyncio.FIRST_COMPLETED)
        if receiving.done():
            receiving.result()
        await asyncio.sleep(0.5)  # acknowledgements of the last tasks land before the stop
    finally:
        receiving.cancel()
        stopped.cancel()
        await asyncio.gather(receiving, stopped, return_exceptions=True)
        await broker.shutdown()


RUNNERS = {"ours": run_ours, "arq": run_arq, "taskiq": run_taskiq}


async def main(argv: list[str]) -> None:
    global _redis
    import redis.asyncio

    library, url, namespace = argv[:3]
    concurrency = int(argv[3]) if len(argv) > 3 else 20
    poll = float(argv[4]) if len(argv) > 4 else 0.01
    loop = asyncio.get_running_loop()

    def report(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        sys.stderr.write(f"[{library} worker {os.getpid()}] ")  # whose message it is
        loop.default_exception_handler(context)

    loop.set_exception_handler(report)
    _redis = redis.asyncio.Redis.from_url(url)
    try:
        await RUNNERS[library](url, namespace, concurrency, poll)
    finally:
        await _redis.aclose()


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in RUNNERS:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1:]))
