from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.core import ManualClock
from pepperpy.event import (
    EventManager,
    EventStream,
    MemoryHub,
    MemoryStream,
    PostgresStream,
    RedisStream,
    SQLiteStream,
    StreamMessage,
)

STREAM_BACKENDS = ["memory", "sqlite", "redis", "postgres"]
"""Every EventStream backend; the ``backend`` fixture runs a test once on each."""


@pytest.fixture
async def events():
    """A running EventManager; the test fails if a task outlives stop()."""
    before = asyncio.all_tasks()
    manager = EventManager(on_error="collect")
    await manager.start()
    yield manager
    await manager.stop()
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, leaked


# --------------------------------------------------------------------------- streams
# redis_url, redis_namespace, redis_client and postgres_dsn come from the
# pepperpy-testing plugin: real servers ($PEPPERPY_REDIS_URL / $PEPPERPY_POSTGRES_DSN,
# else started for the session with tools/services.py); skipped when unavailable,
# failed under PEPPERPY_REQUIRE_SERVICES=1.


@attrs.define
class Backend:
    """Opens streams on one backend (all closed after the test) and makes time pass."""

    name: str
    url: str
    namespace: str
    claim_after: float
    clock: ManualClock | None
    factory: Callable[..., Any]
    opened: list[Any] = attrs.field(factory=list, repr=False)
    shared: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def stream(self, stream: str = "orders", **options: Any) -> Any:
        """A new handle on the backend's stream *stream* (``group``, ``consumer``, ...)."""
        options.setdefault("claim_after", self.claim_after)
        options.setdefault("block", 0.1)
        opened = self.factory(stream, namespace=self.namespace, **options)
        self.opened.append(opened)
        return opened

    def stream_once(self, name: str, **options: Any) -> Any:
        """The same handle each time *name* is asked for (for hypothesis examples)."""
        if name not in self.shared:
            self.shared[name] = self.stream(**options)
        return self.shared[name]

    async def idle(self) -> None:
        """Let ``claim_after`` pass: pending entries become claimable."""
        if self.clock is not None:
            # Other processes stamp entries with the real time: catch up with it first.
            behind = max(0.0, time.time() - self.clock.time())
            await self.clock.advance(behind + self.claim_after)
        else:
            await asyncio.sleep(self.claim_after * 1.2)

    async def until(self, predicate: Callable[[], bool], *, time_passes: bool = False) -> None:
        """Wait (at most 20 real seconds) until *predicate*; optionally with time passing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not predicate():
            assert loop.time() < deadline, "condition not reached in time"
            await asyncio.sleep(0.01)
            if time_passes and self.clock is not None:
                await self.clock.advance(self.claim_after / 2)


@pytest.fixture(params=STREAM_BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    namespace = request.getfixturevalue("redis_namespace")
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")  # skips (or fails in CI) without Redis
        made = Backend("redis", url, namespace, 0.5, None, lambda s, **o: RedisStream(url, s, **o))
    elif request.param == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")  # skips (or fails in CI) without it
        made = Backend(
            "postgres", dsn, namespace, 0.5, None, lambda s, **o: PostgresStream(dsn, s, **o)
        )
    else:
        clock = ManualClock(start=time.time())
        if request.param == "memory":
            hub = MemoryHub()
            made = Backend(
                "memory",
                "memory://",
                namespace,
                30.0,
                clock,
                lambda s, **o: MemoryStream(s, hub=hub, clock=clock, **o),
            )
        else:
            path = tmp_path / "events.db"
            made = Backend(
                "sqlite",
                f"sqlite:///{path}",
                namespace,
                30.0,
                clock,
                lambda s, **o: SQLiteStream(path, s, clock=clock, **o),
            )
    yield made
    for stream in made.opened:
        await stream.aclose()
    if request.param == "redis":
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(made.url)
        await client.unlink(*{k for s in made.opened for k in (s.key, s.dead_key)})
        await client.aclose()
    elif request.param == "postgres":
        import asyncpg

        conn = await asyncpg.connect(made.url)
        for table in ("streams", "stream_entries", "stream_groups", "stream_pending"):
            if await conn.fetchval("SELECT to_regclass($1)", f"pepperpy_{table}"):
                await conn.execute(
                    f"DELETE FROM pepperpy_{table} WHERE stream LIKE $1", f"{namespace}:%"
                )
        await conn.close()


@pytest.fixture
async def consumers() -> AsyncIterator[Callable[..., asyncio.Event]]:
    """Start ``stream.consume(handler)`` tasks; all are stopped after the test."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(stream: EventStream, handler: Callable[[StreamMessage], Any]) -> asyncio.Event:
        stop = asyncio.Event()
        running.append((stop, asyncio.ensure_future(stream.consume(handler, stop=stop))))
        return stop

    yield start
    for stop, _ in running:
        stop.set()
    await asyncio.wait_for(asyncio.gather(*(task for _, task in running)), 10)
