"""Tests for pepperpy.cache._decorator: @cached on sync and async functions and methods."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.cache import Cache, CachedFunction, cached, make_key
from pepperpy.core import InvalidArgumentError, ManualClock


class TestSync:
    def test_caches_results(self) -> None:
        """The function runs once per distinct arguments."""
        calls: list[tuple[Any, ...]] = []

        @cached
        def add(a: int, b: int = 0) -> int:
            calls.append((a, b))
            return a + b

        assert 3 == add(1, 2)
        assert 3 == add(1, 2)
        assert 1 == add(1)
        assert [(1, 2), (1, 0)] == calls
        assert isinstance(add, CachedFunction)
        assert "add" == add.__name__
        info = add.cache_info()
        assert (1, 2) == (info.hits, info.misses)

    def test_keyword_order_does_not_matter(self) -> None:
        """f(a=1, b=2) and f(b=2, a=1) share one entry."""
        calls = []

        @cached()
        def f(*, a: int, b: int) -> int:
            calls.append(1)
            return a * b

        assert 2 == f(a=1, b=2)
        assert 2 == f(b=2, a=1)
        assert 1 == len(calls)

    def test_typed(self) -> None:
        """typed=True separates 1 and 1.0."""
        calls = []

        @cached(typed=True)
        def f(x: float) -> str:
            calls.append(x)
            return repr(x)

        assert "1" == f(1)
        assert "1.0" == f(1.0)
        assert 2 == len(calls)

    def test_custom_key(self) -> None:
        """A key function decides what counts as the same call."""
        calls = []

        @cached(key=lambda user, *, verbose=False: user.lower())
        def greet(user: str, *, verbose: bool = False) -> str:
            calls.append(user)
            return f"hi {user}"

        assert "hi Ann" == greet("Ann")
        assert "hi Ann" == greet("ANN", verbose=True)
        assert ["Ann"] == calls
        assert "ann" == greet.key_for("ANN")
        assert greet.invalidate("aNN") is True
        assert "hi ANN" == greet("ANN")

    def test_errors_not_cached_by_default(self) -> None:
        """A raising call is retried next time."""
        attempts = []

        @cached
        def flaky(x: int) -> int:
            attempts.append(x)
            if len(attempts) == 1:
                raise ValueError("first call fails")
            return x

        with pytest.raises(ValueError):
            flaky(1)
        assert 1 == flaky(1)
        assert 1 == flaky(1)
        assert 2 == len(attempts)

    def test_cache_errors(self) -> None:
        """cache_errors=(ValueError,) re-raises the cached error; other errors are not cached."""
        attempts = []

        @cached(cache_errors=ValueError)
        def lookup(x: int) -> int:
            attempts.append(x)
            if x < 0:
                raise ValueError("negative")
            raise KeyError(x)

        for _ in range(3):
            with pytest.raises(ValueError, match="negative"):
                lookup(-1)
        for _ in range(2):
            with pytest.raises(KeyError):
                lookup(1)
        assert [-1, 1, 1] == attempts

    def test_error_ttl(self) -> None:
        """A cached error expires after error_ttl."""
        clock = ManualClock()
        attempts = []

        @cached(cache_errors=True, error_ttl=5, clock=clock)
        def f() -> None:
            attempts.append(1)
            raise RuntimeError("x")

        for _ in range(2):
            with pytest.raises(RuntimeError):
                f()
        clock.advance_sync(5)
        with pytest.raises(RuntimeError):
            f()
        assert 2 == len(attempts)

    def test_ttl_with_manual_clock(self) -> None:
        """Results expire after ttl, measured on the given clock."""
        clock = ManualClock()
        calls = []

        @cached(ttl=10, clock=clock)
        def now() -> int:
            calls.append(1)
            return len(calls)

        assert 1 == now()
        clock.advance_sync(9)
        assert 1 == now()
        clock.advance_sync(1)
        assert 2 == now()

    def test_methods(self) -> None:
        """Methods cache per instance; bound helpers prepend self."""

        class Repo:
            def __init__(self, name: str) -> None:
                self.name = name
                self.calls = 0

            @cached
            def load(self, key: int) -> str:
                self.calls += 1
                return f"{self.name}:{key}"

        a, b = Repo("a"), Repo("b")
        assert "a:1" == a.load(1)
        assert "a:1" == a.load(1)
        assert "b:1" == b.load(1)
        assert (1, 1) == (a.calls, b.calls)
        assert a.load.invalidate(1) is True
        assert "a:1" == a.load(1)
        assert 2 == a.calls
        assert (a, 1) == a.load.key_for(1)
        assert isinstance(Repo.load, CachedFunction)
        assert Repo.load.cache is a.load.cache
        assert 2 == a.load.cache_clear()

    def test_shared_cache_and_tags(self) -> None:
        """Functions sharing a cache never collide; tags and cache_clear work per function."""
        shared: Cache[Any, Any] = Cache(100)

        @cached(cache=shared, tags=lambda uid: [f"user:{uid}"])
        def name(uid: int) -> str:
            return f"name{uid}"

        @cached(cache=shared)
        def email(uid: int) -> str:
            return f"mail{uid}"

        assert "name1" == name(1)
        assert "mail1" == email(1)
        assert 2 == len(shared)
        assert 1 == shared.invalidate_tag("user:1")
        assert "mail1" == email(1)
        email(2)
        assert 2 == email.cache_clear()
        assert 0 == len(shared)

    def test_unhashable_arguments(self) -> None:
        """Unhashable arguments raise a clear error pointing at key=."""

        @cached
        def f(x: Any) -> int:
            return 1

        with pytest.raises(InvalidArgumentError, match="cannot build a cache key") as info:
            f([1, 2])
        assert "key=" in (info.value.hint or "")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"stale_while_revalidate": 5},
            {"cache_errors": "yes"},
            {"cache": "nope"},
            {"key": 3},
        ],
    )
    def test_bad_options(self, kwargs: dict[str, Any]) -> None:
        """Invalid decorator options raise InvalidArgumentError."""
        with pytest.raises(InvalidArgumentError):
            cached(**kwargs)(lambda: 1)

    def test_generators_are_refused(self) -> None:
        """Generator functions cannot be cached (they would come back exhausted)."""

        def gen() -> Any:
            yield 1

        async def agen() -> Any:
            yield 1

        for fn in (gen, agen):
            with pytest.raises(InvalidArgumentError, match="generator") as info:
                cached(fn)
            assert "list" in (info.value.hint or "")

    def test_thread_single_flight(self) -> None:
        """Threads asking for the same missing key run the function once."""
        started = threading.Event()
        release = threading.Event()
        calls = []

        @cached
        def slow(x: int) -> int:
            calls.append(x)
            started.set()
            release.wait(5)
            return x * 2

        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(slow(21))) for _ in range(8)]
        for t in threads:
            t.start()
        started.wait(5)
        release.set()
        for t in threads:
            t.join()
        assert [21] == calls
        assert [42] * 8 == results

    def test_thread_single_flight_shares_errors(self) -> None:
        """Threads waiting on a failing call get its error, and the next call retries."""
        started = threading.Event()
        release = threading.Event()
        calls = []

        @cached
        def bad() -> int:
            calls.append(1)
            started.set()
            release.wait(5)
            raise LookupError("nope")

        errors: list[BaseException] = []

        def run() -> None:
            try:
                bad()
            except LookupError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        started.wait(5)
        release.set()
        for t in threads:
            t.join()
        assert 4 == len(errors)
        assert 1 == len(calls)

    def test_recursion_does_not_deadlock(self) -> None:
        """A recursive call for the key being computed runs directly (re-entrancy safe)."""

        @cached
        def fib(n: int) -> int:
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        depth = 0

        @cached
        def same(n: int) -> int:
            nonlocal depth
            depth += 1
            if depth == 1:
                return same(n) + 1  # the same key again, from the computing thread
            return 10

        assert 832040 == fib(30)
        assert 11 == same(1)
        assert 11 == same(1)

    def test_sync_stale_while_revalidate(self) -> None:
        """A stale result is served at once while one background refresh runs."""
        clock = ManualClock()
        calls = []
        refreshed = threading.Event()

        @cached(ttl=10, stale_while_revalidate=20, clock=clock)
        def value() -> int:
            calls.append(1)
            if len(calls) > 1:
                refreshed.set()
            return len(calls)

        assert 1 == value()
        clock.advance_sync(15)  # stale but within the window
        assert 1 == value()
        assert refreshed.wait(5)
        for _ in range(100):
            if value() == 2:
                break
            threading.Event().wait(0.01)
        assert 2 == value()
        clock.advance_sync(31)  # beyond the window: a plain miss
        assert 3 == value()


class TestAsync:
    async def test_caches_the_result_not_the_coroutine(self) -> None:
        """Awaiting twice returns the value both times, computed once."""
        calls = []

        @cached
        async def fetch(x: int) -> int:
            calls.append(x)
            await asyncio.sleep(0)
            return x + 1

        assert 2 == await fetch(1)
        assert 2 == await fetch(1)
        assert [1] == calls
        assert 2 == fetch.cache.get(1)
        assert inspect.iscoroutinefunction(fetch) or not hasattr(inspect, "markcoroutinefunction")
        assert asyncio.iscoroutinefunction(fetch)

    async def test_stampede_runs_once(self) -> None:
        """1,000 concurrent callers of a missing key run the function exactly once."""
        calls = 0
        gate = asyncio.Event()

        @cached
        async def expensive(key: str) -> str:
            nonlocal calls
            calls += 1
            await gate.wait()
            return key.upper()

        tasks = [asyncio.ensure_future(expensive("k")) for _ in range(1000)]
        for _ in range(5):
            await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*tasks)
        assert 1 == calls
        assert ["K"] * 1000 == results
        assert "K" == await expensive("k")
        assert 1 == calls

    async def test_stampede_error_shared_then_retried(self) -> None:
        """All waiters of a failing call get the error; it is not cached."""
        calls = 0
        gate = asyncio.Event()

        @cached
        async def broken() -> int:
            nonlocal calls
            calls += 1
            await gate.wait()
            if calls == 1:
                raise ConnectionError("down")
            return 7

        tasks = [asyncio.ensure_future(broken()) for _ in range(50)]
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        assert 7 == await broken()
        assert 2 == calls

    async def test_cancelled_caller_does_not_cancel_others(self) -> None:
        """Cancelling one waiter leaves the shared call running for the rest."""
        gate = asyncio.Event()
        calls = 0

        @cached
        async def work() -> str:
            nonlocal calls
            calls += 1
            await gate.wait()
            return "done"

        first = asyncio.ensure_future(work())
        second = asyncio.ensure_future(work())
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        gate.set()
        assert "done" == await second
        assert first.cancelled()
        assert 1 == calls
        assert "done" == await work()

    async def test_invalidate_during_a_call_does_not_store_stale_results(self) -> None:
        """A result computed before an invalidation reaches its callers but is not cached."""
        gate = asyncio.Event()
        version = 0

        @cached
        async def read() -> int:
            nonlocal version
            version += 1
            seen = version
            if seen == 1:
                await gate.wait()
            return seen

        first = asyncio.ensure_future(read())
        await asyncio.sleep(0)
        read.invalidate()  # the data changed while the first read was in flight
        gate.set()
        assert 1 == await first
        assert 2 == await read()  # not the stale 1
        assert 2 == await read()

    def test_sync_clear_during_a_call(self) -> None:
        """cache_clear() during a sync computation keeps its result out of the cache."""
        calls = 0

        @cached
        def value() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                value.cache_clear()  # e.g. another thread invalidated meanwhile
            return calls

        assert 1 == value()
        assert 2 == value()
        assert 2 == value()

    async def test_single_flight_off(self) -> None:
        """single_flight=False lets concurrent callers each run the function."""
        calls = 0
        gate = asyncio.Event()

        @cached(single_flight=False)
        async def f() -> int:
            nonlocal calls
            calls += 1
            await gate.wait()
            return 1

        tasks = [asyncio.ensure_future(f()) for _ in range(3)]
        await asyncio.sleep(0)
        gate.set()
        assert [1, 1, 1] == await asyncio.gather(*tasks)
        assert 3 == calls

    async def test_async_methods_and_cache_errors(self) -> None:
        """Async methods cache per instance; cache_errors works for coroutines."""

        class Client:
            def __init__(self) -> None:
                self.calls = 0

            @cached(cache_errors=PermissionError)
            async def get(self, path: str) -> str:
                self.calls += 1
                if path == "/secret":
                    raise PermissionError(path)
                return path

        c = Client()
        assert "/a" == await c.get("/a")
        assert "/a" == await c.get("/a")
        for _ in range(2):
            with pytest.raises(PermissionError):
                await c.get("/secret")
        assert 2 == c.calls

    async def test_stale_while_revalidate(self) -> None:
        """A stale value is returned immediately and refreshed once in the background."""
        clock = ManualClock()
        version = 0
        gate = asyncio.Event()

        @cached(ttl=60, stale_while_revalidate=30, clock=clock)
        async def config() -> int:
            nonlocal version
            version += 1
            if version > 1:
                await gate.wait()
            return version

        assert 1 == await config()
        await clock.advance(61)
        assert 1 == await config()  # stale, refresh started
        assert 1 == await config()  # still stale, no second refresh
        gate.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert 2 == await config()
        assert 2 == version
        await clock.advance(200)
        assert 3 == await config()  # past the stale window: a normal miss

    async def test_swr_refresh_failure_keeps_stale(self) -> None:
        """A failing background refresh keeps serving the stale value."""
        clock = ManualClock()
        calls = 0

        @cached(ttl=1, stale_while_revalidate=100, clock=clock)
        async def f() -> int:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise RuntimeError("refresh failed")
            return 1

        assert 1 == await f()
        await clock.advance(2)
        assert 1 == await f()
        for _ in range(5):
            await asyncio.sleep(0)
        assert 1 == await f()
        assert calls >= 2

    async def test_partial_and_async_callable_objects(self) -> None:
        """functools.partial of a coroutine function and async callables are async too."""
        import functools

        calls = []

        async def scale(factor: int, x: int) -> int:
            calls.append(x)
            return factor * x

        triple = cached(functools.partial(scale, 3))
        assert 6 == await triple(2)
        assert 6 == await triple(2)

        class Fetcher:
            async def __call__(self, x: int) -> int:
                calls.append(x)
                return x

        fetch = cached(Fetcher())
        assert 5 == await fetch(5)
        assert 5 == await fetch(5)
        assert [2, 5] == calls

    async def test_works_across_event_loops(self) -> None:
        """A cached coroutine function used from another loop (thread) still works."""

        @cached
        async def f(x: int) -> int:
            await asyncio.sleep(0)
            return x * 3

        assert 3 == await f(1)
        result = await asyncio.to_thread(asyncio.run, f(2))
        assert 6 == result


@given(
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=3),
)
def test_make_key_is_deterministic(args: list[Any], kwargs: dict[str, Any]) -> None:
    """Equal calls give equal keys regardless of keyword order; keys are hashable."""
    key = make_key(tuple(args), kwargs)
    reordered = dict(reversed(list(kwargs.items())))
    assert key == make_key(tuple(args), reordered)
    hash(key)
    if kwargs:
        assert key != make_key(tuple(args), {})
