"""Attacks on pepperpy.core's promises (issue 19, findings 12-16).

Each test names the finding it covers. They failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
import threading
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core.exceptions import (
    ConfigurationError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    ValidationError,
)
from pepperpy.core.types import Lifecycle, ManualClock
from pepperpy.core.utils import RetryPolicy, deep_merge, once, retry, throttle, timeout

# --------------------------------------------------------------------------- #12 timeout


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.uncancel() needs Python 3.11")
async def test_timeout_does_not_swallow_an_outside_cancel_at_the_deadline() -> None:
    """issue 19 #12: asyncio.timeout's rule: a cancel from outside that arrives
    together with the deadline is the caller's, not converted to a timeout."""
    after: list[str] = []

    async def body() -> None:
        try:
            async with timeout(0.05):
                loop = asyncio.get_running_loop()
                # The outside cancel lands in the same loop iteration as the deadline.
                loop.call_later(0.05, task.cancel)
                await asyncio.sleep(10)
        except OperationTimeoutError:
            after.append("caught the timeout and went on")
            await asyncio.sleep(0)
            after.append("still running after being cancelled")

    task = asyncio.create_task(body())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "still running after being cancelled" not in after


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() needs Python 3.11")
async def test_timeout_cancelled_from_outside_before_the_deadline_propagates() -> None:
    """issue 19 #12: an outside cancel well before the deadline stays a cancellation."""

    async def body() -> None:
        async with timeout(10):
            await asyncio.sleep(10)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_timeout_still_times_out() -> None:
    with pytest.raises(OperationTimeoutError) as info:
        async with timeout(0.01):
            await asyncio.sleep(5)
    assert type(info.value) is OperationTimeoutError
    task = asyncio.current_task()
    assert task is not None
    if sys.version_info >= (3, 11):
        assert task.cancelling() == 0  # the timeout's own cancel was withdrawn


async def test_nested_timeouts_the_inner_one_fires() -> None:
    with pytest.raises(OperationTimeoutError) as info:
        async with timeout(5):
            async with timeout(0.01):
                await asyncio.sleep(1)
    assert info.value.context["seconds"] == 0.01


# --------------------------------------------------------------------------- #13 retry


@given(attempt=st.integers(min_value=1, max_value=10**6))
def test_delay_for_never_overflows(attempt: int) -> None:
    """issue 19 #13: tenacity returns the cap; so do we."""
    policy = RetryPolicy(attempts=10_000, backoff=2, delay=0.1, max_delay=30, jitter=0)
    assert 0 <= policy.delay_for(attempt) <= 30


def test_delay_for_huge_attempt_is_the_cap() -> None:
    policy = RetryPolicy(attempts=10_000, backoff=2, jitter=0)
    assert policy.delay_for(1100) == policy.max_delay
    zero = RetryPolicy(attempts=10_000, backoff=2, delay=0, jitter=0)
    assert zero.delay_for(1100) == 0.0


async def test_retry_deadline_counts_from_the_first_call() -> None:
    """issue 19 #13: the docs say "seconds after the first call"."""
    clock = ManualClock()
    calls = 0

    @retry(attempts=1000, delay=0.01, backoff=1, jitter=0, deadline=1.0, clock=clock)
    async def slow_then_fail() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            clock.advance_sync(0.9)  # the first call takes 0.9 s
        raise ConnectionError("down")

    task = asyncio.create_task(slow_then_fail())
    while not task.done():
        await clock.advance(0.01)
        await asyncio.sleep(0)
    with pytest.raises(ConnectionError):
        await task
    # Counted from the first call, retries stop at 1.0 s: about 11 calls. Counted
    # from the first failure (the bug) they went on to 1.9 s: about 100 calls.
    assert calls <= 15
    assert clock.monotonic() <= 1.05


def test_retry_deadline_counts_from_the_first_call_sync() -> None:
    clock = ManualClock()

    @retry(attempts=1000, delay=0.5, backoff=1, jitter=0, deadline=1.0, clock=clock)
    def fail() -> None:
        clock.advance_sync(0.8)
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        fail()
    assert clock.monotonic() <= 1.0 + 0.8 + 1e-9  # no retry starts after 1.0 s


async def test_async_on_retry_is_awaited() -> None:
    """issue 19 #13: an async on_retry was never awaited (RuntimeWarning)."""
    seen: list[int] = []

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        await asyncio.sleep(0)
        seen.append(attempt)

    calls = 0

    @retry(attempts=3, delay=0, jitter=0, on_retry=on_retry)
    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError
        return "ok"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await flaky() == "ok"
    assert seen == [1, 2]


def test_async_on_retry_on_a_sync_function_is_refused() -> None:
    from pepperpy.core.exceptions import InvalidArgumentError

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        return None

    with pytest.raises(InvalidArgumentError, match="on_retry"):

        @retry(on_retry=on_retry)
        def f() -> None:
            return None


# --------------------------------------------------------------------------- #14 lifecycle


class _Slow(Lifecycle):
    def __init__(self) -> None:
        self.stops = 0

    async def _on_stop(self) -> None:
        self.stops += 1
        await asyncio.sleep(0.01)


def test_lifecycle_contended_in_two_event_loops() -> None:
    """issue 19 #14: a component used from one loop then another (pytest-asyncio with a
    session-scoped component) must not fail with "bound to a different event loop"."""
    comp = _Slow()

    async def cycle() -> None:
        await comp.start()
        await asyncio.gather(comp.stop(), comp.stop(), comp.start())
        await asyncio.gather(comp.stop(), comp.stop())

    asyncio.run(cycle())
    asyncio.run(cycle())
    assert comp.stops >= 2


# --------------------------------------------------------------------------- #15 pickling


class _Unpicklable:
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("no pickling for you")

    def __repr__(self) -> str:
        return "<Unpicklable>"


def _error_classes() -> list[type[PepperPyError]]:
    seen: list[type[PepperPyError]] = []
    stack: list[type[PepperPyError]] = [PepperPyError]
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("pepperpy.core"):  # other packages test their own
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.__name__)


def _make(cls: type[PepperPyError]) -> PepperPyError:
    """An instance of *cls* with the odd context, whatever its constructor takes.

    Classes of other packages (loaded when suites run together) may have their own
    constructors; the pickling contract is PepperPyError's, so build through it.
    """
    context = {"lock": threading.Lock(), "obj": _Unpicklable(), "n": 3}
    error = cls.__new__(cls)
    PepperPyError.__init__(error, "outer", context=context, hint="h")
    if isinstance(error, ValidationError):
        error.errors = []
    return error


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_pickles_with_cause_and_odd_context(cls: type[PepperPyError]) -> None:
    """issue 19 #15: errors keep their cause and a context with non-JSON values."""
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise _make(cls) from inner
    except PepperPyError as exc:
        caught = exc
    copy = pickle.loads(pickle.dumps(caught))
    assert type(copy) is cls
    assert copy.message == "outer"
    assert copy.context["n"] == 3
    assert isinstance(copy.context["obj"], str) and "Unpicklable" in copy.context["obj"]
    assert isinstance(copy.__cause__, KeyError)
    assert copy.__cause__.args == ("inner",)
    assert copy.to_dict()["cause"]["type"] == "KeyError"


def test_pickled_error_keeps_a_pepperpy_cause_chain() -> None:
    try:
        try:
            raise NotFoundError("missing", context={"key": "a"})
        except NotFoundError as inner:
            raise ConfigurationError("bad config") from inner
    except ConfigurationError as exc:
        copy = pickle.loads(pickle.dumps(exc))
    assert type(copy.__cause__) is NotFoundError
    assert copy.__cause__.context == {"key": "a"}
    assert copy.to_dict()["cause"]["code"] == NotFoundError.code


def test_pickled_error_with_unpicklable_cause() -> None:
    class Local(Exception):  # a local class cannot be pickled by reference
        pass

    try:
        try:
            raise Local("weird")
        except Local as inner:
            raise ValidationError("bad", errors=[]) from inner
    except ValidationError as exc:
        copy = pickle.loads(pickle.dumps(exc))
    assert copy.__cause__ is not None
    assert "Local" in str(copy.__cause__) and "weird" in str(copy.__cause__)


# --------------------------------------------------------------------------- #16 smaller


async def test_once_recovers_after_its_first_call_is_cancelled() -> None:
    """issue 19 #16: @once was broken (CancelledError forever) after a cancelled first call."""
    calls = 0
    gate = asyncio.Event()

    @once
    async def load() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()  # the first run is cancelled while here
        return calls

    first = asyncio.create_task(load())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # Cancel the shared run itself (as loop shutdown or a TaskGroup would).
    for t in asyncio.all_tasks():
        if t is not asyncio.current_task() and t is not first:
            t.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await load() == 2
    assert await load() == 2


def test_once_works_across_event_loops() -> None:
    @once
    async def value() -> int:
        return 7

    assert asyncio.run(value()) == 7
    assert asyncio.run(value()) == 7


async def test_async_throttle_callers_during_the_first_call_get_its_result() -> None:
    """issue 19 #16: callers arriving while the first call ran got None."""
    gate = asyncio.Event()

    @throttle(60)
    async def fetch() -> str:
        await gate.wait()
        return "fresh"

    first = asyncio.create_task(fetch())
    await asyncio.sleep(0)
    second = asyncio.create_task(fetch())
    await asyncio.sleep(0)
    gate.set()
    assert await first == "fresh"
    assert await second == "fresh"
    assert await fetch() == "fresh"


def test_deep_merge_result_shares_no_containers_with_inputs() -> None:
    """issue 19 #16: deep_merge is documented as never modifying its inputs."""
    base = {"a": [1, 2], "b": {"c": [3], "s": {1}}, "t": ([4],)}
    over = {"d": [5]}
    merged = deep_merge(base, over)
    merged["a"].append(99)
    merged["b"]["c"].append(99)
    merged["b"]["s"].add(99)
    merged["d"].append(99)
    merged["t"][0].append(99)
    assert base == {"a": [1, 2], "b": {"c": [3], "s": {1}}, "t": ([4],)}
    assert over == {"d": [5]}
