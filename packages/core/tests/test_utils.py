"""Tests for pepperpy.core.utils."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pepperpy.core
from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    OperationTimeoutError,
    PluginError,
)
from pepperpy.core.types import ManualClock
from pepperpy.core.utils import (
    Backends,
    RetryPolicy,
    batched,
    call_maybe_async,
    chunked,
    debounce,
    deep_merge,
    gather_limited,
    import_string,
    is_async_callable,
    once,
    parse_duration,
    parse_size,
    retry,
    throttle,
    timeout,
)


class Flaky:
    def __init__(self, failures: int, exc: type[BaseException] = ConnectionError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc("try again")
        return "ok"


class TestRetry:
    def test_sync_retries_until_success(self):
        """A sync function is retried on failure and its result returned."""
        flaky = Flaky(2)
        clock = ManualClock()
        wrapped = retry(attempts=3, delay=1, clock=clock)(flaky)
        assert wrapped() == "ok"
        assert flaky.calls == 3
        assert clock.monotonic() >= 1.0  # it waited (on the manual clock)

    def test_bare_decorator(self):
        """@retry without parentheses uses the defaults."""

        @retry
        def f() -> int:
            return 1

        assert f() == 1
        assert f.retry_policy.attempts == 3  # type: ignore[attr-defined]

    def test_reraises_last_error_when_attempts_run_out(self):
        """The last exception is re-raised unchanged."""
        flaky = Flaky(5)
        with pytest.raises(ConnectionError, match="try again"):
            RetryPolicy(attempts=3, delay=0).call(flaky)
        assert flaky.calls == 3

    def test_retry_on_filters(self):
        """Only matching exceptions are retried (class, tuple or predicate)."""
        flaky = Flaky(1, exc=KeyError)
        with pytest.raises(KeyError):
            RetryPolicy(delay=0, retry_on=ConnectionError).call(flaky)
        assert flaky.calls == 1
        assert RetryPolicy(delay=0, retry_on=(KeyError, OSError)).call(Flaky(1, KeyError)) == "ok"
        pred = RetryPolicy(delay=0, retry_on=lambda e: "again" in str(e))
        assert pred.call(Flaky(2)) == "ok"

    async def test_async_retries_with_backoff_on_manual_clock(self):
        """Coroutine functions are awaited and retried; delays follow the backoff."""
        clock = ManualClock()
        seen: list[float] = []
        calls = 0

        @retry(
            attempts=4,
            delay=1,
            backoff=2,
            jitter=0,
            clock=clock,
            on_retry=lambda a, e, d: seen.append(d),
        )
        async def fetch() -> str:
            nonlocal calls
            calls += 1
            if calls < 4:
                raise ConnectionError
            return "done"

        task = asyncio.create_task(fetch())
        await clock.advance(10)
        assert await task == "done"
        assert seen == [1.0, 2.0, 4.0]

    async def test_never_retries_cancellation(self):
        """CancelledError propagates at once and consumes no retry."""
        calls = 0

        @retry(attempts=5, delay=0, retry_on=BaseException)
        async def cancelled() -> None:
            nonlocal calls
            calls += 1
            raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await cancelled()
        assert calls == 1

    async def test_deadline_stops_retries(self):
        """No retry starts after the deadline."""
        clock = ManualClock()
        flaky = Flaky(100)

        async def afn() -> str:
            return flaky()

        policy = RetryPolicy(attempts=100, delay=1, backoff=1, jitter=0, deadline=3.5, clock=clock)
        task = asyncio.create_task(policy.acall(afn))
        await clock.advance(100)
        with pytest.raises(ConnectionError):
            await task
        assert flaky.calls <= 5

    def test_detects_partial_and_callable_objects(self):
        """Coroutine functions hidden in partials or __call__ are detected."""

        async def coro(x: int) -> int:
            return x

        class AsyncCallable:
            async def __call__(self) -> int:
                return 1

        assert is_async_callable(coro)
        assert is_async_callable(functools.partial(coro, 1))
        assert is_async_callable(AsyncCallable())
        assert not is_async_callable(len)
        assert not is_async_callable(lambda: None)

    def test_delay_for_is_capped_and_jittered(self):
        """Delays grow, stay under max_delay and within the jitter band."""
        policy = RetryPolicy(delay=1, backoff=10, max_delay=50, jitter=0.5)
        for attempt in range(1, 6):
            d = policy.delay_for(attempt)
            assert 0 <= d <= 50
        assert RetryPolicy(delay=1, jitter=0).delay_for(1) == 1.0

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"attempts": 0},
            {"delay": -1},
            {"backoff": 0.5},
            {"jitter": 2},
            {"deadline": 0},
            {"retry_on": 3},
        ],
    )
    def test_bad_arguments(self, kwargs):
        """Invalid settings raise InvalidArgumentError naming the value."""
        with pytest.raises(InvalidArgumentError) as info:
            retry(**kwargs)
        assert info.value.hint or info.value.context


class TestTimeout:
    async def test_block_times_out(self):
        """async with timeout() raises OperationTimeoutError when exceeded."""
        with pytest.raises(OperationTimeoutError) as info:
            async with timeout(0.01):
                await asyncio.sleep(10)
        assert info.value.context["seconds"] == 0.01

    async def test_block_finishes_in_time(self):
        """A fast block is untouched."""
        async with timeout("1s"):
            await asyncio.sleep(0)

    async def test_outer_cancellation_is_not_converted(self):
        """A cancellation from outside stays a cancellation."""

        async def body() -> None:
            async with timeout(10):
                await asyncio.sleep(10)

        task = asyncio.create_task(body())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def test_decorates_async_and_sync(self):
        """@timeout works on coroutine functions and plain functions."""

        @timeout(0.01)
        async def slow() -> None:
            await asyncio.sleep(10)

        @timeout(0.01)
        def slow_sync() -> None:
            time.sleep(0.2)

        @timeout(1)
        def fast_sync() -> int:
            return 7

        with pytest.raises(OperationTimeoutError):
            await slow()
        with pytest.raises(OperationTimeoutError, match="slow_sync"):
            slow_sync()
        assert fast_sync() == 7


class TestBatched:
    @given(st.lists(st.integers()), st.integers(min_value=1, max_value=10))
    def test_sync_batches_preserve_items(self, items, size):
        """Batches hold every item in order, all full but the last."""
        batches = list(batched(items, size))
        assert items == [x for b in batches for x in b]
        assert all(len(b) == size for b in batches[:-1])

    async def test_async_iterable(self):
        """Async iterables give an async iterator of tuples."""

        async def gen():
            for i in range(5):
                yield i

        assert [b async for b in chunked(gen(), 2)] == [(0, 1), (2, 3), (4,)]

    def test_bad_size(self):
        """Sizes below 1 are refused."""
        with pytest.raises(InvalidArgumentError):
            batched([1], 0)


class TestGatherLimited:
    async def test_bounded_and_ordered(self):
        """At most `limit` run at once and results keep input order."""
        running = 0
        peak = 0

        async def work(i: int) -> int:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.001 * (10 - i))
            running -= 1
            return i

        assert list(range(10)) == await gather_limited([work(i) for i in range(10)], 3)
        assert peak <= 3

    async def test_error_cancels_the_rest(self):
        """The first error cancels running work and leaves no coroutine unawaited."""
        cancelled = []

        async def ok(i: int) -> int:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                cancelled.append(i)
                raise
            return i

        async def bad() -> int:
            raise ValueError("bad")

        with pytest.raises(ValueError):
            await gather_limited([ok(0), bad(), ok(2), ok(3)], 2)
        assert cancelled == [0]

    async def test_return_exceptions(self):
        """With return_exceptions, errors take their slot in the results."""

        async def bad() -> int:
            raise KeyError("x")

        async def good() -> int:
            return 1

        results = await gather_limited([good(), bad()], 2, return_exceptions=True)
        assert results[0] == 1 and isinstance(results[1], KeyError)


class TestParsing:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("1h30m", 5400.0),
            ("500ms", 0.5),
            ("1.5s", 1.5),
            ("2d", 172800.0),
            ("1w", 604800.0),
            ("90", 90.0),
            (3, 3.0),
            (timedelta(minutes=2), 120.0),
            ("1m 30s", 90.0),
            ("250us", 0.00025),
        ],
    )
    def test_parse_duration(self, text, seconds):
        """Durations in many spellings become seconds."""
        assert seconds == pytest.approx(parse_duration(text))

    @pytest.mark.parametrize(
        "bad", ["abc", "", "1x", "h1", "-5", "1h-2m", True, None, float("nan")]
    )
    def test_parse_duration_bad(self, bad):
        """Unparseable durations name the value and what is valid."""
        with pytest.raises(InvalidArgumentError) as info:
            parse_duration(bad)
        assert "duration" in str(info.value)

    @given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=59))
    def test_duration_round_trip(self, hours, minutes):
        """'{h}h{m}m' always parses to h*3600 + m*60."""
        assert hours * 3600 + minutes * 60 == parse_duration(f"{hours}h{minutes}m")

    @pytest.mark.parametrize(
        ("text", "size"),
        [
            ("10MiB", 10 * 1024**2),
            ("1.5kB", 1500),
            ("512", 512),
            (7, 7),
            ("2 GB", 2 * 10**9),
            ("1KiB", 1024),
        ],
    )
    def test_parse_size(self, text, size):
        """Sizes with decimal and binary units become bytes."""
        assert size == parse_size(text)

    @pytest.mark.parametrize("bad", ["10XB", "", "MiB", -1, "ten"])
    def test_parse_size_bad(self, bad):
        """Unparseable sizes are refused with the valid units."""
        with pytest.raises(InvalidArgumentError):
            parse_size(bad)


class TestData:
    def test_deep_merge(self):
        """Nested mappings merge, later wins, lists are replaced, inputs untouched."""
        a = {"db": {"host": "a", "port": 1}, "tags": [1]}
        b = {"db": {"host": "b"}, "tags": [2], "new": {"x": 1}}
        merged = deep_merge(a, b)
        assert merged == {"db": {"host": "b", "port": 1}, "tags": [2], "new": {"x": 1}}
        assert a["db"]["host"] == "a"
        merged["new"]["x"] = 2
        assert b["new"]["x"] == 1

    def test_import_string(self):
        """Both 'mod:attr' and 'mod.attr' import."""
        assert time.monotonic is import_string("time:monotonic")
        assert time.monotonic is import_string("time.monotonic")
        assert InvalidArgumentError is import_string(
            "pepperpy.core.exceptions:InvalidArgumentError"
        )

    @pytest.mark.parametrize("bad", ["nope:x", "time:nope", "", "nodots", ":x"])
    def test_import_string_bad(self, bad):
        """Bad paths raise InvalidArgumentError naming the path."""
        with pytest.raises(InvalidArgumentError):
            import_string(bad)


class TestCallControl:
    def test_once_sync_thread_safe(self):
        """Concurrent threads run the function once; errors are not cached."""
        calls = []

        @once
        def setup() -> int:
            calls.append(1)
            time.sleep(0.01)
            return 42

        threads = [threading.Thread(target=setup) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert setup() == 42 and len(calls) == 1

        attempts = []

        @once
        def failing() -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError
            return 1

        with pytest.raises(RuntimeError):
            failing()
        assert failing() == 1 and len(attempts) == 2

    async def test_once_async_single_flight(self):
        """Concurrent awaiters share one call."""
        calls = 0

        @once
        async def connect() -> str:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.01)
            return "conn"

        assert await asyncio.gather(*(connect() for _ in range(5))) == ["conn"] * 5
        assert calls == 1

    async def test_throttle(self):
        """Calls within the interval return the last result without running."""
        clock = ManualClock()
        calls = []

        @throttle(10, clock=clock)
        def ping(x: int) -> int:
            calls.append(x)
            return x

        @throttle("10s", clock=clock)
        async def aping(x: int) -> int:
            calls.append(x)
            return x

        assert ping(1) == 1 and ping(2) == 1
        assert await aping(3) == 3 and await aping(4) == 3
        clock.advance_sync(10)
        assert ping(5) == 5
        assert calls == [1, 3, 5]

    async def test_debounce_async(self):
        """A burst runs once, with the last arguments, and every caller gets the result."""
        clock = ManualClock()
        calls = []

        @debounce(1, clock=clock)
        async def save(x: int) -> int:
            calls.append(x)
            return x * 10

        tasks = [asyncio.create_task(save(i)) for i in range(3)]
        await clock.advance(0.5)
        assert calls == []
        await clock.advance(1)
        assert await asyncio.gather(*tasks) == [20, 20, 20]
        assert calls == [2]

    def test_debounce_sync(self):
        """Sync debounce runs once after the quiet period, in a timer thread."""
        done = threading.Event()
        calls = []

        @debounce(0.02)
        def save(x: int) -> None:
            calls.append(x)
            done.set()

        for i in range(5):
            save(i)
        assert done.wait(2)
        time.sleep(0.05)
        assert calls == [4]

    async def test_call_maybe_async(self):
        """Sync results are returned, awaitables awaited."""

        async def a() -> int:
            return 1

        assert await call_maybe_async(a) == 1
        assert await call_maybe_async(lambda: 2) == 2


def test_package_exports_every_public_name():
    """pepperpy.core re-exports every public name lazily and nothing unknown."""
    for name in pepperpy.core.__all__:
        assert getattr(pepperpy.core, name) is not None
    with pytest.raises(AttributeError):
        pepperpy.core.nope  # noqa: B018
    assert "retry" in dir(pepperpy.core)


def test_retry_policy_value_semantics():
    """Policies compare by settings, hash, render, and copy with replace()."""
    a = RetryPolicy(attempts=2, delay=0.5)
    assert a == RetryPolicy(attempts=2, delay=0.5)
    assert hash(a) == hash(RetryPolicy(attempts=2, delay=0.5))
    assert a != RetryPolicy(attempts=3, delay=0.5)
    assert "RetryPolicy(attempts=2" in repr(a)
    b = a.replace(attempts=5)
    assert 5 == b.attempts and 0.5 == b.delay and 2 == a.attempts
    assert a.__eq__(1) is NotImplemented
    with pytest.raises(InvalidArgumentError):
        a.replace(attempts=0)


def test_all_matches_the_submodules():
    """The literal __all__ (which type checkers read) lists each submodule's public names."""
    from pepperpy.core import _redact, exceptions, types, utils

    exported = set(exceptions.__all__) | set(types.__all__) | set(utils.__all__)
    exported |= set(_redact.__all__)  # the shared redactor (issue 20 #1)
    exported -= {"T", "T_co"}  # type variables stay in pepperpy.core.types
    assert exported | {"__version__"} == set(pepperpy.core.__all__)


def test_next_delay_for_own_retry_loops():
    """next_delay applies attempts, retry_on, the deadline and on_retry in one call."""
    clock = ManualClock()
    seen = []
    policy = RetryPolicy(
        attempts=3,
        delay=2,
        backoff=1,
        jitter=0,
        deadline=3,
        retry_on=ConnectionError,
        on_retry=lambda a, e, d: seen.append((a, d)),
        clock=clock,
    )
    started = clock.monotonic()
    assert 2.0 == policy.next_delay(1, ConnectionError(), started)
    clock.advance_sync(2)
    assert 1.0 == policy.next_delay(2, ConnectionError(), started)  # cut to the deadline
    assert policy.next_delay(3, ConnectionError(), started) is None  # attempts used up
    assert policy.next_delay(1, KeyError(), started) is None  # not retryable
    clock.advance_sync(5)
    assert policy.next_delay(1, ConnectionError(), started) is None  # past the deadline
    assert [(1, 2.0), (2, 1.0)] == seen


# --------------------------------------------------------------------------- Backends


def _install_fake_dist(root: Path, group: str, entries: dict[str, str]) -> None:
    """A real distribution on sys.path registering *entries* under *group*."""
    (root / "fake_backend_mod.py").write_text("class Thing:\n    pass\n")
    info = root / "fake_backends-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-backends\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}")


class TestBackends:
    GROUP = "pepperpy.coretest.backends"

    def backends(self) -> Backends:
        return Backends("coretest", "widget backend", self.GROUP, {"json": "json:JSONDecoder"})

    def test_builtins_import_lazily(self):
        backends = self.backends()
        assert backends.names() == ["json"]
        assert backends.load("json") is json.JSONDecoder
        assert "pepperpy.coretest.backends" in repr(backends)

    def test_unknown_name_says_what_exists(self):
        with pytest.raises(ConfigurationError, match="no widget backend named 'nope'") as info:
            self.backends().load("nope", hint="Use json.")
        assert info.value.code == "pepperpy.coretest.unknown_backend"
        assert info.value.context["available"] == ["json"]
        assert info.value.hint.startswith("Use json. Or install")

    def test_entry_points_of_an_installed_distribution(self, tmp_path, monkeypatch):
        _install_fake_dist(
            tmp_path,
            self.GROUP,
            {"thing": "fake_backend_mod:Thing", "broken": "no_such_module_xyz:Thing"},
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        backends = self.backends()
        assert backends.names() == ["broken", "json", "thing"]
        assert backends.load("thing").__name__ == "Thing"
        with pytest.raises(PluginError, match="widget backend 'broken' failed to load") as info:
            backends.load("broken")
        assert info.value.code == "pepperpy.coretest.backend_load"
        assert info.value.context["entry_point"] == "no_such_module_xyz:Thing"

    def test_for_url_resolves_the_scheme_and_reads_the_environment(self, monkeypatch):
        class WithFromUrl:
            @classmethod
            def from_url(cls, url):
                return cls()

        backends = Backends(
            "coretest",
            "widget backend",
            self.GROUP,
            {"w": f"{__name__}:_W", "json": "json:JSONDecoder"},
        )
        monkeypatch.setitem(globals(), "_W", WithFromUrl)
        assert backends.for_url("W://x", noun="widget", env="X", examples="w://x") == (
            "W://x",
            "w",
            WithFromUrl,
        )
        monkeypatch.setenv("PEPPERPY_WIDGET_URL", "w://from-env")
        assert backends.for_url(None, noun="widget", env="PEPPERPY_WIDGET_URL", examples="")[0] == (
            "w://from-env"
        )
        monkeypatch.delenv("PEPPERPY_WIDGET_URL")
        with pytest.raises(ConfigurationError, match=r"connect_widget\(\) needs a URL") as info:
            backends.for_url(None, noun="widget", env="PEPPERPY_WIDGET_URL", examples="w://x")
        assert info.value.code == "pepperpy.coretest.no_widget_url"
        for bad in ("widget.db", "://x", 42):
            with pytest.raises(InvalidArgumentError, match="is not a widget URL") as bad_info:
                backends.for_url(bad, noun="widget", env="X", examples="w://x")
            assert bad_info.value.code == "pepperpy.coretest.widget_url"
        with pytest.raises(PluginError, match="'json' has no from_url"):
            backends.for_url("json://x", noun="widget", env="X", examples="w://x")


def test_import_driver_names_the_extra_that_installs_it():
    import json as json_module

    from pepperpy.core.utils import import_driver

    assert import_driver("json", area="task", user="X", extra="redis") is json_module
    missing = "RedisQueue needs the no_such_driver_x package"
    with pytest.raises(ConfigurationError, match=missing) as info:
        import_driver("no_such_driver_x.asyncio", area="task", user="RedisQueue", extra="redis")
    assert info.value.code == "pepperpy.task.missing_driver"
    assert info.value.hint == "Install the extra: pip install 'pepperpy-task[redis]'."
