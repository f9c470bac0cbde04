"""Tests for pepperpy.task._schedule: intervals, cron, missed runs, overlap."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from pepperpy.core import InvalidArgumentError, ManualClock, NotFoundError
from pepperpy.task import TaskManager

from .conftest import settle


class Recorder:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.times: list[float] = []

    async def __call__(self) -> None:
        self.times.append(self.clock.monotonic())


async def test_every_runs_on_the_interval(tasks, clock):
    record = Recorder(clock)
    schedule = tasks.every(10, record)
    for _ in range(3):
        await clock.advance(10)
    await tasks.drain()
    assert record.times == [10.0, 20.0, 30.0]
    assert schedule.runs == 3
    assert schedule.active
    schedule.cancel()
    await settle()
    assert not schedule.active
    await clock.advance(10)
    assert record.times == [10.0, 20.0, 30.0]
    assert tasks.schedules() == []


async def test_first_in_and_arguments(tasks, clock):
    seen: list[tuple[float, str]] = []

    async def note(tag: str) -> None:
        seen.append((clock.monotonic(), tag))

    tasks.every(5, note, "tick", first_in=0)
    await settle()
    await tasks.drain()
    await clock.advance(5)
    await tasks.drain()
    assert seen == [(0.0, "tick"), (5.0, "tick")]


@pytest.mark.parametrize(
    ("policy", "runs", "missed"),
    [("run_once", 1, 4), ("skip", 0, 5), ("run_all", 5, 0)],
)
async def test_missed_run_policy(tasks, clock, policy, runs, missed):
    record = Recorder(clock)
    schedule = tasks.every(10, record, missed=policy, grace=1)
    await settle()
    clock.advance_sync(55)  # the process was suspended: five runs are late
    await settle()
    await tasks.drain()
    assert len(record.times) == runs
    assert schedule.runs == runs
    assert schedule.missed == missed
    await clock.advance(5)  # back on the grid at 60
    await tasks.drain()
    assert schedule.runs == runs + 1


async def test_no_overlap_by_default(tasks, clock):
    gate = asyncio.Event()
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await gate.wait()

    schedule = tasks.every(1, slow)
    for _ in range(3):
        await clock.advance(1)
    assert started == 1
    assert schedule.missed == 2
    gate.set()
    await tasks.drain()


async def test_overlap_allowed(tasks, clock):
    gate = asyncio.Event()
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await gate.wait()

    tasks.every(1, slow, overlap=True)
    for _ in range(3):
        await clock.advance(1)
    assert started == 3
    gate.set()
    await tasks.drain()


async def test_cron_on_the_manual_clock():
    start = dt.datetime(2026, 11, 26, 8, 59, tzinfo=dt.timezone.utc).timestamp()
    clock = ManualClock(start=start)
    seen: list[str] = []

    async def note() -> None:
        seen.append(dt.datetime.fromtimestamp(clock.time(), dt.timezone.utc).strftime("%H:%M"))

    async with TaskManager(clock=clock) as tasks:
        schedule = tasks.cron("*/30 9-10 * * *", note)
        for _ in range(4 * 60):
            await clock.advance(60)
        await tasks.drain()
        assert seen == ["09:00", "09:30", "10:00", "10:30"]
        assert "cron" in repr(schedule)


async def test_schedule_validation(tasks):
    with pytest.raises(InvalidArgumentError):
        tasks.every(0, print)
    with pytest.raises(InvalidArgumentError):
        tasks.every(1, print, missed="later")
    with pytest.raises(InvalidArgumentError):
        tasks.every(1, 42)
    with pytest.raises(NotFoundError):
        tasks.every(1, print, queue="nope")
    with pytest.raises(InvalidArgumentError):
        tasks.cron("bad", print)


async def test_stop_cancels_schedules():
    before = asyncio.all_tasks()
    clock = ManualClock()
    tasks = TaskManager(clock=clock)
    await tasks.start()
    schedule = tasks.every(1, print)
    report = await tasks.shutdown()
    assert not schedule.active
    assert report.cancelled == ()
    await settle(5)
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
