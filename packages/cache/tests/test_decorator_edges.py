"""@cached at its edges (written with the coverage floor, issue 24).

functools.lru_cache is the peer for unhashable arguments (a TypeError there; a
clear InvalidArgumentError pointing at key= here) and for results a cache cannot
hold (still returned to the caller).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pepperpy.cache import Cache, cached
from pepperpy.core import InvalidArgumentError, ManualClock


async def test_unhashable_arguments_of_an_async_function_name_the_fix() -> None:
    @cached
    async def f(x: Any) -> int:
        return 1

    with pytest.raises(InvalidArgumentError) as info:
        await f([1, 2])
    assert info.value.code == "pepperpy.cache.unhashable_key"
    assert "key=" in (info.value.hint or "")


def test_invalidating_with_unhashable_arguments_names_the_fix() -> None:
    @cached
    def f(x: Any) -> int:
        return 1

    with pytest.raises(InvalidArgumentError) as info:
        f.invalidate({"a": 1})
    assert info.value.code == "pepperpy.cache.unhashable_key"


def test_a_tuple_of_error_classes_caches_those_errors_only() -> None:
    attempts: list[int] = []

    @cached(cache_errors=(KeyError, ValueError))
    def lookup(x: int) -> int:
        attempts.append(x)
        if x == 1:
            raise KeyError(x)
        raise RuntimeError(x)

    for _ in range(2):
        with pytest.raises(KeyError):
            lookup(1)
        with pytest.raises(RuntimeError):
            lookup(2)
    assert attempts == [1, 2, 2]  # the KeyError was cached, the RuntimeError was not


def test_a_result_too_heavy_for_the_shared_cache_is_returned_uncached() -> None:
    """The caller gets the result; the cache refuses it, so the next call computes again."""
    shared: Cache[Any, Any] = Cache(None, max_weight=5, weigher=lambda key, value: len(value))
    calls: list[int] = []

    @cached(cache=shared)
    def blob(n: int) -> str:
        calls.append(n)
        return "x" * n

    assert blob(10) == "x" * 10
    assert blob(10) == "x" * 10
    assert calls == [10, 10]
    assert blob(3) == blob(3) == "xxx"
    assert calls == [10, 10, 3]


def test_a_failing_refresh_keeps_serving_the_stale_result(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """stale-while-revalidate: a refresh that raises is logged; the stale value stays."""
    clock = ManualClock()
    calls: list[int] = []
    tried = threading.Event()

    @cached(ttl=10, stale_while_revalidate=20, clock=clock)
    def value() -> int:
        calls.append(1)
        if len(calls) > 1:
            tried.set()
            raise ConnectionError("backend down")
        return 1

    assert value() == 1
    clock.advance_sync(15)  # stale, within the window: served, one refresh starts
    assert value() == 1
    assert tried.wait(30)
    for _ in range(500):  # the refresh thread logs right after the function raised
        if "refreshing a stale result" in caplog.text:
            break
        threading.Event().wait(0.01)
    assert "refreshing a stale result" in caplog.text
    assert value() == 1
    assert "<cached" in repr(value)
