"""A retry policy's async on_retry hook is awaited in order (issue 24, mend 2).

The step's retry loop used ``RetryPolicy.next_delay()``, which only schedules an
async hook: the next attempt could start before the hook ended, and a hook that
raised was never seen. It now uses ``RetryPolicy.anext_delay()``: hook, sleep and
retry happen in order (as tenacity's ``before_sleep``), and a failing hook fails
the item like the step itself, under the step's ``on_error``.
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import RetryPolicy
from pepperpy.pipeline import Pipeline, StepError, StepFailure

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


def _flaky(events: list[str], failures: int):  # type: ignore[no-untyped-def]
    calls = 0

    async def save(x: int) -> int:
        nonlocal calls
        calls += 1
        events.append(f"call {calls}")
        if calls <= failures:
            raise ConnectionError("down")
        return x * 10

    return save


def _slow_hook(events: list[str]):  # type: ignore[no-untyped-def]
    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        events.append(f"hook {attempt} start")
        for _ in range(5):  # a hook that awaits (a metrics push, a log flush)
            await asyncio.sleep(0)
        events.append(f"hook {attempt} end")

    return on_retry


async def test_process_awaits_the_hook_before_the_next_attempt() -> None:
    """mend 2: every hook ends before the attempt it announces starts."""
    events: list[str] = []
    policy = RetryPolicy(attempts=3, delay=0, jitter=0, on_retry=_slow_hook(events))
    pipe = Pipeline[int, int]().add_step(_flaky(events, 2), retry=policy)
    assert await pipe.process(1) == 10
    assert events == [
        "call 1",
        "hook 1 start",
        "hook 1 end",
        "call 2",
        "hook 2 start",
        "hook 2 end",
        "call 3",
    ]


async def test_stream_awaits_the_hook_before_the_next_attempt() -> None:
    """mend 2: the same order holds in a stream."""
    events: list[str] = []
    policy = RetryPolicy(attempts=2, delay=0, jitter=0, on_retry=_slow_hook(events))
    pipe = Pipeline[int, int]().add_step(_flaky(events, 1), retry=policy)
    async with pipe.stream([1]) as outputs:
        assert [out async for out in outputs] == [10]
    assert events == ["call 1", "hook 1 start", "hook 1 end", "call 2"]


def _broken_hook(error: Exception):  # type: ignore[no-untyped-def]
    async def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        await asyncio.sleep(0)
        raise error

    return on_retry


async def test_a_failing_hook_fails_the_item_with_a_step_error() -> None:
    """mend 2: the hook's exception ends the retries and is the StepError's cause."""
    events: list[str] = []
    broken = ValueError("the metrics backend is gone")
    policy = RetryPolicy(attempts=3, delay=0, jitter=0, on_retry=_broken_hook(broken))
    pipe = Pipeline[int, int]().add_step(_flaky(events, 1), name="save", retry=policy)
    with pytest.raises(StepError) as caught:
        await pipe.process(1)
    assert caught.value.cause is broken
    assert caught.value.step == "save"
    assert caught.value.attempts == 1
    assert events == ["call 1"]  # no retry after the hook failed


async def test_a_failing_hook_reaches_the_dead_letter_sink() -> None:
    """mend 2: under on_error='dead_letter' the sink sees the hook's exception."""
    failures: list[StepFailure] = []
    broken = ValueError("the metrics backend is gone")
    policy = RetryPolicy(attempts=3, delay=0, jitter=0, on_retry=_broken_hook(broken))
    pipe = Pipeline[int, int]().add_step(
        _flaky([], 1), retry=policy, on_error="dead_letter", dead_letter=failures.append
    )
    async with pipe.stream([1, 2]) as outputs:
        assert [out async for out in outputs] == [20]  # item 2: the step succeeds at once
    assert [(f.item, f.error, f.attempts) for f in failures] == [(1, broken, 1)]
