"""Tests for pepperpy.task._durable: a real SQLite file, a real crashed worker process."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pepperpy.core import ConflictError, InvalidArgumentError, ManualClock, NotFoundError
from pepperpy.task import DurableQueue, DurableTaskError, TaskManager

from .conftest import settle


async def wait_done(
    queue: DurableQueue, task_id: str, limit: float = 30.0, clock: ManualClock | None = None
):
    """Poll (real time) until the stored task is finished, nudging a manual clock."""
    deadline = time.monotonic() + limit
    while True:
        task = await queue.get(task_id)
        if task.done:
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task.state}"
        if clock is not None:
            await clock.advance(queue.poll_interval)
        await asyncio.sleep(0.02)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tasks.db"


async def test_enqueue_run_and_result(db):
    queue = DurableQueue(db, poll_interval=0.05)

    @queue.register
    async def add(a: int, b: int) -> int:
        return a + b

    @queue.register(name="greet")
    def hello(name: str) -> str:
        return f"hello {name}"

    async with TaskManager(durable=queue) as tasks:
        first = await queue.enqueue("add", 2, 3)
        second = await queue.enqueue("greet", name="ada")
        assert await queue.result(first, timeout=30) == 5
        assert await queue.result(second, timeout=30) == "hello ada"
        assert (await queue.counts()) == {"done": 2}
        record = await queue.get(first)
        assert (record.state, record.attempts, record.name) == ("done", 1, "add")
        assert tasks.queue_stats()["durable"].succeeded == 2
    assert not queue.is_running


async def test_task_survives_a_restart(db):
    producer = DurableQueue(db)
    async with producer:
        task_id = await producer.enqueue("square", 7, priority=5)
    # A new process (here: a new queue object) picks it up.
    worker = DurableQueue(db, poll_interval=0.05)
    worker.register(lambda n: n * n, name="square")
    async with TaskManager(durable=worker):
        assert await worker.result(task_id, timeout=30) == 49


async def test_worker_killed_mid_task_is_redelivered(db, tmp_path):
    marker = tmp_path / "started"
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, pathlib
            from pepperpy.task import DurableQueue, TaskManager

            queue = DurableQueue({str(db)!r}, visibility_timeout=1.0, poll_interval=0.05)

            @queue.register
            async def charge(order: int) -> str:
                pathlib.Path({str(marker)!r}).write_text(str(order))
                await asyncio.sleep(3600)  # killed in here

            async def main():
                async with TaskManager(durable=queue):
                    await asyncio.sleep(3600)

            asyncio.run(main())
            """
        )
    )
    producer = DurableQueue(db)
    async with producer:
        task_id = await producer.enqueue("charge", 42)
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script), env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.returncode is None, "worker exited early"
            assert time.monotonic() < deadline, "worker never started the task"
            await asyncio.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no cleanup, the lease stays
        await proc.wait()
    queue = DurableQueue(db, visibility_timeout=1.0, poll_interval=0.05)
    async with queue:
        assert (await queue.get(task_id)).state == "running"

    @queue.register
    async def charge(order: int) -> str:
        return f"charged {order}"

    async with TaskManager(durable=queue):
        assert await queue.result(task_id, timeout=60) == "charged 42"
        record = await queue.get(task_id)
    assert record.attempts == 2  # the crashed delivery counted


async def test_graceful_shutdown_releases_without_using_an_attempt(db):
    queue = DurableQueue(db, poll_interval=0.05)
    started = asyncio.Event()

    @queue.register
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    tasks = TaskManager(durable=queue, shutdown_timeout=0)
    await tasks.start()
    task_id = await queue.enqueue("forever")
    await started.wait()
    report = await tasks.shutdown()
    assert report.timed_out
    assert [h.name for h in report.cancelled] == ["durable:forever"]
    async with queue:
        record = await queue.get(task_id)
    assert (record.state, record.attempts) == ("queued", 0)


async def test_failures_retry_then_fail_for_good(db):
    clock = ManualClock(start=time.time())
    queue = DurableQueue(db, poll_interval=0.5, max_attempts=2, clock=clock)
    calls = 0
    first_call = asyncio.Event()

    @queue.register
    async def flaky() -> None:
        nonlocal calls
        calls += 1
        first_call.set()
        raise ConnectionError(f"down {calls}")

    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("flaky")
        await first_call.wait()
        record = await queue.get(task_id)
        while record.state != "queued" or record.error is None:
            await asyncio.sleep(0.01)
            record = await queue.get(task_id)
        assert record.error == "ConnectionError: down 1"
        await clock.advance(2)  # past the backoff
        record = await wait_done(queue, task_id, clock=clock)
        assert (record.state, record.attempts, record.error) == (
            "failed",
            2,
            "ConnectionError: down 2",
        )
        with pytest.raises(DurableTaskError, match="down 2"):
            await queue.result(task_id)


async def test_workers_only_claim_registered_names(db):
    queue = DurableQueue(db, poll_interval=0.05)
    queue.register(lambda: "mine", name="mine")
    async with TaskManager(durable=queue):
        other = await queue.enqueue("other.service.task")
        mine = await queue.enqueue("mine")
        assert (await wait_done(queue, mine)).result == "mine"
        assert (await queue.get(other)).state == "queued"  # left for its own service
    service = DurableQueue(db, poll_interval=0.05)
    service.register(lambda: "theirs", name="other.service.task")
    async with TaskManager(durable=service):
        assert await service.result(other, timeout=30) == "theirs"


async def test_long_task_keeps_its_lease(db):
    clock = ManualClock(start=time.time())
    queue = DurableQueue(db, visibility_timeout=3, poll_interval=0.5, clock=clock)
    release = asyncio.Event()
    runs = 0

    @queue.register
    async def long_job() -> str:
        nonlocal runs
        runs += 1
        await release.wait()
        return "finished"

    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("long_job")
        while runs == 0:  # noqa: ASYNC110 - the worker thread hop is real time
            await asyncio.sleep(0.01)
        for _ in range(12):  # 12 s on the clock: four visibility timeouts
            await clock.advance(1)
            await asyncio.sleep(0.02)  # let the renewal reach the file
        record = await queue.get(task_id)
        assert record.state == "running"
        assert record.attempts == 1
        assert runs == 1  # never redelivered while alive
        release.set()
        record = await wait_done(queue, task_id, clock=clock)
    assert record.result == "finished"


async def test_results_expire(db):
    clock = ManualClock(start=time.time())
    queue = DurableQueue(db, result_ttl=60, clock=clock)
    queue.register(lambda: "ok", name="quick")
    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("quick")
        record = await wait_done(queue, task_id)
        assert record.result == "ok"
        assert record.expires_at == pytest.approx(record.finished_at + 60)
        assert await queue.purge_expired() == 0
        await clock.advance(61)
        assert await queue.purge_expired() == 1
        with pytest.raises(NotFoundError):
            await queue.get(task_id)


async def test_dedup_ids_delay_and_validation(db):
    clock = ManualClock(start=time.time())
    queue = DurableQueue(db, clock=clock)
    async with queue:
        first = await queue.enqueue("job", 1, dedup_key="nightly")
        again = await queue.enqueue("job", 2, dedup_key="nightly")
        assert first == again
        await queue.enqueue("job", task_id="fixed")
        with pytest.raises(ConflictError):
            await queue.enqueue("job", task_id="fixed")
        with pytest.raises(InvalidArgumentError, match="JSON"):
            await queue.enqueue("job", object())
        delayed = await queue.enqueue("job", delay=100)
        assert (await queue.get(delayed)).run_at == pytest.approx(clock.time() + 100)
        assert (await queue.counts()) == {"queued": 3}
    with pytest.raises(InvalidArgumentError):
        DurableQueue(db, visibility_timeout=0)
    with pytest.raises(InvalidArgumentError):
        DurableQueue(db, max_attempts=0)
    with pytest.raises(InvalidArgumentError):
        DurableQueue(db).register(42)


async def test_delayed_task_waits_for_its_time(db):
    clock = ManualClock(start=time.time())
    queue = DurableQueue(db, poll_interval=1, clock=clock)
    queue.register(lambda: "late", name="later")
    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("later", delay=30)
        await settle()
        assert (await queue.get(task_id)).state == "queued"
        await clock.advance(31)
        record = await wait_done(queue, task_id, clock=clock)
    assert record.result == "late"


async def test_cancel_queued_and_running_tasks(db):
    from pepperpy.task import TaskCancelledError

    queue = DurableQueue(db, poll_interval=0.05)
    started = asyncio.Event()
    ran: list[str] = []

    @queue.register
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    @queue.register
    def never() -> None:
        ran.append("never")

    async with queue:
        queued = await queue.enqueue("never", delay=0)
        assert await queue.cancel(queued)
    async with TaskManager(durable=queue):
        running = await queue.enqueue("forever")
        await started.wait()
        assert await queue.cancel(running)
        record = await wait_done(queue, running)
        assert record.state == "cancelled"
        assert record.attempts == 1
        with pytest.raises(TaskCancelledError):
            await queue.result(running)
        assert not await queue.cancel(running)  # already final
        assert (await queue.get(queued)).state == "cancelled"
        with pytest.raises(NotFoundError):
            await queue.cancel("no-such-task")
    assert ran == []


async def test_sync_durable_task_runs_off_the_loop(db):
    import threading

    queue = DurableQueue(db, poll_interval=0.05)
    loop_thread = threading.get_ident()
    queue.register(lambda: threading.get_ident(), name="where")
    async with TaskManager(durable=queue):
        task_id = await queue.enqueue("where")
        assert await queue.result(task_id, timeout=30) != loop_thread


async def test_a_task_lost_on_its_last_attempt_is_failed(db):
    import sqlite3

    producer = DurableQueue(db)
    async with producer:
        task_id = await producer.enqueue("fragile", max_attempts=1)
    # What a worker that died during the only allowed delivery leaves behind.
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "UPDATE pepperpy_tasks SET state = 'running', attempts = 1, lease_until = 0 "
                "WHERE id = ?",
                (task_id,),
            )
    finally:
        conn.close()
    worker = DurableQueue(db, poll_interval=0.05)
    worker.register(lambda: "never", name="fragile")
    async with TaskManager(durable=worker):
        record = await wait_done(worker, task_id)
    assert record.state == "failed"
    assert "lost" in (record.error or "")
