"""Tests for pepperpy.task._manager and ._handle: submit, queues, retries, shutdown."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy import context
from pepperpy.core import (
    ClosedError,
    ConflictError,
    InvalidArgumentError,
    ManualClock,
    NotFoundError,
    OperationTimeoutError,
    RetryPolicy,
)
from pepperpy.task import (
    QueueFullError,
    TaskCancelledError,
    TaskManager,
    TaskStatus,
    TaskTimeoutError,
)

from .conftest import settle


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


class Gate:
    """Tasks that wait until released; records start order."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.started: list[object] = []

    async def __call__(self, tag: object) -> object:
        self.started.append(tag)
        await self.event.wait()
        return tag


class TestSubmit:
    async def test_async_and_sync_callables(self, tasks):
        handle = tasks.submit(double, 21)
        assert await handle == 42
        assert handle.status is TaskStatus.SUCCEEDED
        assert handle.done()
        assert handle.attempts == 1
        main = threading.get_ident()
        assert await tasks.submit(threading.get_ident) != main  # sync runs in a thread

    async def test_kwargs_and_partial(self, tasks):
        def greet(name: str, *, punctuation: str = "!", queue: str = "") -> str:
            return f"hi {name}{punctuation}{queue}"

        assert await tasks.submit(greet, "ada", punctuation="?") == "hi ada?"
        # A function taking one of submit()'s option names goes through partial().
        assert await tasks.submit(functools.partial(greet, "bob", queue=" (q)")) == "hi bob! (q)"

    async def test_failure_is_raised_by_await(self, tasks):
        async def boom() -> None:
            raise KeyError("missing")

        handle = tasks.submit(boom)
        with pytest.raises(KeyError):
            await handle
        assert handle.status is TaskStatus.FAILED
        assert isinstance(handle.exception(), KeyError)

    async def test_result_timeout_does_not_cancel(self, tasks, clock):
        gate = Gate()
        handle = tasks.submit(gate, "slow")
        waiting = asyncio.ensure_future(handle.result(timeout=5))
        await clock.advance(5)
        with pytest.raises(OperationTimeoutError):
            await waiting
        assert handle.status is TaskStatus.RUNNING
        gate.event.set()
        assert await handle.result(timeout=5) == "slow"

    async def test_cancelling_the_awaiter_does_not_cancel_the_task(self, tasks):
        gate = Gate()
        handle = tasks.submit(gate, 1)
        awaiter = asyncio.ensure_future(handle.result())
        await settle()
        awaiter.cancel()
        await asyncio.gather(awaiter, return_exceptions=True)
        assert handle.status is TaskStatus.RUNNING
        gate.event.set()
        assert await handle == 1

    async def test_done_callback_and_get(self, tasks):
        seen: list[str] = []
        handle = tasks.submit(double, 1, task_id="t-1", name="doubler")
        handle.add_done_callback(lambda h: seen.append(h.status.value))
        await handle
        await settle()
        assert seen == ["succeeded"]
        assert tasks.get("t-1") is handle
        assert "doubler" in repr(handle)
        with pytest.raises(NotFoundError):
            tasks.get("nope")

    async def test_context_follows_the_task(self, tasks):
        async def read() -> object:
            return context.get("request_id")

        gate = Gate()
        blockers = [tasks.submit(gate, i) for i in range(4)]  # fill every slot
        with context.scope(request_id="r-7"):
            queued = tasks.submit(read)  # waits in the queue, started later
        with context.scope(request_id="r-8"):
            later = tasks.submit(read, delay=1)
        assert context.get("request_id") is None
        gate.event.set()
        assert await queued == "r-7"
        await asyncio.gather(*blockers)
        await tasks.clock.advance(1)
        assert await later == "r-8"

    async def test_bad_input(self, tasks):
        with pytest.raises(NotFoundError, match="add_queue"):
            tasks.submit(double, 1, queue="nope")
        with pytest.raises(InvalidArgumentError):
            tasks.submit(42)
        with pytest.raises(InvalidArgumentError):
            tasks.submit(double, 1, timeout=0)
        with pytest.raises(InvalidArgumentError):
            tasks.submit(double, 1, retry=0)
        with pytest.raises(InvalidArgumentError):
            tasks.add_queue("x", 0)
        with pytest.raises(InvalidArgumentError):
            TaskManager(shutdown_timeout=-1)


class TestIdsAndDedup:
    async def test_duplicate_active_id_conflicts(self, tasks):
        gate = Gate()
        tasks.submit(gate, 1, task_id="job")
        with pytest.raises(ConflictError):
            tasks.submit(gate, 2, task_id="job")
        gate.event.set()
        await tasks.drain()
        assert await tasks.submit(double, 2, task_id="job") == 4  # finished ids are free

    async def test_dedup_key_returns_the_active_handle(self, tasks):
        gate = Gate()
        first = tasks.submit(gate, 1, dedup_key="report")
        second = tasks.submit(gate, 2, dedup_key="report")
        assert first is second
        gate.event.set()
        assert await first == 1
        third = tasks.submit(double, 3, dedup_key="report")
        assert third is not first
        assert await third == 6


class TestQueues:
    async def test_concurrency_is_bounded_per_queue(self, tasks):
        tasks.add_queue("io", 2)
        running = 0
        peak = 0

        async def work() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            for _ in range(5):
                await asyncio.sleep(0)
            running -= 1

        handles = [tasks.submit(work, queue="io") for _ in range(20)]
        await asyncio.gather(*handles)
        assert peak == 2
        stats = tasks.queue_stats()["io"]
        assert (stats.submitted, stats.succeeded, stats.running, stats.pending) == (20, 20, 0, 0)

    async def test_priorities_pick_the_next_task(self, tasks):
        tasks.add_queue("one", 1)
        order: list[str] = []
        gate = Gate()
        blocker = tasks.submit(gate, "blocker", queue="one")

        async def record(tag: str) -> None:
            order.append(tag)

        tasks.submit(record, "low", queue="one", priority=-1)
        tasks.submit(record, "normal-1", queue="one")
        tasks.submit(record, "high", queue="one", priority=5)
        tasks.submit(record, "normal-2", queue="one")
        gate.event.set()
        await blocker
        await tasks.drain()
        assert order == ["high", "normal-1", "normal-2", "low"]

    @settings(max_examples=20, deadline=None)
    @given(st.lists(st.integers(-5, 5), min_size=1, max_size=15))
    async def test_priority_order_property(self, priorities):
        manager = TaskManager(concurrency=1)
        await manager.start()
        gate = asyncio.Event()
        order: list[int] = []

        async def block() -> None:
            await gate.wait()

        async def record(i: int) -> None:
            order.append(i)

        manager.submit(block)
        for i, p in enumerate(priorities):
            manager.submit(record, i, priority=p)
        gate.set()
        await manager.drain()
        await manager.stop()
        assert order == sorted(range(len(priorities)), key=lambda i: (-priorities[i], i))

    async def test_max_pending(self, tasks):
        tasks.add_queue("small", 1, max_pending=1)
        gate = Gate()
        tasks.submit(gate, 1, queue="small")
        tasks.submit(gate, 2, queue="small")
        with pytest.raises(QueueFullError):
            tasks.submit(gate, 3, queue="small")
        gate.event.set()
        await tasks.drain()

    async def test_resizing_a_queue_starts_waiting_tasks(self, tasks):
        tasks.add_queue("grow", 1)
        gate = Gate()
        handles = [tasks.submit(gate, i, queue="grow") for i in range(3)]
        await settle()
        assert gate.started == [0]
        tasks.add_queue("grow", 3)
        await settle()
        assert gate.started == [0, 1, 2]
        gate.event.set()
        await asyncio.gather(*handles)


class TestRetries:
    async def test_retry_with_backoff_on_the_clock(self, tasks, clock):
        calls: list[float] = []

        async def flaky() -> str:
            calls.append(clock.monotonic())
            if len(calls) < 3:
                raise ConnectionError("down")
            return "ok"

        policy = RetryPolicy(attempts=3, delay=1.0, backoff=2.0, jitter=0, clock=clock)
        handle = tasks.submit(flaky, retry=policy)
        await settle()
        assert handle.status is TaskStatus.RETRYING
        await clock.advance(1)
        await settle()
        await clock.advance(2)
        assert await handle == "ok"
        assert calls == [0.0, 1.0, 3.0]
        assert handle.attempts == 3
        assert tasks.queue_stats()["default"].retried == 2

    async def test_exception_filter(self, tasks):
        calls = 0

        async def bad() -> None:
            nonlocal calls
            calls += 1
            raise ValueError("not retryable")

        policy = RetryPolicy(attempts=5, delay=0, retry_on=ConnectionError)
        with pytest.raises(ValueError):
            await tasks.submit(bad, retry=policy)
        assert calls == 1

    async def test_exhausted_retries_raise_the_last_error(self, tasks):
        async def bad() -> None:
            raise ConnectionError("still down")

        handle = tasks.submit(bad, retry=RetryPolicy(attempts=2, delay=0))
        with pytest.raises(ConnectionError):
            await handle
        assert handle.attempts == 2

    async def test_cancellation_never_consumes_a_retry(self, tasks):
        gate = Gate()
        handle = tasks.submit(gate, 1, retry=RetryPolicy(attempts=5, delay=0))
        await settle()
        assert handle.cancel()
        with pytest.raises(TaskCancelledError):
            await handle
        await settle()
        assert handle.status is TaskStatus.CANCELLED
        assert handle.attempts == 1
        assert gate.started == [1]  # not restarted
        assert not handle.cancel()

    async def test_manager_default_retry(self, clock):
        calls = 0

        async def flaky() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError
            return calls

        async with TaskManager(retry=RetryPolicy(attempts=2, delay=0)) as manager:
            assert await manager.submit(flaky) == 2


class TestTimeouts:
    async def test_timeout_fails_the_attempt(self, tasks, clock):
        gate = Gate()
        handle = tasks.submit(gate, 1, timeout=10)
        await settle()
        await clock.advance(10)
        with pytest.raises(TaskTimeoutError) as info:
            await handle
        assert info.value.context["timeout"] == 10
        assert handle.status is TaskStatus.FAILED

    async def test_timeout_is_retried(self, tasks, clock):
        attempts = 0

        async def slow_then_fast() -> str:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                await asyncio.Event().wait()
            return "done"

        handle = tasks.submit(slow_then_fast, timeout=5, retry=RetryPolicy(attempts=2, delay=0))
        await settle()
        await clock.advance(5)
        assert await handle == "done"
        assert handle.attempts == 2


class TestCancel:
    async def test_cancel_pending_and_scheduled(self, tasks, clock):
        tasks.add_queue("one", 1)
        gate = Gate()
        running = tasks.submit(gate, "r", queue="one")
        pending = tasks.submit(gate, "p", queue="one")
        later = tasks.submit(gate, "l", delay=60)
        assert later.status is TaskStatus.SCHEDULED
        assert pending.cancel()
        assert later.cancel()
        gate.event.set()
        assert await running == "r"
        await clock.advance(60)
        await tasks.drain()
        assert gate.started == ["r"]
        for handle in (pending, later):
            with pytest.raises(TaskCancelledError):
                await handle
        assert tasks.queue_stats()["one"].cancelled == 1


class TestDelays:
    async def test_delay_and_at(self, tasks, clock):
        seen: list[tuple[str, float]] = []

        async def mark(tag: str) -> None:
            seen.append((tag, clock.monotonic()))

        tasks.submit(mark, "at", at=clock.time() + 30)
        tasks.submit(mark, "delay", delay=10)
        tasks.submit(mark, "now")
        await settle()
        await clock.advance(10)
        await clock.advance(20)
        assert seen == [("now", 0.0), ("delay", 10.0), ("at", 30.0)]


class TestShutdown:
    async def test_submit_after_stop_is_refused(self):
        manager = TaskManager()
        with pytest.raises(ClosedError):
            manager.submit(double, 1)
        await manager.start()
        await manager.stop()
        with pytest.raises(ClosedError):
            manager.submit(double, 1)

    async def test_drain_then_report(self):
        before = asyncio.all_tasks()
        manager = TaskManager(concurrency=2)
        await manager.start()
        handles = [manager.submit(double, i) for i in range(10)]
        report = await manager.shutdown(timeout=5)
        assert report.completed == 10
        assert report.cancelled == ()
        assert not report.timed_out
        assert [h.status for h in handles] == [TaskStatus.SUCCEEDED] * 10
        await settle(5)
        assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()

    async def test_timeout_cancels_and_reports(self):
        clock = ManualClock()
        before = asyncio.all_tasks()
        manager = TaskManager(concurrency=1, clock=clock)
        await manager.start()
        gate = Gate()
        quick = manager.submit(double, 1)
        stuck = manager.submit(gate, "stuck", name="stuck")
        waiting = manager.submit(gate, "waiting", name="waiting")
        later = manager.submit(gate, "later", delay=3600, name="later")
        await settle()
        stopping = asyncio.ensure_future(manager.shutdown(timeout=5))
        await settle()
        await clock.advance(5)
        report = await stopping
        assert await quick == 2
        assert report.timed_out
        assert {h.name for h in report.cancelled} == {"stuck", "waiting", "later"}
        for handle in (stuck, waiting, later):
            assert handle.status is TaskStatus.CANCELLED
        assert gate.started == ["stuck"]
        assert manager.last_shutdown is report
        await settle(5)
        assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()

    async def test_drain_timeout(self, tasks, clock):
        gate = Gate()
        tasks.submit(gate, 1)
        draining = asyncio.ensure_future(tasks.drain(timeout=3))
        await settle()
        await clock.advance(3)
        with pytest.raises(OperationTimeoutError):
            await draining
        gate.event.set()
        await tasks.drain()

    async def test_active_and_repr(self, tasks):
        gate = Gate()
        handle = tasks.submit(gate, 1)
        assert tasks.active == [handle]
        assert "running" in repr(tasks)
        gate.event.set()
        await handle
        assert tasks.active == []


class TestHooks:
    async def test_hooks_see_every_attempt(self, tasks):
        from pepperpy.task import TaskEvent

        events: list[TaskEvent] = []
        tasks.add_hook(events.append)
        tasks.add_hook(lambda e: 1 / 0)  # a broken hook is logged, never fatal
        calls = 0

        async def flaky() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("once")
            return "ok"

        assert (
            await tasks.submit(flaky, name="flaky", retry=RetryPolicy(attempts=2, delay=0)) == "ok"
        )

        async def boom() -> None:
            raise KeyError("k")

        with pytest.raises(KeyError):
            await tasks.submit(boom, name="boom")
        later = tasks.submit(flaky, name="later", delay=5)
        later.cancel()
        kinds = [(e.name, e.kind, e.attempt) for e in events]
        assert kinds == [
            ("flaky", "started", 1),
            ("flaky", "retrying", 1),
            ("flaky", "started", 2),
            ("flaky", "succeeded", 2),
            ("boom", "started", 1),
            ("boom", "failed", 1),
            ("later", "cancelled", 0),
        ]
        assert isinstance(events[1].error, ConnectionError)
        assert all(e.seconds >= 0 for e in events)


class TestSpawn:
    async def test_spawn_waits_for_room(self, tasks):
        tasks.add_queue("tight", 1, max_pending=2)
        gate = Gate()
        first = tasks.submit(gate, 0, queue="tight")
        queued = [tasks.submit(gate, i, queue="tight") for i in (1, 2)]
        with pytest.raises(QueueFullError, match="spawn"):
            tasks.submit(gate, 3, queue="tight")
        producer = asyncio.ensure_future(tasks.spawn(gate, 3, queue="tight"))
        await settle()
        assert not producer.done()  # backpressure: the producer waits
        gate.event.set()
        late = await producer
        assert await late == 3
        assert [await h for h in [first, *queued]] == [0, 1, 2]

    async def test_spawn_without_limits_is_submit(self, tasks):
        handle = await tasks.spawn(double, 4, name="d")
        assert await handle == 8
        assert handle.name == "d"
