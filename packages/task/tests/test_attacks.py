"""Issue 21 (task findings 1-4): cancellation at every point, sync slots, retry deadlines.

Each test names the finding it attacks. Durable findings (6-8) live in the
conformance suite (test_durable_fencing.py), cron (5) in test_cron_croniter.py
and the worker command (9) in test_worker_cli.py.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from pepperpy.core import LifecycleState, ManualClock, RetryPolicy
from pepperpy.task import TaskCancelledError, TaskManager, TaskStatus, TaskTimeoutError

from .conftest import settle


class Gate:
    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.runs = 0

    async def __call__(self) -> str:
        self.runs += 1
        await self.event.wait()
        return "done"


async def quick() -> str:
    return "quick"


# --------------------------------------------------------------------------- issue 21 #1


async def test_cancel_right_after_submit_settles_and_frees_the_slot() -> None:
    """Issue 21 #1: cancel before the task's first step (no await in between)."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    ran: list[str] = []

    async def job() -> None:
        ran.append("ran")

    handle = tasks.submit(job)
    assert handle.status is TaskStatus.RUNNING  # started at once: a free slot
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    assert handle.status is TaskStatus.CANCELLED
    assert handle.attempts == 0  # it never started
    assert ran == []
    stats = tasks.queue_stats()["default"]
    assert (stats.running, stats.cancelled) == (0, 1)
    # The single slot is free: the next task runs.
    assert await tasks.submit(quick) == "quick"
    report = await tasks.shutdown()
    assert not report.timed_out  # stop() did not wait out shutdown_timeout


async def test_cancel_while_queued_never_runs() -> None:
    """Issue 21 #1: cancel a task waiting for a slot."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    gate = Gate()
    blocker = tasks.submit(gate)
    await settle()
    queued = tasks.submit(gate)
    assert queued.status is TaskStatus.PENDING
    assert queued.cancel()
    with pytest.raises(TaskCancelledError):
        await queued
    gate.event.set()
    assert await blocker == "done"
    assert await tasks.submit(quick) == "quick"
    assert gate.runs == 1
    assert tasks.queue_stats()["default"].running == 0
    assert not (await tasks.shutdown()).timed_out


async def test_cancel_while_running() -> None:
    """Issue 21 #1: cancel a task that is inside its function."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    gate = Gate()
    handle = tasks.submit(gate)
    await settle()
    assert gate.runs == 1
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    assert handle.attempts == 1
    assert tasks.queue_stats()["default"].running == 0
    assert await tasks.submit(quick) == "quick"
    assert not (await tasks.shutdown()).timed_out


async def test_cancel_while_waiting_to_retry() -> None:
    """Issue 21 #1: cancel during the backoff wait between attempts."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    handle = tasks.submit(flaky, retry=RetryPolicy(attempts=5, delay=10, jitter=0, clock=clock))
    await settle()
    assert handle.status is TaskStatus.RETRYING
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    await clock.advance(100)
    await settle()
    assert calls == 1
    assert tasks.queue_stats()["default"].running == 0
    assert not (await tasks.shutdown()).timed_out


async def test_cancel_during_shutdown_settles_everything() -> None:
    """Issue 21 #1: handles cancelled while stop() drains: stop() ends without timing out."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    gate = Gate()
    running = tasks.submit(gate)
    queued = tasks.submit(gate)
    stopping = asyncio.ensure_future(tasks.shutdown())
    await settle()  # let stop() begin: it is now draining (the point of this test)
    assert tasks.state is LifecycleState.STOPPING
    assert not stopping.done()
    tasks.add_queue("default", 2)  # a resize starts the queued task: no step taken yet
    assert queued.status is TaskStatus.RUNNING
    assert queued.cancel()  # before its first step, during shutdown
    assert running.cancel()  # inside its function, during shutdown
    report = await stopping
    assert not report.timed_out
    for handle in (running, queued):
        with pytest.raises(TaskCancelledError):
            await handle
    assert gate.runs == 1
    assert tasks.queue_stats()["default"].running == 0


async def test_shutdown_right_after_submit_settles_every_task() -> None:
    """Issue 21 #1: stop() right after submit, with no time to drain: every handle settles."""
    tasks = TaskManager(concurrency=2, shutdown_timeout=0)
    await tasks.start()
    gate = Gate()
    handles = [tasks.submit(gate) for _ in range(4)]
    report = await tasks.shutdown()
    assert all(h.done() for h in handles)
    assert all(h.status is TaskStatus.CANCELLED for h in handles)
    assert tasks.queue_stats()["default"].running == 0
    assert report.timed_out


async def test_group_block_raising_right_after_submit_does_not_hang() -> None:
    """Issue 21 #1: a task group whose block raises before its member took a step."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    gate = Gate()
    with pytest.raises(KeyError):
        async with tasks.group() as group:
            member = group.submit(gate)
            raise KeyError("boom")
    assert member.cancelled()
    assert gate.runs == 0
    assert tasks.queue_stats()["default"].running == 0
    assert await tasks.submit(quick) == "quick"
    assert not (await tasks.shutdown()).timed_out


async def test_a_cancelled_waiting_task_gives_its_waiting_place_back() -> None:
    """Issue 21 #1: cancelled while queued, it no longer counts against max_pending."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    tasks.add_queue("small", 1, max_pending=1)
    gate = Gate()
    blocker = tasks.submit(gate, queue="small")
    queued = tasks.submit(gate, queue="small")
    assert tasks.queue_stats()["small"].pending == 1
    assert queued.cancel()
    assert tasks.queue_stats()["small"].pending == 0
    follower = tasks.submit(quick, queue="small")  # no QueueFullError
    gate.event.set()
    assert await blocker == "done"
    assert await follower == "quick"
    assert tasks.queue_stats()["small"].pending == 0
    assert gate.runs == 1
    assert not (await tasks.shutdown()).timed_out


# --------------------------------------------------------------------------- issue 21 #2


async def test_a_cancelled_task_that_raises_while_cancelled_is_not_retried() -> None:
    """Issue 21 #2: the task turns CancelledError into another error; no attempt follows."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    started = asyncio.Event()
    calls = 0

    async def stubborn() -> None:
        nonlocal calls
        calls += 1
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    handle = tasks.submit(stubborn, retry=RetryPolicy(attempts=3, delay=0.0, clock=clock))
    await started.wait()
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    await clock.advance(10)
    await settle()
    assert calls == 1
    assert handle.status is TaskStatus.CANCELLED
    assert tasks.queue_stats()["default"].retried == 0
    assert not (await tasks.shutdown()).timed_out


async def test_a_cancelled_task_that_swallows_the_cancel_is_still_cancelled() -> None:
    """Issue 21 #2: returning normally after cancel() returned True does not un-cancel it."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    started = asyncio.Event()

    async def swallow() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return "swallowed"
        return "never"

    handle = tasks.submit(swallow, retry=3)
    await started.wait()
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    assert handle.attempts == 1
    assert not (await tasks.shutdown()).timed_out


# --------------------------------------------------------------------------- issue 21 #3


async def test_a_timed_out_sync_task_keeps_its_slot_until_its_thread_ends() -> None:
    """Issue 21 #3: concurrency=1, timeout, 3 attempts: never two threads at once."""
    clock = ManualClock()
    tasks = TaskManager(concurrency=1, clock=clock, shutdown_timeout=30)
    await tasks.start()
    lock = threading.Lock()
    active = 0
    most = 0
    gate = threading.Event()

    def blocking() -> str:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        try:
            gate.wait(60)
            return "finished"
        finally:
            with lock:
                active -= 1

    handle = tasks.submit(
        blocking, timeout=1, retry=RetryPolicy(attempts=3, delay=0.0, jitter=0, clock=clock)
    )
    await settle()
    assert handle.attempts == 1
    await clock.advance(1)  # attempt 1 times out; its thread keeps running
    await settle(50)
    # The retry waits for the slot, which the thread still holds.
    assert handle.attempts == 1
    assert tasks.queue_stats()["default"].running == 1
    gate.set()  # the thread ends: the slot is free, attempt 2 runs (and finishes now)
    assert await handle == "finished"
    assert handle.attempts == 2
    assert most == 1
    assert not (await tasks.shutdown()).timed_out


async def test_a_cancelled_sync_task_settles_at_once_and_frees_the_slot_later() -> None:
    """Issue 21 #3: cancel() settles the handle; the slot waits for the thread."""
    tasks = TaskManager(concurrency=1, shutdown_timeout=30)
    await tasks.start()
    gate = threading.Event()
    entered = threading.Event()

    def blocking() -> None:
        entered.set()
        gate.wait(60)

    handle = tasks.submit(blocking)
    await asyncio.to_thread(entered.wait, 60)
    assert handle.cancel()
    with pytest.raises(TaskCancelledError):
        await handle
    follower = tasks.submit(quick)
    await settle(50)
    assert follower.status is TaskStatus.PENDING  # the thread still holds the slot
    gate.set()
    assert await follower == "quick"
    assert not (await tasks.shutdown()).timed_out


# --------------------------------------------------------------------------- issue 21 #4


async def test_retry_deadline_is_honoured() -> None:
    """Issue 21 #4: RetryPolicy(deadline=...) bounds the attempts (as RetryPolicy.call does)."""
    clock = ManualClock()
    tasks = TaskManager(clock=clock, shutdown_timeout=30)
    await tasks.start()
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    policy = RetryPolicy(attempts=10, delay=0.1, backoff=1.0, jitter=0, deadline=0.25, clock=clock)
    handle = tasks.submit(failing, retry=policy)
    for _ in range(20):
        await settle()
        if handle.done():
            break
        await clock.advance(0.1)
    with pytest.raises(ConnectionError):
        await handle
    assert 2 <= calls <= 4  # 0.25 s of 0.1 s waits, not 10 attempts
    assert not (await tasks.shutdown()).timed_out


async def test_timeout_error_still_retried_within_the_deadline() -> None:
    """Issue 21 #4: a deadline long enough lets every attempt run."""
    clock = ManualClock()
    tasks = TaskManager(clock=clock, shutdown_timeout=30)
    await tasks.start()

    async def slow() -> None:
        await asyncio.Event().wait()

    policy = RetryPolicy(attempts=2, delay=0.1, jitter=0, deadline=100, clock=clock)
    handle = tasks.submit(slow, timeout=1, retry=policy)
    for _ in range(20):
        await settle()
        if handle.done():
            break
        await clock.advance(0.5)
    with pytest.raises(TaskTimeoutError):
        await handle
    assert handle.attempts == 2
    await tasks.shutdown()
