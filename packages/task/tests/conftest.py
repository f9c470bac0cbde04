from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pepperpy.core import ManualClock
from pepperpy.task import TaskManager


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
async def tasks(clock):
    """A running TaskManager on a manual clock; fails if a task outlives stop()."""
    before = asyncio.all_tasks()
    manager = TaskManager(concurrency=4, clock=clock, shutdown_timeout=0)
    await manager.start()
    yield manager
    await manager.stop()
    await settle(5)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, leaked


# --------------------------------------------------------------------------- Redis
# redis_url, redis_namespace and redis_client come from the pepperpy-testing plugin:
# a real server ($PEPPERPY_REDIS_URL, else one started for the session with
# tools/services.py); skipped when unavailable, failed under PEPPERPY_REQUIRE_SERVICES=1.


# --------------------------------------------------------------------------- durable backends
# One conformance suite (test_durable.py) runs against every durable queue backend.
# PostgreSQL gets a fresh schema per test (dropped afterwards), Redis a fresh key
# namespace (emptied afterwards), SQLite a file in tmp_path.

BACKENDS = ["sqlite", "redis", "postgres"]


class QueueFactory:
    """``make_queue(name, **options)``: the same *name* means the same stored queue.

    So a producer, several workers and a restarted worker built from the same name
    meet, exactly as separate processes would. :meth:`source` is the Python
    expression that builds that queue in another process.
    """

    def __init__(self, backend: str, tmp_path: Any, url: str = "", prefix: str = "") -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.url = url
        self.prefix = prefix

    def _args(self, name: str) -> tuple[str, str, dict[str, Any]]:
        if not name.isidentifier() or not name.islower():
            raise ValueError(f"queue names in tests are lower-case identifiers, not {name!r}")
        if self.backend == "sqlite":
            return "DurableQueue", str(self.tmp_path / f"{name}.db"), {}
        if self.backend == "redis":
            return "RedisQueue", self.url, {"namespace": f"{self.prefix}:{name}"}
        return "PostgresQueue", self.url, {"schema": self.prefix, "table": f"q_{name}"}

    def __call__(self, name: str, **options: Any) -> Any:
        import pepperpy.task

        cls, target, extra = self._args(name)
        return getattr(pepperpy.task, cls)(target, **extra, **options)

    def connection(self, name: str) -> tuple[str, dict[str, Any]]:
        """The ``connect_queue()`` URL and options naming the same queue."""
        _, target, extra = self._args(name)
        return (f"sqlite:///{target}" if self.backend == "sqlite" else target), extra

    def source(self, name: str, **options: Any) -> str:
        """``RedisQueue('redis://...', namespace=..., visibility_timeout=1.0)`` and so on."""
        cls, target, extra = self._args(name)
        args = ", ".join(f"{k}={v!r}" for k, v in {**extra, **options}.items())
        return f"__import__('pepperpy.task').task.{cls}({target!r}, {args})"


@pytest.fixture(params=BACKENDS)
async def make_queue(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[QueueFactory]:
    """A :class:`QueueFactory` for each backend (a real server for Redis and PostgreSQL)."""
    backend = str(request.param)
    if backend == "sqlite":
        yield QueueFactory(backend, tmp_path)
        return
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_namespace")
        yield QueueFactory(backend, tmp_path, url, prefix)
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(url)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.unlink(*keys)
        await client.aclose()
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield QueueFactory(backend, tmp_path, dsn, schema)
    await drop_schema(dsn, schema)


async def drop_schema(dsn: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
