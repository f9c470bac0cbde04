"""An async ``on_retry`` hook is awaited before the retry (review mend: RetryPolicy.next_delay
fired async hooks fire-and-forget, so a task's next attempt could start before its hook ended
and a failing hook was invisible). tenacity's ``before_sleep`` is the model."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import ManualClock, RetryPolicy
from pepperpy.task import TaskManager, TaskStatus

from .conftest import settle


async def test_the_next_attempt_starts_after_an_async_hook_has_finished() -> None:
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    events: list[str] = []
    hook_may_end = asyncio.Event()

    async def hook(attempt: int, exc: BaseException, wait: float) -> None:
        events.append(f"hook {attempt} begins")
        await hook_may_end.wait()
        events.append(f"hook {attempt} ends")

    async def flaky() -> str:
        events.append("attempt")
        if events.count("attempt") == 1:
            raise ValueError("first attempt fails")
        return "ok"

    policy = RetryPolicy(attempts=2, delay=0.0, jitter=0, clock=clock, on_retry=hook)
    handle = tasks.submit(flaky, retry=policy)
    await settle(20)
    assert events == ["attempt", "hook 1 begins"]  # no second attempt while the hook runs
    hook_may_end.set()
    assert await handle == "ok"
    assert events == ["attempt", "hook 1 begins", "hook 1 ends", "attempt"]
    assert not (await tasks.shutdown()).timed_out


async def test_a_failing_async_hook_fails_the_task_with_its_error() -> None:
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    attempts = 0

    async def hook(attempt: int, exc: BaseException, wait: float) -> None:
        await asyncio.sleep(0)
        raise LookupError("hook failed")

    async def fails() -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("attempt failed")

    handle = tasks.submit(
        fails, retry=RetryPolicy(attempts=3, delay=0.0, jitter=0, clock=clock, on_retry=hook)
    )
    with pytest.raises(LookupError, match="hook failed"):
        await handle
    assert handle.status is TaskStatus.FAILED
    assert attempts == 1  # the hook's failure ends the retries
    assert tasks.queue_stats()["default"].running == 0
    assert not (await tasks.shutdown()).timed_out


async def test_cancel_while_the_hook_runs_ends_the_task_cancelled() -> None:
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    hook_started = asyncio.Event()
    hook_may_end = asyncio.Event()
    attempts = 0

    async def hook(attempt: int, exc: BaseException, wait: float) -> None:
        hook_started.set()
        await hook_may_end.wait()

    async def fails() -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("attempt failed")

    handle = tasks.submit(
        fails, retry=RetryPolicy(attempts=3, delay=0.0, jitter=0, clock=clock, on_retry=hook)
    )
    await hook_started.wait()
    handle.cancel()
    hook_may_end.set()
    await settle(20)
    assert handle.status is TaskStatus.CANCELLED
    assert attempts == 1  # no retry after the cancel
    assert tasks.queue_stats()["default"].running == 0
    assert not (await tasks.shutdown()).timed_out
