"""Issue 18, "close the class": every ``@cached`` operation against a concurrent cancel/invalidate.

A call is stepped through the event loop one round at a time, and at every
round (so at every await point of the call: the memory lookup, the tier read,
the function's own awaits, the tier write) the caller is cancelled, or the
key is invalidated, or the cache cleared. Afterwards the invariants hold: no
computation stays registered, nothing stale is stored, and the next call
returns the current value.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from pepperpy.cache import Cache, MemoryTier, TieredCache, cached
from pepperpy.cache._decorator import CachedFunction
from pepperpy.core import MISSING


class Source:
    """The data behind a cached function: a version that invalidations follow."""

    def __init__(self) -> None:
        self.version = 0
        self.runs = 0

    async def load(self, key: str) -> str:
        self.runs += 1
        version = self.version
        for _ in range(3):  # several await points inside the function
            await asyncio.sleep(0)
        return f"{key}@{version}"


def _make(
    kind: str, source: Source
) -> tuple[CachedFunction[Any, Any], TieredCache[Any, Any] | None]:
    tiered: TieredCache[Any, Any] | None = None
    if kind == "memory":
        fn = cached(source.load)
    else:
        tiered = TieredCache(Cache(None), MemoryTier())
        fn = cached(cache=tiered)(source.load)
    return fn, tiered


async def _settle(fn: CachedFunction[Any, Any]) -> None:
    """Run the loop until no computation of *fn* is in flight (bounded)."""
    tasks: dict[Any, asyncio.Task[Any]] = fn._tasks  # type: ignore[attr-defined]
    for _ in range(1000):
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if not tasks and not pending:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"computations still registered: {tasks}")


async def _check_invariants(fn: CachedFunction[Any, Any], source: Source) -> None:
    await _settle(fn)
    assert fn._tasks == {}  # type: ignore[attr-defined]  # nothing leaked
    expected = f"k@{source.version}"
    assert await fn("k") == expected  # fresh, never a stale stored value
    runs = source.runs
    assert await fn("k") == expected  # and now cached
    assert source.runs == runs
    assert fn.cache.stats().size <= 1


@pytest.mark.parametrize("kind", ["memory", "tiered"])
async def test_cancelling_the_caller_at_every_await_point(kind: str) -> None:
    """issue 18 (close the class): a cancelled caller leaks nothing and stores nothing wrong."""
    source = Source()
    fn, tiered = _make(kind, source)
    rounds = 0
    while True:
        fn.cache_clear()
        if tiered is not None:
            await tiered.clear()
        call = asyncio.ensure_future(fn("k"))
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = call.done()
        call.cancel()
        try:
            await call
        except asyncio.CancelledError:
            assert not finished
        await _check_invariants(fn, source)
        if finished:
            break
        rounds += 1
    assert rounds >= 4  # the sweep really went through the call's await points


@pytest.mark.parametrize(
    ("kind", "how"),
    [
        *(("memory", how) for how in ("invalidate", "ainvalidate", "cache_clear", "acache_clear")),
        # The sync forms drop memory only; a TieredCache's tier needs the async ones.
        ("tiered", "ainvalidate"),
        ("tiered", "acache_clear"),
    ],
)
async def test_invalidating_at_every_await_point(kind: str, how: str) -> None:
    """issue 18 #5: an invalidation at any point means later calls see the new version."""
    source = Source()
    fn, tiered = _make(kind, source)
    rounds = 0
    while True:
        fn.cache_clear()
        if tiered is not None:
            await tiered.clear()
        call = asyncio.ensure_future(fn("k"))
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = call.done()
        source.version += 1
        if how == "invalidate":
            fn.invalidate("k")
        elif how == "cache_clear":
            fn.cache_clear()
        elif how == "ainvalidate":
            await fn.ainvalidate("k")
        else:
            await fn.acache_clear()
        # A call issued now must not join the computation that read the old version.
        assert await fn("k") == f"k@{source.version}"
        assert (await call).startswith("k@")
        await _check_invariants(fn, source)
        if finished:
            break
        rounds += 1
    assert rounds >= 4


async def test_cancelled_waiters_of_a_shared_computation_leave_the_others_served() -> None:
    """issue 18: cancelling some of several callers sharing one computation."""
    source = Source()
    fn, _ = _make("memory", source)
    calls = [asyncio.ensure_future(fn("k")) for _ in range(6)]
    await asyncio.sleep(0)
    for call in calls[::2]:
        call.cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [isinstance(r, asyncio.CancelledError) for r in results] == [True, False] * 3
    assert results[1::2] == ["k@0"] * 3
    assert source.runs == 1
    await _check_invariants(fn, source)


def test_threads_racing_invalidate_never_leave_a_stale_value() -> None:
    """issue 18 #5 (sync): after the last invalidation, the cached value is the current one."""
    state = {"version": 0}
    lock = threading.Lock()

    @cached
    def load(key: str) -> int:
        with lock:
            return state["version"]

    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            load("k")

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(300):
            with lock:
                state["version"] += 1
            load.invalidate("k")
            # Issued after the invalidation: must see this version, never join an older one.
            assert load("k") == state["version"]
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert load("k") == state["version"]
    assert load._calls == {}  # type: ignore[attr-defined]


class SteppedTier:
    """A plain CacheTier (no announcements) whose writes take event-loop rounds."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def get(self, key: str) -> Any:
        await asyncio.sleep(0)
        return self.data.get(key, MISSING)

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        await asyncio.sleep(0)
        self.data[key] = value
        await asyncio.sleep(0)

    async def delete(self, key: str) -> bool:
        await asyncio.sleep(0)
        found = self.data.pop(key, MISSING) is not MISSING
        await asyncio.sleep(0)
        return found


@pytest.mark.parametrize("operation", ["set", "delete"])
async def test_tiered_writes_cancelled_at_every_await_point_keep_memory_coherent(
    operation: str,
) -> None:
    """issue 18 (close the class): a cancelled TieredCache write never leaves memory stale.

    Afterwards the front returns what a fresh front reads from the tier.
    """
    rounds = 0
    while True:
        tier = SteppedTier()
        front = TieredCache(Cache(None), tier)
        await front.set("k", "old")
        assert await front.get("k") == "old"  # in memory now
        task = asyncio.ensure_future(
            front.set("k", "new") if operation == "set" else front.delete("k")
        )
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        fresh = TieredCache(Cache(None), tier)
        assert await front.get("k", "gone") == await fresh.get("k", "gone"), rounds
        await front.aclose()
        await fresh.aclose()
        if finished:
            break
        rounds += 1
    assert rounds >= 2
