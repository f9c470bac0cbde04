"""RetryPolicy.anext_delay(): the awaited counterpart of next_delay() (issue 24, mend 2).

``next_delay()`` schedules an async ``on_retry`` on the loop and returns at once,
so a caller that drives its own retry loop could neither wait for the hook nor
see it fail. ``anext_delay()`` awaits the hook before it returns the wait, as
tenacity's ``AsyncRetrying`` awaits ``before_sleep`` and backoff awaits an async
``on_backoff`` handler before sleeping; a hook's exception propagates unchanged.
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core.types import ManualClock
from pepperpy.core.utils import RetryPolicy


async def test_anext_delay_awaits_an_async_hook_before_returning() -> None:
    """The hook has run to its end when anext_delay returns (mend 2)."""
    events: list[str] = []

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        events.append(f"hook {attempt} {type(exc).__name__} {delay}")
        for _ in range(5):  # a hook that awaits: fire-and-forget would return before its end
            await asyncio.sleep(0)
        events.append("hook done")

    policy = RetryPolicy(attempts=3, delay=2.0, jitter=0, on_retry=on_retry, clock=ManualClock())
    wait = await policy.anext_delay(1, ConnectionError("down"), 0.0)
    events.append("sleep")
    assert wait == 2.0
    assert events == ["hook 1 ConnectionError 2.0", "hook done", "sleep"]


async def test_anext_delay_lets_a_failing_hook_raise() -> None:
    """A hook that raises ends the retry loop with its own exception (mend 2)."""
    broken = ValueError("the metrics backend is gone")

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        await asyncio.sleep(0)
        raise broken

    policy = RetryPolicy(attempts=3, delay=0, jitter=0, on_retry=on_retry)
    with pytest.raises(ValueError) as caught:
        await policy.anext_delay(1, ConnectionError("down"), 0.0)
    assert caught.value is broken


async def test_anext_delay_calls_a_sync_hook_and_skips_it_when_giving_up() -> None:
    """A plain hook is called with (attempt, exc, wait); no hook when no retry follows."""
    seen: list[tuple[int, float]] = []
    policy = RetryPolicy(
        attempts=2,
        delay=1.0,
        jitter=0,
        retry_on=ConnectionError,
        on_retry=lambda a, e, d: seen.append((a, d)),
    )
    assert await policy.anext_delay(1, ConnectionError(), 0.0) == 1.0
    assert await policy.anext_delay(2, ConnectionError(), 0.0) is None  # attempts used up
    assert await policy.anext_delay(1, KeyError(), 0.0) is None  # not retryable
    assert seen == [(1, 1.0)]


async def test_acall_awaits_the_hook_before_each_sleep_in_order() -> None:
    """acall() runs hook, sleep, call in that order for every retry (one code path)."""
    events: list[str] = []
    clock = ManualClock()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        events.append(f"call {calls}")
        if calls < 3:
            raise ConnectionError("down")
        return "ok"

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        await asyncio.sleep(0)
        events.append(f"hook {attempt}")

    policy = RetryPolicy(attempts=3, delay=0, jitter=0, on_retry=on_retry, clock=clock)
    assert await policy.acall(flaky) == "ok"
    assert events == ["call 1", "hook 1", "call 2", "hook 2", "call 3"]


async def test_next_delay_only_schedules_an_async_hook() -> None:
    """next_delay() (the sync form) returns before an async hook runs; it runs later.

    This is why async loops use anext_delay(): nothing here can wait for the hook.
    """
    events: list[str] = []
    done = asyncio.Event()

    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        events.append(f"hook {attempt}")
        done.set()

    policy = RetryPolicy(attempts=3, delay=1.0, jitter=0, on_retry=on_retry)
    assert policy.next_delay(1, ConnectionError(), 0.0) == 1.0
    assert events == []  # scheduled, not run
    await done.wait()
    assert events == ["hook 1"]


def test_a_sync_call_runs_the_hook_before_each_wait() -> None:
    """call() (sync) calls on_retry(attempt, exc, delay) before every retry, in order."""
    seen: list[tuple[int, str, float]] = []
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"down {calls}")
        return "ok"

    policy = RetryPolicy(
        attempts=3,
        delay=1.0,
        backoff=2.0,
        jitter=0,
        on_retry=lambda a, e, d: seen.append((a, str(e), d)),
        clock=ManualClock(),
    )
    assert policy.call(flaky) == "ok"
    assert seen == [(1, "down 1", 1.0), (2, "down 2", 2.0)]


@pytest.mark.parametrize(
    "exc",
    [asyncio.CancelledError(), KeyboardInterrupt(), SystemExit(1)],
    ids=["CancelledError", "KeyboardInterrupt", "SystemExit"],
)
def test_cancellation_and_exits_are_never_retried(exc: BaseException) -> None:
    """Whatever retry_on says, should_retry() refuses non-Exception BaseExceptions."""
    policy = RetryPolicy(retry_on=BaseException)
    assert policy.should_retry(exc) is False
    assert policy.should_retry(ConnectionError()) is True
