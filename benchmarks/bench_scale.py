"""Scale-out backends against their drivers and peers: Redis task queue, cache, Postgres store.

Targets (issue 13): the task queue on Redis at least equal to arq (one in-process
worker each; 4 worker processes each, there also against taskiq's Redis Streams
broker); the cache on Redis get/set within 1.2x of raw redis-py calls (the limit:
one command, no serialization) and ahead of aiocache's Redis backend; storage on
PostgreSQL: 100 concurrent writers' put throughput against raw asyncpg
``executemany`` in one transaction (the limit) and naive one-statement-per-put.

Servers: $PEPPERPY_REDIS_URL / $PEPPERPY_POSTGRES_DSN, else started here with
tools/services.py (127.0.0.1, temporary) and stopped at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from harness import acompare

# taskiq-redis 1.0.x is the last one that takes redis<6 (arq needs it) and it needs taskiq<0.13.
REQUIRES = ["redis", "asyncpg", "aiocache", "arq", "taskiq<0.13", "taskiq-redis"]

WRITERS = 100
_SERVICES: dict[str, str] = {}


def _services() -> dict[str, str]:
    """The servers' URLs; starts them with tools/services.py when not given."""
    if _SERVICES:
        return _SERVICES
    wanted = ("PEPPERPY_REDIS_URL", "PEPPERPY_POSTGRES_DSN")
    if all(os.environ.get(name) for name in wanted):
        _SERVICES.update({name: os.environ[name] for name in wanted})
        return _SERVICES
    path = Path(__file__).resolve().parent.parent / "tools" / "services.py"
    spec = importlib.util.spec_from_file_location("_bench_services", path)
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    env_file = Path(tempfile.mkdtemp(prefix="bench-scale-")) / "services.env"
    _SERVICES.update(tool.start(env_file))
    atexit.register(tool.stop, env_file)
    return _SERVICES


def _value(i: int) -> dict[str, object]:
    return {"id": i, "name": f"user-{i}", "tags": ["a", "b"], "score": i * 1.5}


# --------------------------------------------------------------------------- cache on Redis


async def _redis_cases() -> tuple[object, object, object, object, str]:
    import redis.asyncio
    from aiocache import RedisCache as AioRedisCache

    from pepperpy.cache import RedisCache

    url = _services()["PEPPERPY_REDIS_URL"]
    parts = urlsplit(url)
    namespace = f"bench:{uuid.uuid4().hex[:8]}"
    ours = RedisCache(url, namespace=namespace)
    raw = redis.asyncio.Redis.from_url(url)
    peer = AioRedisCache(endpoint=parts.hostname, port=parts.port, namespace=namespace + ":aio")
    return ours, raw, peer, namespace, url


async def bench_redis_cache_get_hit():
    ours, raw, peer, namespace, _ = await _redis_cases()
    value = _value(7)
    await ours.set("hot", value)  # type: ignore[attr-defined]
    await raw.set(f"{namespace}:raw:hot", json.dumps(value))  # type: ignore[attr-defined]
    await peer.set("hot", value)  # type: ignore[attr-defined]

    async def raw_get() -> object:
        return json.loads(await raw.get(f"{namespace}:raw:hot"))  # type: ignore[attr-defined]

    try:
        return await acompare(
            "scale: Redis cache get hit (JSON dict)",
            {
                "pepperpy RedisCache.get": lambda: ours.get("hot"),  # type: ignore[attr-defined]
                "raw redis-py get+json": raw_get,
                "aiocache RedisCache.get": lambda: peer.get("hot"),  # type: ignore[attr-defined]
            },
            inner=300,
            samples=20,
        )
    finally:
        await ours.clear()  # type: ignore[attr-defined]
        await raw.delete(f"{namespace}:raw:hot")  # type: ignore[attr-defined]
        await peer.clear()  # type: ignore[attr-defined]
        await raw.aclose()  # type: ignore[attr-defined]
        await ours.aclose()  # type: ignore[attr-defined]
        await peer.close()  # type: ignore[attr-defined]


async def bench_redis_cache_set():
    ours, raw, peer, namespace, _ = await _redis_cases()
    value = _value(7)
    counter = itertools.count()

    async def ours_set() -> None:
        await ours.set(f"k{next(counter) % 1000}", value, ttl=60)  # type: ignore[attr-defined]

    async def raw_set() -> None:
        await raw.set(  # type: ignore[attr-defined]
            f"{namespace}:raw:{next(counter) % 1000}", json.dumps(value), ex=60
        )

    async def peer_set() -> None:
        await peer.set(f"k{next(counter) % 1000}", value, ttl=60)  # type: ignore[attr-defined]

    try:
        return await acompare(
            "scale: Redis cache set with TTL (JSON dict)",
            {
                "pepperpy RedisCache.set": ours_set,
                "raw redis-py set+json": raw_set,
                "aiocache RedisCache.set": peer_set,
            },
            inner=300,
            samples=20,
        )
    finally:
        await ours.clear()  # type: ignore[attr-defined]
        keys = [k async for k in raw.scan_iter(match=f"{namespace}:*")]  # type: ignore[attr-defined]
        if keys:
            await raw.unlink(*keys)  # type: ignore[attr-defined]
        await raw.aclose()  # type: ignore[attr-defined]
        await ours.aclose()  # type: ignore[attr-defined]
        await peer.close()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- storage on PostgreSQL


async def bench_postgres_put_100_concurrent_writers():
    import asyncpg

    from pepperpy.storage import Storage

    dsn = _services()["PEPPERPY_POSTGRES_DSN"]
    table = f"bench_{uuid.uuid4().hex[:8]}"
    storage = Storage.create(
        "bench", backend="postgres", dsn=dsn, table=table, purge_interval=None, max_size=10
    )
    await storage.start()
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    raw_table = f"{table}_raw"
    await pool.execute(
        f'CREATE TABLE {raw_table} (key text COLLATE "C" PRIMARY KEY, value bytea, '
        "version bigint, expires_at double precision)"
    )
    upsert = (
        f"INSERT INTO {raw_table} (key, value, version, expires_at) VALUES ($1, $2, 1, NULL) "
        f"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
        f"version = {raw_table}.version + 1"
    )
    rounds = itertools.count()

    async def ours() -> None:
        base = next(rounds) % 50 * WRITERS
        await asyncio.gather(*(storage.put(f"user/{base + i}", _value(i)) for i in range(WRITERS)))

    async def raw_executemany() -> None:
        base = next(rounds) % 50 * WRITERS
        rows = [(f"user/{base + i}", json.dumps(_value(i)).encode()) for i in range(WRITERS)]
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany(upsert, rows)

    async def naive_per_put() -> None:
        base = next(rounds) % 50 * WRITERS

        async def one(i: int) -> None:
            await pool.execute(upsert, f"user/{base + i}", json.dumps(_value(i)).encode())

        await asyncio.gather(*(one(i) for i in range(WRITERS)))

    try:
        return await acompare(
            f"scale: Postgres {WRITERS} concurrent puts (per batch of {WRITERS})",
            {
                "pepperpy Storage.put x100 (group commit)": ours,
                "raw asyncpg executemany, 1 txn (limit)": raw_executemany,
                "naive asyncpg, 1 statement per put": naive_per_put,
            },
            inner=5,
            samples=15,
            note="Each op is 100 upserts; ours also checks versions under per-key locks.",
        )
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {raw_table}")
        await pool.execute(f"DROP TABLE IF EXISTS {table}, {table}_meta")
        await pool.close()
        await storage.stop()


# --------------------------------------------------------------------------- task queue on Redis

TASKS = 100


async def bench_redis_task_queue_enqueue_and_run():
    import arq
    import arq.connections
    import arq.worker

    from pepperpy.task import RedisQueue, TaskManager

    url = _services()["PEPPERPY_REDIS_URL"]
    parts = urlsplit(url)
    namespace = f"bench:{uuid.uuid4().hex[:8]}"
    done = {"ours": 0, "arq": 0}
    target = {"ours": 0, "arq": 0}
    finished = {"ours": asyncio.Event(), "arq": asyncio.Event()}

    def mark(who: str) -> None:
        done[who] += 1
        if done[who] >= target[who]:
            finished[who].set()

    queue = RedisQueue(url, namespace=namespace, poll_interval=0.01, concurrency=20)

    @queue.register(name="noop")
    async def ours_noop(n: int) -> int:
        mark("ours")
        return n

    async def arq_noop(ctx: dict[str, object], n: int) -> int:
        mark("arq")
        return n

    settings = arq.connections.RedisSettings(host=parts.hostname, port=parts.port)
    pool = await arq.create_pool(settings)
    worker = arq.worker.Worker(
        functions=[arq.worker.func(arq_noop, name="noop")],
        redis_settings=settings,
        queue_name=f"{namespace}:arq",
        poll_delay=0.01,
        max_jobs=20,
        handle_signals=False,
        keep_result=60,
    )
    worker_task = asyncio.ensure_future(worker.async_run())
    manager = TaskManager(durable=queue)
    await manager.start()

    async def ours() -> None:
        finished["ours"].clear()
        target["ours"] = done["ours"] + TASKS
        for n in range(TASKS):
            await queue.enqueue("noop", n)
        await finished["ours"].wait()

    async def peer() -> None:
        finished["arq"].clear()
        target["arq"] = done["arq"] + TASKS
        for n in range(TASKS):
            await pool.enqueue_job("noop", n, _queue_name=f"{namespace}:arq")
        await finished["arq"].wait()

    try:
        return await acompare(
            f"scale: Redis task queue, enqueue + run {TASKS} tasks (1 worker each)",
            {"pepperpy RedisQueue + TaskManager": ours, "arq": peer},
            inner=1,
            samples=10,
            note="One in-process worker each, 20 concurrent jobs, 10 ms polls.",
        )
    finally:
        await manager.stop()
        worker_task.cancel()
        with contextlib.suppress(BaseException):
            await worker_task
        await worker.close()
        keys = [k async for k in pool.scan_iter(match=f"{namespace}*")]
        keys += [k async for k in pool.scan_iter(match="arq:*")]
        if keys:
            await pool.unlink(*keys)
        await pool.aclose()


# --------------------------------------------------------------------------- 4 worker processes

WORKER_PROCESSES = 4
WORKER_CONCURRENCY = 20
WORKER_POLL = 0.01
BATCH = 400
PRODUCERS = 10
_WORKERS_SCRIPT = Path(__file__).resolve().parent / "_scale_workers.py"
_PROCESSES: list[subprocess.Popen[bytes]] = []


def _stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop worker processes: resume, close stdin (they exit), then kill what is left."""
    for proc in processes:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGCONT)
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
    for proc in processes:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc in _PROCESSES:
            _PROCESSES.remove(proc)


atexit.register(lambda: _stop_processes(list(_PROCESSES)))


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook: the kernel SIGKILLs the worker when this process dies.

    Workers also exit when their stdin closes, but a paused (SIGSTOP) one cannot
    notice that; SIGKILL reaches it even then.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not after fork
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL))

    return hook


def _spawn(library: str, url: str, namespace: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(_WORKERS_SCRIPT), library, url, namespace]
    command += [str(WORKER_CONCURRENCY), str(WORKER_POLL)]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=_die_with_parent()
    )
    _PROCESSES.append(proc)
    return proc


async def _start_workers(library: str, url: str, namespace: str) -> list[subprocess.Popen[bytes]]:
    """Start the library's worker processes and wait until each says ``ready``."""
    procs = [_spawn(library, url, namespace) for _ in range(WORKER_PROCESSES)]
    for proc in procs:
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 120)
        except asyncio.TimeoutError:
            line = b""
        if line.strip() != b"ready":
            raise RuntimeError(
                f"{library} worker not ready within 120 s (exit code {proc.poll()}); "
                "see its output above"
            )
    return procs


def _redis_enqueuers(producer, pool, broker, names):
    """One enqueue(counter, i, pause) per library, each through its own client API."""
    import _scale_workers as workers

    async def ours_enqueue(counter: str, i: int, pause: float) -> None:
        await producer.enqueue(workers.FUNCTION, counter, BATCH, pause)

    async def arq_enqueue(counter: str, i: int, pause: float) -> None:
        await pool.enqueue_job(
            workers.FUNCTION,
            counter,
            BATCH,
            pause,
            _job_id=f"{counter}:{i}",
            _queue_name=names["arq"],
        )

    taskiq_task = broker.find_task(workers.FUNCTION) if broker is not None else None

    async def taskiq_enqueue(counter: str, i: int, pause: float) -> None:
        assert taskiq_task is not None
        await taskiq_task.kiq(counter, BATCH, pause)

    return {"ours": ours_enqueue, "arq": arq_enqueue, "taskiq": taskiq_enqueue}


async def _redis_cleanup(client, namespace: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{namespace}*", count=1000)]
    keys += [k async for k in client.scan_iter(match=f"arq:*{namespace}*", count=1000)]
    for start in range(0, len(keys), 1000):
        await client.unlink(*keys[start : start + 1000])


async def bench_redis_task_queue_4_worker_processes():
    import arq
    import arq.connections
    import redis.asyncio

    import _scale_workers as workers
    from pepperpy.task import RedisQueue

    url = _services()["PEPPERPY_REDIS_URL"]
    parts = urlsplit(url)
    namespace = f"bench:{uuid.uuid4().hex[:8]}"
    names = workers.queue_names(namespace)
    libraries = ["ours", "arq"]
    if importlib.util.find_spec("taskiq_redis") is not None:
        libraries.append("taskiq")
    client = redis.asyncio.Redis.from_url(url)
    producer = RedisQueue(url, namespace=names["ours"])
    await producer.start()
    pool = await arq.create_pool(
        arq.connections.RedisSettings(
            host=parts.hostname, port=parts.port, database=int(parts.path.lstrip("/") or 0)
        )
    )
    broker = None
    if "taskiq" in libraries:
        broker = workers.taskiq_broker(url, namespace, WORKER_CONCURRENCY)
        await broker.startup()
    procs: dict[str, list[subprocess.Popen[bytes]]] = {}
    batches = itertools.count()

    def activate(library: str) -> None:
        """Only the measured library's workers run; the others' are paused (SIGSTOP)."""
        for other, group in procs.items():
            for proc in group:
                proc.send_signal(signal.SIGCONT if other == library else signal.SIGSTOP)

    enqueue = _redis_enqueuers(producer, pool, broker, names)

    def case(library: str, pause: float, producers: int):
        async def run_batch() -> None:
            activate(library)
            counter = f"{namespace}:count:{library}:{next(batches)}"

            async def produce(first: int) -> None:
                for i in range(first, BATCH, producers):
                    await enqueue[library](counter, i, pause)

            await asyncio.gather(*(produce(first) for first in range(producers)))
            if await client.blpop([f"{counter}:done"], timeout=120) is None:
                raise RuntimeError(f"{library}: {BATCH} tasks did not finish in 120 s")

        return run_batch

    labels = {
        "ours": "pepperpy RedisQueue + TaskManager",
        "arq": "arq",
        "taskiq": "taskiq RedisStreamBroker",
    }
    note = (
        f"{WORKER_PROCESSES} worker processes per library, {WORKER_CONCURRENCY} concurrent "
        f"jobs each (ours concurrency, arq max_jobs, taskiq max_async_tasks + xread_count); "
        f"ours poll_interval = arq poll_delay = {WORKER_POLL * 1000:g} ms, taskiq blocks "
        "in XREADGROUP (no polling). The producer process enqueues one task at a time, "
        f"or from {PRODUCERS} coroutines at once; each task "
        "INCRs a counter and the last one RPUSHes a key the producer BLPOPs. Results "
        "kept 60 s by ours and arq; taskiq has no result backend here. The other "
        "libraries' workers are paused (SIGSTOP) while one is measured."
    )
    try:
        for library in libraries:
            procs[library] = await _start_workers(library, url, namespace)
        variants = [
            (0.0, 1, "noop, 1 enqueuer"),
            (0.0, PRODUCERS, f"noop, {PRODUCERS} concurrent enqueuers"),
            (0.005, PRODUCERS, f"5 ms asyncio.sleep, {PRODUCERS} concurrent enqueuers"),
        ]
        for pause, producers, what in variants:
            await acompare(
                f"scale: Redis task queue, {BATCH} tasks ({what}) through "
                f"{WORKER_PROCESSES} worker processes (per batch)",
                {labels[lib]: case(lib, pause, producers) for lib in libraries},
                inner=1,
                samples=8,
                note=note,
            )
    finally:
        _stop_processes([proc for group in procs.values() for proc in group])
        if broker is not None:
            await broker.shutdown()
        await producer.stop()
        await _redis_cleanup(client, namespace)
        await pool.aclose()
        await client.aclose()
