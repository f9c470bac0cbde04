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


# -- submit()/every() arguments: NaN and friends (only PepperPyError escapes) -----------------

import math  # noqa: E402

from pepperpy.core.exceptions import InvalidArgumentError  # noqa: E402


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": math.nan},
        {"delay": math.nan},
        {"at": math.nan},
        {"at": "tomorrow"},
        {"priority": math.nan},
        {"priority": "high"},
        {"dedup_key": ["not", "hashable"]},
    ],
    ids=lambda options: "-".join(f"{k}={v!r}" for k, v in options.items()),
)
async def test_submit_refuses_hostile_options(options: dict[str, object]) -> None:
    """Next to issue 21 #1-4: ``delay=nan`` put a NaN deadline into the event loop's timer
    heap (whose order then breaks for every timer), ``timeout=nan``/``at=nan`` were
    accepted, and a NaN or str priority or an unhashable dedup_key raised raw
    ValueError/TypeError."""
    tasks = TaskManager(shutdown_timeout=30)
    await tasks.start()
    try:
        with pytest.raises(InvalidArgumentError):
            tasks.submit(asyncio.sleep, 0, **options)
        assert tasks.active == []
    finally:
        await tasks.stop()


@pytest.mark.parametrize(
    ("interval", "options"),
    [
        (math.nan, {}),
        (5, {"first_in": math.nan}),
        (5, {"first_in": "soon"}),
        (5, {"grace": math.nan}),
        (5, {"grace": -1}),
    ],
    ids=["interval-nan", "first_in-nan", "first_in-str", "grace-nan", "grace-negative"],
)
async def test_every_refuses_hostile_timing(interval: float, options: dict[str, object]) -> None:
    """Next to issue 21 #5: ``every(nan)``, ``first_in=nan`` and ``grace=nan`` made schedules
    firing at NaN times (or never counting a run as on time); ``first_in="soon"`` raised a
    raw ValueError."""
    tasks = TaskManager(shutdown_timeout=30)
    await tasks.start()
    try:
        with pytest.raises(InvalidArgumentError):
            tasks.every(interval, asyncio.sleep, 0, **options)  # type: ignore[arg-type]
    finally:
        await tasks.stop()


@pytest.mark.parametrize("grace", [math.nan, -1, "late"])
async def test_cron_refuses_a_hostile_grace(grace: object) -> None:
    """Next to issue 21 #5: ``cron(..., grace=nan)`` was accepted (no run ever on time)."""
    tasks = TaskManager(shutdown_timeout=30)
    await tasks.start()
    try:
        with pytest.raises(InvalidArgumentError):
            tasks.cron("* * * * *", asyncio.sleep, 0, grace=grace)  # type: ignore[arg-type]
    finally:
        await tasks.stop()
