"""Hostile review of the issue 21 #1-4 fixes in TaskManager (slots, retries, hooks).

Each test attacks a variation next to a fixed finding; its docstring names it.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from pepperpy.core import ManualClock, RetryPolicy
from pepperpy.task import TaskManager, TaskStatus

from .conftest import settle


async def _until_running(tasks: TaskManager, expected: int) -> int:
    """Let the loop run the executor's completion callbacks; return the running count."""
    running = tasks.queue_stats()["default"].running
    for _ in range(200):
        if running == expected:
            break
        await asyncio.to_thread(lambda: None)  # real time for the worker thread to finish
        await settle(5)
        running = tasks.queue_stats()["default"].running
    return running


async def test_a_timed_out_sync_attempt_and_its_retry_each_give_their_slot_back() -> None:
    """Next to issue 21 #3: with concurrency=2, attempt 1's thread (timed out, still running)
    holds one slot while the retry runs in the other. Both slots must come back: the
    deferred release used to look at the job's *current* thread and lost one slot for good."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=2, clock=clock, shutdown_timeout=30)
    await tasks.start()
    first_gate = threading.Event()
    first_done = threading.Event()
    calls = 0

    def work() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            try:
                first_gate.wait(60)
                return "late"
            finally:
                first_done.set()
        return "second"

    handle = tasks.submit(
        work, timeout=1, retry=RetryPolicy(attempts=2, delay=0.0, jitter=0, clock=clock)
    )
    await settle()
    await clock.advance(1)  # attempt 1 times out; its thread keeps its slot
    assert await handle == "second"
    assert handle.attempts == 2
    first_gate.set()
    await asyncio.to_thread(first_done.wait, 60)
    assert await _until_running(tasks, 0) == 0
    # Both slots are usable again.
    gate = asyncio.Event()

    async def hold() -> None:
        await gate.wait()

    a, b = tasks.submit(hold), tasks.submit(hold)
    assert (a.status, b.status) == (TaskStatus.RUNNING, TaskStatus.RUNNING)
    gate.set()
    await a
    await b
    assert not (await tasks.shutdown()).timed_out


@pytest.mark.parametrize("where", ["on_retry", "retry_on"])
async def test_a_raising_retry_hook_settles_the_task(where: str) -> None:
    """Next to issue 21 #4 (the manager drives RetryPolicy): an ``on_retry`` or ``retry_on``
    callable that raises used to kill the attempt's asyncio task before the handle was
    settled, so ``await handle`` never returned and stop() waited out its timeout."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()

    def boom(*args: object) -> bool:
        raise LookupError("hook failed")

    async def fails() -> None:
        raise ValueError("attempt failed")

    policy = (
        RetryPolicy(attempts=3, delay=0.0, jitter=0, clock=clock, on_retry=boom)
        if where == "on_retry"
        else RetryPolicy(attempts=3, delay=0.0, jitter=0, clock=clock, retry_on=boom)
    )
    handle = tasks.submit(fails, retry=policy)
    await settle()
    assert handle.status is TaskStatus.FAILED
    with pytest.raises(LookupError):
        await handle
    assert tasks.queue_stats()["default"].running == 0
    assert await tasks.submit(asyncio.sleep, 0, "next") == "next"
    assert not (await tasks.shutdown()).timed_out
