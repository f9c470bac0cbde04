"""Attacks from issue 18 (cache: #5, #6, #7) that the old main failed.

The concurrency sweep (cancel/invalidate at every await point of an ``@cached``
call) is in test_concurrency.py; the key-encoding conformance across every
backend (Redis included) is ``test_keys_of_different_types_never_share_an_entry``
in test_conformance.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from typing import Any

import pytest

from pepperpy.cache import Cache, MemoryTier, TieredCache, cached, encode_key


async def _steps(n: int) -> None:
    """Let the event loop run *n* rounds (enough for every ready task to reach its wait)."""
    for _ in range(n):
        await asyncio.sleep(0)


# --------------------------------------------------------------------------- #5


async def test_async_call_after_invalidate_does_not_join_the_stale_computation() -> None:
    """issue 18 #5: a call issued after invalidate() starts fresh (async-lru's behaviour).

    async-lru's ``cache_invalidate`` drops the in-flight future with the entry,
    so the next caller runs the function again and gets the new value.
    """
    source = {"v": "old"}
    gates: list[asyncio.Event] = []

    @cached
    async def load(key: str) -> str:
        value = source["v"]
        gate = asyncio.Event()
        gates.append(gate)
        await gate.wait()
        return value

    first = asyncio.ensure_future(load("k"))
    await _steps(100)
    source["v"] = "new"
    load.invalidate("k")
    second = asyncio.ensure_future(load("k"))
    await _steps(100)  # the second call must run the function itself
    assert len(gates) == 2, "the call after invalidate() joined the stale computation"
    for gate in gates:
        gate.set()
    assert await first == "old"  # issued before the invalidation
    assert await second == "new"
    assert await load("k") == "new"  # and the stale result was not stored


async def test_async_call_after_cache_clear_does_not_join_the_stale_computation() -> None:
    """issue 18 #5: cache_clear() detaches every in-flight computation too."""
    source = {"v": "old"}
    gates: list[asyncio.Event] = []

    @cached
    async def load(key: str) -> str:
        value = source["v"]
        gate = asyncio.Event()
        gates.append(gate)
        await gate.wait()
        return value

    first = asyncio.ensure_future(load("k"))
    await _steps(100)
    source["v"] = "new"
    load.cache_clear()
    second = asyncio.ensure_future(load("k"))
    await _steps(100)
    assert len(gates) == 2, "the call after cache_clear() joined the stale computation"
    for gate in gates:
        gate.set()
    assert (await first, await second, await load("k")) == ("old", "new", "new")


@pytest.mark.parametrize("how", ["invalidate", "cache_clear"])
def test_sync_call_after_invalidate_does_not_join_the_stale_computation(how: str) -> None:
    """issue 18 #5 (sync): a thread calling after invalidate() computes the new value."""
    source = {"v": "old"}
    started = threading.Semaphore(0)
    release = threading.Event()
    calls: list[str] = []

    @cached
    def load(key: str) -> str:
        value = source["v"]
        calls.append(value)
        started.release()
        release.wait()
        return value

    results: dict[str, str] = {}
    first = threading.Thread(target=lambda: results.__setitem__("first", load("k")))
    first.start()
    started.acquire()
    source["v"] = "new"
    if how == "invalidate":
        load.invalidate("k")
    else:
        load.cache_clear()
    second = threading.Thread(target=lambda: results.__setitem__("second", load("k")))
    second.start()
    # The second thread must start its own computation (it would otherwise wait
    # on the first one, which is blocked until we release it).
    try:
        assert started.acquire(timeout=60), "the second call joined the stale computation"
    finally:
        release.set()
    first.join()
    second.join()
    assert results == {"first": "old", "second": "new"}
    assert calls == ["old", "new"]
    assert load("k") == "new"


# --------------------------------------------------------------------------- #6


def _depth(exc: BaseException) -> int:
    return len(traceback.extract_tb(exc.__traceback__))


def test_sync_cached_error_traceback_stays_bounded() -> None:
    """issue 18 #6: each hit re-raises with the stored traceback (as asyncio.Future.result does).

    CPython's ``Future.result()`` raises ``exc.with_traceback(self._exception_tb)``
    for the same reason: re-raising one exception object appends frames each time.
    """

    @cached(cache_errors=True)
    def boom(key: int) -> int:
        raise ValueError(f"bad {key}")

    depths = []
    for _ in range(200):
        with pytest.raises(ValueError, match="bad 1") as info:
            boom(1)
        depths.append(_depth(info.value))
    assert boom.cache_info().hits == 199
    assert depths[1] == depths[199], depths[:3] + depths[-3:]
    assert depths[199] <= depths[0] + 2


async def test_async_cached_error_traceback_stays_bounded() -> None:
    """issue 18 #6 (async): the hit path and the single-flight waiters stay bounded."""

    @cached(cache_errors=ValueError)
    async def boom(key: int) -> int:
        await asyncio.sleep(0)
        raise ValueError(f"bad {key}")

    depths = []
    for _ in range(200):
        with pytest.raises(ValueError, match="bad 1") as info:
            await boom(1)
        depths.append(_depth(info.value))
    assert depths[1] == depths[199], depths[:3] + depths[-3:]
    assert depths[199] <= depths[0] + 2


def test_sync_single_flight_waiters_do_not_grow_the_leaders_traceback() -> None:
    """issue 18 #6: threads waiting on a failing leader re-raise a bounded traceback."""
    started = threading.Event()
    release = threading.Event()

    @cached
    def boom(key: int) -> int:
        started.set()
        release.wait()
        raise ValueError("bad")

    errors: list[BaseException] = []

    def call() -> None:
        try:
            boom(1)
        except ValueError as exc:
            errors.append(exc)

    leader = threading.Thread(target=call)
    leader.start()
    started.wait()
    followers = [threading.Thread(target=call) for _ in range(30)]
    for thread in followers:
        thread.start()
    call = boom._calls[1]  # type: ignore[attr-defined]
    for _ in range(60_000):  # until all 30 wait on the leader (bounded)
        if len(call.done._cond._waiters) == 30:
            break
        time.sleep(0.001)
    release.set()
    for thread in (leader, *followers):
        thread.join()
    assert len(errors) == 31
    assert max(_depth(e) for e in errors) <= 6, sorted(_depth(e) for e in errors)


# --------------------------------------------------------------------------- #7


def test_encode_key_keeps_types_apart() -> None:
    """issue 18 #7: keys of different types never encode alike; equal keys encode alike."""
    distinct: list[Any] = [
        1,
        "1",
        1.5,
        "1.5",
        None,
        "None",
        ("user", 7),
        repr(("user", 7)),
        ("user", "7"),
        b"1",
        "b'1'",
        (1, 2),
        "(1, 2)",
        frozenset({1}),
        "frozenset({1})",
    ]
    names = [encode_key(k) for k in distinct]
    assert len(set(names)) == len(names), names
    # A str key that looks like another key's encoding is escaped, not shared.
    assert encode_key(encode_key(1)) != encode_key(1)
    # Keys a dict treats as one key (1 == 1.0 == True) share one tier entry too.
    assert encode_key(1) == encode_key(1.0) == encode_key(True)
    assert encode_key((1, "a")) == encode_key((1.0, "a"))
    # Plain strings stay readable (prefix invalidation works on them).
    assert encode_key("user:42") == "user:42"


async def test_tiered_cache_keys_of_different_types_do_not_collide() -> None:
    """issue 18 #7: ``1`` and ``"1"``, ``("user", 7)`` and its repr are separate entries."""
    tier = MemoryTier()
    front = TieredCache(Cache(None), tier)
    reader = TieredCache(Cache(None), tier)  # a second front: reads come from the tier
    pairs: list[tuple[Any, Any]] = [(1, "1"), (("user", 7), repr(("user", 7))), (None, "None")]
    for a, b in pairs:
        await front.set(a, f"value of {a!r}")
        await front.set(b, f"value of {b!r}")
    for a, b in pairs:
        assert await reader.get(a) == f"value of {a!r}"
        assert await reader.get(b) == f"value of {b!r}"
    await front.delete(1)
    assert await reader.get("1") == "value of '1'"
    await front.aclose()
    await reader.aclose()
